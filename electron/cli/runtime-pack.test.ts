import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetSpec, writeGguf } from '../../e2e/fixtures/gguf/writer.ts';
import { runCli } from '../test-support/run-cli.ts';

// Issue 13's runtime pack round trip, as IT runs it with the built command line and no
// network: create a bundle carrying node-llama-cpp's prebuilt CPU binaries (a registry
// package installed here), sign it, trust the key, install it, and see the inference
// process load its binaries from the pack in the data folder and generate.

const root = fileURLToPath(new URL('../../', import.meta.url));
const cpuPackage = path.join(root, 'node_modules', '@node-llama-cpp', 'linux-x64');

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-cli-runtime-pack-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const json = <T>(text: string): T => JSON.parse(text) as T;

describe.runIf(process.platform === 'linux' && process.arch === 'x64' && existsSync(cpuPackage))('a runtime pack through the built CLI', () => {
  it('is created, signed, installed and loaded, and runtime info names it', { timeout: 240_000 }, async () => {
    const publisher = path.join(dir, 'publisher');
    const machine = path.join(dir, 'machine');
    const keys = cli(publisher, ['keys', 'generate', '--out', path.join(dir, 'keys'), '--name', 'IT runtime', '--json']);
    expect(keys.status, keys.stderr).toBe(0);
    const key = json<{ privateKeyFile: string; publicKeyFile: string }>(keys.stdout);

    const bundle = path.join(dir, 'cpu-runtime.tar');
    const created = cli(publisher, [
      'bundle',
      'create',
      '--id',
      'cpu.runtime',
      '--name',
      'CPU runtime',
      '--version',
      '1',
      '--expires-in-days',
      '30',
      '--key',
      key.privateKeyFile,
      '--add',
      `runtime:${cpuPackage}`,
      '--out',
      bundle,
    ]);
    expect(created.status, created.stderr).toBe(0);
    const signed = cli(publisher, ['bundle', 'sign', bundle, '--key', key.privateKeyFile]);
    expect(signed.status, signed.stderr).toBe(0);

    expect(cli(machine, ['keys', 'trust', key.publicKeyFile]).status).toBe(0);
    const installed = cli(machine, ['bundle', 'install', bundle, '--json']);
    expect(installed.status, installed.stdout + installed.stderr).toBe(0);

    const info = cli(machine, ['runtime', 'info', '--json']);
    expect(info.status, info.stderr).toBe(0);
    const hardware = json<{ backend: string; backendSource?: { kind: string; bundleId?: string; package?: string }; bindingPath?: string }>(info.stdout);
    expect(hardware.backendSource).toMatchObject({ kind: 'pack', bundleId: 'cpu.runtime', package: '@node-llama-cpp/linux-x64' });
    // The binary the process loaded is the pack's copy in the data folder, not node_modules'.
    expect(hardware.bindingPath?.startsWith(machine)).toBe(true);

    const gguf = path.join(dir, 'tiny.gguf');
    await writeGguf(gguf, presetSpec('tiny', 'Q8_0', 11));
    const generated = cli(machine, ['generate', '--model', gguf, '--max-tokens', '4', '--threads', '1', '--json', 'Hello']);
    expect(generated.status, generated.stderr).toBe(0);
    expect(json<{ tokens: number }>(generated.stdout).tokens).toBeGreaterThan(0);
  });
});

function cli(dataDir: string, args: readonly string[]) {
  return runCli(args, { dataDir, timeoutMs: 180_000 });
}
