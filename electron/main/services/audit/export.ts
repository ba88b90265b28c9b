import { AppError } from '../../../common/result.ts';
import { product } from '../product.ts';
import type { Database } from '../storage/sqlite.ts';
import { anchorId as idOfAnchor, checkpointMac, keyForPeriod, recordHash, sameHex } from './chain.ts';
import { auditEventSchema } from './events.ts';
import { iterateRecords, readCheckpoints, readMeta, type AuditCheckpoint, type AuditRecord } from './store.ts';
import type { AuditBreak } from './verify.ts';

// JSON lines for a SIEM: one header, one line per record, the checkpoints that fall inside
// the exported range, one footer. The anchor K0 is never written: whoever holds it can forge
// checkpoints, so it travels to the SIEM once, out of band, and the header names it by its
// public id so the SIEM picks the right one.

export const EXPORT_FORMAT = 'soberana-audit-export/1';

export interface AuditExportOptions {
  /** ISO 8601, inclusive. */
  readonly from?: string;
  /** ISO 8601, inclusive. */
  readonly to?: string;
  /** For tests. */
  readonly now?: () => Date;
}

export interface ExportHeader {
  readonly kind: 'header';
  readonly format: typeof EXPORT_FORMAT;
  readonly product: string;
  readonly version: string;
  readonly exportedAt: string;
  readonly anchorId: string | null;
  readonly from: string | null;
  readonly to: string | null;
  /** The purge base of the log when exported: records up to it no longer exist. */
  readonly baseSeq: number;
  readonly baseHash: string | null;
}

export type ExportRecordLine = { readonly kind: 'record' } & AuditRecord;
export type ExportCheckpointLine = { readonly kind: 'checkpoint' } & AuditCheckpoint;
export interface ExportFooter {
  readonly kind: 'footer';
  readonly records: number;
  readonly checkpoints: number;
}

export function* exportAudit(db: Database, options: AuditExportOptions = {}): Generator<string> {
  const from = options.from === undefined ? undefined : isoDate(options.from);
  const to = options.to === undefined ? undefined : isoDate(options.to);
  const meta = readMeta(db);
  const header: ExportHeader = {
    kind: 'header',
    format: EXPORT_FORMAT,
    product: product.name,
    version: product.version,
    exportedAt: (options.now?.() ?? new Date()).toISOString(),
    anchorId: meta?.anchorId ?? null,
    from: from ?? null,
    to: to ?? null,
    baseSeq: meta?.baseSeq ?? 0,
    baseHash: meta?.baseHash ?? null,
  };
  yield JSON.stringify(header);
  let records = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const record of iterateRecords(db, { ...(from === undefined ? {} : { fromAt: from }), ...(to === undefined ? {} : { toAt: to }) })) {
    records += 1;
    first = Math.min(first, record.seq);
    last = Math.max(last, record.seq);
    yield JSON.stringify({ kind: 'record', ...record } satisfies ExportRecordLine);
  }
  let checkpoints = 0;
  for (const checkpoint of readCheckpoints(db)) {
    if (checkpoint.lastSeq < first || checkpoint.firstSeq > last) continue;
    checkpoints += 1;
    yield JSON.stringify({ kind: 'checkpoint', ...checkpoint } satisfies ExportCheckpointLine);
  }
  yield JSON.stringify({ kind: 'footer', records, checkpoints } satisfies ExportFooter);
}

export interface ExportVerification {
  readonly ok: boolean;
  readonly records: number;
  /** Checkpoints whose whole range is in the export, and so were checked. */
  readonly checkpointsChecked: number;
  /** Exported records that no checked checkpoint covers (at the edges of the range, or not sealed yet). */
  readonly unsealed: number;
  readonly firstBroken?: AuditBreak;
}

/**
 * What a SIEM does with an export, given the anchor: the records must form an unbroken chain
 * in the range (by time, a range is contiguous unless the clock stepped back), each must
 * hash correctly and be a valid event, and every checkpoint wholly inside the range must
 * carry a valid MAC and match the records.
 */
