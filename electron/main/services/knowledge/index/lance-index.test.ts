import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ftsTerms, inList, tableName, type IndexRowInput } from './lance-index.ts';
import { FTS_ONLY_KEY } from '../store.ts';
import { knowledgeFixture, seededRandom, seededText, seededVector, type KnowledgeFixture } from '../../../../test-support/knowledge-test-helpers.ts';

const KEY = 'e'.repeat(64);
const DIMS = 16;
const C1 = '11111111-1111-4111-8111-111111111111';
const C2 = '22222222-2222-4222-8222-222222222222';

let fx: KnowledgeFixture;
beforeEach(async () => {
  fx = await knowledgeFixture();
});
afterEach(async () => {
  await fx.close();
});

function rows(documentId: string, collectionId: string, count: number, seed: number, text?: (index: number) => string): IndexRowInput[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, index) => ({
    chunkId: `${documentId}-${index}`,
    documentId,
    collectionId,
    text: text?.(index) ?? seededText(random, 12),
    vector: seededVector(seed * 1000 + index, DIMS),
  }));
}

describe('knowledge index', () => {
  it('finds rows added after the FTS index was built, before and after optimize', async () => {
    await fx.index.add(KEY, DIMS, rows('d1', C1, 20, 1));
    await fx.index.add(
      KEY,
      DIMS,
      rows('d2', C1, 3, 2, (index) => `zeppelin number ${index}`),
    );
    const table = await fx.vectors.connection.openTable(tableName(KEY));
    expect(await table.indexStats('text_idx')).toMatchObject({ numIndexedRows: 20, numUnindexedRows: 3 });

    const before = await fx.index.textSearch(KEY, 'Zeppelin', { limit: 10, collectionIds: [C1] });
    expect(before.map((hit) => hit.chunkId).sort()).toEqual(['d2-0', 'd2-1', 'd2-2']);

    table.close();
    expect(await fx.index.optimize(KEY)).toEqual({ rows: 23, annIndex: false });
    const optimized = await fx.vectors.connection.openTable(tableName(KEY));
    expect(await optimized.indexStats('text_idx')).toMatchObject({ numIndexedRows: 23, numUnindexedRows: 0 });
    optimized.close();
    const after = await fx.index.textSearch(KEY, 'zeppelin', { limit: 10, collectionIds: [C1] });
    expect(after.map((hit) => hit.chunkId).sort()).toEqual(['d2-0', 'd2-1', 'd2-2']);
  });

  it('filters by collection and document before ranking (prefilter), for vectors and text', async () => {
    // C2 holds the exact query vector and the query words many times over; C1 only weak matches.
    const query = seededVector(999, DIMS);
    const strong: IndexRowInput[] = Array.from({ length: 50 }, (_, index) => ({
      chunkId: `s-${index}`,
      documentId: 'ds',
      collectionId: C2,
      text: 'harbor harbor harbor',
      vector: query,
    }));
    await fx.index.add(KEY, DIMS, [...strong, ...rows('dw', C1, 30, 3, (index) => (index % 3 === 0 ? `harbor and more ${index}` : `nothing ${index}`))]);
    await fx.index.optimize(KEY);

    const vectorHits = await fx.index.vectorSearch(KEY, query, { limit: 5, collectionIds: [C1] });
    expect(vectorHits).toHaveLength(5);
    expect(vectorHits.every((hit) => hit.collectionId === C1)).toBe(true);
    expect(vectorHits.map((hit) => hit.score)).toEqual([...vectorHits.map((hit) => hit.score)].sort((a, b) => a - b));

    const textHits = await fx.index.textSearch(KEY, 'harbor', { limit: 5, collectionIds: [C1] });
    expect(textHits).toHaveLength(5);
    expect(textHits.every((hit) => hit.collectionId === C1)).toBe(true);

    const oneDocument = await fx.index.vectorSearch(KEY, query, { limit: 5, collectionIds: [C1, C2], documentIds: ['dw'] });
    expect(oneDocument.every((hit) => hit.documentId === 'dw')).toBe(true);
    expect(await fx.index.vectorSearch(KEY, query, { limit: 5, collectionIds: [] })).toEqual([]);
  });

  it('turns any user text into a safe word query', async () => {
    await fx.index.add(
      KEY,
      DIMS,
      rows('d1', C1, 5, 4, (index) => `invoice ${index} for cargo`),
    );
    for (const query of [
      'invoice AND "',
      'invoice OR (cargo',
      '"',
      '',
      '   ',
      '-invoice',
      'invoice*',
      'text:invoice',
      "invoice's",
      '\u0000invoice\u0000',
      'INVOICE~2',
      '()[]{}^',
    ]) {
      const hits = await fx.index.textSearch(KEY, query, { limit: 10, collectionIds: [C1] });
      expect(hits.length, query).toBe(ftsTerms(query).some((term) => term === 'invoice') ? 5 : 0);
    }
    expect(ftsTerms('Café  CAFÉ naïve x')).toEqual(['café', 'naïve', 'x']);
    // Accents are folded by the index.
    await fx.index.add(
      KEY,
      DIMS,
      rows('d2', C1, 1, 5, () => 'Un café en Zúrich'),
    );
    expect((await fx.index.textSearch(KEY, 'cafe zurich', { limit: 10, collectionIds: [C1] })).map((hit) => hit.chunkId)).toEqual(['d2-0']);
  });

  it('counts, counts by document and deletes documents', async () => {
    await fx.index.add(KEY, DIMS, [...rows('d1', C1, 4, 6), ...rows('d2', C2, 2, 7)]);
    expect(await fx.index.count(KEY)).toBe(6);
    expect(await fx.index.count(KEY, inList('collection_id', [C2]))).toBe(2);
    expect(await fx.index.countByDocument(KEY)).toEqual(
      new Map([
        ['d1', 4],
        ['d2', 2],
      ]),
    );
    await fx.index.deleteDocuments(KEY, ['d1']);
    expect(await fx.index.countByDocument(KEY)).toEqual(new Map([['d2', 2]]));
    expect(await fx.index.count('missing')).toBe(0);
    expect(await fx.index.countByDocument('missing')).toEqual(new Map());
    await expect(fx.index.add(KEY, DIMS, [{ chunkId: 'x', documentId: 'd', collectionId: C1, text: 't', vector: [1, 2] }])).rejects.toThrow(/dimensions/u);
  });

  it('keeps concurrent writes and optimizes from colliding', async () => {
    const writes = Array.from({ length: 8 }, (_, index) => fx.index.add(KEY, DIMS, rows(`d${index}`, C1, 10, 10 + index)));
    await Promise.all([...writes, fx.index.optimize(KEY), fx.index.deleteDocuments(KEY, ['d0']), fx.index.optimize(KEY)]);
    const counts = await fx.index.countByDocument(KEY);
    // The delete was queued after d0's add, so d0 is gone and every other write landed.
    expect(counts.get('d0')).toBeUndefined();
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(70);
  });

  it('keeps text-only collections in a table without vectors', async () => {
    await fx.index.add(FTS_ONLY_KEY, null, [{ chunkId: 'c', documentId: 'd', collectionId: C1, text: 'plain words', vector: null }]);
    expect(await fx.index.tableHealth(FTS_ONLY_KEY)).toEqual({ status: 'ok', rows: 1 });
    expect((await fx.index.textSearch(FTS_ONLY_KEY, 'words', { limit: 3, collectionIds: [C1] })).map((hit) => hit.chunkId)).toEqual(['c']);
    expect(await fx.index.vectorSearch(FTS_ONLY_KEY, [1, 0], { limit: 3, collectionIds: [C1] })).toEqual([]);
    const table = await fx.vectors.connection.openTable(tableName(FTS_ONLY_KEY));
    expect((await table.schema()).fields.map((field) => field.name)).toEqual(['chunk_id', 'document_id', 'collection_id', 'text']);
    table.close();
  });

  it('reports a missing or damaged table, and drops tables no key uses', async () => {
    expect(await fx.index.tableHealth(KEY)).toEqual({ status: 'missing' });
    await fx.index.add(KEY, DIMS, rows('d1', C1, 5, 8));
    expect(await fx.index.tableHealth(KEY)).toEqual({ status: 'ok', rows: 5 });
    const dataDir = path.join(fx.vectors.path, `${tableName(KEY)}.lance`, 'data');
    for (const file of await readdir(dataDir)) await rm(path.join(dataDir, file));
    expect(await fx.index.tableHealth(KEY)).toMatchObject({ status: 'unreadable', message: expect.any(String) });
    await fx.index.drop(KEY);
    expect(await fx.index.tableHealth(KEY)).toEqual({ status: 'missing' });

    await fx.index.add('k1', DIMS, rows('d1', C1, 1, 9));
    await fx.index.add('k2', DIMS, rows('d2', C1, 1, 9));
    expect(await fx.index.dropTablesExcept(['k2'])).toEqual([tableName('k1')]);
    expect(await fx.vectors.connection.tableNames()).toEqual([tableName('k2')]);
  });

  it('builds the ANN index the plan asks for and still finds the nearest rows', async () => {
    const index = await fx.reopenIndex({
      plan: (count) =>
        count >= 200
          ? { create: { kind: 'ivf_flat', options: { numPartitions: 2 } }, search: { nprobes: 2 }, distanceType: 'cosine' }
          : { create: null, search: {}, distanceType: 'cosine' },
    });
    const data = rows('d1', C1, 256, 11);
    await index.add(KEY, DIMS, data);
    expect(await index.optimize(KEY)).toEqual({ rows: 256, annIndex: true });
    const target = data[17]?.vector as Float32Array;
    const hits = await index.vectorSearch(KEY, target, { limit: 3, collectionIds: [C1] });
    expect(hits[0]?.chunkId).toBe('d1-17');
  });
});

describe('helpers', () => {
  it('names tables from keys, sanitizing and disambiguating odd keys', () => {
    expect(tableName('fts')).toBe('chunks_fts');
    expect(tableName('ab12')).toBe('chunks_ab12');
    expect(tableName('My Model/v2')).toMatch(/^chunks_my_model_v2_[0-9a-f]{12}$/u);
    expect(tableName('a-b')).not.toBe(tableName('a_b'));
  });

  it('quotes ids and refuses anything that is not an id', () => {
    expect(inList('collection_id', ['a', 'b-1'])).toBe("collection_id IN ('a', 'b-1')");
    expect(() => inList('collection_id', ["x') OR 1=1 --"])).toThrow(/valid id/u);
  });
});
