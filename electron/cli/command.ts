import type { ParseArgsConfig } from 'node:util';
import type { Output } from './output.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Option values; no option here is `multiple`, so none is an array. */
export type CommandValues = Readonly<Record<string, string | boolean | undefined>>;

export interface CommandContext {
  readonly dataDir: string;
  readonly output: Output;
  /** The command's own options, parsed strictly. */
  readonly values: CommandValues;
  readonly positionals: readonly string[];
  readonly signal: AbortSignal;
}

export interface Command {
  readonly summary: string;
  readonly help: string;
  readonly options?: OptionSpec;
  /** How many positional arguments it takes. */
  readonly positionals?: { readonly min: number; readonly max: number };
  run(context: CommandContext): Promise<number>;
}

/** Thrown for a bad command line; main prints the message and the command's help, and exits 2. */
export class UsageError extends Error {}

export function intOption(value: string | boolean | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new UsageError(`--${name} takes a whole number from ${min} to ${max}.`);
  }
  return parsed;
}

export function numberOption(value: string | boolean | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (typeof value !== 'string' || !Number.isFinite(parsed) || parsed < min || parsed > max) {
    throw new UsageError(`--${name} takes a number from ${min} to ${max}.`);
  }
  return parsed;
}
