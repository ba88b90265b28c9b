import { AppError } from '../../../common/result.ts';
import { currentUser } from './os-user.ts';
import type { Database } from '../storage/sqlite.ts';
import { transaction } from '../storage/sqlite.ts';
import { anchorId, checkpointMac, GENESIS_HASH, nextKey, recordHash, sha256Hex } from './chain.ts';
import { auditEventInputSchema, auditEventSchema, type AuditEvent, type AuditEventInput, type AuditEventType } from './events.ts';
import { exportAudit, isoDate, type AuditExportOptions } from './export.ts';
import {
  anchorFilePath,
  keyFileMacOk,
  keyFilePath,
  newAnchor,
  readAnchorFile,
  readKeyFile,
  writeAnchorFile,
  writeKeyFile,
  type AuditKeyFile,
  type AuditKeyState,
  type PendingRecord,
} from './key-file.ts';
import {
  countCheckpoints,
  insertCheckpoint,
  insertMeta,
  insertRecord,
  lastCheckpoint,
  lastRecord,
  readMeta,
  recordCount,
  setBase,
  toRecord,
  type AuditRecord,
} from './store.ts';
import { readKeyFileForVerify, verifyAudit, type AuditVerification } from './verify.ts';

/** `off` records nothing; `metadata` keeps hashes of chat text only; `full` keeps the text too. */
export type AuditLevel = 'off' | 'metadata' | 'full';
export const AUDIT_LEVELS: readonly AuditLevel[] = ['off', 'metadata', 'full'];

export const DEFAULT_CHECKPOINT_EVERY = 64;
export const MAX_CHECKPOINT_EVERY = 100_000;
export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 10_000;
const DAY_MS = 86_400_000;

export interface AuditLogOptions {
  readonly db: Database;
  readonly dataDir: string;
  readonly level: AuditLevel;
  /** The OS account recorded on every record; defaults to `os.userInfo().username`. */
  readonly user?: string;
  /** Records per checkpoint (a key period). */
  readonly checkpointEvery?: number;
  /** For tests. */
  readonly now?: () => Date;
}

export interface AuditListOptions {
  readonly type?: AuditEventType;
  /** ISO 8601, inclusive. */
  readonly from?: string;
  /** ISO 8601, inclusive. */
  readonly to?: string;
  readonly limit?: number;
  readonly offset?: number;
}

export interface AuditPurgeResult {
  readonly removed: number;
  /** The purge base afterwards: records up to here are gone. */
  readonly throughSeq: number;
  /** The `retention.purge` record written, or null when nothing was old enough. */
  readonly record: AuditRecord | null;
}

export interface AuditAnchorInfo {
  /** Public: printed in exports and by verify. */
  readonly id: string;
  readonly file: string;
  /** K0 in hex while the anchor file is still on this machine; null once it was moved away. */
  readonly key: string | null;
}

export interface AuditLog {
  readonly level: AuditLevel;
  /** Appends one event, or does nothing at level `off` (returns null). Throws `bad_request` for an invalid event. */
  record(event: AuditEventInput): AuditRecord | null;
  /**
   * Appends the first of `events`, in order, in one transaction and one key-file update: as
   * many as fit in the current key period (up to and including the record that seals it).
   * Returns the records written (none at level `off`); call again with the rest. Throws
   * `bad_request`, with nothing written, when any of `events` is invalid. Events written
   * together cost what one costs alone: the key file (two fsync'd rewrites) dominates a write.
   */
  recordSome(events: readonly AuditEventInput[]): AuditRecord[];
  /** Verifies with the given anchor, or with the anchor file if it is still here. */
  verify(anchor?: Uint8Array | string): AuditVerification;
  export(options?: AuditExportOptions): Generator<string>;
  /** Removes whole sealed periods older than the cutoff; refuses when the log does not verify. */
  purge(olderThanDays: number): AuditPurgeResult;
  /** In seq order. */
  list(options?: AuditListOptions): AuditRecord[];
  /** Null until the log was initialised (the first time the level was not `off`). */
  anchor(): AuditAnchorInfo | null;
}

