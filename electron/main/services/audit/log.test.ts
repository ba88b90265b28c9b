import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../storage/sqlite.ts';
import { anchorId, checkpointMac, GENESIS_HASH, keyForPeriod, recordHash, sha256Hex } from './chain.ts';
import { AUDIT_EVENT_TYPES, auditEventSchema, type AuditEventInput } from './events.ts';
import { verifyAuditExport } from './export.ts';
import { anchorFilePath, keyFilePath, parseAnchor, readKeyFile, writeKeyFile } from './key-file.ts';
import { createAuditLog, purgeAudit, type AuditLevel, type AuditLog } from './log.ts';
import { iterateRecords, readCheckpoints } from './store.ts';
import { verifyAudit } from './verify.ts';

let dir: string;
let db: Database;
let clock: number;
const now = () => new Date(clock);
const DAY = 86_400_000;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-audit-'));
  db = openDatabase(dir);
  clock = Date.parse('2025-03-01T09:00:00.000Z');
});

afterEach(async () => {
  if (db.isOpen) db.close();
  await rm(dir, { recursive: true, force: true });
});

const open = (level: AuditLevel = 'metadata', checkpointEvery = 4) => createAuditLog({ db, dataDir: dir, level, user: 'alice', checkpointEvery, now });
const hash = (text: string) => sha256Hex(text);
const anchorOf = () => parseAnchor(readFileSync(anchorFilePath(dir), 'utf8'));
const keyFile = () => readKeyFile(dir);

/** One valid event of every type. */
const EVERY_EVENT: readonly AuditEventInput[] = [
  { type: 'app.start', data: { version: '0.1.0' } },
  { type: 'policy.loaded', data: { status: 'ok', sha256: hash('policy'), machineFile: '/etc/soberana/policy.json', userFile: null } },
  { type: 'bundle.verified', data: { name: 'models-2025', sha256: hash('bundle') } },
  { type: 'bundle.installed', data: { name: 'models-2025', sha256: hash('bundle') } },
  { type: 'bundle.rejected', data: { name: 'evil', sha256: null, reason: 'signature does not verify' } },
  { type: 'model.imported', data: { modelId: 'm1', name: 'Qwen 7B', sha256: hash('model') } },
  { type: 'model.loaded', data: { modelId: 'm1', sha256: hash('model') } },
  { type: 'model.unloaded', data: { modelId: 'm1', sha256: hash('model') } },
  { type: 'document.ingested', data: { documentId: 'd1', collectionId: 'c1', name: 'handbook.pdf', sha256: hash('doc') } },
  { type: 'document.deleted', data: { documentId: 'd1', collectionId: 'c1', sha256: hash('doc') } },
  {
    type: 'chat.turn',
    data: {
      conversationId: 'conv1',
      modelSha256: hash('model'),
      collections: ['c1'],
      chunkIds: ['k1', 'k2'],
      marking: 'RESTRICTED // FINANCE',
      prompt: 'What is the secret ledger code?',
      response: 'The code is AZURE-7781.',
    },
  },
  { type: 'pii.found', data: { kind: 'email', action: 'redact', context: 'prompts', count: 2 } },
  { type: 'export', data: { what: 'conversation', format: 'markdown', items: 1 } },
  { type: 'setting.changed', data: { key: 'audit.level', value: 'full' } },
  { type: 'retention.purge', data: { scope: 'conversations', olderThanDays: 90, removed: 12 } },
  { type: 'action.refused', data: { action: 'knowledge.export', reason: 'forbidden: This machine’s policy does not allow exporting.' } },
  { type: 'change', data: { action: 'chat.delete', target: 'conv1' } },
  { type: 'egress.blocked', data: { process: 'inference', kind: 'connect', target: '93.184.216.34:443' } },
  { type: 'policy.changed', data: { from: hash('old policy'), to: hash('policy') } },
  { type: 'policy.bundle_ignored', data: { reason: 'bad_signature: the kept bundle policy does not verify' } },
  { type: 'data_dir.changed', data: { from: '/home/alice/.config/Soberana', to: '/mnt/data/soberana' } },
  { type: 'installation.key', data: { publicKey: Buffer.alloc(32, 7).toString('base64'), keyId: '0123456789abcdef' } },
  { type: 'pack.checked', data: { bundle: 'field-kit v3', collectionId: 'col-1', trigger: 'install', total: 20, passed: 18, failed: 2 } },
  { type: 'marking.changed', data: { target: 'collection', id: 'col-1', from: 'RESTRICTED // FINANCE', to: 'INTERNAL', lowered: true } },
  { type: 'api.started', data: { addresses: ['http://127.0.0.1:11435', 'http://[::1]:11435'], port: 11435 } },
  { type: 'api.refused', data: { token: null, endpoint: 'POST /v1/chat/completions', status: 401, reason: 'no token' } },
  {
    type: 'api.request',
    data: {
      token: 'notebook',
      endpoint: 'POST /v1/chat/completions',
      status: 200,
      modelSha256: hash('model'),
      collections: ['c1'],
      requestBytes: 120,
      responseBytes: 480,
      promptTokens: 12,
      completionTokens: 30,
      prompt: 'Which vault holds the ledger?',
      response: 'Vault NORTH-4.',
    },
  },
  { type: 'api.stopped', data: { addresses: ['http://127.0.0.1:11435'], port: 11435 } },
  { type: 'app.stop', data: { version: '0.1.0' } },
];

