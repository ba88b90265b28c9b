import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeVector, encodeVector, FTS_ONLY_KEY } from './store.ts';
import { knowledgeFixture, seededVector, type KnowledgeFixture } from '../../../test-support/knowledge-test-helpers.ts';
import type { Chunk } from './types.ts';

let fx: KnowledgeFixture;
beforeEach(async () => {
  fx = await knowledgeFixture();
});
afterEach(async () => {
  await fx.close();
});

const space = { embeddingModelId: 'model-1', embeddingKey: 'a'.repeat(64), dimensions: 8 };
const doc = (collectionId: string, sourcePath: string) => ({
  collectionId,
  name: sourcePath.split('/').at(-1) ?? sourcePath,
  sourcePath,
  storedPath: `/data/${sourcePath}`,
  format: 'text' as const,
  bytes: 10,
  sha256: 'f'.repeat(64),
});
const chunks = (count: number): Chunk[] =>
  Array.from({ length: count }, (_, ordinal) => ({
    ordinal,
    text: `chunk ${ordinal}`,
    page: ordinal + 1,
    headingPath: ['H'],
    start: ordinal * 10,
    end: ordinal * 10 + 7,
    tokens: 2,
  }));

describe('knowledge store', () => {
  it('creates, renames, lists and deletes collections; names are unique without regard to case', () => {
    const a = fx.store.createCollection({ name: 'Contracts', ...space });
    expect(a).toMatchObject({ name: 'Contracts', embeddingKey: space.embeddingKey, dimensions: 8, readOnly: false });
    expect(() => fx.store.createCollection({ name: 'contracts', ...space })).toThrow(/already exists/u);
    expect(() => fx.store.createCollection({ name: 'Bad', embeddingModelId: null, embeddingKey: FTS_ONLY_KEY, dimensions: 4 })).toThrow();
    const b = fx.store.createCollection({ name: 'Notes', embeddingModelId: null, embeddingKey: FTS_ONLY_KEY, dimensions: null });
    expect(fx.store.renameCollection(b.id, '  Archive ').name).toBe('Archive');
    expect(fx.store.setReadOnly(b.id, true).readOnly).toBe(true);
    expect(fx.store.listCollections().map((collection) => collection.name)).toEqual(['Archive', 'Contracts']);
    expect(fx.store.embeddingKeys()).toEqual([space.embeddingKey, FTS_ONLY_KEY].sort());

    const document = fx.store.addDocument(doc(a.id, '/x/one.txt'));
    fx.store.replaceChunks(document.id, chunks(3), null);
    fx.store.addWatchedFolder(a.id, '/x');
    const removed = fx.store.deleteCollection(a.id);
    expect(removed).toEqual({ embeddingKey: space.embeddingKey, documentIds: [document.id], storedPaths: ['/data//x/one.txt'] });
    expect(fx.db.prepare('SELECT count(*) AS n FROM chunks').get()).toEqual({ n: 0 });
    expect(fx.store.listWatchedFolders()).toEqual([]);
    expect(() => fx.store.collection(a.id)).toThrow(/no longer exists/u);
  });

  it('walks the ingestion journal and refuses steps it does not allow', () => {
    const collection = fx.store.createCollection({ name: 'C', ...space });
    const document = fx.store.addDocument(doc(collection.id, '/a.txt'));
    expect(document.status).toBe('queued');
    expect(() => fx.store.setStatus(document.id, 'embedded')).toThrow(/cannot move/u);
    const ids = fx.store.replaceChunks(document.id, chunks(4), 4);
    expect(fx.store.document(document.id)).toMatchObject({ status: 'extracted', chunkCount: 4, pageCount: 4 });
    expect(() =>
      fx.store.setVectors(
        ids.slice(0, 2).map((chunkId, index) => ({ chunkId, vector: seededVector(index, 8) })),
        { documentId: document.id },
      ),
    ).toThrow(/no vector/u);
    // The failed transaction left no vector behind.
    expect(fx.store.listDocuments(collection.id)[0]?.vectorCount).toBe(0);
    fx.store.setVectors(
      ids.map((chunkId, index) => ({ chunkId, vector: seededVector(index, 8) })),
      { documentId: document.id },
    );
    expect(fx.store.document(document.id).status).toBe('embedded');
    expect(fx.store.setStatus(document.id, 'indexed').status).toBe('indexed');
    expect(fx.store.markFailed(document.id, 'corrupt', 'Bad file')).toMatchObject({ status: 'failed', errorReason: 'corrupt', errorMessage: 'Bad file' });
    // Adding the same path again re-queues the same document.
    const again = fx.store.addDocument(doc(collection.id, '/a.txt'));
    expect(again).toMatchObject({ id: document.id, status: 'queued', errorReason: null });
  });

  it('replaces chunks atomically, stores vectors as float32 and returns chunks by id in order', () => {
    const collection = fx.store.createCollection({ name: 'C', ...space });
    const document = fx.store.addDocument(doc(collection.id, '/a.txt'));
    const first = fx.store.replaceChunks(document.id, chunks(3), null);
    const second = fx.store.replaceChunks(document.id, chunks(2), null);
    expect(fx.store.chunksByIds([...first, ...second]).map((chunk) => chunk.id)).toEqual(second);
    const bad = [...chunks(1), ...chunks(1)];
    expect(() => fx.store.replaceChunks(document.id, bad, null)).toThrow();
    expect(fx.store.chunksForDocument(document.id).map((chunk) => chunk.id)).toEqual(second);

    const vectors = second.map((chunkId, index) => ({ chunkId, vector: seededVector(index + 10, 8) }));
    fx.store.setVectors(vectors);
    const rows = fx.store.indexRows([document.id]);
    expect(rows.map((row) => Array.from(row.vector ?? []))).toEqual(vectors.map((entry) => Array.from(entry.vector)));
    const record = fx.store.chunksByIds([second[1] as string, second[0] as string]);
    expect(record.map((chunk) => chunk.ordinal)).toEqual([1, 0]);
    expect(record[0]).toMatchObject({ documentName: 'a.txt', collectionId: collection.id, headingPath: ['H'], page: 2, start: 10, end: 17 });
    expect(fx.store.chunkCounts([document.id, 'nope'])).toEqual(
      new Map([
        [document.id, 2],
        ['nope', 0],
      ]),
    );
  });

  it('switching the embedding model clears vectors and sends documents back to be embedded', () => {
    const collection = fx.store.createCollection({ name: 'C', ...space });
    const document = fx.store.addDocument(doc(collection.id, '/a.txt'));
    const ids = fx.store.replaceChunks(document.id, chunks(2), null);
    fx.store.setVectors(
      ids.map((chunkId, index) => ({ chunkId, vector: seededVector(index, 8) })),
      { documentId: document.id },
    );
    fx.store.setStatus(document.id, 'indexed');
    const result = fx.store.setEmbeddingModel(collection.id, { embeddingModelId: null, embeddingKey: FTS_ONLY_KEY, dimensions: null });
    expect(result).toEqual({ previousKey: space.embeddingKey, documentIds: [document.id] });
    expect(fx.store.document(document.id).status).toBe('extracted');
    expect(fx.store.listDocuments(collection.id)[0]?.vectorCount).toBe(0);
    expect(fx.store.documentsNeedingRecovery()).toEqual([{ id: document.id, collectionId: collection.id, status: 'extracted', embeddingKey: FTS_ONLY_KEY }]);
  });

  it('keeps watched folders per collection', () => {
    const collection = fx.store.createCollection({ name: 'C', ...space });
    const folder = fx.store.addWatchedFolder(collection.id, '/docs');
    expect(fx.store.addWatchedFolder(collection.id, '/docs').id).toBe(folder.id);
    expect(fx.store.listWatchedFolders(collection.id)).toEqual([folder]);
    fx.store.removeWatchedFolder(folder.id);
    expect(fx.store.listWatchedFolders()).toEqual([]);
  });

  it('encodes vectors little-endian', () => {
    const bytes = encodeVector(new Float32Array([1, -2.5]));
    expect(Array.from(bytes)).toEqual([0, 0, 128, 63, 0, 0, 32, 192]);
    expect(Array.from(decodeVector(bytes))).toEqual([1, -2.5]);
  });
});
