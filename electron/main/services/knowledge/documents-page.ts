import { createHash } from 'node:crypto';
import path from 'node:path';
import type { DocumentEntry, DocumentFolders, DocumentsPage, DocumentsQuery, DocumentSort } from '../../../common/contract/index.ts';
import { AppError } from '../../../common/result.ts';
import { decodeCursor, DEFAULT_PAGE, MAX_PAGE, pageOf, type KeyValue } from '../storage/keyset.ts';
import type { Database } from '../storage/sqlite.ts';
import { collectionRow } from './collections-store.ts';
import { DOCUMENT_COLUMNS, toDocument, type DocumentRow } from './documents-store.ts';
import { absoluteFolder, commonParts, folderTree, relativeFolder, STATUSES_OF } from './folders.ts';
import type { DocumentStatus } from './store.ts';

// The Documents screen's list, a page at a time: filtered, sorted and paged by SQLite with a
// keyset cursor (storage/keyset.ts), so a collection of 30,000 documents costs one page of
// rows per call, whatever its size. Each sort has an index (migration 13) and ends in the id,
// so ties (same names, same sizes) still have one order and no row repeats or is skipped.

interface SortSpec {
  /** The ORDER BY columns, in key order; a name sorts without regard to case. */
  readonly columns: readonly string[];
  readonly shape: readonly ('string' | 'number')[];
  readonly keyOf: (row: PageRow) => KeyValue[];
}

const SORTS: Readonly<Record<DocumentSort, SortSpec>> = {
  name: { columns: ['d.name COLLATE NOCASE', 'd.id'], shape: ['string', 'string'], keyOf: (row) => [row.name, row.id] },
  added: { columns: ['d.added_at', 'd.id'], shape: ['string', 'string'], keyOf: (row) => [row.added_at, row.id] },
  size: { columns: ['d.bytes', 'd.id'], shape: ['number', 'string'], keyOf: (row) => [row.bytes, row.id] },
  status: {
    columns: ['d.status_rank', 'd.name COLLATE NOCASE', 'd.id'],
    shape: ['number', 'string', 'string'],
    keyOf: (row) => [row.status_rank, row.name, row.id],
  },
};

interface PageRow extends DocumentRow {
  pii: string | null;
  status_rank: number;
}

/** The collection's folders, as parts (see folders.ts), from the folders its documents were added from. */
function rootParts(db: Database, collectionId: string): string[] {
  // One index seek per distinct folder (a skip scan of documents_by_folder), not a read of every row.
  const rows = db
    .prepare(
      `WITH RECURSIVE f(folder) AS (
         SELECT min(folder) FROM documents WHERE collection_id = ?
         UNION ALL SELECT (SELECT min(folder) FROM documents WHERE collection_id = ? AND folder > f.folder) FROM f WHERE f.folder IS NOT NULL
       ) SELECT folder FROM f WHERE folder IS NOT NULL`,
    )
    .all(collectionId, collectionId) as { folder: string }[];
  return commonParts(rows.map((row) => row.folder));
}

/** The collection's folder tree with counts per status: one GROUP BY, aggregated in folders.ts. */
export function documentFolders(db: Database, collectionId: string): DocumentFolders {
  collectionRow(db, collectionId);
  const rows = db.prepare('SELECT folder, status, count(*) AS count FROM documents WHERE collection_id = ? GROUP BY folder, status').all(collectionId) as {
    folder: string;
    status: DocumentStatus;
    count: number;
  }[];
  return folderTree(rows);
}

/** The filter as SQL, shared by the page and its total. */
function filterOf(query: DocumentsQuery, root: readonly string[]): { sql: string; params: (string | number)[] } {
  if (query.folder !== undefined && /(^|\/)\.\.?(\/|$)/.test(query.folder)) {
    throw new AppError('bad_request', 'That folder is not one of the collection’s folders.', `folder ${query.folder}`);
  }
  const clauses = ['d.collection_id = ?'];
  const params: (string | number)[] = [query.collectionId];
  const name = query.query?.trim() ?? '';
  if (name !== '') {
    // LIKE is case-insensitive for ASCII; its wildcards in the typed text are matched literally.
    clauses.push("d.name LIKE ? ESCAPE '\\'");
    params.push(`%${name.replace(/[\\%_]/g, (char) => `\\${char}`)}%`);
  }
  const folder = query.folder === undefined ? null : absoluteFolder(query.folder, root);
  if (folder !== null) {
    // This folder and below: a range of the folder index rather than a LIKE, so the separator
    // needs no escaping. '/' + 1 is '0' and '\' + 1 is ']'.
    const next = String.fromCharCode(path.sep.charCodeAt(0) + 1);
    const base = folder.endsWith(path.sep) ? folder.slice(0, -1) : folder;
    clauses.push('(d.folder = ? OR (d.folder > ? AND d.folder < ?))');
    params.push(folder, `${base}${path.sep}`, `${base}${next}`);
  }
  if (query.status !== undefined) {
    clauses.push(`d.status IN (${STATUSES_OF[query.status].map(() => '?').join(', ')})`);
    params.push(...STATUSES_OF[query.status]);
  }
  return { sql: clauses.join(' AND '), params };
}