describe('audit events', () => {
  it('cover every type, and every stored record parses with the schema', () => {
    expect(new Set(EVERY_EVENT.map((event) => event.type))).toEqual(new Set(AUDIT_EVENT_TYPES));
    const log = open('full');
    for (const event of EVERY_EVENT) log.record(event);
    const records = [...iterateRecords(db)];
    expect(records).toHaveLength(EVERY_EVENT.length);
    for (const record of records) expect(auditEventSchema.safeParse({ type: record.type, data: record.data }).success).toBe(true);
    expect(records.every((record) => record.user === 'alice')).toBe(true);
  });

  it('refuses invalid events and fields nobody reviewed, such as a PII value', () => {
    const log = open();
    const bad = [
      { type: 'pii.found', data: { kind: 'email', action: 'redact', context: 'prompts', count: 1, value: 'bob@example.com' } },
      { type: 'pii.found', data: { kind: 'bob@example.com', action: 'redact', context: 'prompts', count: 1 } },
      { type: 'model.loaded', data: { modelId: 'm1', sha256: 'not-a-hash' } },
      { type: 'no.such.event', data: {} },
      { type: 'retention.purge', data: { scope: 'audit', olderThanDays: 1, removed: 0, throughSeq: 5 } },
    ];
    for (const event of bad) expect(() => log.record(event as AuditEventInput)).toThrow(expect.objectContaining({ code: 'bad_request' }));
    expect(log.list()).toEqual([]);
  });

  it('record nothing at level off, but set the anchor up with the data folder, so it verifies as an intact empty log', () => {
    const log = open('off');
    expect(log.record({ type: 'app.start', data: { version: '1' } })).toBeNull();
    expect(log.anchor()).not.toBeNull();
    expect(existsSync(anchorFilePath(dir))).toBe(true);
    expect(log.list()).toEqual([]);
    expect(verifyAudit(db, anchorOf(), { keyFile: keyFile() })).toMatchObject({ ok: true, records: 0 });
  });
});

describe('local API requests by audit level', () => {
  const request: AuditEventInput = EVERY_EVENT.find((event) => event.type === 'api.request')!;

  it('metadata keeps the sizes and hashes of the text, full keeps the text too', () => {
    const metadata = open('metadata').record(request)!;
    expect(metadata.data).toMatchObject({ token: 'notebook', promptSha256: hash('Which vault holds the ledger?'), responseSha256: hash('Vault NORTH-4.') });
    expect(JSON.stringify(metadata.data)).not.toContain('NORTH-4');
    const full = open('full').record(request)!;
    expect(full.data).toMatchObject({ prompt: 'Which vault holds the ledger?', response: 'Vault NORTH-4.' });
  });

  it('a request with no text (a model list) records null hashes', () => {
    const log = open('full');
    const record = log.record({ ...request, data: { ...(request.data as object), prompt: null, response: null } } as AuditEventInput)!;
    expect(record.data).toMatchObject({ promptSha256: null, responseSha256: null });
    expect(record.data).not.toHaveProperty('prompt');
  });
});

