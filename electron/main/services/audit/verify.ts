import type { Database } from '../storage/sqlite.ts';
import { anchorId, checkpointMac, GENESIS_HASH, keyForPeriod, nextKey, recordHash, sameHex } from './chain.ts';
import { auditEventSchema } from './events.ts';
import { keyFileMacOk, readKeyFile, type AuditKeyFile } from './key-file.ts';
import { iterateRecords, readCheckpoints, readMeta, type AuditCheckpoint, type AuditMeta, type AuditRecord } from './store.ts';

export interface AuditBreak {
  /** The first record that can no longer be trusted. */
  readonly seq: number;
  readonly reason: string;
}

export interface AuditVerification {
  readonly ok: boolean;
  /** Records in the log (after any purge). */
  readonly records: number;
  readonly checkpoints: number;
  /**
   * The earliest finding. Several tamperings are often visible at once (a changed record
   * also fails its checkpoint); this is the one with the lowest seq.
   */
  readonly firstBroken?: AuditBreak;
  /** The purge base: records up to here were removed by retention. */
  readonly baseSeq: number;
  readonly lastSeq: number;
  /** The last record a checkpoint covers. Later ones are protected by the key file only. */
  readonly sealedThrough: number;
  readonly anchorId: string | null;
  /** Whether checkpoint MACs were checked (an anchor was given). */
  readonly macsChecked: boolean;
  /** Whether the key file's period and counters were compared with the log. */
  readonly keyFileChecked: boolean;
}

export interface VerifyOptions {
  /**
   * The key file as read (see readKeyFileForVerify); null when it is missing or unreadable, which is itself a finding. Leave it out
   * to skip those checks (e.g. on a copy of the database without its key file): then
   * truncation of records after the last checkpoint cannot be seen.
   */
  readonly keyFile?: AuditKeyFile | null;
}

export interface AuditData {
  readonly meta: AuditMeta | null;
  /** In seq order. */
  readonly records: Iterable<AuditRecord>;
  readonly checkpoints: readonly AuditCheckpoint[];
}

/**
 * Checks the whole log: the hash chain from the purge base, every record's schema, every
 * checkpoint's MAC under the key derived from the anchor K0, that checkpoints are contiguous
 * and cover existing records, that a purge base is backed by a sealed purge record, and
 * (with `keyFile`) that the key file's period, counters and key agree with the log.
 *
 * `anchor` null checks everything that needs no key (the chain, schemas, key-file counters):
 * used before a purge on a machine the anchor has rightly left.
 */
export function verifyAudit(db: Database, anchor: Uint8Array | null, options: VerifyOptions = {}): AuditVerification {
  return verifyAuditData({ meta: readMeta(db), records: iterateRecords(db), checkpoints: readCheckpoints(db) }, anchor, options);
}

