import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import type * as Arrow from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySearchPlan, applyTextIndex, applyVectorIndex, flatMaxRows, LANCE_CPU_THREADS_MIN, vectorIndexPlan } from './vector-index-plan.ts';

// Lance reads this when its CPU pool starts, at the first query: early enough here.
process.env.LANCE_CPU_THREADS ??= String(LANCE_CPU_THREADS_MIN);

describe('vectorIndexPlan', () => {
  it('builds no index for small tables and searches them exactly', () => {
    const plan = vectorIndexPlan(0, 384);
    expect(plan.create).toBeNull();
    expect(plan.search).toEqual({});
    expect(vectorIndexPlan(flatMaxRows(384) - 1, 384).create).toBeNull();
  });

  it('indexes larger tables with IVF_PQ, 8 dimensions per sub-vector, about 1k rows per partition', () => {
    const plan = vectorIndexPlan(1_000_000, 384);
    expect(plan.create?.kind).toBe('ivf_pq');
    expect(plan.create?.options).toMatchObject({ numSubVectors: 48, distanceType: 'cosine' });
    expect(plan.create?.options.numPartitions).toBe(1000);
    expect(plan.search.nprobes).toBeGreaterThan(0);
    expect(plan.search.refineFactor).toBeGreaterThan(0);
    expect(vectorIndexPlan(100_000, 768).create?.options).toMatchObject({ numSubVectors: 96, numPartitions: 100 });
  });

  it('keeps the flat limit inversely proportional to the dimension, within bounds', () => {
    expect(flatMaxRows(768)).toBeLessThan(flatMaxRows(384));
    expect(flatMaxRows(64)).toBeGreaterThan(flatMaxRows(384));
    expect(flatMaxRows(384)).toBeGreaterThan(1_000);
  });

  it('picks a sub-vector count that divides the dimension', () => {
    for (const dim of [64, 100, 256, 384, 512, 768, 1024, 1536]) {
      const n = vectorIndexPlan(500_000, dim).create?.options.numSubVectors;
      expect(typeof n).toBe('number');
      expect(dim % (n as number)).toBe(0);
    }
  });

  it('rejects nonsense', () => {
    expect(() => vectorIndexPlan(-1, 384)).toThrow(RangeError);
    expect(() => vectorIndexPlan(10, 0)).toThrow(RangeError);
  });
});

// LanceDB checks `instanceof` against the CommonJS copy of apache-arrow.
const arrow = createRequire(import.meta.url)('apache-arrow') as typeof Arrow;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Clustered unit vectors: points = centre + noise, about 30 points a centre, so that a
 * query's filtered top 10 all come from its own cluster, as with real embeddings (with few
 * points a cluster the tail of the top 10 is a tie between far clusters: a coin toss).
 */
function clustered(count: number, dim: number, random: () => number, centreSeed = 11): Float32Array {
  const gauss = () => Math.sqrt(-2 * Math.log(Math.max(1e-12, random()))) * Math.cos(2 * Math.PI * random());
  const centreRandom = rng(centreSeed);
  const centreGauss = () => Math.sqrt(-2 * Math.log(Math.max(1e-12, centreRandom()))) * Math.cos(2 * Math.PI * centreRandom());
  const centres = Array.from({ length: 500 }, () => Array.from({ length: dim }, centreGauss));
  const out = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    const c = centres[Math.floor(random() * centres.length)] ?? [];
    let norm = 0;
    for (let k = 0; k < dim; k++) {
      const v = (c[k] ?? 0) + 0.5 * gauss();
      out[i * dim + k] = v;
      norm += v * v;
    }
    for (let k = 0; k < dim; k++) out[i * dim + k] = (out[i * dim + k] ?? 0) / Math.sqrt(norm);
  }
  return out;
}

describe('applyVectorIndex and applySearchPlan on a real table', () => {
  // Just over the flat limit at 128 dimensions, so that the plan builds an index. The build
  // is dominated by PQ training (256 centroids for each of the 16 sub-vectors), not by rows.
  const ROWS = 16_000;
  const DIM = 128;
  let dir = '';
  let db: lancedb.Connection;
  let table: lancedb.Table;
  const random = rng(7);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-index-plan-'));
    db = await lancedb.connect(dir);
    const values = clustered(ROWS, DIM, random);
    const ids = Array.from({ length: ROWS }, (_, i) => `c${i}`);
    const schema = new arrow.Schema([
      new arrow.Field('chunk_id', new arrow.Utf8(), false),
      new arrow.Field('document_id', new arrow.Utf8(), false),
      new arrow.Field('collection_id', new arrow.Utf8(), false),
      new arrow.Field('text', new arrow.Utf8(), false),
      new arrow.Field('vector', new arrow.FixedSizeList(DIM, new arrow.Field('item', new arrow.Float32(), true)), false),
    ]);
    const vectorType = schema.fields[4]?.type as Arrow.FixedSizeList<Arrow.Float32>;
    const children = [
      arrow.vectorFromArray(ids, new arrow.Utf8()).data[0],
      arrow.vectorFromArray(
        ids.map((_, i) => `d${Math.floor(i / 20)}`),
        new arrow.Utf8(),
      ).data[0],
      arrow.vectorFromArray(
        ids.map((_, i) => `col${i % 2}`),
        new arrow.Utf8(),
      ).data[0],
      arrow.vectorFromArray(
        ids.map((_, i) => `chunk number ${i} about topic${i % 50}`),
        new arrow.Utf8(),
      ).data[0],
      arrow.makeData({
        type: vectorType,
        length: ROWS,
        nullCount: 0,
        child: arrow.makeData({ type: new arrow.Float32(), length: ROWS * DIM, nullCount: 0, data: values }),
      }),
    ];
    const data = arrow.makeData({ type: new arrow.Struct(schema.fields), length: ROWS, nullCount: 0, children: children as never });
    table = await db.createTable('chunks', new arrow.Table([new arrow.RecordBatch(schema, data)]));
  }, 30_000);

  afterAll(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('builds the planned index and finds ≥ 95 % of the exact top 10', async () => {
    const plan = vectorIndexPlan(ROWS, DIM);
    expect(plan.create).not.toBeNull();
    expect(await applyVectorIndex(table, plan)).toBe(true);
    const indices = await table.listIndices();
    expect(indices.some((i) => i.columns.includes('vector'))).toBe(true);

    const queries = clustered(30, DIM, random);
    let found = 0;
    for (let q = 0; q < 30; q++) {
      const vector = queries.subarray(q * DIM, (q + 1) * DIM);
      const where = `collection_id = 'col${q % 2}'`;
      const approx = (await applySearchPlan(table.query().nearestTo(vector), plan).where(where).select(['chunk_id', '_distance']).limit(10).toArray()) as {
        chunk_id: string;
      }[];
      const exact = (await table
        .query()
        .nearestTo(vector)
        .distanceType(plan.distanceType)
        .bypassVectorIndex()
        .where(where)
        .select(['chunk_id', '_distance'])
        .limit(10)
        .toArray()) as { chunk_id: string }[];
      const truth = new Set(exact.map((r) => r.chunk_id));
      found += approx.filter((r) => truth.has(r.chunk_id)).length;
    }
    expect(found / 300).toBeGreaterThanOrEqual(0.95);
  }, 60_000);

  it('builds the full-text index with the planned options', async () => {
    await applyTextIndex(table);
    const hits = (await table.query().fullTextSearch('topic7', { columns: 'text' }).select(['chunk_id', '_score']).limit(5).toArray()) as {
      chunk_id: string;
    }[];
    expect(hits).toHaveLength(5);
  }, 30_000);
});
