import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { makeBatch, Rng, TextModel, VectorModel } from './data.ts';

/** Bump when the generated rows change, so that stale cached tables are not reused. */
const DATA_VERSION = 1;
const BATCH_ROWS = 50_000;

export const CACHE_ROOT = path.join(os.tmpdir(), 'soberana-bench-rag');

export interface CachedTable {
  readonly dir: string;
  readonly table: lancedb.Table;
  readonly db: lancedb.Connection;
  /** Seconds spent generating and writing the rows; null when the table came from the cache. */
  readonly writeSeconds: number | null;
  readonly meta: Meta;
  saveMeta(): void;
}

export interface Meta {
  version: number;
  rows: number;
  dim: number;
  complete: boolean;
  /** Arbitrary cached results (ground truth, applied index configurations), by key. */
  cache: Record<string, unknown>;
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Opens the cached synthetic table for (rows, dim), generating it first when missing or when fresh is set. */
export async function openBenchTable(rows: number, dim: number, fresh: boolean): Promise<CachedTable> {
  const dir = path.join(CACHE_ROOT, `v${DATA_VERSION}-${rows}-${dim}`);
  const metaFile = path.join(dir, 'meta.json');
  let meta: Meta | null = null;
  if (!fresh && existsSync(metaFile)) {
    const parsed = JSON.parse(readFileSync(metaFile, 'utf8')) as Meta;
    if (parsed.complete && parsed.version === DATA_VERSION && parsed.rows === rows && parsed.dim === dim) meta = parsed;
  }
  let writeSeconds: number | null = null;
  if (meta === null) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const db = await lancedb.connect(path.join(dir, 'db'));
    const rng = new Rng(DATA_VERSION * 1_000_003 + rows);
    const vectors = new VectorModel(dim);
    const text = new TextModel();
    const started = performance.now();
    let table: lancedb.Table | null = null;
    for (let start = 0; start < rows; start += BATCH_ROWS) {
      const batch = makeBatch(rng, vectors, text, start, Math.min(BATCH_ROWS, rows - start));
      if (table === null) table = await db.createTable('chunks', batch);
      else await table.add(batch);
      if ((start / BATCH_ROWS) % 4 === 3) log(`  wrote ${start + BATCH_ROWS} / ${rows} rows (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
    // One fragment per add: compact so that reads of the cached table do not pay for many small files.
    await table?.optimize();
    writeSeconds = (performance.now() - started) / 1000;
    db.close();
    meta = { version: DATA_VERSION, rows, dim, complete: true, cache: {} };
    writeFileSync(metaFile, `${JSON.stringify(meta)}\n`);
  }
  const db = await lancedb.connect(path.join(dir, 'db'));
  const table = await db.openTable('chunks');
  const m = meta;
  return { dir, db, table, writeSeconds, meta: m, saveMeta: () => writeFileSync(metaFile, `${JSON.stringify(m)}\n`) };
}