/** The list a cursor belongs to: the collection, sort, direction and filter, so another list's cursor is refused. */
function listTag(query: DocumentsQuery, sort: DocumentSort, descending: boolean): string {
  const filter = createHash('sha256')
    .update(JSON.stringify([query.collectionId, query.query?.trim() ?? '', query.folder ?? '', query.status ?? '']))
    .digest('base64url')
    .slice(0, 12);
  return `documents/${sort}/${descending ? 'desc' : 'asc'}/${filter}`;
}

export function pageDocuments(db: Database, query: DocumentsQuery): DocumentsPage {
  collectionRow(db, query.collectionId);
  const sort = query.sort ?? 'name';
  const descending = query.descending === true;
  const spec = SORTS[sort];
  const limit = Math.min(MAX_PAGE, Math.max(1, query.limit ?? DEFAULT_PAGE));
  const root = rootParts(db, query.collectionId);
  const filter = filterOf(query, root);
  const tag = listTag(query, sort, descending);

  const order = spec.columns.map((column) => `${column}${descending ? ' DESC' : ''}`).join(', ');
  let after = '';
  const afterParams: KeyValue[] = [];
  if (query.cursor !== undefined) {
    const key = decodeCursor(tag, query.cursor, spec.shape);
    // A row value comparison over the whole key: one range of the sort's index.
    // The collation goes on the value, not the column, or SQLite cannot use the index for the range.
    const columns = spec.columns.map((column) => column.replace(' COLLATE NOCASE', ''));
    const values = spec.columns.map((column) => (column.endsWith(' COLLATE NOCASE') ? '? COLLATE NOCASE' : '?'));
    after = ` AND (${columns.join(', ')}) ${descending ? '<' : '>'} (${values.join(', ')})`;
    afterParams.push(...key);
  }
  const rows = db
    .prepare(`SELECT ${DOCUMENT_COLUMNS}, d.pii, d.status_rank FROM documents d WHERE ${filter.sql}${after} ORDER BY ${order} LIMIT ?`)
    .all(...filter.params, ...afterParams, limit + 1) as unknown as PageRow[];
  const page = pageOf(rows, limit, tag, spec.keyOf);
  const total = (db.prepare(`SELECT count(*) AS n FROM documents d WHERE ${filter.sql}`).get(...filter.params) as { n: number }).n;
  return { documents: page.rows.map((row) => entryOf(row, root)), nextCursor: page.nextCursor, total };
}

function entryOf(row: PageRow, root: readonly string[]): DocumentEntry {
  const document = toDocument(row);
  return {
    id: document.id,
    collectionId: document.collectionId,
    name: document.name,
    sourcePath: document.sourcePath,
    folder: relativeFolder(document.folder, root),
    format: document.format,
    bytes: document.bytes,
    pages: document.pageCount,
    chunks: document.chunkCount,
    status: document.status,
    error: document.errorReason === null ? null : { reason: document.errorReason, message: document.errorMessage ?? '' },
    personalData: row.pii === null ? null : (JSON.parse(row.pii) as Record<string, number>),
    addedAt: document.addedAt,
    updatedAt: document.updatedAt,
    parentId: document.parentId,
  };
}

/** One document as the list shows it (after a change to it, such as its marking). */
export function documentEntry(db: Database, id: string): DocumentEntry {
  const row = db.prepare(`SELECT ${DOCUMENT_COLUMNS}, d.pii, d.status_rank FROM documents d WHERE d.id = ?`).get(id) as unknown as PageRow | undefined;
  if (row === undefined) throw new AppError('not_found', 'That document no longer exists.', `document ${id}`);
  return entryOf(row, rootParts(db, row.collection_id));
}

/** The failed documents of a collection, in `folder` (relative to its root) and below when given, in insertion order. */
export function failedDocumentIds(db: Database, collectionId: string, folder?: string): string[] {
  const filter = filterOf({ collectionId, status: 'failed', ...(folder === undefined ? {} : { folder }) }, rootParts(db, collectionId));
  return (db.prepare(`SELECT d.id FROM documents d WHERE ${filter.sql} ORDER BY d.rowid`).all(...filter.params) as { id: string }[]).map((row) => row.id);
}
