import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MALFORMED_KINDS, malformedGguf, planGguf, presetSpec, writeGguf, writeMalformed } from '../../../../e2e/fixtures/gguf/index.ts';
import { checkGgufFile } from './file.ts';
import { checkGgufBytes } from './validator.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-gguf-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('checkGgufFile', () => {
  it('accepts a written tiny model with the same facts as checkGgufBytes', async () => {
    const file = path.join(dir, 'tiny.gguf');
    const spec = presetSpec('tiny', 'Q8_0');
    await writeGguf(file, spec);
    const plan = planGguf(spec);
    const result = await checkGgufFile(file);
    expect(result).toEqual(checkGgufBytes(plan.header.bytes, plan.totalSize));
    expect(result.ok).toBe(true);
  });

  it('grows its read window for a header larger than the first read', async () => {
    // The 0.5B header (32,000-token vocabulary) is ~650 KB; the data after it is left sparse.
    const plan = planGguf(presetSpec('0.5b', 'Q8_0'));
    const file = path.join(dir, 'half-b.gguf');
    const handle = await open(file, 'w');
    await handle.writeFile(plan.header.bytes);
    await handle.truncate(plan.totalSize);
    await handle.close();
    const result = await checkGgufFile(file);
    expect(result.ok && result.facts).toMatchObject({ layerCount: 24, embeddingLength: 896, vocabularySize: 32_000, fileSize: plan.totalSize });
  });

  for (const kind of MALFORMED_KINDS) {
    it(`gives the same answer as checkGgufBytes for ${kind}`, async () => {
      const file = path.join(dir, `${kind}.gguf`);
      await writeMalformed(file, kind);
      const variant = malformedGguf(kind);
      const fromFile = await checkGgufFile(file);
      expect(fromFile.ok).toBe(false);
      expect(fromFile).toEqual(checkGgufBytes(variant.bytes, variant.fileSize));
    });
  }

  it('reports a missing file, a folder and an unreadable file as unreadable', async () => {
    const missing = await checkGgufFile(path.join(dir, 'nope.gguf'));
    expect(missing).toEqual({ ok: false, rejection: { code: 'unreadable', message: 'The model file could not be found. It may have been moved or deleted.' } });

    const folder = path.join(dir, 'folder.gguf');
    await mkdir(folder);
    const fromFolder = await checkGgufFile(folder);
    expect(!fromFolder.ok && fromFolder.rejection.code).toBe('unreadable');

    if (process.platform !== 'win32' && process.getuid?.() !== 0) {
      const locked = path.join(dir, 'locked.gguf');
      await writeFile(locked, 'GGUF', { mode: 0o000 });
      const fromLocked = await checkGgufFile(locked);
      expect(!fromLocked.ok && fromLocked.rejection.code).toBe('unreadable');
    }
  });

  it('never rejects its promise, whatever the path', async () => {
    for (const weird of ['', '\0', 'a'.repeat(10_000), '/dev/null']) {
      const result = await checkGgufFile(weird);
      expect(result.ok).toBe(false);
    }
  });
});

const here = path.dirname(fileURLToPath(import.meta.url));
const THIRD_PARTY = path.resolve(here, '../../../../../shared/fixtures/gguf/llama-2-tiny-random.gguf');
const hasThirdParty = existsSync(THIRD_PARTY);

describe('third-party GGUF', () => {
  it('accepts llama-2-tiny-random.gguf, written by another project', async ({ skip }) => {
    skip(!hasThirdParty, `the third-party fixture ${THIRD_PARTY} is absent (CI provides ../shared/fixtures/gguf/)`);
    const result = await checkGgufFile(THIRD_PARTY);
    expect(result.ok && result.facts).toMatchObject({
      architecture: 'llama',
      embeddingLength: 8,
      layerCount: 1,
      headCount: 2,
      vocabularySize: 32_000,
      quantization: 'MOSTLY_F16',
      fileSize: 1_750_560,
      kind: 'chat',
    });
  });
});
