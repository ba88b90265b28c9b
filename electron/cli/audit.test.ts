import { readFileSync, renameSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anchorFilePath, createAuditLog, parseAnchor, verifyAuditExport } from '../main/services/audit/index.ts';
import { openDatabase } from '../main/services/storage/sqlite.ts';
import { runCli } from '../test-support/run-cli.ts';

// `soberana audit verify` and `soberana audit export` as the IT team runs them, on a log the
// app's own service wrote. The cases share one data directory and run in order.

let dir: string;
let dataDir: string;
let vault: string;

const cli = (...args: string[]) => runCli(args, { dataDir });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-cli-audit-'));
  dataDir = path.join(dir, 'data');
  const db = openDatabase(dataDir);
  let clock = Date.parse('2025-03-01T00:00:00Z');
  const log = createAuditLog({ db, dataDir, level: 'metadata', user: 'alice', checkpointEvery: 4, now: () => new Date(clock) });
  log.record({ type: 'app.start', data: { version: '0.1.0' } });
  for (let day = 1; day <= 9; day += 1) {
    clock += 86_400_000;
    log.record({ type: 'model.loaded', data: { modelId: `m${day}`, sha256: 'a'.repeat(64) } });
  }
  db.close();
  // As the IT team is told to: the anchor leaves the data directory.
  vault = path.join(dir, 'vault-anchor.json');
  renameSync(anchorFilePath(dataDir), vault);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('soberana audit', { timeout: 60_000 }, () => {
  it('verify needs the anchor, and says where to give it', () => {
    const run = cli('audit', 'verify');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Pass the copy your IT team keeps with --anchor FILE');
  });

  it('verify reports an intact log and exits 0', () => {
    const run = cli('audit', 'verify', '--anchor', vault);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^ok {2}audit log: 10 records \(1–10\), 2 checkpoints, sealed through record 8/);
    const json = JSON.parse(cli('audit', 'verify', '--anchor', vault, '--json').stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ ok: true, records: 10, checkpoints: 2, lastSeq: 10, macsChecked: true, keyFileChecked: true });
  });

  it('export writes JSON lines in a time range, to standard output or a file', () => {
    const all = cli('audit', 'export');
    expect(all.status).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines).toHaveLength(1 + 10 + 2 + 1);
    expect(verifyAuditExport(lines, parseAnchor(readFileSync(vault, 'utf8')))).toMatchObject({ ok: true, records: 10, checkpointsChecked: 2 });

    const out = path.join(dir, 'siem.jsonl');
    const ranged = cli('audit', 'export', '--from', '2025-03-03T00:00:00Z', '--to', '2025-03-05T00:00:00Z', '--out', out, '--json');
    expect(ranged.status).toBe(0);
    expect(JSON.parse(ranged.stdout)).toEqual({ file: out, records: 3, checkpoints: 2 });
    const written = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string; seq?: number });
    expect(written[0]).toMatchObject({ kind: 'header', from: '2025-03-03T00:00:00.000Z', to: '2025-03-05T00:00:00.000Z' });
    expect(written.filter((line) => line.kind === 'record').map((line) => line.seq)).toEqual([3, 4, 5]);
  });

  it('export refuses a date that is not ISO 8601 as bad usage', () => {
    const run = cli('audit', 'export', '--from', 'last tuesday');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--from "last tuesday" is not an ISO 8601 date');
    expect(cli('audit', 'export', '--from', '2025-03-05', '--to', '2025-03-01').status).toBe(2);
  });

  it('verify reports the first broken record and exits 1 after the log is edited', () => {
    const db = openDatabase(dataDir);
    db.exec(`UPDATE audit_records SET os_user = 'mallory' WHERE seq = 6`);
    db.close();
    const run = cli('audit', 'verify', '--anchor', vault);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('BROKEN');
    expect(run.stderr).toContain('first broken record: 6');
    const json = JSON.parse(cli('audit', 'verify', '--anchor', vault, '--json').stdout) as { ok: boolean; firstBroken: { seq: number; reason: string } };
    expect(json).toMatchObject({ ok: false, firstBroken: { seq: 6, reason: expect.stringContaining('does not match its hash') } });
  });

  it('verify refuses something that is not an anchor', () => {
    const run = cli('audit', 'verify', '--anchor', path.join(dir, 'siem.jsonl'));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('not an audit verification anchor');
  });
});
