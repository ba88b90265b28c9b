import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gv } from '../../../../e2e/fixtures/gguf/encode.ts';
import { MALFORMED_KINDS, malformedGguf } from '../../../../e2e/fixtures/gguf/malformed.ts';
import { fuzzBases, fuzzCase } from '../../../../e2e/fixtures/gguf/mutate.ts';
import { buildGgufBytes, CHATML_TEMPLATE, planGguf, presetSpec } from '../../../../e2e/fixtures/gguf/writer.ts';
import { integerOf, readGgufMetadata, stringOf } from './metadata.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-metadata-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, bytes: Uint8Array): Promise<string> {
  const target = path.join(dir, name);
  await writeFile(target, bytes);
  return target;
}

const WANTED = new Set(['general.license', 'general.name', 'tokenizer.chat_template', 'split.count', 'llama.block_count', 'general.flag']);

describe('readGgufMetadata', () => {
  it('reads the wanted strings, numbers and bools and counts parameters', async () => {
    const spec = {
      ...presetSpec('tiny', 'F32', 2),
      extraMetadata: [
        ['general.license', gv.str(' mit ')],
        ['split.count', { type: 'UINT16', value: 1 }],
        ['general.flag', gv.bool(true)],
      ] as const,
    };
    const result = await readGgufMetadata(await file('ok.gguf', buildGgufBytes(spec)), WANTED);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { metadata } = result;
    expect(stringOf(metadata, 'general.license')).toBe('mit');
    expect(stringOf(metadata, 'general.name')).toBe('soberana-tiny-f32');
    expect(stringOf(metadata, 'tokenizer.chat_template')).toBe(CHATML_TEMPLATE);
    expect(integerOf(metadata, 'split.count')).toBe(1);
    expect(integerOf(metadata, 'llama.block_count')).toBe(2);
    expect(metadata.values.get('general.flag')).toBe(true);
    expect(metadata.values.has('tokenizer.ggml.tokens')).toBe(false);
    expect(metadata.parameterCount).toBe(planGguf(spec).parameterCount);
    expect(stringOf(metadata, 'missing.key')).toBeNull();
  });

  it.each(MALFORMED_KINDS)('never throws on the malformed variant %s', async (kind) => {
    const variant = malformedGguf(kind);
    const target = path.join(dir, `${kind}.gguf`);
    await writeFile(target, variant.bytes);
    const result = await readGgufMetadata(target, WANTED);
    expect(typeof result.ok).toBe('boolean');
    if (!result.ok) expect(result.message.length).toBeGreaterThan(0);
  });

  it('never throws on 300 fuzzed headers', async () => {
    const bases = fuzzBases();
    for (let i = 0; i < 300; i++) {
      const { bytes } = fuzzCase(bases, 0x5eed, i);
      const result = await readGgufMetadata(await file('fuzz.gguf', bytes), WANTED);
      expect(typeof result.ok).toBe('boolean');
    }
  });

  it('refuses what is not a GGUF file or cannot be read', async () => {
    expect(await readGgufMetadata(await file('text.gguf', Buffer.from('hello world')), WANTED)).toEqual({
      ok: false,
      message: 'it does not start with the GGUF signature',
    });
    expect(await readGgufMetadata(await file('empty.gguf', Buffer.alloc(0)), WANTED)).toMatchObject({ ok: false });
    expect(await readGgufMetadata(path.join(dir, 'absent.gguf'), WANTED)).toEqual({ ok: false, message: 'it could not be read (ENOENT)' });
    expect(await readGgufMetadata(dir, WANTED)).toEqual({ ok: false, message: 'it is not a regular file' });
  });
});
