import path from 'node:path';
import { connect, type Connection, type Table } from '@lancedb/lancedb';
import { AppError } from '../../../common/result.ts';
import { messageOf } from './sqlite.ts';

/**
 * LANCE_CPU_THREADS must be at least this before lance first runs. Lance sizes its CPU pool
 * as cores minus 2 (at least 1): on a 2-core machine that is one thread, and the full-text
 * index build deadlocks as soon as the posting lists fill more than one batch: every thread
 * parked, 0 % CPU, createIndex never returns (seen at 100k chunks; lancedb issue #3568,
 * lance PR #7350). More threads than cores cost nothing but a little scheduling. Importing
 * this module sets it.
 */
export const LANCE_CPU_THREADS_MIN = 4;
if (!(Number(process.env.LANCE_CPU_THREADS) >= LANCE_CPU_THREADS_MIN)) process.env.LANCE_CPU_THREADS = String(LANCE_CPU_THREADS_MIN);

export const VECTOR_DIR = 'lancedb';

/** Reserved for the health check; never holds user data. */
export const HEALTH_TABLE = '_health';

const HEALTH_VECTOR = [0.25, -0.5, 0.75, 1];

export type VectorHealth = { readonly ok: true; readonly tables: number; readonly ms: number } | { readonly ok: false; readonly message: string };

export interface VectorStore {
  /** `<dataDir>/lancedb`. */
  readonly path: string;
  readonly connection: Connection;
  /**
   * Writes, searches, reads back and drops a one-row table. `tables` counts the other
   * tables. Never throws: a failure is reported as `{ ok: false }`.
   */
  healthCheck(): Promise<VectorHealth>;
  /** Idempotent. */
  close(): void;
}

/**
 * Connects to the vector index under the data directory. The index can be rebuilt from
 * SQLite, so a failure here is reported, never repaired by deleting anything.
 */
export async function openVectorStore(dataDir: string): Promise<VectorStore> {
  const dir = path.join(dataDir, VECTOR_DIR);
  let connection: Connection;
  try {
    connection = await connect(dir);
  } catch (error) {
    throw new AppError('io_error', 'The search index could not be opened.', `${dir}: ${messageOf(error)}`);
  }

  // Two overlapping checks would overwrite and drop each other's table.
  let queue: Promise<unknown> = Promise.resolve();

  return {
    path: dir,
    connection,
    healthCheck() {
      const run = () => checkHealth(connection);
      const result = queue.then(run, run);
      queue = result;
      return result;
    },
    close() {
      if (connection.isOpen()) connection.close();
    },
  };
}

async function checkHealth(connection: Connection): Promise<VectorHealth> {
  const started = performance.now();
  let table: Table | undefined;
  let created = false;
  try {
    if (!connection.isOpen()) return { ok: false, message: 'The search index is closed.' };
    // Dropping a leftover first instead of mode 'overwrite': same effect, without lance's warning on every check.
    if ((await connection.tableNames()).includes(HEALTH_TABLE)) await connection.dropTable(HEALTH_TABLE);
    table = await connection.createTable(HEALTH_TABLE, [{ id: 1, vector: HEALTH_VECTOR }]);
    created = true;
    const hits = await table.vectorSearch(HEALTH_VECTOR).limit(1).toArray();
    const hit = hits[0] as { id?: unknown; vector?: ArrayLike<number> } | undefined;
    if (hit?.id !== 1 || hit.vector === undefined || !sameVector(Array.from(hit.vector), HEALTH_VECTOR)) {
      return { ok: false, message: 'The search index returned a wrong result for a test vector.' };
    }
    const rows = await table.countRows();
    if (rows !== 1) return { ok: false, message: `The search index test table holds ${rows} rows instead of 1.` };
    table.close();
    table = undefined;
    await connection.dropTable(HEALTH_TABLE);
    created = false;
    const tables = (await connection.tableNames()).filter((name) => name !== HEALTH_TABLE).length;
    return { ok: true, tables, ms: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, message: `The search index is not working: ${messageOf(error)}` };
  } finally {
    if (table?.isOpen()) table.close();
    if (created && connection.isOpen()) await connection.dropTable(HEALTH_TABLE).catch(() => undefined);
  }
}

/** Vectors are stored as float32, so compare with float32 precision. */
function sameVector(actual: readonly number[], expected: readonly number[]): boolean {
  return actual.length === expected.length && actual.every((value, index) => Math.fround(value) === Math.fround(expected[index] ?? Number.NaN));
}
