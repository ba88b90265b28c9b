import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openVectorStore, type VectorStore } from '../main/services/storage/lance.ts';
import { openDatabase, type Database } from '../main/services/storage/sqlite.ts';
import { createKnowledgeIndex, type KnowledgeIndex, type KnowledgeIndexOptions } from '../main/services/knowledge/index/lance-index.ts';
import { createKnowledgeStore, type KnowledgeStore } from '../main/services/knowledge/store.ts';

// Deterministic data for the knowledge tests.

/** mulberry32: a tiny seeded PRNG, so that test data is the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A unit vector of `dimensions` from a seed. */
export function seededVector(seed: number, dimensions: number): Float32Array {
  const random = seededRandom(seed);
  const vector = new Float32Array(dimensions);
  let norm = 0;
  for (let index = 0; index < dimensions; index++) {
    const value = random() * 2 - 1;
    vector[index] = value;
    norm += value * value;
  }
  norm = Math.sqrt(norm);
  for (let index = 0; index < dimensions; index++) vector[index] = (vector[index] ?? 0) / norm;
  return vector;
}

export interface KnowledgeFixture {
  readonly dir: string;
  readonly db: Database;
  readonly store: KnowledgeStore;
  readonly vectors: VectorStore;
  readonly index: KnowledgeIndex;
  /** Opens a new LanceDB connection, as a restarted app would. */
  reopenIndex(options?: KnowledgeIndexOptions): Promise<KnowledgeIndex>;
  close(): Promise<void>;
}

/** Real SQLite and real LanceDB in a temporary data directory. */
export async function knowledgeFixture(options: KnowledgeIndexOptions = {}): Promise<KnowledgeFixture> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-knowledge-'));
  const db = openDatabase(dir);
  const store = createKnowledgeStore(db);
  let vectors = await openVectorStore(dir);
  const fixture = {
    dir,
    db,
    store,
    get vectors() {
      return vectors;
    },
    index: createKnowledgeIndex(vectors, options),
    async reopenIndex(reopenOptions: KnowledgeIndexOptions = options) {
      vectors.close();
      vectors = await openVectorStore(dir);
      return createKnowledgeIndex(vectors, reopenOptions);
    },
    async close() {
      vectors.close();
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** Words from a small vocabulary, so that text queries have something to find. */
export function seededText(random: () => number, words: number): string {
  const vocabulary = [
    'river',
    'contract',
    'payment',
    'ledger',
    'mountain',
    'invoice',
    'clause',
    'delivery',
    'warranty',
    'tariff',
    'harbor',
    'vessel',
    'cargo',
    'audit',
    'budget',
    'café',
  ];
  return Array.from({ length: words }, () => vocabulary[Math.floor(random() * vocabulary.length)] as string).join(' ') + '.';
}

/** Takes a synthetic document all the way to `indexed`, the way the orchestrator will. */
export async function ingestSynthetic(
  fx: KnowledgeFixture,
  collectionId: string,
  name: string,
  chunkCount: number,
  seed: number,
  stopAt: 'extracted' | 'embedded' | 'indexed' = 'indexed',
): Promise<string> {
  const collection = fx.store.collection(collectionId);
  const document = fx.store.addDocument({
    collectionId,
    name,
    sourcePath: `/src/${name}`,
    storedPath: null,
    format: 'text',
    bytes: 100,
    sha256: '0'.repeat(64),
  });
  const random = seededRandom(seed);
  const chunks = Array.from({ length: chunkCount }, (_, ordinal) => ({
    ordinal,
    text: seededText(random, 5 + Math.floor(random() * 40)),
    page: null,
    headingPath: [],
    start: ordinal * 100,
    end: ordinal * 100 + 50,
    tokens: 13,
  }));
  const ids = fx.store.replaceChunks(document.id, chunks, null);
  if (stopAt === 'extracted') return document.id;
  if (collection.dimensions !== null) {
    const dimensions = collection.dimensions;
    fx.store.setVectors(
      ids.map((chunkId, index) => ({ chunkId, vector: seededVector(seed * 10_000 + index, dimensions) })),
      { documentId: document.id },
    );
  } else fx.store.setStatus(document.id, 'embedded');
  if (stopAt === 'embedded') return document.id;
  await fx.index.add(collection.embeddingKey, collection.dimensions, fx.store.indexRows([document.id]));
  fx.store.setStatus(document.id, 'indexed');
  return document.id;
}
