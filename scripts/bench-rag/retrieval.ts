import type { Table } from '@lancedb/lancedb';
import {
  applyCollectionIndex,
  applySearchPlan,
  applyTextIndex,
  applyVectorIndex,
  FTS_INDEX_OPTIONS,
  vectorIndexPlan,
} from '../../electron/main/services/knowledge/index/vector-index-plan.ts';
import type { VectorIndexPlan } from '../../electron/main/services/knowledge/index/vector-index-plan.ts';
import { makeQueries } from './data.ts';
import type { BenchQuery } from './data.ts';
import { exactSearch, hybridSearch, K, percentile, recallAt, round, textSearch, timeEach, vectorSearch } from './measure.ts';
import { openBenchTable } from './table.ts';

/*
 * Retrieval latency on synthetic chunk tables (see data.ts) of 10k, 100k and 1M rows:
 * vector (with the index plan of vector-index-plan.ts), full-text (BM25 over the FTS index)
 * and hybrid (both at once, fused by reciprocal rank fusion), every query filtered to one or
 * two of the five collections as the product does. Recall@10 of the vector search is
 * measured against an exact scan with the same filter.
 *
 * Tables, indices and ground truth are cached under the OS temp dir, keyed by rows,
 * dimension and the index options, so a second run only measures; --fresh rebuilds them.
 */

export const SIZES: Record<string, number> = { '10k': 10_000, '100k': 100_000, '1m': 1_000_000 };

export interface RetrievalOptions {
  readonly sizes: readonly string[];
  readonly dimension: number;
  /** Also measure one size at 768 dimensions (figure names get a _d768 suffix). */
  readonly extra768: string | null;
  readonly queries: number;
  readonly fresh: boolean;
}

const WARMUP = 10;

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function ensure(key: string, meta: Record<string, unknown>, build: () => Promise<void>): Promise<{ seconds: number; cached: boolean }> {
  const previous = meta[key];
  if (typeof previous === 'number') return { seconds: previous, cached: true };
  const started = performance.now();
  await build();
  const seconds = (performance.now() - started) / 1000;
  meta[key] = seconds;
  return { seconds, cached: false };
}

async function groundTruth(table: Table, queries: readonly BenchQuery[], plan: VectorIndexPlan, cache: Record<string, unknown>): Promise<string[][]> {
  const key = `gt-${plan.distanceType}-${queries.length}`;
  const cached = cache[key];
  if (Array.isArray(cached)) return cached as string[][];
  log(`  exact search for ${queries.length} queries (ground truth)…`);
  const { results } = await timeEach(queries, (q) => exactSearch(table, q, plan.distanceType));
  cache[key] = results;
  return results;
}

