import { createHash } from 'node:crypto';
import { MatchQuery, Operator, type Table } from '@lancedb/lancedb';
import type { VectorStore } from '../../storage/lance.ts';
import { messageOf } from '../../storage/sqlite.ts';
import { FTS_ONLY_KEY } from '../store.ts';
import {
  applyCollectionIndex,
  applySearchPlan,
  applyTextIndex,
  applyVectorIndex,
  TEXT_COLUMN,
  VECTOR_COLUMN,
  vectorIndexPlan,
  type VectorIndexPlan,
} from './vector-index-plan.ts';

// The LanceDB side of knowledge search: a rebuildable copy of chunk text and vectors.
//
// One table per embedding key (`chunks_<key>`), shared by every collection embedded with
// that model; queries filter by collection_id. The FTS-only key's table has no vector column.
//
// Full-text search needs an inverted index before the first query, so a table gets one as
// soon as it is created. Rows added later are not in that index until `optimize`, but LanceDB
// still finds them: a full-text query scans the unindexed fragments too (checked in the
// tests), so new documents are searchable at once and `optimize` only makes them faster.
//
// Filters are prefilters: LanceDB applies `where` before picking the nearest vectors or the
// best BM25 matches, so a search limited to one collection returns up to `limit` hits of that
// collection however many better hits other collections hold.

export { TEXT_COLUMN, VECTOR_COLUMN };

export interface IndexRowInput {
  readonly chunkId: string;
  readonly documentId: string;
  readonly collectionId: string;
  readonly text: string;
  readonly vector: Float32Array | readonly number[] | null;
}

export interface SearchOptions {
  readonly limit: number;
  /** Only these collections; an empty list finds nothing. */
  readonly collectionIds: readonly string[];
  readonly documentIds?: readonly string[];
  /** Never these documents (marked beyond what this machine may retrieve): a prefilter, so they take no place in the results. */
  readonly excludeDocumentIds?: readonly string[];
}

export interface SearchHit {
  readonly chunkId: string;
  readonly documentId: string;
  readonly collectionId: string;
  /** Cosine distance for vector hits (lower is closer), BM25 for text hits (higher is better). */
  readonly score: number;
}

export type TableHealth =
  { readonly status: 'ok'; readonly rows: number } | { readonly status: 'missing' } | { readonly status: 'unreadable'; readonly message: string };

export interface OptimizeResult {
  readonly rows: number;
  readonly annIndex: boolean;
}

export interface KnowledgeIndex {
  /** One write per call: pass big batches. A missing table is created (with its FTS index). */
  add(key: string, dimensions: number | null, rows: readonly IndexRowInput[]): Promise<void>;
  deleteDocuments(key: string, documentIds: readonly string[]): Promise<void>;
  /** Rows of the table; 0 when it does not exist. `where` is a LanceDB SQL filter. */
  count(key: string, where?: string): Promise<number>;
  /** Rows per document, for recovery checks. */
  countByDocument(key: string): Promise<Map<string, number>>;
  vectorSearch(key: string, vector: Float32Array | readonly number[], options: SearchOptions): Promise<SearchHit[]>;
  /** The query is reduced to plain words first, so no user text can reach a query parser. */
  textSearch(key: string, query: string, options: SearchOptions): Promise<SearchHit[]>;
  /** Compacts the table, folds new rows into the FTS index and builds the ANN index when the plan asks for one. */
  optimize(key: string): Promise<OptimizeResult | null>;
  drop(key: string): Promise<void>;
  tableHealth(key: string): Promise<TableHealth>;
  /** Drops every chunks table that belongs to none of `keys` (a model no collection uses any more). Returns the names dropped. */
  dropTablesExcept(keys: readonly string[]): Promise<string[]>;
}

export interface KnowledgeIndexOptions {
  /** Which ANN index a table of `rows` vectors gets; tests pass a smaller threshold. */
  readonly plan?: (rows: number, dimensions: number) => VectorIndexPlan;
  /** Old table versions are kept this long after an optimize, for searches still reading them. */
  readonly keepVersionsMs?: number;
}

/** LanceDB table names allow letters, digits, `_`, `-` and `.`; we keep to the first three. */
export function tableName(key: string): string {
  if (/^[a-z0-9_]{1,64}$/u.test(key)) return `chunks_${key}`;
  // Anything else is sanitized and made unique again with a hash of the original key.
  const readable = key
    .toLowerCase()
    .replace(/[^a-z0-9_]+/gu, '_')
    .slice(0, 40);
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 12);
  return `chunks_${readable}_${hash}`;
}

/** The words of a user's query, lowercased and de-duplicated, as a string no FTS syntax can hide in. */
export function ftsTerms(query: string): string[] {
  const words =
    query
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  // Longer tokens are not indexed (the tokenizer's limit is 40) and would never match.
  return [...new Set(words.filter((word) => word.length <= 40))].slice(0, 64);
}

