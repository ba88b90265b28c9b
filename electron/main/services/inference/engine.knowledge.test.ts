import { copyFile, mkdtemp, rm, truncate } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gv } from '../../../../e2e/fixtures/gguf/encode.ts';
import { presetSpec, rerankerSpec, writeGguf } from '../../../../e2e/fixtures/gguf/writer.ts';
import type { RuntimeState } from '../../../common/contract/schemas.ts';
import { MAX_BATCH } from '../../../common/runtime/protocol.ts';
import { openDatabase, type Database } from '../storage/sqlite.ts';
import { createEngine, type RuntimeEngine } from './engine.ts';
import { forkLauncher } from './launcher.ts';
import { checkModelFile } from './model-check.ts';
import { sqliteQuarantine } from './quarantine.ts';

// The knowledge side of the engine (token counts, embeddings, reranking) against the real
// inference process and the real node-llama-cpp, on models this test writes.

let dir: string;
let embedder: string;
let reranker: string;
let chatModel: string;
let db: Database;
const engines: RuntimeEngine[] = [];

/** The embedder's training context, small so that a text can overflow it cheaply. */
const EMBED_CONTEXT = 128;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-engine-knowledge-'));
  embedder = path.join(dir, 'embedder.gguf');
  await writeGguf(embedder, {
    ...presetSpec('tiny', 'Q8_0', 11),
    name: 'soberana-embedder',
    contextLength: EMBED_CONTEXT,
    extraMetadata: [['llama.pooling_type', gv.u32(1)]],
  });
  reranker = path.join(dir, 'reranker.gguf');
  await writeGguf(reranker, rerankerSpec(12));
  chatModel = path.join(dir, 'chat.gguf');
  await writeGguf(chatModel, presetSpec('tiny', 'Q8_0', 13));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
  if (db?.isOpen) db.close();
});

function makeEngine() {
  const states: RuntimeState[] = [];
  db = openDatabase(dir);
  const engine = createEngine({
    launcher: forkLauncher(),
    validate: checkModelFile,
    quarantine: sqliteQuarantine(db),
    onState: (state) => states.push(state),
    backoffMs: () => 50,
  });
  engines.push(engine);
  return { engine, states };
}

/** `count` words; the writer's vocabulary has "▁the" as one token, so this is `count` tokens. */
const words = (count: number, word = 'the') => Array.from({ length: count }, () => word).join(' ');

describe('token counts', () => {
  it('counts with the model’s tokenizer: nothing for nothing, more for longer, the same every time', async () => {
    const { engine } = makeEngine();
    await engine.start();
    const texts = ['', 'the', words(10), words(50), 'hello the model, and the water?'];
    const counts = await engine.countTokens(embedder, texts, 1);
    expect(counts.slice(0, 4)).toEqual([0, 1, 10, 50]);
    expect(counts[4]).toBeGreaterThan(5);
    expect(await engine.countTokens(embedder, texts, 1)).toEqual(counts);
    // Another model with the writer's vocabulary tokenizes alike.
    expect(await engine.countTokens(chatModel, texts, 1)).toEqual(counts);
    expect(await engine.countTokens(embedder, [], 1)).toEqual([]);
  });

  it('validates a file once while its bytes are unchanged, and again once they change', async () => {
    const own = path.join(dir, 'validated-once.gguf');
    await copyFile(embedder, own);
    let validations = 0;
    db = openDatabase(dir);
    const engine = createEngine({
      launcher: forkLauncher(),
      validate: (file) => ((validations += 1), checkModelFile(file)),
      quarantine: sqliteQuarantine(db),
      onState: () => undefined,
    });
    engines.push(engine);
    await engine.start();
    for (let i = 0; i < 3; i += 1) await engine.countTokens(own, ['the the'], 1);
    await engine.embed(own, ['the'], 1);
    expect(validations).toBe(1);
    // Cut short: the same name, size changed, and the validator sees it again and refuses it.
    await truncate(own, 100);
    await expect(engine.countTokens(own, ['the'], 1)).rejects.toMatchObject({ code: 'rejected_file' });
    expect(validations).toBe(2);
  });

  it('takes more texts than one message holds, in order', async () => {
    const { engine } = makeEngine();
    await engine.start();
    const texts = Array.from({ length: MAX_BATCH + 10 }, (_, index) => words(1 + (index % 7)));
    const counts = await engine.countTokens(embedder, texts, 1);
    expect(counts).toHaveLength(texts.length);
    expect(counts.every((count, index) => count === 1 + (index % 7))).toBe(true);
  });
});

