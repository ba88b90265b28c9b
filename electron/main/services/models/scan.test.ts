import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildGgufBytes, presetSpec } from '../../../../e2e/fixtures/gguf/writer.ts';
import { AppError } from '../../../common/result.ts';
import { scanModels } from './scan.ts';

let dir: string;
const MODEL = Buffer.from(buildGgufBytes(presetSpec('tiny', 'F32', 1)));

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-scan-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a small file at `relative` (any content: the scanner does not open models). */
async function put(relative: string, content: Buffer | string = MODEL): Promise<string> {
  const file = path.join(dir, relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
  return file;
}

const part = (prefix: string, i: number, n: number) => `${prefix}-${String(i).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.gguf`;

describe('scanModels', () => {
  it('offers a single file, with or without the .gguf extension', async () => {
    const file = await put('Model.Q8_0.GGUF');
    expect(await scanModels(file)).toEqual({
      candidates: [{ displayName: 'Model.Q8_0', paths: [file], fileNames: ['Model.Q8_0.GGUF'], sizeBytes: MODEL.length, origin: 'file', sourcePath: file }],
      problems: [],
      skipped: [],
      truncated: false,
    });
    const bare = await put('no extension');
    expect((await scanModels(bare)).candidates[0]).toMatchObject({ displayName: 'no extension', fileNames: ['no_extension.gguf'] });
  });

  it('finds .gguf files in a folder tree, case-insensitively, and nothing else', async () => {
    const a = await put('a.gguf');
    const b = await put('deep/er/B.GGUF');
    await put('notes.txt', 'x');
    await put('model.gguf.txt', 'x');
    const result = await scanModels(dir);
    expect(result.candidates.map((c) => c.paths[0])).toEqual([a, b]);
    expect(result.problems).toEqual([]);
    expect(result.truncated).toBe(false);
  });

  it('groups split files in order, from the folder or from any one part', async () => {
    const parts = [await put(part('big', 3, 3)), await put(part('big', 1, 3)), await put(part('big', 2, 3))];
    const ordered = [parts[1], parts[2], parts[0]];
    const expected = {
      displayName: 'big',
      paths: ordered,
      fileNames: ordered.map((p) => path.basename(p!)),
      sizeBytes: 3 * MODEL.length,
      origin: 'split',
      sourcePath: parts[1],
    };
    expect((await scanModels(dir)).candidates).toEqual([expected]);
    expect((await scanModels(parts[2]!)).candidates).toEqual([expected]);
  });

  it('reports a split set with a missing part instead of offering it', async () => {
    await put(part('gap', 1, 3));
    await put(part('gap', 3, 3));
    const single = await put(part('solo', 1, 1));
    const result = await scanModels(dir);
    expect(result.candidates).toEqual([expect.objectContaining({ displayName: 'solo', paths: [single], origin: 'file' })]);
    expect(result.problems).toEqual([
      { path: path.join(dir, part('gap', 1, 3)), message: expect.stringContaining(`this part is missing from the folder: ${part('gap', 2, 3)}`) },
    ]);
  });

  it("recognises LM Studio's folders and skips vision projectors", async () => {
    const model = await put('.lmstudio/models/publisher/Model-GGUF/Model-Q4_K_M.gguf');
    const projector = await put('.lmstudio/models/publisher/Model-GGUF/mmproj-model-f16.gguf');
    const result = await scanModels(path.join(dir, '.lmstudio'));
    expect(result.candidates).toEqual([expect.objectContaining({ displayName: 'Model-Q4_K_M', paths: [model], origin: 'lmstudio' })]);
    expect(result.problems).toEqual([]);
    expect(result.skipped).toEqual([{ path: projector, message: expect.stringMatching(/vision projector/) }]);
  });

  it("resolves Ollama's manifests to their blobs and names them model:tag", async () => {
    const digest = 'a'.repeat(64);
    const blob = await put(`.ollama/models/blobs/sha256-${digest}`);
    await put(`.ollama/models/blobs/sha256-${'b'.repeat(64)}`, '{"config": true}');
    const manifest = (layers: unknown[]) =>
      JSON.stringify({ schemaVersion: 2, config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: `sha256:${'b'.repeat(64)}` }, layers });
    const modelLayer = (hex: string) => ({ mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${hex}`, size: MODEL.length });
    const root = '.ollama/models/manifests';
    const library = await put(
      `${root}/registry.ollama.ai/library/tiny/latest`,
      manifest([{ mediaType: 'application/vnd.ollama.image.template', digest: `sha256:${'c'.repeat(64)}` }, modelLayer(digest)]),
    );
    await put(`${root}/registry.ollama.ai/someone/tiny/q8`, manifest([modelLayer(digest)]));
    const missing = await put(`${root}/registry.ollama.ai/library/gone/latest`, manifest([modelLayer('d'.repeat(64))]));
    const broken = await put(`${root}/registry.ollama.ai/library/broken/latest`, '{not json');
    const adapter = await put(
      `${root}/registry.ollama.ai/library/adapter/latest`,
      manifest([{ mediaType: 'application/vnd.ollama.image.adapter', digest: `sha256:${digest}` }]),
    );

    for (const start of [path.join(dir, '.ollama'), path.join(dir, '.ollama', 'models')]) {
      const result = await scanModels(start);
      // Both tags share one blob: it is offered once.
      expect(result.candidates).toEqual([
        {
          displayName: 'tiny:latest',
          paths: [blob],
          fileNames: ['tiny-latest.gguf'],
          sizeBytes: MODEL.length,
          origin: 'ollama',
          sourcePath: library,
          expectedSha256: digest,
        },
      ]);
      expect(result.problems).toEqual(
        expect.arrayContaining([
          { path: missing, message: expect.stringMatching(/gone:latest is missing from Ollama's blobs folder/) },
          { path: broken, message: expect.stringMatching(/broken:latest could not be read/) },
          { path: adapter, message: expect.stringMatching(/adapter:latest names no model file/) },
        ]),
      );
    }
  });

  it('names models from other namespaces and registries in full', async () => {
    const digest = 'e'.repeat(64);
    await put(`models/blobs/sha256-${digest}`);
    await put(
      'models/manifests/hf.co/org/repo/Q4',
      JSON.stringify({ layers: [{ mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${digest}` }] }),
    );
    expect((await scanModels(dir)).candidates).toEqual([expect.objectContaining({ displayName: 'hf.co/org/repo:Q4', fileNames: ['repo-Q4.gguf'] })]);
  });

  it('survives symlink loops and offers a file reached twice once', async () => {
    const file = await put('real/model.gguf');
    await symlink(dir, path.join(dir, 'real', 'loop'));
    await symlink(file, path.join(dir, 'alias.gguf'));
    const result = await scanModels(dir);
    expect(result.candidates).toHaveLength(1);
  });

  it('stops at the depth and entry limits and says so', async () => {
    const deep = await put(`${'d/'.repeat(10)}deep.gguf`);
    expect((await scanModels(dir)).candidates).toEqual([]);
    expect((await scanModels(dir)).truncated).toBe(true);
    expect((await scanModels(dir, { maxDepth: 12 })).candidates.map((c) => c.paths[0])).toEqual([deep]);

    await rm(path.join(dir, 'd'), { recursive: true });
    for (let i = 0; i < 20; i++) await put(`m${String(i).padStart(2, '0')}.gguf`);
    const limited = await scanModels(dir, { maxEntries: 5 });
    expect(limited.candidates).toHaveLength(5);
    expect(limited.truncated).toBe(true);
  });

  it('refuses a path with nothing at it, and a dangling link, as not_found', async () => {
    await expect(scanModels(path.join(dir, 'nothing'))).rejects.toMatchObject({ code: 'not_found', message: 'Nothing was found at this path.' });
    await symlink(path.join(dir, 'gone.gguf'), path.join(dir, 'dangling.gguf'));
    await expect(scanModels(path.join(dir, 'dangling.gguf'))).rejects.toBeInstanceOf(AppError);
    await expect(scanModels(path.join(dir, 'dangling.gguf'))).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringMatching(/link points to a file that no longer exists/),
    });
  });

  it('can be cancelled', async () => {
    await put('x/a.gguf');
    const controller = new AbortController();
    controller.abort();
    await expect(scanModels(dir, { signal: controller.signal })).rejects.toMatchObject({ code: 'cancelled' });
  });
});