describe('chat text by audit level', () => {
  const turn: AuditEventInput = EVERY_EVENT.find((event) => event.type === 'chat.turn')!;
  const prompt = 'What is the secret ledger code?';
  const response = 'The code is AZURE-7781.';

  /** Every byte Soberana wrote: the database, its WAL and the audit folder. */
  function everything(): string {
    const files = [
      ...readdirSync(dir).map((name) => path.join(dir, name)),
      ...readdirSync(path.join(dir, 'audit')).map((name) => path.join(dir, 'audit', name)),
    ];
    return files
      .filter((file) => !file.endsWith('audit'))
      .map((file) => readFileSync(file).toString('latin1'))
      .join('\n');
  }

  it('metadata keeps only SHA-256 hashes of the prompt and the response, nowhere the text', () => {
    const log = open('metadata');
    const record = log.record(turn)!;
    expect(record.data).toEqual({
      conversationId: 'conv1',
      modelSha256: hash('model'),
      collections: ['c1'],
      chunkIds: ['k1', 'k2'],
      // The answer's marking is metadata: kept at every level.
      marking: 'RESTRICTED // FINANCE',
      promptSha256: hash(prompt),
      responseSha256: hash(response),
    });
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const bytes = everything();
    expect(bytes).not.toContain('secret ledger');
    expect(bytes).not.toContain('AZURE-7781');
    expect(bytes).toContain(hash(prompt));
  });

  it('full keeps the text as well as the hashes', () => {
    const record = open('full').record(turn)!;
    expect(record.data).toMatchObject({ prompt, response, promptSha256: hash(prompt), responseSha256: hash(response) });
  });
});