describe('embeddings', () => {
  it('reports the vector size and the most tokens a text may have', async () => {
    const { engine } = makeEngine();
    await engine.start();
    const info = await engine.embeddingInfo(embedder, 1);
    expect(info.dimensions).toBe(64);
    expect(info.contextSize).toBe(EMBED_CONTEXT);
    // BOS (and EOS, where the model adds it) take room too.
    expect(info.maxTokens).toBeLessThan(EMBED_CONTEXT);
    expect(info.maxTokens).toBeGreaterThanOrEqual(EMBED_CONTEXT - 3);
  });

  it('cuts a text longer than the context to its head instead of failing the batch, and says which', async () => {
    const { engine } = makeEngine();
    await engine.start();
    const { maxTokens } = await engine.embeddingInfo(embedder, 1);
    const fits = words(maxTokens);
    const long = `${fits} ${words(400, 'water')}`;
    expect(await engine.countTokens(embedder, [fits], 1)).toEqual([maxTokens]);
    const result = await engine.embed(embedder, ['short text', long, fits, ''], 1);
    expect(result.dimensions).toBe(64);
    expect(result.vectors).toHaveLength(4);
    expect(result.truncated).toEqual([1]);
    for (const vector of result.vectors) {
      expect(vector).toHaveLength(64);
      expect(vector.every(Number.isFinite)).toBe(true);
    }
    // The cut text is embedded as exactly its first maxTokens tokens, which are `fits`.
    expect(result.vectors[1]).toEqual(result.vectors[2]);
    expect(result.vectors[1]).not.toEqual(result.vectors[0]);
    expect(result.vectors[3]).not.toEqual(result.vectors[0]);
  });

  it('survives kill -9 during an embedding batch: runtime_crashed, restart, and the next batch works', async () => {
    const { engine, states } = makeEngine();
    await engine.start();
    await engine.embed(embedder, ['warm up'], 1);
    const firstPid = engine.pid()!;
    const texts = Array.from({ length: MAX_BATCH }, (_, index) => `${words(100)} ${index}`);
    const running = engine.embed(embedder, texts, 1);
    // The batch takes seconds; the model is loaded, so this lands in the middle of it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.kill(firstPid, 'SIGKILL');
    await expect(running).rejects.toMatchObject({ code: 'runtime_crashed', message: expect.stringContaining('killed (SIGKILL)') });
    expect(states.some((state) => state.status === 'crashed')).toBe(true);

    const next = await engine.embed(embedder, ['after the restart'], 1);
    expect(next.vectors).toHaveLength(1);
    expect(engine.pid()).not.toBe(firstPid);
    expect(engine.state()).toMatchObject({ status: 'idle', restarts: 1 });
  });
});

describe('reranking', () => {
  it('scores each document 0 to 1 in input order, the same every time, even one longer than the context', async () => {
    const { engine } = makeEngine();
    await engine.start();
    const documents = ['the water is here', 'hello model', 'yes', words(700)];
    const scores = await engine.rank(reranker, 'where is the water', documents, 1);
    expect(scores).toHaveLength(documents.length);
    for (const score of scores) {
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
    }
    expect(new Set(scores).size).toBeGreaterThan(1);
    expect(await engine.rank(reranker, 'where is the water', documents, 1)).toEqual(scores);
    expect(await engine.rank(reranker, 'where is the water', [...documents].reverse(), 1)).toEqual([...scores].reverse());
    expect(await engine.rank(reranker, 'where is the water', [], 1)).toEqual([]);
    // Token counts reuse the reranker's loaded weights.
    expect(await engine.countTokens(reranker, [words(3)], 1)).toEqual([3]);
  });

  it('refuses chat and embedding models as rerankers before the process sees them', async () => {
    const { engine } = makeEngine();
    await engine.start();
    await expect(engine.rank(chatModel, 'query', ['document'], 1)).rejects.toMatchObject({
      code: 'rejected_file',
      message: expect.stringContaining('a chat model'),
    });
    await expect(engine.rank(embedder, 'query', ['document'], 1)).rejects.toMatchObject({
      code: 'rejected_file',
      message: expect.stringContaining('an embedding model'),
    });
    await expect(engine.load(reranker, { gpuLayers: 0, contextSize: 512, threads: 1 })).rejects.toMatchObject({ code: 'rejected_file' });
  });
});
