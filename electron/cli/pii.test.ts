import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../test-support/run-cli.ts';

const cli = (input: string | undefined, ...args: string[]) => runCli(args, { dataDir: dir, timeoutMs: 30_000, ...(input === undefined ? {} : { input }) });

const lines = (run: CliRun): Record<string, unknown>[] =>
  run.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

const TEXT = 'Ana: ana@example.com, IBAN ES91 2100 0418 4502 0005 1332.\n';

let dir: string;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-cli-pii-'));
  file = path.join(dir, 'letter.txt');
  await writeFile(file, TEXT);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('soberana pii scan', () => {
  it('prints one JSON line per finding without the values, and exits 1', () => {
    const run = cli(undefined, 'pii', 'scan', file);
    expect(run.status, run.stderr).toBe(1);
    expect(lines(run)).toEqual([
      { type: 'email', start: 5, end: 20, action: 'warn' },
      { type: 'iban', start: 27, end: 56, action: 'warn' },
    ]);
    expect(run.stdout).not.toContain('ana@example.com');
    expect(run.stdout).not.toContain('2100');
  });

  it('adds the values with --show-values and takes the action from --mode', () => {
    const run = cli(undefined, 'pii', 'scan', file, '--mode', 'redact', '--show-values');
    expect(run.status).toBe(1);
    expect(lines(run)).toEqual([
      { type: 'email', start: 5, end: 20, action: 'redact', value: 'ana@example.com' },
      { type: 'iban', start: 27, end: 56, action: 'redact', value: 'ES91 2100 0418 4502 0005 1332' },
    ]);
  });

  it('reads standard input for "-", and names the types when blocking', () => {
    const run = cli('DNI 12345678Z', 'pii', 'scan', '-', '--mode', 'block');
    expect(run.status).toBe(1);
    expect(lines(run)).toEqual([{ type: 'dni', start: 4, end: 13, action: 'block' }]);
    expect(run.stderr).toContain('a Spanish DNI');
    expect(run.stderr).not.toContain('12345678Z');
  });

  it('exits 0 and prints nothing when nothing is found', () => {
    const run = cli('Version 1.2.3, order #712345678, 4111 1111 1111 1112.', 'pii', 'scan', '-');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
  });

  it('exits 2 on bad usage', () => {
    expect(cli(undefined, 'pii', 'scan').status).toBe(2);
    expect(cli(undefined, 'pii', 'scan', file, '--mode', 'off').status).toBe(2);
    expect(cli(undefined, 'pii', 'scan', file, '--bogus').status).toBe(2);
    const missing = cli(undefined, 'pii', 'scan', path.join(dir, 'missing.txt'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('Cannot read');
  });
});