export function verifyAuditData(input: AuditData, anchor: Uint8Array | null, options: VerifyOptions = {}): AuditVerification {
  const issues: AuditBreak[] = [];
  const flag = (seq: number, reason: string) => void issues.push({ seq, reason });
  const { meta } = input;
  const checkpoints = [...input.checkpoints].sort((a, b) => a.period - b.period);
  const keyFile = options.keyFile;
  const keyFileChecked = keyFile !== undefined;
  const result = (records: number, lastSeq: number, sealedThrough: number): AuditVerification => {
    const firstBroken = issues.reduce<AuditBreak | undefined>((first, issue) => (first === undefined || issue.seq < first.seq ? issue : first), undefined);
    return {
      ok: firstBroken === undefined,
      records,
      checkpoints: checkpoints.length,
      ...(firstBroken === undefined ? {} : { firstBroken }),
      baseSeq: meta?.baseSeq ?? 0,
      lastSeq,
      sealedThrough,
      anchorId: meta?.anchorId ?? null,
      macsChecked: anchor !== null,
      keyFileChecked,
    };
  };

  if (meta === null) {
    let records = 0;
    let lastSeq = 0;
    for (const record of input.records) {
      records += 1;
      lastSeq = record.seq;
    }
    if (records > 0 || checkpoints.length > 0) flag(1, 'The audit log has records but its metadata row is missing.');
    if (keyFile !== undefined && keyFile !== null && keyFile.lastSeq > 0)
      flag(1, `The key file says ${keyFile.lastSeq} records were written, but the audit log is empty.`);
    return result(records, lastSeq, 0);
  }

  const base = meta.baseSeq;
  if (anchor !== null && anchorId(anchor) !== meta.anchorId) {
    flag(base + 1, "This verification anchor does not belong to this audit log, or the log's anchor id was changed.");
    return result(0, base, base);
  }

  // Only these hashes are needed after the single pass over the records.
  const wanted = new Set(checkpoints.map((checkpoint) => checkpoint.lastSeq));
  if (keyFile) {
    wanted.add(keyFile.lastSeq);
    if (keyFile.pending !== null) wanted.add(keyFile.pending.seq);
  }
  const hashAt = new Map<number, string>();

  let records = 0;
  let expected = base + 1;
  let prev = meta.baseHash;
  let last = base;
  let latestPurge: { seq: number; throughSeq: number } | null = null;
  for (const record of input.records) {
    records += 1;
    const { seq } = record;
    if (seq <= base) {
      flag(seq, `Record ${seq} is at or before the purge base (${base}); it should not be there.`);
      continue;
    }
    if (seq > expected) flag(expected, seq - 1 === expected ? `Record ${expected} is missing.` : `Records ${expected}–${seq - 1} are missing.`);
    else if (record.prev !== prev) flag(seq, `Record ${seq} does not link to the record before it.`);
    if (!sameHex(safeHash(record), record.hash)) flag(seq, `Record ${seq} does not match its hash: its content was changed.`);
    const event = auditEventSchema.safeParse({ type: record.type, data: record.data });
    if (!event.success) flag(seq, `Record ${seq} is not a valid audit event: ${event.error.issues[0]?.message ?? 'invalid'}.`);
    else if (event.data.type === 'retention.purge' && event.data.data.scope === 'audit' && event.data.data.throughSeq !== undefined) {
      latestPurge = { seq, throughSeq: event.data.data.throughSeq };
    }
    if (wanted.has(seq)) hashAt.set(seq, record.hash);
    prev = record.hash;
    expected = seq + 1;
    last = seq;
  }

  let key: Buffer | null = anchor === null ? null : Buffer.from(anchor);
  let keyPeriod = 0;
  let nextPeriod = 0;
  let nextFirst = 1;
  let sealedThrough = 0;
  for (const checkpoint of checkpoints) {
    const { period, firstSeq, lastSeq } = checkpoint;
    const start = Math.min(nextFirst, firstSeq);
    const range = `records ${firstSeq}–${lastSeq}`;
    if (period !== nextPeriod)
      flag(nextFirst, nextPeriod === period - 1 ? `Checkpoint ${nextPeriod} is missing.` : `Checkpoints ${nextPeriod}–${period - 1} are missing.`);
    if (firstSeq !== nextFirst) flag(start, `Checkpoint ${period} starts at record ${firstSeq}; the one before it ended at ${nextFirst - 1}.`);
    if (key !== null) {
      let current: Buffer = key;
      while (keyPeriod < period) {
        const next = nextKey(current);
        current.fill(0);
        current = next;
        keyPeriod += 1;
      }
      key = current;
      if (!sameHex(checkpointMac(current, checkpoint), checkpoint.mac))
        flag(start, `Checkpoint ${period} (${range}) fails its MAC: the records it seals or the checkpoint itself were changed.`);
    }
    if (lastSeq > base) {
      if (firstSeq <= base) flag(base + 1, `Checkpoint ${period} (${range}) was only partly purged.`);
      const hash = hashAt.get(lastSeq);
      if (hash === undefined) flag(Math.min(lastSeq, last + 1), `Record ${lastSeq}, sealed by checkpoint ${period}, is missing.`);
      else if (hash !== checkpoint.chainHash) flag(start, `Checkpoint ${period} (${range}) does not match the records it seals.`);
    }
    nextPeriod = period + 1;
    nextFirst = lastSeq + 1;
    sealedThrough = lastSeq;
  }
  key?.fill(0);

  if (base > 0) {
    const baseCheckpoint = checkpoints.find((checkpoint) => checkpoint.period === meta.basePeriod);
    if (baseCheckpoint === undefined || baseCheckpoint.lastSeq !== base || baseCheckpoint.chainHash !== meta.baseHash) {
      flag(base + 1, `The purge base (record ${base}) does not match a checkpoint.`);
    }
    if (latestPurge === null || latestPurge.throughSeq !== base) flag(base + 1, `Records up to ${base} were removed, but no purge record says so.`);
    else if (latestPurge.seq > sealedThrough) flag(base + 1, `Records up to ${base} were removed, but the purge record ${latestPurge.seq} is not sealed.`);
  } else if (meta.baseHash !== GENESIS_HASH || meta.basePeriod !== null) {
    flag(1, "The log's starting point was changed.");
  }

  if (keyFile !== undefined) {
    // The first record after the last checkpoint at or before `limit`: what the key file alone protects.
    const tailStart = (limit: number) => checkpoints.reduce((end, c) => (c.lastSeq <= limit && c.lastSeq > end ? c.lastSeq : end), base) + 1;
    if (keyFile === null) {
      flag(tailStart(last), 'The audit key file is missing or unreadable, so the records after the last checkpoint cannot be confirmed.');
    } else {
      if (anchor !== null) {
        const expectedKey = keyForPeriodHex(anchor, keyFile.period);
        if (!sameHex(expectedKey, keyFile.key))
          flag(tailStart(last), `The key file does not hold this log's key for period ${keyFile.period}: it was replaced.`);
      }
      if (!keyFileMacOk(keyFile)) flag(tailStart(last), 'The key file was edited.');
      if (keyFile.records !== keyFile.lastSeq) flag(tailStart(last), 'The counters in the key file disagree with each other.');

      const pending = keyFile.pending;
      const confirms = (seq: number, hash: string) => (seq === base ? hash === meta.baseHash : hashAt.get(seq) === hash);
      const committed = last === keyFile.lastSeq && confirms(keyFile.lastSeq, keyFile.lastHash);
      // The app stopped between writing records and updating the key file; its next start completes it.
      // Records written together (AuditLog.recordSome) are named by their last: the chain links the rest.
      const landedPending =
        pending !== null &&
        pending.seq > keyFile.lastSeq &&
        last === pending.seq &&
        hashAt.get(pending.seq) === pending.hash &&
        confirms(keyFile.lastSeq, keyFile.lastHash);

      const expectedPeriods = landedPending && pending.seals ? keyFile.period + 1 : keyFile.period;
      if (nextPeriod < expectedPeriods) {
        const has = nextPeriod === 0 ? 'no checkpoints' : `checkpoints only up to ${nextPeriod - 1}`;
        flag(sealedThrough + 1, `The key file is at period ${keyFile.period}, but the log has ${has}: checkpoints were removed.`);
      } else if (nextPeriod > expectedPeriods) {
        const extra = checkpoints.find((c) => c.period >= expectedPeriods);
        flag(extra?.firstSeq ?? tailStart(last), `The log has checkpoints beyond period ${expectedPeriods - 1}, which the key file does not know.`);
      }

      if (!committed && !landedPending) {
        if (last < keyFile.lastSeq) {
          flag(tailStart(last), `The log ends at record ${last}, but the key file says ${keyFile.lastSeq} were written: records were removed.`);
        } else if (!confirms(keyFile.lastSeq, keyFile.lastHash)) {
          flag(tailStart(keyFile.lastSeq), `Record ${keyFile.lastSeq} is not the one the key file confirms: records after the last checkpoint were changed.`);
        } else {
          flag(keyFile.lastSeq + 1, `Records after ${keyFile.lastSeq} were not written by Soberana: the key file does not know them.`);
        }
      }
    }
  }

  return result(records, last, sealedThrough);
}

function safeHash(record: AuditRecord): string {
  try {
    return recordHash(record);
  } catch {
    return '';
  }
}

function keyForPeriodHex(anchor: Uint8Array, period: number): string {
  const key = keyForPeriod(anchor, period);
  const hex = key.toString('hex');
  key.fill(0);
  return hex;
}

/** The key file for verifyAudit: a damaged one is a finding, like a missing one, not an error. */
export function readKeyFileForVerify(dataDir: string): AuditKeyFile | null {
  try {
    return readKeyFile(dataDir);
  } catch {
    return null;
  }
}
