import type { Table, VectorQuery } from '@lancedb/lancedb';
import type { BenchQuery } from './data.ts';

export const K = 10;
/** What the product reads back from a hit: everything but the vector. */
export const COLUMNS = ['chunk_id', 'document_id', 'collection_id', 'text'];
// Naming the score column keeps Lance from warning, on every query, that it will stop adding it.
const VECTOR_COLUMNS = [...COLUMNS, '_distance'];
const TEXT_COLUMNS = [...COLUMNS, '_score'];

export type Tune = (query: VectorQuery) => VectorQuery;

export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

interface Hit {
  readonly chunk_id: string;
}

export async function vectorSearch(table: Table, q: BenchQuery, tune: Tune, limit = K): Promise<string[]> {
  const query = tune(table.query().nearestTo(q.vector).where(q.where).select(VECTOR_COLUMNS).limit(limit));
  const rows = (await query.toArray()) as Hit[];
  return rows.map((r) => r.chunk_id);
}

export async function exactSearch(table: Table, q: BenchQuery, distanceType: 'l2' | 'cosine' | 'dot', limit = K): Promise<string[]> {
  const rows = (await table
    .query()
    .nearestTo(q.vector)
    .distanceType(distanceType)
    .bypassVectorIndex()
    .where(q.where)
    .select(['chunk_id', '_distance'])
    .limit(limit)
    .toArray()) as Hit[];
  return rows.map((r) => r.chunk_id);
}

export async function textSearch(table: Table, q: BenchQuery, limit = K): Promise<string[]> {
  const rows = (await table.query().fullTextSearch(q.text, { columns: 'text' }).where(q.where).select(TEXT_COLUMNS).limit(limit).toArray()) as Hit[];
  return rows.map((r) => r.chunk_id);
}

/** Reciprocal rank fusion: score(d) = Σ 1 / (k + rank), rank 1-based, over the lists that hold d. */
export function rrf(lists: readonly (readonly string[])[], limit = K, k = 60): string[] {
  const scores = new Map<string, number>();
  for (const list of lists) list.forEach((id, i) => scores.set(id, (scores.get(id) ?? 0) + 1 / (k + i + 1)));
  return [...scores.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([id]) => id);
}

export async function hybridSearch(table: Table, q: BenchQuery, tune: Tune, limit = K): Promise<string[]> {
  const [vector, text] = await Promise.all([vectorSearch(table, q, tune, limit), textSearch(table, q, limit)]);
  return rrf([vector, text], limit);
}

export function recallAt(found: readonly string[], truth: readonly string[]): number {
  if (truth.length === 0) return 1;
  const set = new Set(found);
  return truth.filter((id) => set.has(id)).length / truth.length;
}

/** Runs fn once per query, one after another, and returns each call's wall time in ms. */
export async function timeEach<T>(queries: readonly BenchQuery[], fn: (q: BenchQuery) => Promise<T>): Promise<{ ms: number[]; results: T[] }> {
  const ms: number[] = [];
  const results: T[] = [];
  for (const q of queries) {
    const t = performance.now();
    results.push(await fn(q));
    ms.push(performance.now() - t);
  }
  return { ms, results };
}
