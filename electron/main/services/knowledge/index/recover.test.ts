import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KnowledgeIndex } from './lance-index.ts';
import { recoverKnowledge } from './recover.ts';
import { retrieve } from '../retrieval/retrieve.ts';
import { FTS_ONLY_KEY } from '../store.ts';
import { ingestSynthetic, knowledgeFixture, seededVector, type KnowledgeFixture } from '../../../../test-support/knowledge-test-helpers.ts';

const KEY = 'c'.repeat(64);
let fx: KnowledgeFixture;
let collectionId: string;
let textOnlyId: string;

beforeEach(async () => {
  fx = await knowledgeFixture();
  collectionId = fx.store.createCollection({ name: 'Vectors', embeddingModelId: 'm', embeddingKey: KEY, dimensions: 16 }).id;
  textOnlyId = fx.store.createCollection({ name: 'Text', embeddingModelId: null, embeddingKey: FTS_ONLY_KEY, dimensions: null }).id;
});
afterEach(async () => {
  await fx.close();
});

/** LanceDB rows per document must equal SQLite's chunks for every indexed document, and nothing else. */
async function expectAgreement(index: KnowledgeIndex, key: string): Promise<void> {
  const indexed = fx.store.documentIdsForKey(key, ['indexed']);
  const expected = new Map([...fx.store.chunkCounts(indexed)].filter(([, count]) => count > 0));
  expect(await index.countByDocument(key)).toEqual(expected);
}

describe('recoverKnowledge', () => {
  it('repairs every crash state so that SQLite and LanceDB agree', async () => {
    const consistent = await ingestSynthetic(fx, collectionId, 'consistent.txt', 6, 1);
    // Embedded, then the crash came before anything reached LanceDB.
    const embeddedNone = await ingestSynthetic(fx, collectionId, 'embedded-none.txt', 5, 2, 'embedded');
    // Embedded, and the crash came in the middle of the LanceDB write.
    const embeddedPartial = await ingestSynthetic(fx, collectionId, 'embedded-partial.txt', 5, 3, 'embedded');
    await fx.index.add(KEY, 16, fx.store.indexRows([embeddedPartial]).slice(0, 2));
    // Indexed, but LanceDB lost rows (a write the OS never flushed).
    const indexedShort = await ingestSynthetic(fx, collectionId, 'indexed-short.txt', 7, 4);
    await fx.index.deleteDocuments(KEY, [indexedShort]);
    await fx.index.add(KEY, 16, fx.store.indexRows([indexedShort]).slice(0, 3));
    // Indexed, and a retried write left duplicates.
    const indexedDouble = await ingestSynthetic(fx, collectionId, 'indexed-double.txt', 4, 5);
    await fx.index.add(KEY, 16, fx.store.indexRows([indexedDouble]));
    // Deleted from SQLite; the crash came before LanceDB was told.
    const deleted = await ingestSynthetic(fx, collectionId, 'deleted.txt', 3, 6);
    fx.store.deleteDocument(deleted);
    // Still to extract, and extracted (being re-ingested) with stale rows from a former version.
    const queued = fx.store.addDocument({
      collectionId,
      name: 'q.txt',
      sourcePath: '/src/q.txt',
      storedPath: null,
      format: 'text',
      bytes: 1,
      sha256: '0'.repeat(64),
    }).id;
    const extracted = await ingestSynthetic(fx, collectionId, 'extracted.txt', 4, 7, 'extracted');
    await fx.index.add(
      KEY,
      16,
      fx.store.indexRows([extracted]).map((row, index) => ({ ...row, vector: seededVector(index, 16) })),
    );
    // A text-only collection, embedded but not indexed.
    const textEmbedded = await ingestSynthetic(fx, textOnlyId, 'text.txt', 3, 8, 'embedded');
    // A table of a model no collection uses any more.
    await fx.index.add('d'.repeat(64), 4, [{ chunkId: 'old', documentId: consistent, collectionId, text: 'old', vector: [1, 0, 0, 0] }]);

    const report = await recoverKnowledge({ store: fx.store, index: fx.index, batchDocuments: 2 });
    expect(report).toEqual({
      notice: null,
      reindexed: 3,
      repaired: 2,
      orphansDeleted: 3 + 4,
      tablesDropped: [`chunks_${'d'.repeat(64)}`],
      requeue: { queued: [queued], extracted: [extracted] },
    });
    for (const id of [consistent, embeddedNone, embeddedPartial, indexedShort, indexedDouble, textEmbedded])
      expect(fx.store.document(id).status).toBe('indexed');
    await expectAgreement(fx.index, KEY);
    await expectAgreement(fx.index, FTS_ONLY_KEY);

    // A second run finds nothing to do.
    const again = await recoverKnowledge({ store: fx.store, index: fx.index });
    expect(again).toMatchObject({ notice: null, reindexed: 0, repaired: 0, orphansDeleted: 0, tablesDropped: [] });
  });

  it('rebuilds a deleted index folder from SQLite, with the same search results as before', async () => {
    for (let index = 0; index < 6; index++) await ingestSynthetic(fx, collectionId, `doc${index}.txt`, 12, 20 + index);
    await ingestSynthetic(fx, textOnlyId, 'text.txt', 5, 30);
    await fx.index.optimize(KEY);
    await fx.index.optimize(FTS_ONLY_KEY);

    const queries = [
      { query: 'river contract', vector: seededVector(101, 16) },
      { query: 'harbor audit budget', vector: seededVector(102, 16) },
      { query: 'café', vector: null },
      { query: '', vector: seededVector(103, 16) },
    ];
    const search = async (index: KnowledgeIndex) => {
      const results: string[][] = [];
      for (const query of queries) {
        const result = await retrieve({ index, store: fx.store, key: KEY, ...query, collectionIds: [collectionId], limit: 8, candidates: 20 });
        results.push(result.passages.map((passage) => passage.chunkId));
      }
      const text = await retrieve({ index, store: fx.store, key: FTS_ONLY_KEY, query: 'ledger river', vector: null, collectionIds: [textOnlyId], limit: 5 });
      results.push(text.passages.map((passage) => passage.chunkId));
      return results;
    };
    const before = await search(fx.index);
    expect(before.every((ids) => ids.length > 0)).toBe(true);

    fx.vectors.close();
    await rm(fx.vectors.path, { recursive: true, force: true });
    const index = await fx.reopenIndex();
    const report = await recoverKnowledge({ store: fx.store, index });
    expect(report.notice?.rebuilt.sort()).toEqual([KEY, FTS_ONLY_KEY].sort());
    expect(report.notice?.reason).toMatch(/missing/u);
    await expectAgreement(index, KEY);
    await expectAgreement(index, FTS_ONLY_KEY);
    expect(await search(index)).toEqual(before);
  });
});
