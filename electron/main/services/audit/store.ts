import type { Database } from '../storage/sqlite.ts';

// Row-level access to the three audit tables (migration 8). Nothing here checks anything:
// verify.ts decides what the rows mean.

export interface AuditRecord {
  readonly seq: number;
  /** ISO 8601 in UTC. */
  readonly at: string;
  /** The operating-system account the app ran under. */
  readonly user: string;
  readonly type: string;
  readonly data: unknown;
  /** The previous record's hash (the purge base's for the first one kept). */
  readonly prev: string;
  readonly hash: string;
}

export interface AuditCheckpoint {
  readonly period: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** The hash of record lastSeq. */
  readonly chainHash: string;
  readonly mac: string;
  readonly at: string;
}

export interface AuditMeta {
  /** Public id of the anchor K0 (see chain.ts anchorId). */
  readonly anchorId: string;
  readonly createdAt: string;
  /** The last purged record's seq and hash; 0 and the genesis hash before any purge. */
  readonly baseSeq: number;
  readonly baseHash: string;
  /** The checkpoint that ends at baseSeq, null before any purge. */
  readonly basePeriod: number | null;
}

interface RecordRow {
  seq: number;
  at: string;
  os_user: string;
  type: string;
  data: string;
  prev_hash: string;
  hash: string;
}

interface CheckpointRow {
  period: number;
  first_seq: number;
  last_seq: number;
  chain_hash: string;
  mac: string;
  at: string;
}

const RECORD_COLUMNS = 'seq, at, os_user, type, data, prev_hash, hash';

export function toRecord(row: RecordRow): AuditRecord {
  return { seq: row.seq, at: row.at, user: row.os_user, type: row.type, data: JSON.parse(row.data) as unknown, prev: row.prev_hash, hash: row.hash };
}

const toCheckpoint = (row: CheckpointRow): AuditCheckpoint => ({
  period: row.period,
  firstSeq: row.first_seq,
  lastSeq: row.last_seq,
  chainHash: row.chain_hash,
  mac: row.mac,
  at: row.at,
});

export function readMeta(db: Database): AuditMeta | null {
  const row = db.prepare('SELECT anchor_id, created_at, base_seq, base_hash, base_period FROM audit_meta WHERE id = 1').get() as
    { anchor_id: string; created_at: string; base_seq: number; base_hash: string; base_period: number | null } | undefined;
  if (row === undefined) return null;
  return { anchorId: row.anchor_id, createdAt: row.created_at, baseSeq: row.base_seq, baseHash: row.base_hash, basePeriod: row.base_period };
}

export function insertMeta(db: Database, meta: AuditMeta): void {
  db.prepare('INSERT INTO audit_meta (id, anchor_id, created_at, base_seq, base_hash, base_period) VALUES (1, ?, ?, ?, ?, ?)').run(
    meta.anchorId,
    meta.createdAt,
    meta.baseSeq,
    meta.baseHash,
    meta.basePeriod,
  );
}

export function setBase(db: Database, seq: number, hash: string, period: number): void {
  db.prepare('UPDATE audit_meta SET base_seq = ?, base_hash = ?, base_period = ? WHERE id = 1').run(seq, hash, period);
}

export function insertRecord(db: Database, record: AuditRecord): void {
  db.prepare(`INSERT INTO audit_records (${RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`).run(
    record.seq,
    record.at,
    record.user,
    record.type,
    JSON.stringify(record.data),
    record.prev,
    record.hash,
  );
}

export function insertCheckpoint(db: Database, checkpoint: AuditCheckpoint): void {
  db.prepare('INSERT INTO audit_checkpoints (period, first_seq, last_seq, chain_hash, mac, at) VALUES (?, ?, ?, ?, ?, ?)').run(
    checkpoint.period,
    checkpoint.firstSeq,
    checkpoint.lastSeq,
    checkpoint.chainHash,
    checkpoint.mac,
    checkpoint.at,
  );
}

export function lastRecord(db: Database): { seq: number; hash: string } | null {
  return (db.prepare('SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined) ?? null;
}

export function countCheckpoints(db: Database): number {
  return (db.prepare('SELECT count(*) AS n FROM audit_checkpoints').get() as { n: number }).n;
}

export function lastCheckpoint(db: Database): AuditCheckpoint | null {
  const row = db.prepare('SELECT * FROM audit_checkpoints ORDER BY period DESC LIMIT 1').get() as CheckpointRow | undefined;
  return row === undefined ? null : toCheckpoint(row);
}

/** Lazily, in seq order, so that verifying or exporting a long log does not hold it all in memory. */
export function* iterateRecords(db: Database, range: { fromSeq?: number; toSeq?: number; fromAt?: string; toAt?: string } = {}): Generator<AuditRecord> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const add = (clause: string, value: string | number | undefined) => {
    if (value === undefined) return;
    where.push(clause);
    params.push(value);
  };
  add('seq >= ?', range.fromSeq);
  add('seq <= ?', range.toSeq);
  add('at >= ?', range.fromAt);
  add('at <= ?', range.toAt);
  const sql = `SELECT ${RECORD_COLUMNS} FROM audit_records ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY seq`;
  for (const row of db.prepare(sql).iterate(...params)) yield toRecord(row as unknown as RecordRow);
}

export function readCheckpoints(db: Database): AuditCheckpoint[] {
  return (db.prepare('SELECT * FROM audit_checkpoints ORDER BY period').all() as unknown as CheckpointRow[]).map(toCheckpoint);
}

export function recordCount(db: Database): number {
  return (db.prepare('SELECT count(*) AS n FROM audit_records').get() as { n: number }).n;
}