async function benchOne(label: string, rows: number, dimension: number, options: RetrievalOptions): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {};
  log(`retrieval ${label}: ${rows} rows × ${dimension} dimensions`);
  const cached = await openBenchTable(rows, dimension, options.fresh);
  const { table, meta } = cached;
  if (cached.writeSeconds !== null) out[`write_s_${label}`] = round(cached.writeSeconds, 1);

  const plan = vectorIndexPlan(rows, dimension);
  const queries = makeQueries(options.queries, dimension);
  // Ground truth first: an exact scan does not depend on the index.
  const truth = await groundTruth(table, queries, plan, meta.cache);
  cached.saveMeta();

  const bitmap = await ensure('collection-bitmap', meta.cache, () => applyCollectionIndex(table));
  cached.saveMeta();
  out[`collection_index_build_s_${label}`] = round(bitmap.seconds, 2);

  log('  full-text index…');
  const fts = await ensure(`fts-${JSON.stringify(FTS_INDEX_OPTIONS)}`, meta.cache, () => applyTextIndex(table));
  cached.saveMeta();
  out[`fts_build_s_${label}`] = round(fts.seconds, 1);

  const planKey = `vector-${JSON.stringify(plan.create)}`;
  if (plan.create === null) {
    // An index left from another plan would be used by the queries: drop it.
    for (const index of await table.listIndices()) if (index.columns.includes('vector')) await table.dropIndex(index.name);
    out[`index_kind_${label}`] = 'flat';
  } else {
    log(`  vector index ${JSON.stringify(plan.create)}…`);
    const built = await ensure(planKey, meta.cache, async () => {
      await applyVectorIndex(table, plan);
    });
    cached.saveMeta();
    out[`index_kind_${label}`] = plan.create.kind;
    out[`index_options_${label}`] = Object.entries(plan.create.options)
      .map(([k, v]) => `${k}:${v}`)
      .join(',');
    out[`build_s_${label}`] = round(built.seconds, 1);
  }
  out[`search_params_${label}`] =
    Object.entries(plan.search)
      .map(([k, v]) => `${k}:${v}`)
      .join(',') || 'exact';
  const tune = (q: Parameters<typeof applySearchPlan>[0]) => applySearchPlan(q, plan);

  // A fresh connection, as after an app start, so the first query pays for loading the indices.
  cached.db.close();
  const reopened = await (await import('@lancedb/lancedb')).connect(`${cached.dir}/db`);
  const fresh = await reopened.openTable('chunks');
  const first = queries[0];
  if (first !== undefined) {
    let t = performance.now();
    await vectorSearch(fresh, first, tune);
    out[`first_vector_ms_${label}`] = round(performance.now() - t, 1);
    t = performance.now();
    await textSearch(fresh, first);
    out[`first_fts_ms_${label}`] = round(performance.now() - t, 1);
  }
  const warm = queries.slice(0, WARMUP);
  await timeEach(warm, (q) => vectorSearch(fresh, q, tune));
  await timeEach(warm, (q) => textSearch(fresh, q));

  log('  measuring…');
  const vector = await timeEach(queries, (q) => vectorSearch(fresh, q, tune));
  const text = await timeEach(queries, (q) => textSearch(fresh, q));
  const hybrid = await timeEach(queries, (q) => hybridSearch(fresh, q, tune));
  const recall = vector.results.reduce((sum, found, i) => sum + recallAt(found, truth[i] ?? []), 0) / queries.length;
  const textHits = text.results.reduce((sum, found) => sum + found.length, 0) / queries.length;
  reopened.close();

  out[`vector_p50_ms_${label}`] = round(percentile(vector.ms, 50));
  out[`vector_p95_ms_${label}`] = round(percentile(vector.ms, 95));
  out[`fts_p50_ms_${label}`] = round(percentile(text.ms, 50));
  out[`fts_p95_ms_${label}`] = round(percentile(text.ms, 95));
  out[`hybrid_p50_ms_${label}`] = round(percentile(hybrid.ms, 50));
  out[`hybrid_p95_ms_${label}`] = round(percentile(hybrid.ms, 95));
  out[`recall10_${label}`] = round(recall, 3);
  out[`hybrid_vs_slower_part_p50_${label}`] = round(percentile(hybrid.ms, 50) / Math.max(percentile(vector.ms, 50), percentile(text.ms, 50)));
  out[`fts_hits_avg_${label}`] = round(textHits, 1);
  return out;
}

export async function runRetrievalBench(options: RetrievalOptions): Promise<Record<string, number | string>> {
  const figures: Record<string, number | string> = {};
  for (const size of options.sizes) {
    const rows = SIZES[size];
    if (rows === undefined) throw new Error(`unknown size ${size}; use ${Object.keys(SIZES).join(', ')}`);
    Object.assign(figures, await benchOne(size, rows, options.dimension, options));
  }
  if (options.extra768 !== null) {
    const rows = SIZES[options.extra768];
    if (rows === undefined) throw new Error(`unknown size ${options.extra768}`);
    Object.assign(figures, await benchOne(`${options.extra768}_d768`, rows, 768, options));
  }
  Object.assign(figures, {
    retrieval_dimension: options.dimension,
    retrieval_queries: options.queries,
    retrieval_k: K,
    retrieval_filter: 'one or two of five collections',
  });
  return figures;
}
