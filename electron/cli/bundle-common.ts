import { stat } from 'node:fs/promises';
import { AppError } from '../common/result.ts';
import type { Signer } from '../main/services/bundles/index.ts';
import { createCore, type Core } from '../main/services/core.ts';
import { UsageError, type CommandValues } from './command.ts';
import { reportError } from './keys.ts';
import type { Output } from './output.ts';
import { formatBytes } from './models.ts';

// What the bundle commands share: a core opened on the data folder for one command, byte progress on
// stderr, and the option readers for values parseArgs leaves loose.

export const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };

export async function withCore(dataDir: string, output: Output, run: (core: Core) => Promise<number>): Promise<number> {
  let core: Core | null = null;
  try {
    core = await createCore({ dataDir, host: HOST, log: (level, message) => level === 'error' && process.stderr.write(`[soberana] ${message}\n`) });
    return await run(core);
  } catch (error) {
    return reportError(output, error);
  } finally {
    await core?.close();
  }
}

/** Byte progress on stderr: a bar redrawn in place on a terminal, otherwise a line every 10%. */
export function bytesPrinter(json: boolean) {
  const tty = process.stderr.isTTY === true;
  let lastLabel = '';
  let lastTenth = -1;
  let drawn = false;
  return {
    update(label: string, done: number, total: number, file?: string) {
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      if (tty) {
        const columns = process.stderr.columns > 0 ? process.stderr.columns : 80;
        const width = Math.max(10, Math.min(30, columns - 60));
        const filled = Math.round(fraction * width);
        const line = `${label.padEnd(10)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${formatBytes(done)} of ${formatBytes(total)}  ${file ?? ''}`;
        // One line, never wrapped: a wrapped line cannot be redrawn in place.
        process.stderr.write(`\r\x1b[2K${line.slice(0, columns - 1)}`);
        drawn = true;
      } else if (!json) {
        // Each phase counts its own tenths.
        if (label !== lastLabel) lastTenth = -1;
        lastLabel = label;
        const tenth = Math.floor(fraction * 10);
        if (tenth > lastTenth) {
          lastTenth = tenth;
          process.stderr.write(`${label}: ${tenth * 10}% of ${formatBytes(total)}\n`);
        }
      }
    },
    /** A phase without a byte count of its own. */
    step(label: string) {
      if (label === lastLabel) return;
      lastLabel = label;
      if (tty) {
        process.stderr.write(`\r\x1b[2K${label}…`);
        drawn = true;
      } else if (!json) process.stderr.write(`${label}…\n`);
    },
    done() {
      if (drawn) process.stderr.write('\r\x1b[2K');
      drawn = false;
    },
  };
}

/** Options declared `multiple`; main passes them on as CommandValues, which has no arrays, so this reads what parseArgs really returns. */
export function many(values: CommandValues, name: string): string[] {
  const raw: unknown = values[name];
  const list = Array.isArray(raw) ? (raw as unknown[]) : raw === undefined ? [] : [raw];
  return list.filter((value): value is string => typeof value === 'string');
}

export function stringOption(values: CommandValues, name: string): string | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${name} needs a value.`);
  return value.trim();
}

export const signerText = (signers: readonly Signer[]) =>
  signers.length === 0 ? 'nobody trusted here' : signers.map((signer) => `${signer.name} (${signer.keyId})`).join(', ');

export async function mustExist(bundle: string): Promise<void> {
  if ((await stat(bundle).catch(() => null)) === null) throw new AppError('not_found', `There is no bundle at "${bundle}".`);
}
