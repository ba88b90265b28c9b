import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { presetSpec, writeGguf } from '../../e2e/fixtures/gguf/writer.ts';
import { CLI_ENTRY } from '../test-support/run-cli.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(...args: string[]): Run {
  const env = { ...process.env };
  delete env.SOBERANA_DATA_DIR;
  const result = spawnSync(process.execPath, [CLI_ENTRY, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface DoctorJson {
  app: { dataDir: string; host: string; version: string; network: { outboundAllowed: boolean } };
  checks: { id: string; status: string; detail: string }[];
  summary: { passed: number; warned: number; failed: number };
}

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-cli-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('soberana doctor', () => {
  it('prints a JSON report with --json', () => {
    const run = cli('doctor', '--json', '--data-dir', dir);
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as DoctorJson;
    expect(report.app.dataDir).toBe(dir);
    expect(report.app.host).toBe('cli');
    expect(report.app.version).toBe(VERSION);
    expect(report.app.network.outboundAllowed).toBe(false);
    // The app's diagnostics, then the audit log's health (electron/cli/doctor-audit.ts) and the native binaries against their manifest.
    expect(report.checks.map((check) => check.id)).toEqual(['dataDir', 'diskSpace', 'sqlite', 'vectorStore', 'networkIsolation', 'audit', 'nativeBinaries']);
    expect(report.summary.failed).toBe(0);
    expect(report.summary.passed + report.summary.warned).toBe(7);
  });

  it('prints a human report without --json', () => {
    const run = cli('doctor', '--data-dir', dir);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('Checks');
    expect(run.stdout).toContain(`data directory  ${dir}`);
    expect(run.stdout).toContain(`Soberana ${VERSION}`);
    expect(() => JSON.parse(run.stdout) as unknown).toThrow();
  });

  it('resolves a relative --data-dir against the working directory', () => {
    const relative = path.relative(ROOT, dir);
    const run = cli('doctor', '--json', '--data-dir', relative);
    expect(run.status, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as DoctorJson).app.dataDir).toBe(path.resolve(ROOT, relative));
  });

  it('exits 1 when a check fails', async () => {
    const file = path.join(dir, 'plain-file');
    await writeFile(file, 'not a directory');
    const run = cli('doctor', '--json', '--data-dir', path.join(file, 'data'));
    expect(run.status).toBe(1);
    const report = JSON.parse(run.stdout) as DoctorJson;
    expect(report.checks[0]).toMatchObject({ id: 'dataDir', status: 'fail' });
    expect(report.summary.failed).toBeGreaterThanOrEqual(1);
  });

  it('prints its help with --help and exits 0', () => {
    const run = cli('doctor', '--help');
    expect(run.status).toBe(0);
    expect(run.stdout.startsWith('Usage: soberana doctor')).toBe(true);
  });

  it('exits 2 on an unexpected argument', () => {
    const run = cli('doctor', 'extra');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('Unexpected argument "extra"');
    expect(run.stdout).toBe('');
  });
});

describe('soberana: global options before the command, as with git, npm and docker', () => {
  it('runs doctor with --data-dir and --json first', () => {
    const run = cli('--data-dir', dir, '--json', 'doctor');
    expect(run.status, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as DoctorJson).app.dataDir).toBe(dir);
    const equals = cli(`--data-dir=${dir}`, 'doctor', '--json');
    expect(equals.status, equals.stderr).toBe(0);
    expect((JSON.parse(equals.stdout) as DoctorJson).app.dataDir).toBe(dir);
  });

  it('never takes the value of --data-dir for the command', () => {
    // Run from the test's folder: the data folder "doctor" is made relative to it.
    const run = spawnSync(process.execPath, [CLI_ENTRY, '--data-dir', 'doctor', 'doctor', '--json'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    expect(run.status, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as DoctorJson).app.dataDir).toBe(path.join(dir, 'doctor'));
  });

  it('passes the command its own options: models import X --mode copy', async () => {
    const source = path.join(dir, 'global-first.gguf');
    await writeGguf(source, presetSpec('tiny', 'F16', 4));
    const data = path.join(dir, 'data');
    const run = cli('--data-dir', data, '--json', 'models', 'import', source, '--mode', 'copy');
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { imported: { importMode: string; files: string[] }[] };
    expect(result.imported).toHaveLength(1);
    expect(result.imported[0]!.importMode).toBe('copy');
    expect(result.imported[0]!.files[0]!.startsWith(data)).toBe(true);
  });

  it("prints the command's help with --help or -h anywhere", () => {
    for (const args of [
      ['--help', 'doctor'],
      ['-h', 'models', 'import'],
      ['models', '-h', 'import'],
    ]) {
      const run = cli(...args);
      expect(run.status, args.join(' ')).toBe(0);
      expect(run.stdout).toContain(`Usage: soberana ${args.filter((arg) => !arg.startsWith('-')).join(' ')}`);
    }
  });

  it('exits 2 when --data-dir has no value', () => {
    const run = cli('doctor', '--data-dir');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--data-dir needs a folder.');
  });
});

describe('soberana', () => {
  it('prints the global help with --help and exits 0', () => {
    const run = cli('--help');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Usage: soberana [--data-dir DIR] [--json] <command>');
    expect(run.stdout).toContain('doctor');
  });

  it('exits 2 with usage on stderr when given no arguments', () => {
    const run = cli();
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('Usage: soberana [--data-dir DIR] [--json] <command>');
    expect(run.stdout).toBe('');
  });

  it('exits 2 on an unknown command', () => {
    const run = cli('frobnicate');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('Unknown command "frobnicate"');
  });

  it('exits 2 on an inherited property name used as a command', () => {
    const run = cli('toString');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('Unknown command "toString"');
  });

  it('exits 2 on an unknown option', () => {
    const run = cli('doctor', '--bogus');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--bogus');
  });

  it('prints the version from package.json', () => {
    const run = cli('--version');
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(VERSION);
  });

  it('prints the version as JSON with --json', () => {
    const run = cli('--version', '--json');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ version: VERSION });
  });
});