interface Staged {
  /** In seq order; only the last can seal. */
  readonly records: readonly AuditRecord[];
  readonly pending: PendingRecord;
}

/**
 * Opens the audit log kept in `db` and `<dataDir>/audit/`, creating it (anchor, key file,
 * metadata) the first time the level is not `off`. Completes a write the app was stopped
 * in the middle of. Throws `io_error` when the key file is missing or does not match the
 * database in a way no crash explains: that is a finding for `soberana audit verify`, and
 * writing on would overwrite the evidence.
 *
 * Single writer: only the app records; the CLI reads.
 */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  const { db, dataDir, level } = options;
  const now = options.now ?? (() => new Date());
  const user = options.user ?? currentUser();
  const checkpointEvery = options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
  if (!AUDIT_LEVELS.includes(level)) throw new AppError('bad_request', 'That audit level is not valid.', `level ${String(level)}`);
  if (!Number.isInteger(checkpointEvery) || checkpointEvery < 1 || checkpointEvery > MAX_CHECKPOINT_EVERY) {
    throw new AppError(
      'bad_request',
      'That checkpoint interval is not valid.',
      `checkpointEvery must be an integer from 1 to ${MAX_CHECKPOINT_EVERY}; got ${checkpointEvery}`,
    );
  }

  // The live key and the counters that go with it; null while the log does not exist.
  let state: AuditKeyState | null = open();
  let sealedThrough = state === null ? 0 : sealedEnd();
  /** Whether the write in progress has named its record as pending in the key file (so a rollback must clear it). */
  let pendingWritten = false;

  function open(): AuditKeyState | null {
    const meta = readMeta(db);
    if (meta === null) {
      if (recordCount(db) > 0 || countCheckpoints(db) > 0) throw mismatch('The audit log has records but no metadata row.');
      // Created with the data folder whatever the level, so a new folder verifies as an intact empty log
      // and a later switch to `metadata` continues a chain whose anchor IT already holds.
      return initialise();
    }
    const file = readKeyFile(dataDir);
    if (file === null) throw new AppError('io_error', 'The audit key file is missing, so the audit log cannot continue.', keyFilePath(dataDir));
    if (!keyFileMacOk(file)) throw mismatch('The audit key file was edited.');
    return reconcile(file);
  }

  function initialise(): AuditKeyState {
    const anchor = newAnchor();
    const createdAt = now().toISOString();
    try {
      // Anchor first: a key file without its anchor could never be verified.
      writeAnchorFile(dataDir, anchor, createdAt);
      const initial: AuditKeyState = { period: 0, key: anchor.toString('hex'), records: 0, lastSeq: 0, lastHash: GENESIS_HASH, pending: null };
      writeKeyFile(dataDir, initial);
      insertMeta(db, { anchorId: anchorId(anchor), createdAt, baseSeq: 0, baseHash: GENESIS_HASH, basePeriod: null });
      return initial;
    } finally {
      anchor.fill(0);
    }
  }

  /** Brings the key file level with the database after a stop between the two writes. */
  function reconcile(file: AuditKeyFile): AuditKeyState {
    const { format: _format, mac: _mac, ...current } = file;
    const tip = chainTip();
    const periods = (lastCheckpoint(db)?.period ?? -1) + 1;
    const { pending } = current;
    if (pending !== null && tip.seq === pending.seq && tip.hash === pending.hash && periods === current.period + (pending.seals ? 1 : 0)) {
      const next = advance(current, pending);
      writeKeyFile(dataDir, next);
      return next;
    }
    if (tip.seq === current.lastSeq && tip.hash === current.lastHash && periods === current.period) {
      if (pending === null) return current;
      const next = { ...current, pending: null };
      writeKeyFile(dataDir, next);
      return next;
    }
    throw mismatch(
      `The audit log (last record ${tip.seq}, ${periods} checkpoints) does not match its key file (record ${current.lastSeq}, period ${current.period}).`,
    );
  }

  function chainTip(): { seq: number; hash: string } {
    const tip = lastRecord(db);
    if (tip !== null) return tip;
    const meta = readMeta(db);
    return { seq: meta?.baseSeq ?? 0, hash: meta?.baseHash ?? GENESIS_HASH };
  }

  function sealedEnd(): number {
    return Math.max(lastCheckpoint(db)?.lastSeq ?? 0, readMeta(db)?.baseSeq ?? 0);
  }

  /** The state once `pending` is durable in the database: counters forward, and the key ratcheted if it sealed. */
  function advance(current: AuditKeyState, pending: PendingRecord): AuditKeyState {
    let { key, period } = current;
    if (pending.seals) {
      const old = Buffer.from(key, 'hex');
      const next = nextKey(old);
      old.fill(0);
      key = next.toString('hex');
      next.fill(0);
      period += 1;
    }
    return { period, key, records: pending.seq, lastSeq: pending.seq, lastHash: pending.hash, pending: null };
  }

  /**
   * Inside a transaction: inserts the records, chained one to the next (and the checkpoint
   * when the last completes a period), having first made the key file name the last as
   * pending, so a stop at any point leaves the two files in a state `reconcile` recognises:
   * the transaction holds all of them or none. Only the last may complete a period (the
   * caller cuts the list there), since the key ratchets once per key-file update.
   */
  function stage(events: readonly AuditEvent[], forceSeal: boolean): Staged {
    const current = requireState();
    const tip = chainTip();
    if (tip.seq !== current.lastSeq || tip.hash !== current.lastHash) {
      throw mismatch(`Another writer changed the audit log (last record ${tip.seq}, expected ${current.lastSeq}).`);
    }
    const records: AuditRecord[] = [];
    let { seq, hash: prev } = tip;
    for (const event of events) {
      const stored = auditEventSchema.safeParse(event);
      if (!stored.success) throw new AppError('internal', 'An audit record did not match its schema.', stored.error.issues[0]?.message);
      seq += 1;
      const fields = { seq, at: now().toISOString(), user, type: event.type, data: event.data as unknown, prev };
      const record: AuditRecord = { ...fields, hash: recordHash(fields) };
      // The record before this one completed a period: a caller's slip, refused before anything is kept.
      if (records.length > 0 && seq - 1 - sealedThrough >= checkpointEvery) {
        throw new AppError('internal', 'An audit write ran past the end of its key period.', `record ${seq}`);
      }
      insertRecord(db, record);
      records.push(record);
      prev = record.hash;
    }
    const last = records.at(-1);
    if (last === undefined) throw new AppError('internal', 'An audit write had no records.');
    const pending: PendingRecord = { seq: last.seq, hash: last.hash, seals: forceSeal || last.seq - sealedThrough >= checkpointEvery };
    writeKeyFile(dataDir, { ...current, pending });
    pendingWritten = true;
    if (pending.seals) {
      const checkpoint = { period: current.period, firstSeq: sealedThrough + 1, lastSeq: last.seq, chainHash: last.hash };
      const key = Buffer.from(current.key, 'hex');
      insertCheckpoint(db, { ...checkpoint, mac: checkpointMac(key, checkpoint), at: last.at });
      key.fill(0);
    }
    return { records, pending };
  }

  /** Runs `fn` (which stages records) in a transaction, then moves the key file forward. */
  function write(fn: () => Staged): readonly AuditRecord[] {
    const before = requireState();
    let staged: Staged;
    pendingWritten = false;
    try {
      staged = transaction(db, fn);
    } catch (error) {
      // The pending entry names a record that was rolled back; clear it so the next write starts clean.
      // Only if this writer wrote it: a refusal before that (another writer appended) must leave
      // that writer's key file alone, or its newer state would be lost.
      if (pendingWritten) {
        try {
          writeKeyFile(dataDir, before);
        } catch {
          // reconcile() clears it at the next start.
        }
      }
      throw error;
    }
    state = advance(before, staged.pending);
    writeKeyFile(dataDir, state);
    if (staged.pending.seals) sealedThrough = staged.pending.seq;
    return staged.records;
  }

  function requireState(): AuditKeyState {
    if (state === null) throw new AppError('unavailable', 'The audit log is off and was never started.');
    return state;
  }

  /** The event as the log keeps it; throws `bad_request` for an invalid one. */
  function toStored(input: AuditEventInput): AuditEvent {
    const parsed = auditEventInputSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AppError('bad_request', 'That audit event is not valid.', `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
    }
    const event = parsed.data;
    if (event.type === 'retention.purge' && event.data.scope === 'audit') {
      throw new AppError('bad_request', 'Only the audit log itself records its own purges.');
    }
    return event.type === 'chat.turn'
      ? {
          type: 'chat.turn',
          data: {
            conversationId: event.data.conversationId,
            modelSha256: event.data.modelSha256,
            collections: event.data.collections,
            chunkIds: event.data.chunkIds,
            ...(event.data.marking === undefined ? {} : { marking: event.data.marking }),
            promptSha256: sha256Hex(event.data.prompt),
            responseSha256: sha256Hex(event.data.response),
            ...(level === 'full' ? { prompt: event.data.prompt, response: event.data.response } : {}),
          },
        }
      : event.type === 'api.request'
        ? { type: 'api.request', data: storedApiRequest(event.data, level === 'full') }
        : event;
  }

  function record(input: AuditEventInput): AuditRecord | null {
    if (level === 'off') return null;
    const stored = toStored(input);
    // Sealing at stop leaves nothing unsealed while the app is not running, when a stolen key file is most likely.
    return write(() => stage([stored], stored.type === 'app.stop'))[0]!;
  }

  function recordSome(inputs: readonly AuditEventInput[]): AuditRecord[] {
    if (level === 'off' || inputs.length === 0) return [];
    const stored = inputs.map(toStored);
    // Up to the end of the key period, and up to a stop (which seals, as in record()).
    const room = Math.max(1, sealedThrough + checkpointEvery - requireState().lastSeq);
    const stop = stored.findIndex((event) => event.type === 'app.stop');
    const events = stored.slice(0, Math.min(room, stop === -1 ? Infinity : stop + 1));
    return [...write(() => stage(events, events.at(-1)!.type === 'app.stop'))];
  }

  function anchorFromFile(): Buffer {
    const anchor = readAnchorFile(anchorFilePath(dataDir));
    if (anchor === null) {
      throw new AppError('not_found', 'The audit verification anchor is not on this machine. Give the copy your IT team keeps.', anchorFilePath(dataDir));
    }
    return anchor;
  }

  function verify(anchor?: Uint8Array | string): AuditVerification {
    const key = anchor === undefined ? anchorFromFile() : typeof anchor === 'string' ? Buffer.from(anchor, 'hex') : anchor;
    return verifyAudit(db, key, { keyFile: readKeyFileForVerify(dataDir) });
  }

  function purge(olderThanDays: number): AuditPurgeResult {
    if (!Number.isFinite(olderThanDays) || olderThanDays < 0)
      throw new AppError('bad_request', 'The retention period must be zero or more days.', `got ${olderThanDays}`);
    const meta = readMeta(db);
    if (state === null || meta === null) return { removed: 0, throughSeq: 0, record: null };
    // Purging a tampered log would destroy the evidence; the anchor is used when it is still here.
    const check = verifyAudit(db, readAnchorFile(anchorFilePath(dataDir)), { keyFile: readKeyFileForVerify(dataDir) });
    if (!check.ok) {
      throw new AppError('io_error', 'The audit log does not verify, so nothing was purged.', `record ${check.firstBroken?.seq}: ${check.firstBroken?.reason}`);
    }
    const cutoff = new Date(now().getTime() - olderThanDays * DAY_MS).toISOString();
    const firstYoung = (db.prepare('SELECT min(seq) AS seq FROM audit_records WHERE at >= ?').get(cutoff) as { seq: number | null }).seq;
    // Whole sealed periods only, so the new base is a checkpoint a verifier can check.
    const target = db
      .prepare('SELECT period, last_seq, chain_hash FROM audit_checkpoints WHERE last_seq > ? AND (? IS NULL OR last_seq < ?) ORDER BY period DESC LIMIT 1')
      .get(meta.baseSeq, firstYoung, firstYoung) as { period: number; last_seq: number; chain_hash: string } | undefined;
    if (target === undefined) return { removed: 0, throughSeq: meta.baseSeq, record: null };
    const record = write(() => {
      const removed = Number(db.prepare('DELETE FROM audit_records WHERE seq <= ?').run(target.last_seq).changes);
      setBase(db, target.last_seq, target.chain_hash, target.period);
      // Sealed at once, so the record that justifies the new base is out of reach of the current key.
      return stage([{ type: 'retention.purge', data: { scope: 'audit', olderThanDays, removed, throughSeq: target.last_seq } }], true);
    })[0]!;
    const data = record.data as { removed: number };
    return { removed: data.removed, throughSeq: target.last_seq, record };
  }

  function list(options: AuditListOptions = {}): AuditRecord[] {
    const limit = options.limit ?? DEFAULT_LIST_LIMIT;
    const offset = options.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT)
      throw new AppError('bad_request', 'That audit list limit is not valid.', `limit must be 1 to ${MAX_LIST_LIMIT}`);
    if (!Number.isInteger(offset) || offset < 0) throw new AppError('bad_request', 'That audit list offset is not valid.');
    const where: string[] = [];
    const params: string[] = [];
    for (const [clause, value] of [
      ['type = ?', options.type],
      ['at >= ?', options.from === undefined ? undefined : isoDate(options.from)],
      ['at <= ?', options.to === undefined ? undefined : isoDate(options.to)],
    ] as const) {
      if (value === undefined) continue;
      where.push(clause);
      params.push(value);
    }
    const sql = `SELECT seq, at, os_user, type, data, prev_hash, hash FROM audit_records ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY seq LIMIT ? OFFSET ?`;
    return (db.prepare(sql).all(...params, limit, offset) as unknown as Parameters<typeof toRecord>[0][]).map(toRecord);
  }

  function anchor(): AuditAnchorInfo | null {
    const meta = readMeta(db);
    if (meta === null) return null;
    const file = anchorFilePath(dataDir);
    const key = readAnchorFile(file);
    const info = { id: meta.anchorId, file, key: key?.toString('hex') ?? null };
    key?.fill(0);
    return info;
  }

  return {
    level,
    record,
    recordSome,
    verify,
    export: (exportOptions = {}) => exportAudit(db, { ...exportOptions, now }),
    purge,
    list,
    anchor,
  };
}

/** Purges through a log opened only for that (e.g. by a scheduled job); see AuditLog.purge. */
export function purgeAudit(db: Database, olderThanDays: number, options: Omit<AuditLogOptions, 'db' | 'level'>): AuditPurgeResult {
  return createAuditLog({ ...options, db, level: 'off' }).purge(olderThanDays);
}

function mismatch(details: string): AppError {
  return new AppError(
    'io_error',
    'The audit log does not match its key file. Run "soberana audit verify" with the verification anchor to see what changed.',
    details,
  );
}

/** An API request as the log keeps it: the text as hashes, and the text itself only at `full`. */
function storedApiRequest(
  data: Extract<AuditEventInput, { type: 'api.request' }>['data'],
  full: boolean,
): Extract<AuditEvent, { type: 'api.request' }>['data'] {
  const { prompt, response, ...rest } = data;
  return {
    ...rest,
    promptSha256: prompt === null ? null : sha256Hex(prompt),
    responseSha256: response === null ? null : sha256Hex(response),
    ...(full && prompt !== null ? { prompt } : {}),
    ...(full && response !== null ? { response } : {}),
  };
}
