import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, open, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gv } from '../../../../e2e/fixtures/gguf/encode.ts';
import type { GgufEntry } from '../../../../e2e/fixtures/gguf/encode.ts';
import { presetSpec, writeGguf } from '../../../../e2e/fixtures/gguf/writer.ts';
import { AppError } from '../../../common/result.ts';
import { listEvents } from '../storage/events.ts';
import { openDatabase, type Database } from '../storage/sqlite.ts';
import { importModel } from './import.ts';
import { libraryDirFor } from './library.ts';
import { checkBeforeLoad, verifyModel } from './integrity.ts';
import { clearDefault, getModel, listModels, removeModel, renameModel, setDefault, setLoadSettings } from './registry.ts';
import { scanModels } from './scan.ts';
import type { ByteProgress, ImportMode, ModelRecord } from './types.ts';

let dir: string;
let library: string;
let db: Database;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-registry-'));
  library = libraryDirFor(path.join(dir, 'data'));
  db = openDatabase(path.join(dir, 'data'));
});

afterEach(async () => {
  if (db.isOpen) db.close();
  await rm(dir, { recursive: true, force: true });
});

let seed = 100;

async function add(mode: ImportMode, name = `model-${seed}`, extraMetadata: readonly GgufEntry[] = []): Promise<{ record: ModelRecord; source: string }> {
  const source = path.join(dir, `${name}.gguf`);
  await writeGguf(source, { ...presetSpec('tiny', 'F32', seed++), extraMetadata });
  const { candidates } = await scanModels(source);
  return { record: await importModel(db, library, candidates[0]!, { mode }), source };
}

const EMBEDDING: readonly GgufEntry[] = [['llama.pooling_type', gv.u32(1)]];

async function thrown(run: () => unknown): Promise<AppError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected an error');
}

/** Overwrites one byte in the middle of the file, keeping its size. */
async function flipByte(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    const at = Math.floor(statSync(file).size / 2);
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, at);
    byte[0] = byte[0]! ^ 0xff;
    await handle.write(byte, 0, 1, at);
  } finally {
    await handle.close();
  }
}

describe('listModels and getModel', () => {
  it('list in import order and refuse an unknown id', async () => {
    const a = await add('reference', 'first');
    const b = await add('copy', 'second');
    expect(listModels(db).map((model) => model.displayName)).toEqual(['first', 'second']);
    expect(getModel(db, b.record.id)).toEqual(b.record);
    expect(getModel(db, a.record.id).importMode).toBe('reference');
    expect((await thrown(() => getModel(db, 'nope'))).code).toBe('not_found');
  });
});

describe('removeModel', () => {
  it('deletes a copied model and its folder, never the original', async () => {
    const { record, source } = await add('copy');
    const removed = await removeModel(db, library, record.id);
    expect(removed.deletedFolder).toBe(path.join(library, record.id));
    expect(existsSync(path.join(library, record.id))).toBe(false);
    expect(existsSync(source)).toBe(true);
    expect(listModels(db)).toEqual([]);
    expect(listEvents(db, { type: 'model.removed' })).toMatchObject([{ data: { id: record.id } }]);
  });

  it('deletes only the library link of a linked model; the original file keeps its bytes', async () => {
    const { record, source } = await add('link');
    const before = readFileSync(source);
    await removeModel(db, library, record.id);
    expect(existsSync(record.files[0]!)).toBe(false);
    expect(readFileSync(source).equals(before)).toBe(true);
  });

  it('never touches a referenced file', async () => {
    const { record, source } = await add('reference');
    const removed = await removeModel(db, library, record.id);
    expect(removed.deletedFolder).toBeNull();
    expect(existsSync(source)).toBe(true);
    expect(listModels(db)).toEqual([]);
  });

  it('refuses to delete files recorded outside the model folder', async () => {
    const { record, source } = await add('copy');
    db.prepare('UPDATE models SET files = ? WHERE id = ?').run(JSON.stringify([source]), record.id);
    const error = await thrown(() => removeModel(db, library, record.id));
    expect(error.code).toBe('io_error');
    expect(existsSync(source)).toBe(true);
    expect(existsSync(path.join(library, record.id))).toBe(true);
  });

  it('reports an unknown id as not_found', async () => {
    expect((await thrown(() => removeModel(db, library, '0123456789abcdef'))).code).toBe('not_found');
  });
});

