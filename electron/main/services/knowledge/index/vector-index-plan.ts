import { Index } from '@lancedb/lancedb';
import type { FtsOptions, Table, VectorQuery } from '@lancedb/lancedb';

/*
 * Which vector index a chunk table gets, and how to search it, chosen from the row count
 * and the embedding dimension. Measured with `npm run bench:rag` (clustered synthetic
 * embeddings, queries filtered by collection, 2 cores); the figures behind each number are
 * in the comments next to it.
 *
 * The knowledge index calls two functions: applyVectorIndex(table, plan) when it optimizes
 * a table, and applySearchPlan(query, plan) on every vector query.
 */

export type VectorIndexKind = 'ivf_pq' | 'ivf_hnsw_sq' | 'ivf_hnsw_pq' | 'ivf_flat';

export interface VectorIndexPlan {
  /** The index to build; null when an exact (flat) scan is fast enough. */
  readonly create: null | { readonly kind: VectorIndexKind; readonly options: Record<string, number | string> };
  /** Search-time knobs for that index; empty for a flat scan. */
  readonly search: { readonly nprobes?: number; readonly refineFactor?: number; readonly ef?: number };
  /** The metric both the index and every query use. Embeddings are compared by cosine. */
  readonly distanceType: 'cosine';
}

export { LANCE_CPU_THREADS_MIN } from '../../storage/lance.ts';

export const VECTOR_COLUMN = 'vector';
export const TEXT_COLUMN = 'text';

/**
 * Below this many rows × dimensions an exact (flat) scan answers within the latency goal
 * (p50 ≤ 20 ms) with perfect recall, so no index is built. Flat-scan cost grows with
 * rows × dimension; measured at 384 dimensions with the collection bitmap index: 10k rows,
 * filter on one or two of five collections p50 10 ms, but unfiltered (a collection that holds
 * every row) p50 33 ms; 100k rows filtered p50 80 ms. 2M elements is about 5.2k rows at 384
 * dimensions, 2.6k at 768: fast whatever share of the table the filter keeps.
 */
export const FLAT_MAX_ELEMENTS = 2_000_000;

/** IVF partitions hold about this many rows each (lance's own default is √rows). */
const ROWS_PER_PARTITION = 1_000;

export function flatMaxRows(dimensions: number): number {
  return Math.floor(FLAT_MAX_ELEMENTS / Math.max(1, dimensions));
}

/** The largest divisor of `dimensions` that is at most `dimensions / 8` (8 dimensions per PQ sub-vector). */
function subVectors(dimensions: number): number {
  const target = Math.max(1, Math.floor(dimensions / 8));
  for (let s = target; s > 1; s--) if (dimensions % s === 0) return s;
  return 1;
}

export function vectorIndexPlan(rows: number, dimensions: number): VectorIndexPlan {
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`rows must be a whole number: ${rows}`);
  if (!Number.isInteger(dimensions) || dimensions < 1) throw new RangeError(`dimensions must be a positive whole number: ${dimensions}`);
  if (rows < flatMaxRows(dimensions)) return { create: null, search: {}, distanceType: 'cosine' };
  const numPartitions = Math.max(8, Math.round(rows / ROWS_PER_PARTITION));
  return {
    create: {
      kind: 'ivf_pq',
      // PQ with 8 dimensions per sub-vector (48 at 384). k-means with 20 iterations over 128
      // samples per partition instead of lance's 50 × 256: the build is the slow part (1M ×
      // 384 on 2 cores: 123 s instead of 294 s) and recall stays the same (re-ranking below).
      options: { numPartitions, numSubVectors: subVectors(dimensions), distanceType: 'cosine', maxIterations: 20, sampleRate: 128 },
    },
    // nprobes 40 partitions searched, then refineFactor 10: the best 10 × limit PQ candidates
    // re-ranked with the full vectors. Filtered queries, 384 dimensions: 1M p50 ~9 ms,
    // recall@10 0.986; 100k p50 ~7.5 ms, recall 0.984. Recall is bound by nprobes, not by the
    // re-ranking: nprobes 20 gives 0.975 at 1M but 0.951 at 100k; without re-ranking recall
    // falls to 0.69. Between 20 and 40 probes the latency difference is within the noise.
    search: { nprobes: 40, refineFactor: 10 },
    distanceType: 'cosine',
  };
}

