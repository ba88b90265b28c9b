import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addTrustedKey } from '../bundles/trust.ts';
import { generateKeyPair, type GeneratedKeyPair } from '../bundles/keys.ts';
import { openDatabase } from '../storage/sqlite.ts';
import { installBundlePolicy, keptPolicyDir, keptPolicyPath } from './bundle-policy.ts';
import { signedPolicy } from '../../../test-support/policy-fixtures.ts';
import { lastAppliedPath, resolvePolicyInForce } from './in-force.ts';
import { userPolicyPath } from './load.ts';

let dir: string;
let dataDir: string;
let machinePath: string;
const IT = generateKeyPair();
const MINE = generateKeyPair();

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-in-force-'));
  dataDir = path.join(dir, 'data');
  machinePath = path.join(dir, 'machine.json');
  await mkdir(dataDir);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** A strict machine policy that allows signed policy updates from IT's key. */
async function machinePolicy(extra: Record<string, unknown> = {}, keys: readonly GeneratedKeyPair[] = [IT]): Promise<string> {
  const text = JSON.stringify({
    version: 1,
    bundles: { trustedKeys: keys.map((key) => ({ name: `key ${key.keyId}`, publicKey: key.publicKey })), allowPolicyUpdates: true },
    audit: { level: 'metadata' },
    export: { allowed: false },
    models: { allowUnsigned: false },
    ...extra,
  });
  await writeFile(machinePath, text);
  return sha(text);
}

const resolve = (options: { now?: Date } = {}) => resolvePolicyInForce({ dataDir, machinePath, userPath: userPolicyPath(dataDir), ...options });

/** As a non-elevated install leaves it: kept in the data folder with its signed head. */
async function keep(policy: unknown, signers: readonly GeneratedKeyPair[]): Promise<void> {
  const blocker = path.join(dir, 'blocker');
  await writeFile(blocker, '');
  await installBundlePolicy({
    ...signedPolicy(policy, signers),
    policyPathInManifest: 'policy.json',
    machinePolicyPath: path.join(blocker, 'policy.json'),
    dataDir,
  });
}

const FORGED = '{"version":1,"audit":{"level":"off"},"export":{"allowed":true},"models":{"allowUnsigned":true},"bundles":{"trustedKeys":null}}';

