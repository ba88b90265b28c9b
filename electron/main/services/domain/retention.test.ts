import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCore } from '../core.ts';
import { userPolicyPath } from '../policy/index.ts';

// Finding 2 of issue 12: a user policy file with a short audit retention purged 201 sealed
// records at the next start. "Tighten only" means a longer retention, never a shorter one.

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-retention-'));
});

afterEach(() => {
  vi.useRealTimers();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const count = (core: Awaited<ReturnType<typeof createCore>>) => (core.storage.prepare('SELECT count(*) AS n FROM audit_records').get() as { n: number }).n;

describe('audit retention from the user file', () => {
  it('cannot shorten the machine policy’s retention: 201 sealed records survive a user file with auditDays 1', { timeout: 120_000 }, async () => {
    const dataDir = await mkdtemp(path.join(dir, 'data-'));
    const machine = path.join(dir, 'machine.json');
    await writeFile(machine, JSON.stringify({ version: 1, retention: { auditDays: 365 } }));
    // Ten days ago: 201 records, sealed at stop.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(Date.now() - 10 * 86_400_000));
    let core = await createCore({ dataDir, host: HOST, policyFile: machine });
    for (let index = 0; index < 201; index += 1) core.context.emit({ type: 'change', data: { action: 'chat.update', target: `c${index}` } });
    await core.close();
    vi.useRealTimers();

    await mkdir(path.dirname(userPolicyPath(dataDir)), { recursive: true });
    await writeFile(userPolicyPath(dataDir), JSON.stringify({ version: 1, retention: { auditDays: 1 } }));
    core = await createCore({ dataDir, host: HOST, policyFile: machine });
    expect(core.governance.policy.retention.auditDays).toBe(365);
    expect(count(core)).toBeGreaterThanOrEqual(201 + 3);
    expect(core.audit.log!.list({ type: 'retention.purge' })).toEqual([]);
    expect(core.audit.log!.verify().ok).toBe(true);
    await core.close();
  });

  it('may lengthen it, and the machine policy’s own retention still purges what is past it', { timeout: 120_000 }, async () => {
    const dataDir = await mkdtemp(path.join(dir, 'data-'));
    const machine = path.join(dir, 'machine-short.json');
    await writeFile(machine, JSON.stringify({ version: 1, retention: { auditDays: 5 } }));
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(Date.now() - 10 * 86_400_000));
    let core = await createCore({ dataDir, host: HOST, policyFile: machine });
    for (let index = 0; index < 70; index += 1) core.context.emit({ type: 'change', data: { action: 'chat.update', target: `c${index}` } });
    await core.close();
    vi.useRealTimers();

    // The user keeps records longer than IT asks: allowed, so nothing ten days old goes.
    await mkdir(path.dirname(userPolicyPath(dataDir)), { recursive: true });
    await writeFile(userPolicyPath(dataDir), JSON.stringify({ version: 1, retention: { auditDays: 30 } }));
    core = await createCore({ dataDir, host: HOST, policyFile: machine });
    expect(core.governance.policy.retention.auditDays).toBe(30);
    expect(core.audit.log!.list({ type: 'retention.purge' })).toEqual([]);
    await core.close();

    // Without the user file, the machine's 5 days apply: the sealed ten-day-old periods go.
    await rm(userPolicyPath(dataDir));
    core = await createCore({ dataDir, host: HOST, policyFile: machine });
    expect(core.audit.log!.list({ type: 'retention.purge' })).toHaveLength(1);
    expect(core.audit.log!.verify().ok).toBe(true);
    await core.close();
  });
});