describe('the chain, checkpoints and the key ratchet', () => {
  it('links every record to the one before and seals every N records', () => {
    const log = open('metadata', 4);
    for (let i = 0; i < 10; i += 1) log.record({ type: 'export', data: { what: 'conversation', format: 'json', items: i } });
    const records = [...iterateRecords(db)];
    expect(records.map((record) => record.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(records[0]!.prev).toBe(GENESIS_HASH);
    records.forEach((record, index) => {
      expect(record.hash).toBe(recordHash(record));
      if (index > 0) expect(record.prev).toBe(records[index - 1]!.hash);
    });
    const checkpoints = readCheckpoints(db);
    expect(checkpoints.map(({ period, firstSeq, lastSeq }) => [period, firstSeq, lastSeq])).toEqual([
      [0, 1, 4],
      [1, 5, 8],
    ]);
    const anchor = anchorOf();
    checkpoints.forEach((checkpoint) => {
      expect(checkpoint.chainHash).toBe(records[checkpoint.lastSeq - 1]!.hash);
      expect(checkpoint.mac).toBe(checkpointMac(keyForPeriod(anchor, checkpoint.period), checkpoint));
    });
    expect(log.verify()).toMatchObject({ ok: true, records: 10, checkpoints: 2, sealedThrough: 8, lastSeq: 10, macsChecked: true, keyFileChecked: true });
  });

  it('keeps only the current key on disk, ratcheted from the anchor, and erases the earlier ones', () => {
    const log = open('metadata', 2);
    const anchor = anchorOf();
    expect(keyFile()).toMatchObject({ period: 0, key: anchor.toString('hex'), lastSeq: 0, records: 0, pending: null });
    for (let i = 0; i < 5; i += 1) log.record({ type: 'app.start', data: { version: String(i) } });
    const file = keyFile()!;
    expect(file).toMatchObject({ period: 2, records: 5, lastSeq: 5, lastHash: [...iterateRecords(db)].at(-1)!.hash, pending: null });
    expect(file.key).toBe(keyForPeriod(anchor, 2).toString('hex'));
    const onDisk = readdirSync(path.join(dir, 'audit'))
      .map((name) => readFileSync(path.join(dir, 'audit', name), 'utf8'))
      .join('');
    expect(onDisk).not.toContain(keyForPeriod(anchor, 1).toString('hex'));
    expect(log.anchor()).toEqual({ id: anchorId(anchor), file: anchorFilePath(dir), key: anchor.toString('hex') });
  });

  it('seals at app stop, so nothing is left unsealed while the app is closed', () => {
    const log = open('metadata', 64);
    log.record({ type: 'app.start', data: { version: '1' } });
    log.record({ type: 'model.loaded', data: { modelId: 'm', sha256: hash('m') } });
    log.record({ type: 'app.stop', data: { version: '1' } });
    expect(log.verify()).toMatchObject({ ok: true, sealedThrough: 3, lastSeq: 3, checkpoints: 1 });
  });

  it('writes events given together as it would one by one: one chain, a checkpoint at each period end, and a stop seals', () => {
    const log = open('metadata', 4);
    const events: AuditEventInput[] = Array.from({ length: 10 }, (_, i) => ({ type: 'export', data: { what: 'conversation', format: 'json', items: i } }));
    events.splice(6, 0, { type: 'app.stop', data: { version: '1' } });
    const calls: number[] = [];
    for (let at = 0; at < events.length;) {
      const written = log.recordSome(events.slice(at));
      calls.push(written.length);
      at += written.length;
    }
    // Up to the end of each period, and up to the stop (seq 7), which seals early.
    expect(calls).toEqual([4, 3, 4]);
    const records = [...iterateRecords(db)];
    expect(records.map((record) => record.type)).toEqual(events.map((event) => event.type));
    records.forEach((record, index) => expect(record.prev).toBe(index === 0 ? GENESIS_HASH : records[index - 1]!.hash));
    expect(readCheckpoints(db).map(({ period, firstSeq, lastSeq }) => [period, firstSeq, lastSeq])).toEqual([
      [0, 1, 4],
      [1, 5, 7],
      [2, 8, 11],
    ]);
    expect(keyFile()).toMatchObject({ period: 3, lastSeq: 11, pending: null });
    expect(log.verify()).toMatchObject({ ok: true, records: 11, checkpoints: 3, sealedThrough: 11, macsChecked: true, keyFileChecked: true });
  });

  it('writes none of events given together when one is invalid', () => {
    const log = open('metadata', 4);
    const bad = { type: 'app.start', data: { version: 1 } } as unknown as AuditEventInput;
    expect(() => log.recordSome([{ type: 'app.start', data: { version: '1' } }, bad])).toThrow(expect.objectContaining({ code: 'bad_request' }));
    expect([...iterateRecords(db)]).toHaveLength(0);
    expect(log.recordSome([])).toEqual([]);
  });

  it('continues the same chain after a restart', () => {
    open('metadata', 3).record({ type: 'app.start', data: { version: '1' } });
    const again = open('metadata', 3);
    for (let i = 0; i < 4; i += 1) again.record({ type: 'app.start', data: { version: '2' } });
    expect(again.verify()).toMatchObject({ ok: true, records: 5, checkpoints: 1 });
  });

  it('verifies with the anchor given as hex or bytes, and names a wrong anchor as such', () => {
    const log = open();
    log.record({ type: 'app.start', data: { version: '1' } });
    expect(log.verify(anchorOf().toString('hex')).ok).toBe(true);
    expect(log.verify(Buffer.alloc(32, 7))).toMatchObject({ ok: false, firstBroken: { seq: 1, reason: expect.stringMatching(/anchor does not belong/) } });
  });

  it('asks for the anchor when it has rightly left the machine', () => {
    const log = open();
    log.record({ type: 'app.start', data: { version: '1' } });
    const anchor = anchorOf();
    rmSync(anchorFilePath(dir));
    expect(() => log.verify()).toThrow(expect.objectContaining({ code: 'not_found' }));
    expect(log.verify(anchor).ok).toBe(true);
    expect(log.anchor()).toMatchObject({ key: null });
  });
});

describe('stopping between the database and the key file', () => {
  function lastTwoStates(log: AuditLog) {
    const before = keyFile()!;
    const record = log.record({ type: 'app.start', data: { version: 'x' } })!;
    return { before, record };
  }

  it('completes a record that committed before the key file caught up (and its ratchet)', () => {
    const log = open('metadata', 2);
    log.record({ type: 'app.start', data: { version: '1' } });
    const { before, record } = lastTwoStates(log);
    const { format: _f, mac: _m, ...state } = before;
    writeKeyFile(dir, { ...state, pending: { seq: record.seq, hash: record.hash, seals: true } });
    // Until the app starts again, verify accepts exactly this state…
    expect(verifyAudit(db, anchorOf(), { keyFile: keyFile() })).toMatchObject({ ok: true });
    // …and the next start completes it.
    open('metadata', 2);
    expect(keyFile()).toMatchObject({ period: 1, lastSeq: 2, pending: null });
    expect(verifyAudit(db, anchorOf(), { keyFile: keyFile() }).ok).toBe(true);
  });

  it('completes records written together that committed before the key file caught up', () => {
    const log = open('metadata', 8);
    log.record({ type: 'app.start', data: { version: '1' } });
    const { format: _f, mac: _m, ...before } = keyFile()!;
    const written = log.recordSome([1, 2, 3].map((i) => ({ type: 'app.start', data: { version: String(i) } })));
    expect(written).toHaveLength(3);
    // The key file as it was in the transaction: naming the last of the three as pending.
    writeKeyFile(dir, { ...before, pending: { seq: written[2]!.seq, hash: written[2]!.hash, seals: false } });
    expect(verifyAudit(db, anchorOf(), { keyFile: keyFile() })).toMatchObject({ ok: true });
    open('metadata', 8);
    expect(keyFile()).toMatchObject({ period: 0, lastSeq: 4, records: 4, pending: null });
    expect(verifyAudit(db, anchorOf(), { keyFile: keyFile() })).toMatchObject({ ok: true, records: 4 });
  });

  it('drops a pending record that never committed', () => {
    const log = open('metadata', 8);
    log.record({ type: 'app.start', data: { version: '1' } });
    const state = keyFile()!;
    const { format: _f, mac: _m, ...rest } = state;
    writeKeyFile(dir, { ...rest, pending: { seq: 2, hash: hash('never'), seals: false } });
    expect(verifyAudit(db, anchorOf(), { keyFile: keyFile() }).ok).toBe(true);
    open('metadata', 8).record({ type: 'app.start', data: { version: '2' } });
    expect(verifyAudit(db, anchorOf(), { keyFile: keyFile() })).toMatchObject({ ok: true, records: 2 });
  });

  it('refuses to write on when the log and key file disagree in a way no crash explains', () => {
    const log = open('metadata', 8);
    log.record({ type: 'app.start', data: { version: '1' } });
    log.record({ type: 'app.start', data: { version: '2' } });
    db.exec('DELETE FROM audit_records WHERE seq = 2');
    expect(() => open()).toThrow(expect.objectContaining({ code: 'io_error', message: expect.stringMatching(/does not match its key file/) }));
    rmSync(keyFilePath(dir));
    expect(() => open()).toThrow(expect.objectContaining({ code: 'io_error', message: expect.stringMatching(/key file is missing/) }));
  });

  it('refuses an edited key file', () => {
    open().record({ type: 'app.start', data: { version: '1' } });
    const text = readFileSync(keyFilePath(dir), 'utf8').replace('"lastSeq":1', '"lastSeq":0');
    writeFileSync(keyFilePath(dir), text);
    expect(() => open()).toThrow(expect.objectContaining({ details: expect.stringMatching(/edited/) }));
  });
});

describe('retention', () => {
  function fill(log: AuditLog, days: number, perDay: number) {
    for (let day = 0; day < days; day += 1) {
      for (let i = 0; i < perDay; i += 1) log.record({ type: 'model.loaded', data: { modelId: `m${day}`, sha256: hash(`${day}`) } });
      clock += DAY;
    }
  }

  it('removes whole sealed periods older than the cutoff and still verifies', () => {
    const log = open('metadata', 4);
    fill(log, 10, 3); // 30 records over 10 days; checkpoints end at 4, 8, …, 28
    const result = log.purge(5);
    // Records older than 5 days are those of days 0–4 (seq 1–15); the last whole period inside is 9–12.
    expect(result).toMatchObject({
      removed: 12,
      throughSeq: 12,
      record: { seq: 31, type: 'retention.purge', data: { scope: 'audit', olderThanDays: 5, removed: 12, throughSeq: 12 } },
    });
    expect(log.list({ limit: 1 })[0]!.seq).toBe(13);
    const verification = log.verify();
    expect(verification).toMatchObject({ ok: true, baseSeq: 12, records: 19, sealedThrough: 31, lastSeq: 31 });
    // The purge record was sealed at once.
    expect(readCheckpoints(db).at(-1)).toMatchObject({ lastSeq: 31 });

    // Again later: the previous purge record goes too, the new one justifies the new base.
    clock += 20 * DAY;
    log.record({ type: 'app.start', data: { version: '1' } });
    const second = log.purge(10);
    expect(second.throughSeq).toBe(31);
    expect(log.verify()).toMatchObject({ ok: true, baseSeq: 31, records: 2 });
    expect(log.purge(10)).toMatchObject({ removed: 0, record: null });
  });

  it('is caught when records are removed behind its back, even with the base moved to a real checkpoint', () => {
    const log = open('metadata', 4);
    fill(log, 4, 4);
    const target = readCheckpoints(db)[1]!;
    db.prepare('DELETE FROM audit_records WHERE seq <= ?').run(target.lastSeq);
    db.prepare('UPDATE audit_meta SET base_seq = ?, base_hash = ?, base_period = ?').run(target.lastSeq, target.chainHash, target.period);
    expect(log.verify()).toMatchObject({ ok: false, firstBroken: { seq: 9, reason: expect.stringMatching(/no purge record/) } });
  });

  it('refuses to purge a log that does not verify', () => {
    const log = open('metadata', 4);
    fill(log, 3, 4);
    db.exec(`UPDATE audit_records SET os_user = 'mallory' WHERE seq = 2`);
    expect(() => log.purge(0)).toThrow(expect.objectContaining({ code: 'io_error', details: expect.stringMatching(/^record 2:/) }));
    expect(log.list()).toHaveLength(12);
  });

  it('works through purgeAudit, also when recording is off', () => {
    fill(open('metadata', 2), 3, 2);
    const result = purgeAudit(db, 1, { dataDir: dir, now });
    expect(result.removed).toBe(4);
    expect(createAuditLog({ db, dataDir: dir, level: 'off', now }).verify()).toMatchObject({ ok: true, baseSeq: 4 });
  });
});

describe('list and export', () => {
  it('lists by type and time range with paging, in seq order', () => {
    const log = open('metadata', 64);
    for (const event of EVERY_EVENT) {
      log.record(event);
      clock += 60_000;
    }
    expect(log.list({ type: 'model.loaded' }).map((record) => record.seq)).toEqual([7]);
    const from = new Date(Date.parse('2025-03-01T09:03:00Z')).toISOString();
    expect(log.list({ from, to: '2025-03-01T09:05:00Z' }).map((record) => record.seq)).toEqual([4, 5, 6]);
    expect(log.list({ limit: 2, offset: 3 }).map((record) => record.seq)).toEqual([4, 5]);
    expect(() => log.list({ from: 'yesterday' })).toThrow(expect.objectContaining({ code: 'bad_request' }));
    expect(() => log.list({ limit: 0 })).toThrow(expect.objectContaining({ code: 'bad_request' }));
  });

  it('writes JSON lines a SIEM can verify with the anchor, never containing the anchor', () => {
    const log = open('metadata', 4);
    for (let i = 0; i < 10; i += 1) {
      log.record({ type: 'export', data: { what: 'conversation', format: 'json', items: i } });
      clock += 60_000;
    }
    const anchor = anchorOf();
    const lines = [...log.export()];
    const parsed = lines.map((line) => JSON.parse(line) as { kind: string });
    expect(parsed[0]).toMatchObject({ kind: 'header', format: 'soberana-audit-export/1', anchorId: anchorId(anchor), baseSeq: 0 });
    expect(parsed.filter((line) => line.kind === 'record')).toHaveLength(10);
    expect(parsed.filter((line) => line.kind === 'checkpoint')).toHaveLength(2);
    expect(parsed.at(-1)).toEqual({ kind: 'footer', records: 10, checkpoints: 2 });
    expect(lines.join('\n')).not.toContain(anchor.toString('hex'));
    expect(verifyAuditExport(lines, anchor)).toEqual({ ok: true, records: 10, checkpointsChecked: 2, unsealed: 2 });

    // A range: checkpoints that are only partly inside are listed but cannot be checked.
    const range = [...log.export({ from: '2025-03-01T09:02:00Z', to: '2025-03-01T09:08:00Z' })];
    expect(verifyAuditExport(range, anchor)).toEqual({ ok: true, records: 7, checkpointsChecked: 1, unsealed: 3 });

    const edited = lines.map((line) => line.replace('"items":3', '"items":4'));
    expect(verifyAuditExport(edited, anchor)).toMatchObject({ ok: false, firstBroken: { seq: 4 } });
    expect(verifyAuditExport(lines.slice(0, -3), anchor)).toMatchObject({ ok: false, firstBroken: { reason: expect.stringMatching(/incomplete/) } });
    expect(verifyAuditExport(lines, Buffer.alloc(32))).toMatchObject({ ok: false, firstBroken: { reason: expect.stringMatching(/anchor/) } });
  });
});