describe('resolvePolicyInForce', () => {
  // Issue 12, finding 1: this file, written by a program running as the user, became the machine policy.
  it('ignores the forged policy from finding 1, with a bundle_ignored event and a notice; the machine policy stays', async () => {
    const machineHash = await machinePolicy();
    await mkdir(path.join(dataDir, 'policy'), { recursive: true });
    // Where the old code read it, and where bundle policies are kept now.
    await writeFile(path.join(dataDir, 'policy', 'from-bundle.json'), FORGED);
    await mkdir(keptPolicyDir(dataDir), { recursive: true });
    await writeFile(keptPolicyPath(dataDir), FORGED);

    const { loaded, events, notices } = await resolve();
    expect(loaded.source.machine).toBe(machinePath);
    expect(loaded.hash).toBe(machineHash);
    expect(loaded.policy.audit.level).toBe('metadata');
    expect(loaded.policy.export.allowed).toBe(false);
    expect(loaded.policy.models.allowUnsigned).toBe(false);
    expect(loaded.policy.bundles.trustedKeys).toHaveLength(1);
    expect(events).toContainEqual({ type: 'policy.bundle_ignored', data: { reason: expect.stringMatching(/^unsigned: /) } });
    expect(notices).toEqual([expect.stringContaining('was ignored')]);
    expect(loaded.notes).toEqual(expect.arrayContaining([...notices]));
  });

  it('takes a copy signed by a machine-policy key as the machine policy, still tightened by the user file', async () => {
    await machinePolicy();
    await keep({ version: 1, description: 'From the bundle', export: { allowed: true }, documents: { allowIngestion: false } }, [IT]);
    await writeFile(userPolicyPath(dataDir), JSON.stringify({ version: 1, pii: { prompts: 'redact' } }));
    const { loaded, events, notices } = await resolve();
    expect(loaded.status).toBe('ok');
    expect(loaded.source).toEqual({ machine: keptPolicyPath(dataDir), user: userPolicyPath(dataDir) });
    expect(loaded.hash).toBe(sha(await readFile(keptPolicyPath(dataDir))));
    expect(loaded.policy.description).toBe('From the bundle');
    expect(loaded.policy.export.allowed).toBe(true);
    expect(loaded.policy.pii.prompts).toBe('redact');
    expect(notices).toEqual([]);
    expect(events.map((event) => event.type)).toEqual(['policy.changed']);
    expect(loaded.notes).toEqual([expect.stringContaining('came in the signed bundle "IT policy" v1')]);
  });

  it('does not count a copy signed by a key that is only in the local development trust store', async () => {
    await machinePolicy();
    const db = openDatabase(dataDir);
    try {
      addTrustedKey(db, { publicKey: MINE.publicKey, name: 'mine' });
    } finally {
      db.close();
    }
    await keep(JSON.parse(FORGED), [MINE]);
    const { loaded, events } = await resolve();
    expect(loaded.source.machine).toBe(machinePath);
    expect(loaded.policy.audit.level).toBe('metadata');
    expect(events).toContainEqual({ type: 'policy.bundle_ignored', data: { reason: expect.stringMatching(/^untrusted_key: /) } });
  });

  it('ignores a signed copy whose policy was changed by one byte', async () => {
    await machinePolicy();
    await keep({ version: 1, export: { allowed: false } }, [IT]);
    const bytes = await readFile(keptPolicyPath(dataDir));
    await writeFile(keptPolicyPath(dataDir), Buffer.from(bytes.toString('utf8').replace('false', 'true ')));
    const { loaded, events } = await resolve();
    expect(loaded.source.machine).toBe(machinePath);
    expect(events).toContainEqual({ type: 'policy.bundle_ignored', data: { reason: expect.stringMatching(/^tampered: /) } });
  });

  it('never counts a bundle policy without a machine policy (development mode), even a signed one', async () => {
    await keep(JSON.parse(FORGED), [MINE]);
    const { loaded, events } = await resolve();
    expect(loaded.status).toBe('none');
    expect(loaded.source.machine).toBeNull();
    expect(events).toEqual([{ type: 'policy.bundle_ignored', data: { reason: expect.stringMatching(/^no_machine_policy: no machine policy is installed/) } }]);
  });

  it('ignores a verified copy when the machine policy does not allow policy updates, or names no keys', async () => {
    await keep({ version: 1, export: { allowed: true } }, [IT]);
    await machinePolicy({ bundles: { trustedKeys: [{ name: 'IT', publicKey: IT.publicKey }], allowPolicyUpdates: false } });
    expect((await resolve()).events).toContainEqual({ type: 'policy.bundle_ignored', data: { reason: expect.stringMatching(/^updates_not_allowed: /) } });
    await machinePolicy({ bundles: { allowPolicyUpdates: true } });
    expect((await resolve()).events).toContainEqual({
      type: 'policy.bundle_ignored',
      data: { reason: expect.stringMatching(/^no_machine_policy: the machine policy names no trusted keys/) },
    });
    // The default is off: a machine policy that says nothing about it does not allow it either.
    await writeFile(machinePath, JSON.stringify({ version: 1, bundles: { trustedKeys: [{ name: 'IT', publicKey: IT.publicKey }] } }));
    expect((await resolve()).events).toContainEqual({ type: 'policy.bundle_ignored', data: { reason: expect.stringMatching(/^updates_not_allowed: /) } });
  });

  it('reports a change of the policy in force once, after it was committed', async () => {
    const first = await machinePolicy();
    const start1 = await resolve();
    expect(start1.events).toEqual([{ type: 'policy.changed', data: { from: null, to: first } }]);
    // Not committed (the audit record could not be written): reported again.
    expect((await resolve()).events).toEqual(start1.events);
    await start1.commit();
    expect(JSON.parse(await readFile(lastAppliedPath(dataDir), 'utf8'))).toMatchObject({ sha256: first });
    const start2 = await resolve();
    expect(start2.events).toEqual([]);
    await start2.commit();

    const second = await machinePolicy({ export: { allowed: true } });
    const start3 = await resolve();
    expect(start3.events).toEqual([{ type: 'policy.changed', data: { from: first, to: second } }]);
    await start3.commit();
    expect((await resolve()).events).toEqual([]);

    await rm(machinePath);
    expect((await resolve()).events).toEqual([{ type: 'policy.changed', data: { from: second, to: null } }]);
  });

  it('records nothing on a machine that never had a policy', async () => {
    const start = await resolve();
    expect(start.events).toEqual([]);
    expect(start.loaded.status).toBe('none');
  });

  // Issue 12, finding 2: {"retention":{"auditDays":1}} in the user file purged 201 sealed records.
  it('keeps the machine’s audit retention when the user file asks for 1 day', async () => {
    await machinePolicy();
    await writeFile(userPolicyPath(dataDir), JSON.stringify({ version: 1, retention: { auditDays: 1 } }));
    expect((await resolve()).loaded.policy.retention.auditDays).toBeNull();
    await machinePolicy({ retention: { auditDays: 365 } });
    const { loaded } = await resolve();
    expect(loaded.policy.retention.auditDays).toBe(365);
    expect(loaded.notes).toEqual([expect.stringContaining('retention.auditDays 1 is ignored')]);
  });
});