const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/u;

/** `column IN ('a', 'b')`, after checking that every id looks like one of ours. */
export function inList(column: string, ids: readonly string[]): string {
  for (const id of ids) {
    if (!SAFE_ID.test(id)) throw new Error(`Not a valid id for a search filter: ${JSON.stringify(id)}`);
  }
  return `${column} IN (${ids.map((id) => `'${id.replaceAll("'", "''")}'`).join(', ')})`;
}

function filterOf(options: SearchOptions): string {
  const parts = [inList('collection_id', options.collectionIds)];
  if (options.documentIds !== undefined) parts.push(inList('document_id', options.documentIds));
  if (options.excludeDocumentIds !== undefined && options.excludeDocumentIds.length > 0) parts.push(`NOT ${inList('document_id', options.excludeDocumentIds)}`);
  return parts.join(' AND ');
}

const DELETE_BATCH = 500;

export function createKnowledgeIndex(store: VectorStore, options: KnowledgeIndexOptions = {}): KnowledgeIndex {
  const plan = options.plan ?? vectorIndexPlan;
  const keepVersionsMs = options.keepVersionsMs ?? 5 * 60_000;
  const connection = store.connection;
  const tables = new Map<string, Table>();
  /** The plan each table was last optimized with; its search knobs apply to every vector query. */
  const plans = new Map<string, VectorIndexPlan>();
  const locks = new Map<string, Promise<unknown>>();

  /** Writes to one table run one at a time; reads do not wait. */
  const withLock = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const previous = locks.get(key) ?? Promise.resolve();
    const result = previous.then(fn, fn);
    const settled = result.catch(() => undefined);
    locks.set(key, settled);
    void settled.then(() => {
      if (locks.get(key) === settled) locks.delete(key);
    });
    return result;
  };

  const exists = async (key: string) => (await connection.tableNames()).includes(tableName(key));

  const open = async (key: string): Promise<Table | null> => {
    const cached = tables.get(key);
    if (cached?.isOpen() === true) return cached;
    if (!(await exists(key))) return null;
    const table = await connection.openTable(tableName(key));
    tables.set(key, table);
    return table;
  };

  const hasVectors = (key: string) => key !== FTS_ONLY_KEY;

  const toRecords = (key: string, dimensions: number | null, rows: readonly IndexRowInput[]) => {
    if (hasVectors(key) && (dimensions === null || !Number.isInteger(dimensions) || dimensions < 1)) throw new Error(`The index ${key} needs a vector size.`);
    return rows.map((row) => {
      const record: Record<string, unknown> = { chunk_id: row.chunkId, document_id: row.documentId, collection_id: row.collectionId, text: row.text };
      if (hasVectors(key)) {
        if (row.vector?.length !== dimensions)
          throw new Error(`Chunk ${row.chunkId} has ${row.vector?.length ?? 'no'} vector dimensions; the index ${key} has ${String(dimensions)}.`);
        record[VECTOR_COLUMN] = Array.from(row.vector);
      }
      return record;
    });
  };

  const search = async (key: string, options: SearchOptions, run: (table: Table, where: string) => Promise<SearchHit[]>): Promise<SearchHit[]> => {
    if (options.collectionIds.length === 0 || options.documentIds?.length === 0 || options.limit < 1) return [];
    const where = filterOf(options);
    const table = await open(key);
    return table === null ? [] : run(table, where);
  };

  return {
    async add(key, dimensions, rows) {
      if (rows.length === 0) return;
      const records = toRecords(key, dimensions, rows);
      await withLock(key, async () => {
        const table = await open(key);
        if (table !== null) {
          await table.add(records);
          return;
        }
        const created = await connection.createTable(tableName(key), records);
        // Full-text queries fail on a table without an inverted index, so it gets one at once.
        await applyTextIndex(created);
        tables.set(key, created);
      });
    },

    deleteDocuments(key, documentIds) {
      if (documentIds.length === 0) return Promise.resolve();
      return withLock(key, async () => {
        const table = await open(key);
        if (table === null) return;
        for (let at = 0; at < documentIds.length; at += DELETE_BATCH) await table.delete(inList('document_id', documentIds.slice(at, at + DELETE_BATCH)));
      });
    },

    async count(key, where) {
      const table = await open(key);
      if (table === null) return 0;
      return where === undefined ? table.countRows() : table.countRows(where);
    },

    async countByDocument(key) {
      const counts = new Map<string, number>();
      const table = await open(key);
      if (table === null) return counts;
      const column = (await table.query().select(['document_id']).toArrow()).getChild('document_id');
      if (column === null) return counts;
      for (const value of column) {
        const id = String(value);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      return counts;
    },

    vectorSearch(key, vector, options) {
      if (!hasVectors(key)) return Promise.resolve([]);
      return search(key, options, async (table, where) => {
        const query = table
          .vectorSearch(Array.from(vector))
          .where(where)
          .select(['chunk_id', 'document_id', 'collection_id', '_distance'])
          .limit(options.limit);
        // Until the first optimize of this process, a flat plan: same metric, no index knobs.
        const rows = (await applySearchPlan(query, plans.get(key) ?? plan(0, vector.length)).toArray()) as {
          chunk_id: string;
          document_id: string;
          collection_id: string;
          _distance: number;
        }[];
        return rows.map((row) => ({ chunkId: row.chunk_id, documentId: row.document_id, collectionId: row.collection_id, score: row._distance }));
      });
    },

    textSearch(key, query, options) {
      const terms = ftsTerms(query);
      if (terms.length === 0) return Promise.resolve([]);
      return search(key, options, async (table, where) => {
        const rows = (await table
          .query()
          .fullTextSearch(new MatchQuery(terms.join(' '), TEXT_COLUMN, { operator: Operator.Or }))
          .where(where)
          .select(['chunk_id', 'document_id', 'collection_id', '_score'])
          .limit(options.limit)
          .toArray()) as { chunk_id: string; document_id: string; collection_id: string; _score: number }[];
        return rows.map((row) => ({ chunkId: row.chunk_id, documentId: row.document_id, collectionId: row.collection_id, score: row._score }));
      });
    },

    optimize(key) {
      return withLock(key, async () => {
        const table = await open(key);
        if (table === null) return null;
        await table.optimize({ cleanupOlderThan: new Date(Date.now() - keepVersionsMs) });
        // Rebuilt in full rather than extended: BM25 statistics of an index extended by
        // optimize() differ from a fresh build's, and then a table rebuilt from SQLite would
        // rank passages differently than the one it replaces. A full build of the text index
        // is quick next to embedding the same chunks.
        await applyTextIndex(table);
        // Every search filters by collection: a bitmap index turns that filter into a lookup (1M rows: 34 ms → 8.5 ms).
        await applyCollectionIndex(table);
        const indices = await table.listIndices();
        const rows = await table.countRows();
        let annIndex = indices.some((index) => index.columns.includes(VECTOR_COLUMN));
        if (hasVectors(key)) {
          const field = (await table.schema()).fields.find((candidate) => candidate.name === VECTOR_COLUMN);
          const dimensions = (field?.type as { listSize?: number } | undefined)?.listSize ?? 0;
          const chosen = plan(rows, dimensions);
          const previous = plans.get(key);
          // Built when the plan first asks for an index, rebuilt when it asks for a different
          // one (the table grew into another bracket). optimize() above already folded new rows
          // into an existing index. After a restart the existing index is taken as current.
          const changed = previous !== undefined && JSON.stringify(previous.create) !== JSON.stringify(chosen.create);
          if (chosen.create !== null && (!annIndex || changed)) annIndex = await applyVectorIndex(table, chosen);
          plans.set(key, chosen);
        }
        return { rows, annIndex };
      });
    },

    drop(key) {
      return withLock(key, async () => {
        const cached = tables.get(key);
        tables.delete(key);
        plans.delete(key);
        if (cached?.isOpen() === true) cached.close();
        if (await exists(key)) await connection.dropTable(tableName(key));
      });
    },

    async dropTablesExcept(keys) {
      const keep = new Set(keys.map(tableName));
      const unused = (await connection.tableNames()).filter((name) => name.startsWith('chunks_') && !keep.has(name));
      for (const name of unused) {
        for (const [key, table] of tables) {
          if (tableName(key) === name) {
            tables.delete(key);
            if (table.isOpen()) table.close();
          }
        }
        await connection.dropTable(name);
      }
      return unused;
    },

    async tableHealth(key) {
      let table: Table | undefined;
      try {
        if (!(await exists(key))) return { status: 'missing' };
        // A fresh handle: a cached one may still serve data that is gone from disk.
        table = await connection.openTable(tableName(key));
        const fields = (await table.schema()).fields.map((field) => field.name);
        const expected = ['chunk_id', 'document_id', 'collection_id', TEXT_COLUMN, ...(hasVectors(key) ? [VECTOR_COLUMN] : [])];
        const missing = expected.filter((name) => !fields.includes(name));
        if (missing.length > 0) return { status: 'unreadable', message: `The table lacks the columns ${missing.join(', ')}.` };
        const rows = await table.countRows();
        // Touches every fragment through a small column, then one whole row: a lost or truncated
        // data file fails here instead of in the middle of a search. Reading every vector would
        // take too long on a large library.
        await table.query().select(['document_id']).toArrow();
        await table.query().select(expected).limit(1).toArrow();
        return { status: 'ok', rows };
      } catch (error) {
        return { status: 'unreadable', message: messageOf(error) };
      } finally {
        if (table?.isOpen() === true) table.close();
      }
    },
  };
}
