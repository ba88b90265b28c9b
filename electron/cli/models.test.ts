import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeMalformed } from '../../e2e/fixtures/gguf/malformed.ts';
import { presetSpec, writeGguf } from '../../e2e/fixtures/gguf/writer.ts';
import type { ModelRecord } from '../main/services/models/index.ts';
import { runCli } from '../test-support/run-cli.ts';

let dir: string;
let dataDir: string;

const cli = (...args: string[]) => runCli(args, { dataDir, timeoutMs: 30_000 });

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-cli-models-'));
  dataDir = path.join(dir, 'data');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('soberana models', () => {
  it('imports, lists, inspects, verifies and removes a model', async () => {
    const source = path.join(dir, 'cli-model.gguf');
    await writeGguf(source, presetSpec('tiny', 'F16', 4));

    const imported = cli('models', 'import', source, '--json');
    expect(imported.status, imported.stderr).toBe(0);
    const result = JSON.parse(imported.stdout) as { imported: ModelRecord[]; refused: unknown[]; problems: unknown[] };
    expect(result.refused).toEqual([]);
    expect(result.imported).toHaveLength(1);
    const model = result.imported[0]!;
    expect(model).toMatchObject({ displayName: 'cli-model', importMode: 'copy', role: 'chat', status: 'ok' });
    expect(existsSync(model.files[0]!)).toBe(true);

    const list = cli('models', 'list');
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${model.id}\\s+ok\\s+chat\\*\\s+.*\\s+copy\\s+cli-model$`, 'm'));
    expect((JSON.parse(cli('models', 'list', '--json').stdout) as ModelRecord[]).map((m) => m.id)).toEqual([model.id]);

    const inspect = cli('models', 'inspect', model.id.slice(0, 6));
    expect(inspect.status).toBe(0);
    expect(inspect.stdout).toContain(`sha256          ${model.sha256}`);
    expect(inspect.stdout).toContain('<|im_start|>');
    expect(cli('models', 'inspect', 'zzzzzz').status).toBe(1);

    const verify = cli('models', 'verify', model.id, '--json');
    expect(verify.status).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ id: model.id, status: 'ok' });

    const again = cli('models', 'import', source, '--mode', 'reference');
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('This model is already in the library as cli-model.');

    const removed = cli('models', 'remove', model.id);
    expect(removed.status).toBe(0);
    expect(existsSync(model.files[0]!)).toBe(false);
    expect(existsSync(source)).toBe(true);
    expect(cli('models', 'list').stdout).toContain('The library is empty.');
  });

  it('exits 1 with the reason when a file is refused, and 2 for a bad mode', async () => {
    const bad = path.join(dir, 'bad.gguf');
    await writeMalformed(bad, 'wrong-magic');
    const run = cli('models', 'import', bad, '--mode', 'reference');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/refused .*bad\.gguf\n {2}This file is not a GGUF model/);
    expect(cli('models', 'import', bad, '--mode', 'move').status).toBe(2);
    expect(cli('models', 'import', path.join(dir, 'nothing-here')).status).toBe(1);
  });

  it('prints plain progress lines when stderr is not a terminal', async () => {
    const source = path.join(dir, 'progress.gguf');
    await writeGguf(source, presetSpec('tiny', 'F32', 8));
    const run = cli('models', 'import', source);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^progress: 100% of /m);
    expect(run.stdout).toMatch(/^imported {2}[0-9a-f]{16} {2}progress {2}chat/);
  });
});