describe('soberana gguf check', () => {
  it('reports the facts of a model the writer made and exits 0', async () => {
    const file = path.join(dir, 'tiny.gguf');
    await writeGguf(file, presetSpec('tiny', 'F16', 2));
    const run = cli('gguf', 'check', file, '--json');
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout) as { ok: boolean; facts: { architecture: string; embeddingLength: number; kind: string; hasChatTemplate: boolean } };
    expect(report).toMatchObject({ ok: true, facts: { architecture: 'llama', embeddingLength: 64, kind: 'chat', hasChatTemplate: true } });
  });

  it('refuses a file that is not GGUF with the reason and exits 1', async () => {
    const file = path.join(dir, 'page.gguf');
    await writeFile(file, '<html>not a model</html>');
    const run = cli('gguf', 'check', file);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('not_gguf: This file is not a GGUF model: its first bytes are 3C 68 74 6D');
  });

  it('needs exactly one file', () => {
    expect(cli('gguf', 'check').status).toBe(2);
    expect(cli('gguf', 'check', 'a', 'b').status).toBe(2);
  });
});

describe('soberana runtime info and generate', () => {
  it('runtime info reports what the inference process detected', () => {
    const run = cli('runtime', 'info', '--json', '--data-dir', dir);
    expect(run.status).toBe(0);
    const info = JSON.parse(run.stdout) as { backend: string; cpuCores: number; ramTotal: number; threads: number };
    expect(info.backend).toMatch(/^(cpu|cuda|vulkan|metal)$/);
    expect(info.cpuCores).toBeGreaterThan(0);
    expect(info.ramTotal).toBeGreaterThan(0);
    expect(info.threads).toBe(info.cpuCores);
  });

  it('generate streams a reply to stdout and timing to stderr', async () => {
    const file = path.join(dir, 'tiny.gguf');
    await writeGguf(file, presetSpec('tiny', 'Q8_0', 5));
    const run = cli('generate', '--model', file, '--max-tokens', '12', '--threads', '1', '--seed', '1', '--data-dir', dir, 'Hello');
    expect(run.status).toBe(0);
    expect(run.stdout.trim().length).toBeGreaterThan(0);
    expect(run.stderr).toMatch(/load_ms=\d+ first_token_ms=\d+ tokens=\d+ tokens_per_s=[\d.]+ stop=maxTokens/);
  });

  it('generate refuses a model that fails the check, with exit 1', async () => {
    const file = path.join(dir, 'broken.gguf');
    await writeFile(file, 'GGUF but nothing else');
    const run = cli('generate', '--model', file, '--data-dir', dir, 'Hello');
    expect(run.status).toBe(1);
    expect(run.stderr.length).toBeGreaterThan(0);
  });

  it('generate checks its options', () => {
    expect(cli('generate', '--data-dir', dir, 'Hello').status).toBe(2);
    expect(cli('generate', '--model', 'x.gguf', '--max-tokens', 'lots', '--data-dir', dir, 'Hello').status).toBe(2);
    expect(cli('generate', '--model', 'x.gguf', '--data-dir', dir).status).toBe(2);
  });
});