export function verifyAuditExport(lines: Iterable<string>, anchor: Uint8Array): ExportVerification {
  const issues: AuditBreak[] = [];
  const flag = (seq: number, reason: string) => void issues.push({ seq, reason });
  let header: ExportHeader | null = null;
  let footer: ExportFooter | null = null;
  const records: AuditRecord[] = [];
  const checkpoints: AuditCheckpoint[] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    const parsed = JSON.parse(line) as { kind?: unknown };
    if (parsed.kind === 'header') header = parsed as ExportHeader;
    else if (parsed.kind === 'footer') footer = parsed as ExportFooter;
    else if (parsed.kind === 'record') {
      const { kind: _kind, ...record } = parsed as ExportRecordLine;
      records.push(record);
    } else if (parsed.kind === 'checkpoint') {
      const { kind: _kind, ...checkpoint } = parsed as ExportCheckpointLine;
      checkpoints.push(checkpoint);
    }
  }
  const firstSeq = records[0]?.seq ?? 0;
  if (header === null || header.format !== EXPORT_FORMAT) flag(firstSeq, 'The export has no Soberana audit header.');
  else if (header.anchorId !== idOfAnchor(anchor)) flag(firstSeq, 'This verification anchor does not belong to the exported log.');
  if (footer === null || footer.records !== records.length || footer.checkpoints !== checkpoints.length)
    flag(firstSeq, 'The export is incomplete: its footer does not match its content.');

  const hashAt = new Map<number, string>();
  let previous: AuditRecord | null = null;
  for (const record of records) {
    if (previous !== null && record.seq !== previous.seq + 1) flag(previous.seq + 1, `Record ${previous.seq + 1} is missing from the export.`);
    else if (previous !== null && record.prev !== previous.hash) flag(record.seq, `Record ${record.seq} does not link to the record before it.`);
    if (!sameHex(recordHash(record), record.hash)) flag(record.seq, `Record ${record.seq} does not match its hash.`);
    if (!auditEventSchema.safeParse({ type: record.type, data: record.data }).success) flag(record.seq, `Record ${record.seq} is not a valid audit event.`);
    hashAt.set(record.seq, record.hash);
    previous = record;
  }

  let checked = 0;
  const covered = new Set<number>();
  const lastSeq = previous?.seq ?? 0;
  for (const checkpoint of checkpoints) {
    if (checkpoint.firstSeq < firstSeq || checkpoint.lastSeq > lastSeq) continue;
    checked += 1;
    const key = keyForPeriod(anchor, checkpoint.period);
    const macOk = sameHex(checkpointMac(key, checkpoint), checkpoint.mac);
    key.fill(0);
    if (!macOk) flag(checkpoint.firstSeq, `Checkpoint ${checkpoint.period} fails its MAC.`);
    else if (hashAt.get(checkpoint.lastSeq) !== checkpoint.chainHash)
      flag(checkpoint.firstSeq, `Checkpoint ${checkpoint.period} does not match the records it seals.`);
    for (let seq = checkpoint.firstSeq; seq <= checkpoint.lastSeq; seq += 1) covered.add(seq);
  }

  const firstBroken = issues.reduce<AuditBreak | undefined>((first, issue) => (first === undefined || issue.seq < first.seq ? issue : first), undefined);
  return {
    ok: firstBroken === undefined,
    records: records.length,
    checkpointsChecked: checked,
    unsealed: records.filter((record) => !covered.has(record.seq)).length,
    ...(firstBroken === undefined ? {} : { firstBroken }),
  };
}

/** Normalises an ISO 8601 date to the stored form (UTC, milliseconds), so that text order is time order. */
export function isoDate(value: string): string {
  const time = Date.parse(value);
  if (!/^\d{4}-\d\d-\d\d/.test(value) || Number.isNaN(time)) throw new AppError('bad_request', `"${value}" is not an ISO 8601 date.`);
  return new Date(time).toISOString();
}