const NUMERIC_OPTIONS: Record<VectorIndexKind, readonly string[]> = {
  ivf_pq: ['numPartitions', 'numSubVectors', 'numBits', 'maxIterations', 'sampleRate'],
  ivf_hnsw_sq: ['numPartitions', 'm', 'efConstruction', 'maxIterations', 'sampleRate'],
  ivf_hnsw_pq: ['numPartitions', 'numSubVectors', 'm', 'efConstruction', 'maxIterations', 'sampleRate'],
  ivf_flat: ['numPartitions', 'maxIterations', 'sampleRate'],
};

function indexFor(create: NonNullable<VectorIndexPlan['create']>): Index {
  const raw = create.options;
  const distance = raw.distanceType;
  const options: { distanceType: 'l2' | 'cosine' | 'dot' } & Record<string, number | string> = {
    distanceType: distance === 'l2' || distance === 'dot' ? distance : 'cosine',
  };
  // Only the options the kind takes, and only numbers: the rest would be an error in lance.
  for (const key of NUMERIC_OPTIONS[create.kind]) {
    const value = raw[key];
    if (typeof value === 'number') options[key] = value;
  }
  switch (create.kind) {
    case 'ivf_pq':
      return Index.ivfPq(options);
    case 'ivf_hnsw_sq':
      return Index.hnswSq(options);
    case 'ivf_hnsw_pq':
      return Index.hnswPq(options);
    case 'ivf_flat':
      return Index.ivfFlat(options);
  }
}

/**
 * Builds (or replaces) the plan's vector index on the table. Does nothing when the plan has
 * none: a flat scan needs no index. Returns whether an index was built.
 *
 * Rows added after the index was built are still found (lance scans them exactly and merges
 * the results), but that scan grows with every add: rebuild when the plan's row count
 * changes bracket, or call table.optimize() to fold new rows into the existing index.
 */
export async function applyVectorIndex(table: Table, plan: VectorIndexPlan): Promise<boolean> {
  if (plan.create === null) return false;
  await table.createIndex(VECTOR_COLUMN, { config: indexFor(plan.create), replace: true });
  return true;
}

/** Sets the plan's metric and search-time knobs on a vector query. */
export function applySearchPlan(query: VectorQuery, plan: VectorIndexPlan): VectorQuery {
  let q = query.distanceType(plan.distanceType);
  if (plan.search.nprobes !== undefined) q = q.nprobes(plan.search.nprobes);
  if (plan.search.refineFactor !== undefined) q = q.refineFactor(plan.search.refineFactor);
  if (plan.search.ef !== undefined) q = q.ef(plan.search.ef);
  return q;
}

/**
 * Full-text index options: the simple tokenizer, lower-cased, ASCII-folded (so "accion"
 * finds "acción"), no stemming (language-dependent) and no positions (phrase queries are not
 * used; positions double the index and slow the build).
 */
export const FTS_INDEX_OPTIONS: Partial<FtsOptions> = {
  baseTokenizer: 'simple',
  lowercase: true,
  asciiFolding: true,
  stem: false,
  removeStopWords: false,
  withPosition: false,
};

/** The column every query filters on: the product always searches within collections. */
export const COLLECTION_COLUMN = 'collection_id';

/**
 * A bitmap index on collection_id. Every query filters by collection, and lance applies the
 * filter before the vector or text search (prefilter): without this index that means reading
 * and comparing collection_id for every row on every query (1M rows: vector p50 34 ms, with
 * the index 8 ms). Cheap to build (1M rows: under a second); rebuild it with the others.
 */
export async function applyCollectionIndex(table: Table): Promise<void> {
  await table.createIndex(COLLECTION_COLUMN, { config: Index.bitmap(), replace: true });
}

export async function applyTextIndex(table: Table): Promise<void> {
  await table.createIndex(TEXT_COLUMN, { config: Index.fts(FTS_INDEX_OPTIONS), replace: true });
}
