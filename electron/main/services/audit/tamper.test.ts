import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { DatabaseSync } from 'node:sqlite';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../storage/migrations.ts';
import { openDatabase, type Database } from '../storage/sqlite.ts';
import { checkpointMac, recordHash, sha256Hex } from './chain.ts';
import type { AuditEventInput } from './events.ts';
import { parseAnchor, readKeyFile, sealKeyState, type AuditKeyFile } from './key-file.ts';
import { createAuditLog } from './log.ts';
import {
  insertCheckpoint,
  insertMeta,
  insertRecord,
  iterateRecords,
  readCheckpoints,
  readMeta,
  type AuditCheckpoint,
  type AuditMeta,
  type AuditRecord,
} from './store.ts';
import { verifyAudit } from './verify.ts';
import { uniform } from '../../../../e2e/fixtures/gguf/prng.ts';

// The tamper suite: 1,000 seeded random attacks on real logs, each of which verify must
// catch, reporting a first broken record at or before the tampered one.
//
// The attacker can write the database and has stolen the CURRENT key file (so can compute
// MACs under the current key K(m)), but not earlier keys. Two classes:
//   A  edits the database only; the key file on disk stays as Soberana wrote it.
//   B  also rewrites the key file's counters (re-MACed under K(m), which it holds). Such an
//      attacker is as strong as Soberana for the records after the last checkpoint, which
//      no symmetric scheme can protect from it (docs/audit.md, "What verify cannot catch"),
//      so class B attacks target sealed records.
// Every attack comes plain (just the edit) and re-chained (every later hash recomputed,
// checkpoints moved and re-MACed under K(m), and for class B the key file updated).

interface Snapshot {
  readonly name: string;
  readonly meta: AuditMeta;
  readonly records: readonly AuditRecord[];
  readonly checkpoints: readonly AuditCheckpoint[];
  readonly keyFile: AuditKeyFile;
  readonly anchor: Buffer;
}

interface Tampered {
  meta: AuditMeta;
  records: AuditRecord[];
  checkpoints: AuditCheckpoint[];
  keyFile: AuditKeyFile;
}

const KINDS = ['change', 'delete', 'reorder', 'truncate', 'insert', 'checkpoint'] as const;
type Kind = (typeof KINDS)[number];
const CASES = 1_000;
const AUDIT_SCHEMA = MIGRATIONS.find((migration) => migration.name === 'tamper-evident audit log')!.up as string;

let dir: string;
const logs: Snapshot[] = [];

const hash = (text: string) => sha256Hex(text);

function randomEvent(random: () => number, n: number): AuditEventInput {
  const events: AuditEventInput[] = [
    { type: 'app.start', data: { version: `0.${n}.0` } },
    { type: 'model.loaded', data: { modelId: `m${n}`, sha256: hash(`model ${n}`) } },
    { type: 'document.ingested', data: { documentId: `d${n}`, collectionId: 'c1', name: `file ${n}.pdf`, sha256: hash(`doc ${n}`) } },
    {
      type: 'chat.turn',
      data: {
        conversationId: `conv${n}`,
        modelSha256: hash('model'),
        collections: ['c1', 'c2'],
        chunkIds: [`k${n}`, `k${n + 1}`],
        prompt: `question ${n}`,
        response: `answer ${n}`,
      },
    },
    { type: 'pii.found', data: { kind: 'email', action: 'redact', context: 'prompts', count: 1 + (n % 3) } },
    { type: 'setting.changed', data: { key: 'theme', value: { mode: n % 2 === 0 ? 'dark' : 'light', size: n } } },
    { type: 'bundle.rejected', data: { name: `bundle ${n}`, sha256: null, reason: 'expired' } },
  ];
  return events[Math.floor(random() * events.length)]!;
}

async function build(
  name: string,
  seed: number,
  plan: { records: number; every: number; level?: 'metadata' | 'full'; purgeAfter?: number; stop?: boolean },
): Promise<Snapshot> {
  const dataDir = path.join(dir, name);
  const db = openDatabase(dataDir);
  const random = uniform(seed);
  let clock = Date.parse('2025-01-01T00:00:00Z');
  const log = createAuditLog({ db, dataDir, level: plan.level ?? 'metadata', user: 'alice', checkpointEvery: plan.every, now: () => new Date(clock) });
  for (let n = 0; n < plan.records; n += 1) {
    log.record(randomEvent(random, n));
    clock += 3_600_000;
    if (plan.purgeAfter === n) {
      clock += 30 * 86_400_000;
      log.purge(20);
    }
  }
  if (plan.stop === true) log.record({ type: 'app.stop', data: { version: '1' } });
  const snapshot: Snapshot = {
    name,
    meta: readMeta(db)!,
    records: [...iterateRecords(db)],
    checkpoints: readCheckpoints(db),
    keyFile: readKeyFile(dataDir)!,
    anchor: parseAnchor(readFileSync(path.join(dataDir, 'audit', 'anchor'), 'utf8')),
  };
  const baseline = verifyAudit(db, snapshot.anchor, { keyFile: snapshot.keyFile });
  db.close();
  if (!baseline.ok) throw new Error(`${name}: the untouched log does not verify: ${JSON.stringify(baseline.firstBroken)}`);
  return snapshot;
}

