import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAnchorFile, anchorFilePath, verifyAudit, readKeyFileForVerify } from './audit/index.ts';
import { createAuditTrail } from './audit-trail.ts';
import { createGovernance } from './governance.ts';
import { loadPolicy, userPolicyPath } from './policy/index.ts';
import { openDatabase } from './storage/sqlite.ts';

// Two writers of one data folder, as when `soberana models import` runs beside the app:
// each appends after the other, and the log stays one intact chain.

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-trail-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the audit trail with another writer', () => {
  it('continues after the other process appended, instead of failing closed', async () => {
    const governance = createGovernance(await loadPolicy({ userPath: userPolicyPath(dir), machinePath: path.join(dir, 'none.json') }));
    const appDb = openDatabase(dir);
    const cliDb = openDatabase(dir);
    const app = createAuditTrail({ db: appDb, dataDir: dir, governance });
    const cli = createAuditTrail({ db: cliDb, dataDir: dir, governance });
    app.record({ type: 'app.start', data: { version: '1' } });
    cli.record({ type: 'change', data: { action: 'models.remove', target: 'm1' } });
    cli.record({ type: 'change', data: { action: 'models.rename', target: 'm2' } });
    app.record({ type: 'app.stop', data: { version: '1' } });
    expect(app.problem, JSON.stringify(app.problem)).toBeNull();
    expect(cli.problem).toBeNull();
    const types = (appDb.prepare('SELECT type FROM audit_records ORDER BY seq').all() as { type: string }[]).map((row) => row.type);
    expect(types).toEqual(['app.start', 'change', 'change', 'app.stop']);
    expect(verifyAudit(appDb, readAnchorFile(anchorFilePath(dir)), { keyFile: readKeyFileForVerify(dir) })).toMatchObject({ ok: true, records: 4 });
    appDb.close();
    cliDb.close();
  });
});

describe('events recorded together', () => {
  it('are written once the burst is over, in order, one chain, and an invalid one is named without losing the others', async () => {
    const own = await mkdtemp(path.join(os.tmpdir(), 'soberana-trail-together-'));
    try {
      const governance = createGovernance(await loadPolicy({ userPath: userPolicyPath(own), machinePath: path.join(own, 'none.json') }));
      const db = openDatabase(own);
      const logged: string[] = [];
      const trail = createAuditTrail({ db, dataDir: own, governance, log: (_level, message) => logged.push(message) });
      const count = () => (db.prepare('SELECT count(*) AS n FROM audit_records').get() as { n: number }).n;
      const ingested = (i: number) => ({
        type: 'document.ingested' as const,
        data: { documentId: `d${i}`, collectionId: 'c1', name: `${i}.pdf`, sha256: 'a'.repeat(64) },
      });
      const seen = trail.together(() => {
        for (let i = 0; i < 70; i += 1) trail.record(ingested(i));
        trail.record({ type: 'app.start', data: { version: 7 } } as never);
        trail.record(ingested(70));
        return count();
      });
      expect(seen).toBe(0);
      expect(trail.problem).toBeNull();
      expect(logged).toEqual([expect.stringMatching(/not valid \(app\.start\)/)]);
      const names = (db.prepare('SELECT data FROM audit_records ORDER BY seq').all() as { data: string }[]).map(
        (row) => (JSON.parse(row.data) as { name: string }).name,
      );
      expect(names).toEqual(Array.from({ length: 71 }, (_, i) => `${i}.pdf`));
      expect(verifyAudit(db, readAnchorFile(anchorFilePath(own)), { keyFile: readKeyFileForVerify(own) })).toMatchObject({ ok: true, records: 71 });
      db.close();
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });
});
