import type { AuditEntry } from '../../../common/contract/audit.ts';
import { decodeCursor, DEFAULT_PAGE, pageOf } from '../storage/keyset.ts';
import type { Database } from '../storage/sqlite.ts';

// The Audit screen's records, newest first, a page at a time. The keyset is the record's seq
// (the chain's own gapless numbering), so a record written while the user scrolls, or a
// purge, never shifts the pages as an offset would. The offset still works for callers that
// jump to a page number.

export interface AuditPageQuery {
  readonly type?: string | undefined;
  /** ISO 8601 or a date (YYYY-MM-DD), inclusive. */
  readonly from?: string | undefined;
  /** ISO 8601, or a date meaning its whole day, inclusive. */
  readonly to?: string | undefined;
  readonly cursor?: string | undefined;
  readonly limit?: number | undefined;
  readonly offset?: number | undefined;
}

export interface AuditRecordsPage {
  readonly records: AuditEntry[];
  readonly total: number;
  readonly nextCursor: string | null;
}

interface Row {
  seq: number;
  at: string;
  os_user: string;
  type: string;
  data: string;
}

const LIST = 'audit';

export function auditRecordsPage(db: Database, { type, from, to, cursor, limit = DEFAULT_PAGE, offset = 0 }: AuditPageQuery): AuditRecordsPage {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (type !== undefined && type !== '') {
    where.push('type = ?');
    params.push(type);
  }
  if (from !== undefined && from !== '') {
    where.push('at >= ?');
    params.push(from);
  }
  if (to !== undefined && to !== '') {
    where.push('at <= ?');
    params.push(to.length === 10 ? `${to}T23:59:59.999Z` : to);
  }
  const clause = () => (where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`);
  const total = Number((db.prepare(`SELECT count(*) AS n FROM audit_records ${clause()}`).get(...params) as { n: number }).n);
  if (cursor !== undefined) {
    const [seq] = decodeCursor(LIST, cursor, ['number']);
    where.push('seq < ?');
    params.push(seq!);
  }
  const rows = db
    .prepare(`SELECT seq, at, os_user, type, data FROM audit_records ${clause()} ORDER BY seq DESC LIMIT ? OFFSET ?`)
    .all(...params, limit + 1, offset) as unknown as Row[];
  const page = pageOf(rows, limit, LIST, (row) => [row.seq]);
  return {
    records: page.rows.map((row) => ({ seq: row.seq, at: row.at, user: row.os_user, type: row.type, data: JSON.parse(row.data) as never })),
    total,
    nextCursor: page.nextCursor,
  };
}