function load(log: Tampered): Database {
  const db = new DatabaseSync(':memory:');
  db.exec(AUDIT_SCHEMA);
  insertMeta(db, log.meta);
  for (const record of log.records) insertRecord(db, record);
  for (const checkpoint of log.checkpoints) insertCheckpoint(db, checkpoint);
  return db;
}

const lastSealed = (log: Snapshot) => Math.max(log.meta.baseSeq, ...log.checkpoints.map((c) => c.lastSeq));

/** Changes one leaf of a JSON value, keeping its type where it can. */
function mutate(value: unknown, random: () => number): unknown {
  if (typeof value === 'string') return /^[0-9a-f]{64}$/.test(value) ? hash(value) : `${value}x`;
  if (typeof value === 'number') return value + 1;
  if (typeof value === 'boolean') return !value;
  if (value === null) return 'x';
  if (Array.isArray(value)) {
    if (value.length === 0) return ['x'];
    const index = Math.floor(random() * value.length);
    return value.map((item, i) => (i === index ? mutate(item, random) : item));
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const index = Math.floor(random() * entries.length);
  return Object.fromEntries(entries.map(([key, item], i) => [key, i === index ? mutate(item, random) : item]));
}

/** The attacker's re-chaining: renumber from the base, recompute every hash from `from` on. */
function rechain(log: Tampered, from: number): void {
  log.records = log.records.map((record, index) => ({ ...record, seq: log.meta.baseSeq + 1 + index }));
  for (let i = 0; i < log.records.length; i += 1) {
    if (log.records[i]!.seq < from) continue;
    const prev = i === 0 ? log.meta.baseHash : log.records[i - 1]!.hash;
    const fields = { ...log.records[i]!, prev };
    log.records[i] = { ...fields, hash: recordHash(fields) };
  }
}

/**
 * The attacker's best effort at the checkpoints: move their ends with the records
 * (`shift` maps an old seq to the new one), point them at the new hashes and MAC them
 * under the only key it has.
 */
function reseal(log: Tampered, currentKey: Buffer, from: number, shift: (seq: number) => number): void {
  const hashOf = new Map(log.records.map((record) => [record.seq, record.hash]));
  let previousEnd = 0;
  const moved: AuditCheckpoint[] = [];
  for (const checkpoint of log.checkpoints) {
    if (checkpoint.lastSeq < from) {
      moved.push(checkpoint);
      previousEnd = checkpoint.lastSeq;
      continue;
    }
    const lastSeq = shift(checkpoint.lastSeq);
    if (lastSeq <= previousEnd) continue;
    const chainHash = hashOf.get(lastSeq);
    if (chainHash === undefined) continue;
    const fields = { period: checkpoint.period, firstSeq: previousEnd + 1, lastSeq, chainHash };
    moved.push({ ...fields, mac: checkpointMac(currentKey, fields), at: checkpoint.at });
    previousEnd = lastSeq;
  }
  log.checkpoints = moved;
}

/** Class B: the key file made to agree with the edited log, signed with the stolen current key. */
function rewriteKeyFile(log: Tampered): void {
  const last = log.records.at(-1);
  const { format: _format, mac: _mac, ...state } = log.keyFile;
  const lastSeq = last?.seq ?? log.meta.baseSeq;
  log.keyFile = sealKeyState({ ...state, lastSeq, records: lastSeq, lastHash: last?.hash ?? log.meta.baseHash, pending: null });
}

interface Case {
  readonly kind: Kind;
  readonly rechained: boolean;
  readonly attacker: 'A' | 'B';
  readonly log: string;
  /** The seq of the first record the attack touched. */
  readonly position: number;
  readonly tampered: Tampered;
}

function attack(snapshot: Snapshot, random: () => number, kind: Kind, rechained: boolean, attacker: 'A' | 'B'): Case | null {
  const log: Tampered = {
    meta: snapshot.meta,
    records: snapshot.records.map((r) => ({ ...r })),
    checkpoints: snapshot.checkpoints.map((c) => ({ ...c })),
    keyFile: snapshot.keyFile,
  };
  const currentKey = Buffer.from(snapshot.keyFile.key, 'hex');
  const base = snapshot.meta.baseSeq;
  const last = snapshot.records.at(-1)!.seq;
  // Class B cannot be caught in the unsealed tail (see the header), so it aims at sealed records.
  const highest = attacker === 'B' ? lastSealed(snapshot) : last;
  if (highest <= base) return null;
  const pick = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  let position = pick(base + 1, highest);
  const index = (seq: number) => seq - base - 1;

  switch (kind) {
    case 'change': {
      const fields = rechained ? (['data', 'at', 'user', 'type'] as const) : (['data', 'at', 'user', 'type', 'prev', 'hash', 'seq'] as const);
      const field = fields[Math.floor(random() * fields.length)]!;
      const record = log.records[index(position)]!;
      const changed: AuditRecord =
        field === 'data'
          ? { ...record, data: mutate(record.data, random) }
          : field === 'at'
            ? { ...record, at: new Date(Date.parse(record.at) + 1000).toISOString() }
            : field === 'user'
              ? { ...record, user: 'mallory' }
              : field === 'type'
                ? { ...record, type: record.type === 'app.start' ? 'app.stop' : 'app.start' }
                : field === 'prev'
                  ? { ...record, prev: hash(record.prev) }
                  : field === 'hash'
                    ? { ...record, hash: hash(record.hash) }
                    : { ...record, seq: last + 1000 };
      log.records[index(position)] = changed;
      if (field === 'seq') log.records.sort((a, b) => a.seq - b.seq);
      if (rechained) {
        rechain(log, position);
        reseal(log, currentKey, position, (seq) => seq);
      }
      break;
    }
    case 'delete': {
      log.records.splice(index(position), 1);
      if (rechained) {
        rechain(log, position);
        reseal(log, currentKey, position, (seq) => (seq >= position ? seq - 1 : seq));
      }
      break;
    }
    case 'reorder': {
      if (position === highest) position -= 1;
      if (position <= base) return null;
      const other = pick(position + 1, highest);
      const a = log.records[index(position)]!;
      const b = log.records[index(other)]!;
      if (rechained) {
        log.records[index(position)] = b;
        log.records[index(other)] = a;
        rechain(log, position);
        reseal(log, currentKey, position, (seq) => seq);
      } else {
        // The rows trade places: each keeps its own prev and hash.
        log.records[index(position)] = { ...b, seq: a.seq };
        log.records[index(other)] = { ...a, seq: b.seq };
      }
      break;
    }
    case 'truncate': {
      log.records = log.records.slice(0, index(position));
      if (rechained) log.checkpoints = log.checkpoints.filter((checkpoint) => checkpoint.lastSeq < position);
      break;
    }
    case 'insert': {
      // Class A may also append after the last record.
      if (attacker === 'A' && random() < 0.15) position = last + 1;
      const previous = position - 1 === base ? snapshot.meta.baseHash : log.records[index(position - 1)]!.hash;
      const event = randomEvent(random, 9_999);
      const data =
        event.type === 'chat.turn' ? { ...event.data, prompt: undefined, response: undefined, promptSha256: hash('p'), responseSha256: hash('r') } : event.data;
      const fields = {
        seq: position,
        at: log.records[index(position - 1)]?.at ?? snapshot.records[0]!.at,
        user: 'alice',
        type: event.type,
        data: JSON.parse(JSON.stringify(data)) as unknown,
        prev: previous,
      };
      const forged: AuditRecord = { ...fields, hash: recordHash(fields) };
      log.records.splice(index(position), 0, forged);
      if (rechained) {
        rechain(log, position + 1);
        reseal(log, currentKey, position, (seq) => (seq >= position ? seq + 1 : seq));
      } else {
        log.records = log.records.map((record, i) => (i > index(position) ? { ...record, seq: record.seq + 1 } : record));
      }
      break;
    }
    case 'checkpoint': {
      const candidates = log.checkpoints.filter((checkpoint) => checkpoint.lastSeq > base);
      if (candidates.length === 0) return null;
      const target = candidates[Math.floor(random() * candidates.length)]!;
      position = target.firstSeq;
      const i = log.checkpoints.indexOf(target);
      const how = Math.floor(random() * 4);
      if (how === 0) log.checkpoints.splice(i, 1);
      else if (how === 1) log.checkpoints[i] = { ...target, mac: hash(target.mac) };
      else if (how === 2) {
        const fields = { ...target, chainHash: hash(target.chainHash) };
        log.checkpoints[i] = { ...fields, mac: rechained ? checkpointMac(currentKey, fields) : target.mac };
      } else {
        // Move the seal back over fewer records, to leave the rest unsealed.
        if (target.lastSeq === target.firstSeq) return null;
        const lastSeq = target.lastSeq - 1;
        const fields = { ...target, lastSeq, chainHash: log.records[index(lastSeq)]!.hash };
        log.checkpoints[i] = { ...fields, mac: rechained ? checkpointMac(currentKey, fields) : target.mac };
      }
      break;
    }
  }
  if (attacker === 'B') rewriteKeyFile(log);
  return { kind, rechained, attacker, log: snapshot.name, position, tampered: log };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-audit-tamper-'));
  logs.push(await build('every-4', 1, { records: 41, every: 4 }));
  logs.push(await build('every-16-tail', 2, { records: 90, every: 16 }));
  logs.push(await build('every-1', 3, { records: 20, every: 1 }));
  logs.push(await build('full-every-5-stopped', 4, { records: 36, every: 5, level: 'full', stop: true }));
  logs.push(await build('purged', 5, { records: 70, every: 8, purgeAfter: 40 }));
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('audit tamper suite', { timeout: 120_000 }, () => {
  it(`detects ${CASES.toLocaleString('en-US')} seeded random attacks, reporting the first broken record at or before the tampered one`, () => {
    const random = uniform(20_250_301);
    const tally = new Map<string, { cases: number; detected: number }>();
    const missed: string[] = [];
    let cases = 0;
    const started = performance.now();
    while (cases < CASES) {
      const snapshot = logs[Math.floor(random() * logs.length)]!;
      const kind = KINDS[Math.floor(random() * KINDS.length)]!;
      const rechained = random() < 0.5;
      const attacker = rechained && random() < 0.5 ? 'B' : 'A';
      const made = attack(snapshot, random, kind, rechained, attacker);
      if (made === null) continue;
      cases += 1;
      const db = load(made.tampered);
      const result = verifyAudit(db, snapshot.anchor, { keyFile: made.tampered.keyFile });
      db.close();
      const key = `${kind.padEnd(10)} ${rechained ? 're-chained' : 'plain     '} ${attacker}`;
      const entry = tally.get(key) ?? { cases: 0, detected: 0 };
      entry.cases += 1;
      const caught = !result.ok && result.firstBroken !== undefined && result.firstBroken.seq <= made.position;
      if (caught) entry.detected += 1;
      else missed.push(`case ${cases} ${key} on ${made.log} at seq ${made.position}: ${JSON.stringify(result.firstBroken ?? 'not detected')}`);
      tally.set(key, entry);
    }
    const elapsed = performance.now() - started;
    const lines = [...tally.entries()].sort().map(([key, { cases: n, detected }]) => `  ${key}  ${detected}/${n}`);
    console.log(`audit tamper suite: ${cases} cases in ${elapsed.toFixed(0)} ms\n${lines.join('\n')}`);
    expect(missed).toEqual([]);
    expect([...tally.values()].reduce((sum, entry) => sum + entry.detected, 0)).toBe(CASES);
    // Every kind, both variants and both attacker classes were exercised.
    for (const kind of KINDS) expect([...tally.keys()].filter((key) => key.startsWith(kind)).length).toBeGreaterThanOrEqual(3);
  });

  it('the documented limit: an attacker holding the current key AND writing the key file can rewrite unsealed records', () => {
    const snapshot = logs.find((log) => log.name === 'every-16-tail')!;
    expect(lastSealed(snapshot)).toBeLessThan(snapshot.records.at(-1)!.seq);
    const log: Tampered = {
      meta: snapshot.meta,
      records: snapshot.records.map((r) => ({ ...r })),
      checkpoints: [...snapshot.checkpoints],
      keyFile: snapshot.keyFile,
    };
    const position = lastSealed(snapshot) + 2;
    log.records[position - 1] = { ...log.records[position - 1]!, user: 'mallory' };
    rechain(log, position);
    rewriteKeyFile(log);
    const db = load(log);
    expect(verifyAudit(db, snapshot.anchor, { keyFile: log.keyFile }).ok).toBe(true);
    db.close();
    // The same edit with the key file left alone is caught.
    const honest = load({ ...log, keyFile: snapshot.keyFile });
    expect(verifyAudit(honest, snapshot.anchor, { keyFile: snapshot.keyFile })).toMatchObject({ ok: false, firstBroken: { seq: lastSealed(snapshot) + 1 } });
    honest.close();
  });

  it('an attacker with the current key cannot seal forged records in an earlier period', () => {
    const snapshot = logs[0]!;
    const log: Tampered = {
      meta: snapshot.meta,
      records: snapshot.records.map((r) => ({ ...r })),
      checkpoints: snapshot.checkpoints.map((c) => ({ ...c })),
      keyFile: snapshot.keyFile,
    };
    log.records[1] = { ...log.records[1]!, user: 'mallory' };
    rechain(log, 2);
    reseal(log, Buffer.from(snapshot.keyFile.key, 'hex'), 2, (seq) => seq);
    rewriteKeyFile(log);
    const db = load(log);
    expect(verifyAudit(db, snapshot.anchor, { keyFile: log.keyFile })).toMatchObject({
      ok: false,
      firstBroken: { seq: 1, reason: expect.stringMatching(/Checkpoint 0 .* fails its MAC/) },
    });
    db.close();
  });
});
