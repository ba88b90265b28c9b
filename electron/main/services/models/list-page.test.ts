import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelsQuery } from '../../../common/contract/models.ts';
import { encodeCursor } from '../storage/keyset.ts';
import { openDatabase, type Database } from '../storage/sqlite.ts';
import { pageModels } from './list-page.ts';
import { insertModel, listModels, removeModel } from './registry.ts';
import type { ModelFacts } from '../gguf/index.ts';

// The library's table a page at a time (issue 15), sorted and filtered by SQLite. Rows are
// registered through the registry's own insert (by reference), as an import would.

let dir: string;
let db: Database;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-models-page-'));
  db = openDatabase(dir);
});

afterEach(async () => {
  if (db.isOpen) db.close();
  await rm(dir, { recursive: true, force: true });
});

const FACTS: ModelFacts = {
  architecture: 'llama',
  name: null,
  parameterCount: 1000,
  quantization: 'F32',
  contextLength: 512,
  layerCount: 1,
  embeddingLength: 8,
  headCount: 1,
  kvHeadCount: 1,
  vocabularySize: 260,
  hasChatTemplate: false,
  kind: 'chat',
  fileSize: 1,
  tensorCount: 1,
  version: 3,
  alignment: 32,
  metadataKeys: 1,
};

/** Registers `name` with `size` bytes, added at second `second` of the day. */
function register(index: number, name: string, size: number, second: number) {
  const id = `m${String(index).padStart(3, '0')}`;
  const source = path.join(dir, `${id}.gguf`);
  return insertModel(
    db,
    {
      id,
      displayName: name,
      role: 'chat',
      sizeBytes: size,
      sha256: createHash('sha256').update(id).digest('hex'),
      importMode: 'reference',
      origin: 'file',
      sourcePath: source,
      files: [source],
      stamps: [{ size, mtimeMs: 0 }],
      facts: FACTS,
      chatTemplate: null,
      license: null,
      provenance: null,
    },
    new Date(Date.UTC(2026, 0, 1, 0, 0, second)),
  );
}

function allIds(query: Omit<ModelsQuery, 'cursor'>, between: (page: number) => void = () => {}): string[] {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = pageModels(db, { ...query, ...(cursor === undefined ? {} : { cursor }) });
    ids.push(...page.models.map((model) => model.id));
    between(++pages);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && pages < 1000);
  return ids;
}

beforeEach(() => {
  // 40 models: sizes and times repeat (ties), names differ in case only for some.
  for (let i = 0; i < 40; i++) register(i, i % 4 === 0 ? `qwen ${i % 7}` : `Llama ${String(i).padStart(2, '0')}`, (i % 5) * 1000, i % 10);
});

describe('models.list a page at a time', () => {
  it('with no limit, every model in the order they were added (the pickers and models.changed)', () => {
    const all = pageModels(db);
    expect(all.nextCursor).toBeNull();
    expect(all.total).toBe(40);
    expect(all.models.map((model) => model.id)).toEqual(listModels(db).map((model) => model.id));
  });

  it.each([
    ['name', false],
    ['name', true],
    ['size', false],
    ['size', true],
    ['added', false],
    ['added', true],
  ] as const)('sorted by %s (descending: %s), each model once, in the same order as one whole query', (sort, descending) => {
    const whole = pageModels(db, { sort, descending }).models.map((model) => model.id);
    expect(new Set(whole).size).toBe(40);
    expect(allIds({ sort, descending, limit: 7 })).toEqual(whole);
    const sizes = pageModels(db, { sort: 'size', descending }).models.map((model) => model.sizeBytes);
    expect(sizes).toEqual([...sizes].sort((a, b) => (descending ? b - a : a - b)));
  });

  it('sorts names without regard to case', () => {
    const names = pageModels(db, { sort: 'name' }).models.map((model) => model.displayName.toLowerCase());
    expect(names).toEqual([...names].sort());
  });

  it('filters by part of the name, case-insensitively, with wildcards taken literally', () => {
    const page = pageModels(db, { query: 'QWEN', limit: 3 });
    expect(page.total).toBe(10);
    expect(allIds({ query: 'qwen', limit: 3 })).toHaveLength(10);
    expect(pageModels(db, { query: 'llama 1' }).models.map((model) => model.displayName)).toEqual(
      Array.from({ length: 10 }, (_, i) => `Llama 1${i}`).filter((name) => Number(name.slice(-2)) % 4 !== 0),
    );
    expect(pageModels(db, { query: '%' }).total).toBe(0);
    expect(pageModels(db, { query: '_' }).total).toBe(0);
  });

  it('a model removed between pages is neither repeated nor makes another skipped', async () => {
    const whole = pageModels(db, { sort: 'name' }).models.map((model) => model.id);
    const removed = whole[10]!;
    const ids = allIds({ sort: 'name', limit: 10 }, (page) => {
      if (page === 1) void removeModel(db, path.join(dir, 'library'), removed);
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ids).toEqual(whole.filter((id) => id !== removed));
  });

  it('refuses a cursor from another sort, direction or list', () => {
    const first = pageModels(db, { sort: 'size', limit: 5 });
    expect(pageModels(db, { sort: 'size', limit: 5, cursor: first.nextCursor! }).models).toHaveLength(5);
    for (const cursor of [first.nextCursor!, encodeCursor('conversations', [1, 'a', 2]), 'not a cursor']) {
      expect(() => pageModels(db, { sort: 'name', limit: 5, cursor })).toThrow(expect.objectContaining({ code: 'bad_request' }));
    }
    expect(() => pageModels(db, { sort: 'size', descending: true, cursor: first.nextCursor! })).toThrow(expect.objectContaining({ code: 'bad_request' }));
  });
});
