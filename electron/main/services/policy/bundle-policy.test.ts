import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPair, keyIdOf, type GeneratedKeyPair } from '../bundles/keys.ts';
import type { TrustSource } from '../bundles/trust.ts';
import { signedPolicy, type SignedPolicy } from '../../../test-support/policy-fixtures.ts';
import { hasKeptPolicy, installBundlePolicy, keptPolicyDir, keptPolicyPath, loadBundlePolicy, removeBundlePolicy } from './bundle-policy.ts';

let dir: string;
let dataDir: string;
const IT = generateKeyPair();
const OTHER = generateKeyPair();

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-bundle-policy-'));
  dataDir = path.join(dir, 'data');
  await mkdir(dataDir);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const trustOf = (keys: readonly GeneratedKeyPair[], threshold = 1): TrustSource => ({
  source: 'policy',
  threshold,
  keys: keys.map((key) => ({ id: keyIdOf(key.publicKey), publicKey: key.publicKey, name: `key ${key.keyId}` })),
});

const POLICY = { version: 1, description: 'From the bundle', documents: { allowIngestion: false } };

/** A managed location this process cannot write, even as root: its parent is a file. */
async function unwritableMachinePath(): Promise<string> {
  const blocker = path.join(dir, 'not-a-folder');
  await writeFile(blocker, 'x');
  return path.join(blocker, 'policy.json');
}

describe('installBundlePolicy', () => {
  it('installs into the managed location when this process may write there, readable by every user', async () => {
    const signed = signedPolicy(POLICY, [IT]);
    const machinePolicyPath = path.join(dir, 'etc', 'soberana', 'policy.json');
    const installed = await installBundlePolicy({ ...signed, policyPathInManifest: 'policy.json', machinePolicyPath, dataDir });
    expect(installed).toMatchObject({ where: 'machine', path: machinePolicyPath });
    expect(await readFile(machinePolicyPath)).toEqual(signed.bytes);
    if (process.platform !== 'win32') expect((await stat(machinePolicyPath)).mode & 0o777).toBe(0o644);
    expect(await hasKeptPolicy(dataDir)).toBe(false);
    await installed.undo();
    await expect(stat(machinePolicyPath)).rejects.toThrow(/ENOENT/);
  });

  it('replaces a kept copy when it can install into the managed location, and undo puts it back', async () => {
    const old = signedPolicy({ version: 1, description: 'old' }, [IT]);
    await installBundlePolicy({ ...old, policyPathInManifest: 'policy.json', machinePolicyPath: await unwritableMachinePath(), dataDir });
    const machinePolicyPath = path.join(dir, 'managed', 'policy.json');
    const installed = await installBundlePolicy({ ...signedPolicy(POLICY, [IT]), policyPathInManifest: 'policy.json', machinePolicyPath, dataDir });
    expect(installed.where).toBe('machine');
    expect(await hasKeptPolicy(dataDir)).toBe(false);
    await installed.undo();
    expect(await readFile(keptPolicyPath(dataDir))).toEqual(old.bytes);
  });

  it('keeps the policy with the exact signed manifest and signatures where it cannot write the managed location', async () => {
    const signed = signedPolicy(POLICY, [IT]);
    const installed = await installBundlePolicy({ ...signed, policyPathInManifest: 'policy.json', machinePolicyPath: await unwritableMachinePath(), dataDir });
    expect(installed).toMatchObject({ where: 'data-folder', path: keptPolicyPath(dataDir) });
    const kept = keptPolicyDir(dataDir);
    expect(await readFile(path.join(kept, 'policy.json'))).toEqual(signed.bytes);
    expect(await readFile(path.join(kept, 'manifest.json'))).toEqual(signed.manifestBytes);
    expect(await readFile(path.join(kept, 'manifest.sig.json'))).toEqual(signed.signatureBytes);
    const loaded = await loadBundlePolicy({ dataDir, machineTrust: trustOf([IT]) });
    expect(loaded).toMatchObject({ kind: 'verified', path: keptPolicyPath(dataDir), manifest: { id: 'it.policy', version: 1 } });
    await installed.undo();
    expect(await hasKeptPolicy(dataDir)).toBe(false);
  });

  it('refuses bytes the manifest does not list, and an invalid policy, writing nothing', async () => {
    const signed = signedPolicy(POLICY, [IT]);
    const machinePolicyPath = path.join(dir, 'etc', 'policy.json');
    await expect(
      installBundlePolicy({ ...signed, bytes: Buffer.from('{"version":1}'), policyPathInManifest: 'policy.json', machinePolicyPath, dataDir }),
    ).rejects.toThrow(/does not match/);
    await expect(installBundlePolicy({ ...signed, policyPathInManifest: 'other.json', machinePolicyPath, dataDir })).rejects.toThrow(/does not match/);
    const invalid = signedPolicy({ version: 1, audit: { level: 'none' } }, [IT]);
    await expect(installBundlePolicy({ ...invalid, policyPathInManifest: 'policy.json', machinePolicyPath, dataDir })).rejects.toThrow(/not valid/);
    await expect(stat(machinePolicyPath)).rejects.toThrow(/ENOENT/);
    expect(await hasKeptPolicy(dataDir)).toBe(false);
  });
});

