import type { ModelSort, ModelsQuery } from '../../../common/contract/models.ts';
import { decodeCursor, pageOf, type KeyValue } from '../storage/keyset.ts';
import type { Database } from '../storage/sqlite.ts';
import { COLUMNS, toRecord, type ModelRow } from './registry.ts';
import type { ModelRecord } from './types.ts';

// The model library filtered and sorted by SQLite, a page at a time (issue 15): the Models
// screen's table asks for pages; pickers ask without a limit and get every model.

export interface ModelsPageResult {
  readonly models: ModelRecord[];
  readonly nextCursor: string | null;
  readonly total: number;
}

/** Each sort's column (as stored, with the collation its index uses) and the key a cursor keeps. */
const SORTS: Record<ModelSort, { readonly column: string; readonly key: (row: ModelRow) => KeyValue; readonly type: 'string' | 'number' }> = {
  name: { column: 'display_name COLLATE NOCASE', key: (row) => row.display_name, type: 'string' },
  size: { column: 'size_bytes', key: (row) => row.size_bytes, type: 'number' },
  added: { column: 'imported_at', key: (row) => row.imported_at, type: 'string' },
};

/** LIKE's wildcards in a user's text match themselves. */
const likePattern = (text: string) => `%${text.replaceAll('\\', '\\\\').replaceAll('%', '\\%').replaceAll('_', '\\_')}%`;

export function pageModels(db: Database, { query, sort = 'added', descending = false, cursor, limit }: ModelsQuery = {}): ModelsPageResult {
  const { column, key, type } = SORTS[sort];
  // The cursor names its sort and direction: resuming under another order would skip rows.
  const list = `models:${sort}:${descending ? 'desc' : 'asc'}`;
  const where: string[] = [];
  const params: (string | number)[] = [];
  const text = query?.trim() ?? '';
  if (text !== '') {
    where.push("display_name LIKE ? ESCAPE '\\'");
    params.push(likePattern(text));
  }
  const whereSql = () => (where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`);
  const total = (db.prepare(`SELECT count(*) AS total FROM models ${whereSql()}`).get(...params) as { total: number }).total;
  if (cursor !== undefined) {
    const [value, id] = decodeCursor(list, cursor, [type, 'string']) as [KeyValue, string];
    // Written out rather than as a row value, so the name's NOCASE collation applies to the comparison.
    const after = descending ? '<' : '>';
    where.push(`(${column} ${after} ? OR (${column} = ? AND id ${after} ?))`);
    params.push(value, value, id);
  }
  const direction = descending ? 'DESC' : 'ASC';
  const sql = `SELECT ${COLUMNS} FROM models ${whereSql()} ORDER BY ${column} ${direction}, id ${direction}`;
  if (limit === undefined) {
    const rows = db.prepare(sql).all(...params) as unknown as ModelRow[];
    return { models: rows.map(toRecord), nextCursor: null, total };
  }
  const rows = db.prepare(`${sql} LIMIT ?`).all(...params, limit + 1) as unknown as ModelRow[];
  const page = pageOf(rows, limit, list, (row) => [key(row), row.id]);
  return { models: page.rows.map(toRecord), nextCursor: page.nextCursor, total };
}
