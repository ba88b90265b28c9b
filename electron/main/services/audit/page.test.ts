import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeCursor } from '../storage/keyset.ts';
import { openDatabase, type Database } from '../storage/sqlite.ts';
import { createAuditLog, type AuditLog } from './log.ts';
import { auditRecordsPage, type AuditPageQuery } from './page.ts';

// The Audit screen's records a page at a time (issue 15): newest first by seq, through the
// real hash-chained log.

let dir: string;
let db: Database;
let clock: number;
let log: AuditLog;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-audit-page-'));
  db = openDatabase(dir);
  clock = Date.parse('2025-03-01T09:00:00.000Z');
  log = createAuditLog({ db, dataDir: dir, level: 'metadata', user: 'alice', checkpointEvery: 50, now: () => new Date(clock) });
  for (let i = 0; i < 57; i++) {
    // Ten records a minute, so several share a minute; every third is a model load.
    if (i % 10 === 0) clock += 60_000;
    log.record(i % 3 === 0 ? { type: 'model.loaded', data: { modelId: `m${i}`, sha256: 'a'.repeat(64) } } : { type: 'app.start', data: { version: `0.${i}` } });
  }
});

afterEach(async () => {
  if (db.isOpen) db.close();
  await rm(dir, { recursive: true, force: true });
});

function allSeqs(query: Omit<AuditPageQuery, 'cursor'>, between: () => void = () => {}): number[] {
  const seqs: number[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = auditRecordsPage(db, { ...query, cursor });
    seqs.push(...page.records.map((record) => record.seq));
    between();
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && ++pages < 1000);
  return seqs;
}

describe('audit records a page at a time', () => {
  it('returns every record once, newest first, and the same total on each page', () => {
    const all = log.list({ limit: 1000 }).map((record) => record.seq);
    const first = auditRecordsPage(db, { limit: 10 });
    expect(first.total).toBe(all.length);
    expect(allSeqs({ limit: 10 })).toEqual([...all].reverse());
  });

  it('records written while the user pages do not shift the pages (an offset would repeat rows)', () => {
    const before = log.list({ limit: 1000 }).map((record) => record.seq);
    const seqs = allSeqs({ limit: 10 }, () => log.record({ type: 'app.start', data: { version: 'later' } }));
    expect(seqs).toEqual([...before].reverse());
  });

  it('filters by type and date with the cursor, and keeps the offset working', () => {
    const loads = log
      .list({ type: 'model.loaded', limit: 1000 })
      .map((record) => record.seq)
      .reverse();
    expect(allSeqs({ type: 'model.loaded', limit: 4 })).toEqual(loads);
    const third = log.list({ limit: 1000 })[25]!.at;
    const fromThird = log
      .list({ from: third, limit: 1000 })
      .map((record) => record.seq)
      .reverse();
    expect(allSeqs({ from: third, limit: 7 })).toEqual(fromThird);
    expect(auditRecordsPage(db, { limit: 5, offset: 5 }).records.map((record) => record.seq)).toEqual(allSeqs({ limit: 100 }).slice(5, 10));
  });

  it('refuses a cursor it did not make', () => {
    for (const cursor of ['%%%', encodeCursor('audit', ['12']), encodeCursor('bundles', [12])]) {
      expect(() => auditRecordsPage(db, { cursor })).toThrow(expect.objectContaining({ code: 'bad_request' }));
    }
  });
});
