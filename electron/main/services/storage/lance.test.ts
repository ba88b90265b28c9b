import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HEALTH_TABLE, openVectorStore, VECTOR_DIR, type VectorStore } from './lance.ts';

let dir: string;
let store: VectorStore | undefined;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-lance-'));
});

afterEach(async () => {
  store?.close();
  store = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('openVectorStore', () => {
  it('connects under <dataDir>/lancedb and passes its health check, leaving no table behind', async () => {
    store = await openVectorStore(dir);
    expect(store.path).toBe(path.join(dir, VECTOR_DIR));

    const health = await store.healthCheck();
    expect(health).toEqual({ ok: true, tables: 0, ms: expect.any(Number) });
    expect(existsSync(path.join(dir, VECTOR_DIR))).toBe(true);
    expect(await store.connection.tableNames()).toEqual([]);
  });

  it('counts the other tables and leaves them alone', async () => {
    store = await openVectorStore(dir);
    const table = await store.connection.createTable('chunks_test', [{ id: 'a', vector: [1, 0, 0, 0] }]);
    table.close();

    expect(await store.healthCheck()).toMatchObject({ ok: true, tables: 1 });
    expect(await store.connection.tableNames()).toEqual(['chunks_test']);
    const reopened = await store.connection.openTable('chunks_test');
    expect(await reopened.countRows()).toBe(1);
    reopened.close();
  });

  it('recovers from a health table left over by an interrupted check, and survives overlapping checks', async () => {
    store = await openVectorStore(dir);
    const leftover = await store.connection.createTable(HEALTH_TABLE, [
      { id: 9, vector: [9, 9, 9, 9] },
      { id: 8, vector: [8, 8, 8, 8] },
    ]);
    leftover.close();

    const results = await Promise.all([store.healthCheck(), store.healthCheck(), store.healthCheck()]);
    expect(results.map((result) => result.ok)).toEqual([true, true, true]);
    expect(await store.connection.tableNames()).toEqual([]);
  });

  it('reports a closed store instead of throwing, and closes only once', async () => {
    store = await openVectorStore(dir);
    store.close();
    store.close();
    expect(await store.healthCheck()).toEqual({ ok: false, message: expect.stringMatching(/closed/) });
  });

  it('reports a broken index directory as a failure instead of throwing', async () => {
    store = await openVectorStore(dir);
    // A file where the table's directory must go: lance cannot create it.
    await writeFile(path.join(store.path, `${HEALTH_TABLE}.lance`), 'not a directory');
    expect(await store.healthCheck()).toEqual({ ok: false, message: expect.stringMatching(/^The search index is not working: /) });
  });

  it('reopens the same directory with its data', async () => {
    store = await openVectorStore(dir);
    (await store.connection.createTable('kept', [{ id: 1, vector: [0.5, 0.5] }])).close();
    store.close();

    store = await openVectorStore(dir);
    expect(await store.connection.tableNames()).toEqual(['kept']);
    expect(await store.healthCheck()).toMatchObject({ ok: true, tables: 1 });
  });
});
