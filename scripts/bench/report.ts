import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** bench-results/ at the project root; git-ignored. */
export const RESULTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bench-results');

const NAME = /^[a-z0-9][a-z0-9_-]*$/;

/**
 * Prints each figure as a `name=value` line (what CI greps) and writes the same figures to
 * `bench-results/<bench>.json`. Returns the JSON file's path.
 */
export function report(bench: string, figures: Record<string, number | string>): string {
  if (!NAME.test(bench)) throw new Error(`bench name must match ${NAME}: ${bench}`);
  for (const [name, value] of Object.entries(figures)) {
    if (!NAME.test(name)) throw new Error(`figure name must match ${NAME}: ${name}`);
    // One figure per line, whatever the value holds.
    console.log(`${name}=${String(value).replace(/\s+/g, ' ')}`);
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${bench}.json`);
  const record = { bench, recordedAt: new Date().toISOString(), node: process.version, platform: `${process.platform}-${process.arch}`, figures };
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  return file;
}