describe('verifyModel', () => {
  it('finds a changed byte, a restored file and a deleted file', async () => {
    const { record } = await add('copy');
    const file = record.files[0]!;
    const original = readFileSync(file);
    const progress: ByteProgress[] = [];
    expect((await verifyModel(db, record.id, { onProgress: (p) => progress.push(p) })).status).toBe('ok');
    expect(progress.at(-1)).toMatchObject({ bytesDone: record.sizeBytes, bytesTotal: record.sizeBytes });

    await flipByte(file);
    expect((await verifyModel(db, record.id)).status).toBe('changed');

    await writeFile(file, original);
    expect((await verifyModel(db, record.id)).status).toBe('ok');

    await rm(file);
    expect((await verifyModel(db, record.id)).status).toBe('missing');
    expect(listEvents(db, { type: 'model.checked' }).map((event) => (event.data as { status: string }).status)).toEqual(['missing', 'ok', 'changed', 'ok']);
  });

  it('marks a file of another size as changed without reading it', async () => {
    const { record, source } = await add('reference');
    await writeFile(source, 'GGUF short');
    const progress: ByteProgress[] = [];
    expect((await verifyModel(db, record.id, { onProgress: (p) => progress.push(p) })).status).toBe('changed');
    expect(progress).toEqual([]);
  });

  it('leaves the status alone when cancelled', async () => {
    const { record } = await add('copy');
    const controller = new AbortController();
    controller.abort();
    expect((await thrown(() => verifyModel(db, record.id, { signal: controller.signal }))).code).toBe('cancelled');
    expect(getModel(db, record.id).status).toBe('ok');
  });
});

describe('checkBeforeLoad', () => {
  it('passes an unchanged referenced file without hashing it', async () => {
    const { record, source } = await add('reference');
    const progress: ByteProgress[] = [];
    const target = await checkBeforeLoad(db, record.id, { onProgress: (p) => progress.push(p) });
    expect(target.path).toBe(source);
    expect(progress).toEqual([]);
  });

  it('re-hashes a touched file, accepts it when the bytes are the same, and remembers the new time', async () => {
    const { record, source } = await add('reference');
    const later = new Date(Date.now() + 60_000);
    await utimes(source, later, later);
    const progress: ByteProgress[] = [];
    await checkBeforeLoad(db, record.id, { onProgress: (p) => progress.push(p) });
    expect(progress.length).toBeGreaterThan(0);
    progress.length = 0;
    await checkBeforeLoad(db, record.id, { onProgress: (p) => progress.push(p) });
    expect(progress).toEqual([]);
  });

  it('refuses a changed file as rejected_file and marks it changed, until the bytes are back', async () => {
    const { record, source } = await add('reference');
    const original = readFileSync(source);
    await flipByte(source);
    const later = new Date(Date.now() + 60_000);
    await utimes(source, later, later);
    const error = await thrown(() => checkBeforeLoad(db, record.id));
    expect(error.code).toBe('rejected_file');
    expect(error.message).toMatch(/has changed since it was imported/);
    expect(getModel(db, record.id).status).toBe('changed');

    await writeFile(source, original);
    expect((await checkBeforeLoad(db, record.id)).record.status).toBe('ok');
  });

  it('refuses a missing file as not_found and marks it missing', async () => {
    const { record, source } = await add('reference');
    await rm(source);
    const error = await thrown(() => checkBeforeLoad(db, record.id));
    expect(error.code).toBe('not_found');
    expect(error.message).toMatch(/Reconnect the drive/);
    expect(getModel(db, record.id).status).toBe('missing');
  });

  it('runs the GGUF check again on the file it returns', async () => {
    const { record, source } = await add('reference');
    // A file the validator now refuses but whose bytes, size and time the registry still trusts.
    db.prepare('UPDATE models SET files = ? WHERE id = ?').run(JSON.stringify([path.join(dir, 'fake.gguf')]), record.id);
    await writeFile(path.join(dir, 'fake.gguf'), readFileSync(source).subarray(0, 100));
    const stats = statSync(path.join(dir, 'fake.gguf'));
    db.prepare('UPDATE models SET file_stamps = ? WHERE id = ?').run(JSON.stringify([{ size: stats.size, mtimeMs: stats.mtimeMs }]), record.id);
    const error = await thrown(() => checkBeforeLoad(db, record.id));
    expect(error.code).toBe('rejected_file');
    expect(error.details).toMatch(/^[a-z_]+ at byte \d+: .*fake\.gguf$/);
  });
});