describe('loadBundlePolicy: the kept copy counts only when it verifies against the machine policy’s keys', () => {
  async function keep(signed: SignedPolicy): Promise<void> {
    await installBundlePolicy({ ...signed, policyPathInManifest: 'policy.json', machinePolicyPath: await unwritableMachinePath(), dataDir });
  }

  it('is nothing when there is no copy', async () => {
    expect(await loadBundlePolicy({ dataDir, machineTrust: trustOf([IT]) })).toEqual({ kind: 'none' });
  });

  it('accepts a copy signed by a machine-policy key, with the threshold', async () => {
    await keep(signedPolicy(POLICY, [IT, OTHER]));
    const loaded = await loadBundlePolicy({ dataDir, machineTrust: trustOf([IT, OTHER], 2) });
    expect(loaded.kind).toBe('verified');
    if (loaded.kind === 'verified') expect(JSON.parse(loaded.bytes.toString('utf8'))).toEqual(POLICY);
  });

  it('refuses an unsigned copy (finding 1: the forged file written by a user program)', async () => {
    const forged = Buffer.from(
      '{"version":1,"audit":{"level":"off"},"export":{"allowed":true},"models":{"allowUnsigned":true},"bundles":{"trustedKeys":null}}',
    );
    await mkdir(keptPolicyDir(dataDir), { recursive: true });
    await writeFile(keptPolicyPath(dataDir), forged);
    expect(await loadBundlePolicy({ dataDir, machineTrust: trustOf([IT]) })).toMatchObject({ kind: 'refused', code: 'unsigned' });
  });

  it('refuses a copy with no signatures in its signature file', async () => {
    await keep(signedPolicy(POLICY, []));
    expect(await loadBundlePolicy({ dataDir, machineTrust: trustOf([IT]) })).toMatchObject({ kind: 'refused', code: 'unsigned' });
  });

  it('refuses a copy signed by a key the machine policy does not list', async () => {
    await keep(signedPolicy(POLICY, [OTHER]));
    expect(await loadBundlePolicy({ dataDir, machineTrust: trustOf([IT]) })).toMatchObject({ kind: 'refused', code: 'untrusted_key' });
  });

  it('refuses a copy below the machine policy’s threshold', async () => {
    await keep(signedPolicy(POLICY, [IT]));
    expect(await loadBundlePolicy({ dataDir, machineTrust: trustOf([IT, OTHER], 2) })).toMatchObject({ kind: 'refused', code: 'below_threshold' });
  });

  it('refuses a copy whose policy changed by one byte', async () => {
    const signed = signedPolicy(POLICY, [IT]);
    await keep(signed);
    const tampered = Buffer.from(signed.bytes);
    tampered[tampered.indexOf('false')] = 't'.charCodeAt(0);
    await writeFile(keptPolicyPath(dataDir), tampered);
    expect(await loadBundlePolicy({ dataDir, machineTrust: trustOf([IT]) })).toMatchObject({ kind: 'refused', code: 'tampered' });
  });

  it('refuses a copy whose manifest was edited to match other bytes', async () => {
    const signed = signedPolicy(POLICY, [IT]);
    const forged = signedPolicy({ version: 1, export: { allowed: true } }, [OTHER]);
    await keep(signed);
    await writeFile(keptPolicyPath(dataDir), forged.bytes);
    await writeFile(path.join(keptPolicyDir(dataDir), 'manifest.json'), forged.manifestBytes);
    expect(await loadBundlePolicy({ dataDir, machineTrust: trustOf([IT]) })).toMatchObject({ kind: 'refused', code: 'bad_signature' });
  });

  it('refuses an expired bundle, and honours the machine policy’s grace', async () => {
    await keep(signedPolicy(POLICY, [IT], { expires: '2025-06-01T00:00:00Z' }));
    const now = new Date('2025-06-03T00:00:00Z');
    expect(await loadBundlePolicy({ dataDir, machineTrust: trustOf([IT]), now })).toMatchObject({ kind: 'refused', code: 'expired' });
    expect((await loadBundlePolicy({ dataDir, machineTrust: trustOf([IT]), now, graceDays: 7 })).kind).toBe('verified');
  });

  it('never counts without a machine policy with keys, or with a local (development) trust source', async () => {
    await keep(signedPolicy(POLICY, [IT]));
    expect(await loadBundlePolicy({ dataDir, machineTrust: null })).toMatchObject({ kind: 'refused', code: 'no_machine_policy' });
    expect(await loadBundlePolicy({ dataDir, machineTrust: trustOf([]) })).toMatchObject({ kind: 'refused', code: 'no_machine_policy' });
    expect(await loadBundlePolicy({ dataDir, machineTrust: { ...trustOf([IT]), source: 'local' } })).toMatchObject({
      kind: 'refused',
      code: 'no_machine_policy',
    });
  });

  it('refuses garbage in place of the manifest or signatures, never throws', async () => {
    await keep(signedPolicy(POLICY, [IT]));
    await writeFile(path.join(keptPolicyDir(dataDir), 'manifest.sig.json'), '[[[[');
    expect(await loadBundlePolicy({ dataDir, machineTrust: trustOf([IT]) })).toMatchObject({ kind: 'refused', code: 'malformed_signature' });
    await writeFile(path.join(keptPolicyDir(dataDir), 'manifest.sig.json'), `${'['.repeat(200_000)}`);
    expect((await loadBundlePolicy({ dataDir, machineTrust: trustOf([IT]) })).kind).toBe('refused');
  });

  it('is gone after removeBundlePolicy', async () => {
    await keep(signedPolicy(POLICY, [IT]));
    await removeBundlePolicy(dataDir);
    expect(await loadBundlePolicy({ dataDir, machineTrust: trustOf([IT]) })).toEqual({ kind: 'none' });
  });
});