describe('renameModel', () => {
  it('trims the name and keeps it between 1 and 200 characters', async () => {
    const { record } = await add('reference');
    expect(renameModel(db, record.id, '  Friendly name  ').displayName).toBe('Friendly name');
    expect(renameModel(db, record.id, 'x'.repeat(200)).displayName).toHaveLength(200);
    for (const bad of ['', '   ', 'x'.repeat(201), 'two\nlines']) expect((await thrown(() => renameModel(db, record.id, bad))).code).toBe('bad_request');
    expect(getModel(db, record.id).displayName).toHaveLength(200);
    expect((await thrown(() => renameModel(db, 'nope', 'name'))).code).toBe('not_found');
  });
});

describe('setDefault', () => {
  it('makes the first model of each role the default, and moves it on request', async () => {
    const chatA = await add('reference', 'chat-a');
    const chatB = await add('reference', 'chat-b');
    const embedding = await add('reference', 'embedder', EMBEDDING);
    expect(embedding.record.role).toBe('embedding');
    expect(chatA.record.isDefaultChat).toBe(true);
    expect(chatB.record.isDefaultChat).toBe(false);
    expect(embedding.record.isDefaultEmbedding).toBe(true);

    expect(setDefault(db, chatB.record.id, 'chat').isDefaultChat).toBe(true);
    expect(getModel(db, chatA.record.id).isDefaultChat).toBe(false);
    expect(listModels(db).filter((model) => model.isDefaultChat)).toHaveLength(1);

    clearDefault(db, 'chat');
    expect(listModels(db).filter((model) => model.isDefaultChat)).toHaveLength(0);
  });

  it('refuses a default of the wrong role', async () => {
    const chat = await add('reference', 'chatty');
    const embedding = await add('reference', 'embedder', EMBEDDING);
    expect(await thrown(() => setDefault(db, chat.record.id, 'embedding'))).toMatchObject({
      code: 'bad_request',
      message: 'chatty is a chat model, so it cannot be the default embedding model.',
    });
    expect(await thrown(() => setDefault(db, embedding.record.id, 'chat'))).toMatchObject({
      code: 'bad_request',
      message: 'embedder is an embedding model, so it cannot be the default chat model.',
    });
    expect((await thrown(() => setDefault(db, 'nope', 'chat'))).code).toBe('not_found');
  });

  it('is backed by the schema: two defaults or a default of the wrong role cannot be stored', async () => {
    const a = await add('reference', 'a');
    const b = await add('reference', 'b');
    const embedding = await add('reference', 'e', EMBEDDING);
    expect(() => db.prepare('UPDATE models SET is_default_chat = 1 WHERE id = ?').run(b.record.id)).toThrow(/UNIQUE/);
    expect(() => db.prepare('UPDATE models SET is_default_chat = 1 WHERE id = ?').run(embedding.record.id)).toThrow(/CHECK|UNIQUE/);
    expect(getModel(db, a.record.id).isDefaultChat).toBe(true);
  });
});

describe('setLoadSettings', () => {
  it('stores valid settings, refuses invalid ones and clears with null', async () => {
    const { record } = await add('reference');
    const settings = { gpuLayers: 12, contextSize: 'auto', batchSize: 512, flashAttention: true, kvCacheType: 'Q8_0' } as const;
    expect(setLoadSettings(db, record.id, settings).loadSettings).toEqual(settings);
    expect(getModel(db, record.id).loadSettings).toEqual(settings);
    for (const bad of [{ gpuLayers: -1 }, { contextSize: 10 }, { kvCacheType: 'Q2_K' }, { threads: 4 }, { batchSize: 1.5 }]) {
      const error = await thrown(() => setLoadSettings(db, record.id, bad as never));
      expect(error.code).toBe('bad_request');
    }
    expect(getModel(db, record.id).loadSettings).toEqual(settings);
    expect(setLoadSettings(db, record.id, null).loadSettings).toBeNull();
    expect((await thrown(() => setLoadSettings(db, 'nope', {}))).code).toBe('not_found');
  });
});
