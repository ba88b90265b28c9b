import { mkdir, mkdtemp, open, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { presetSpec, writeGguf } from '../../../e2e/fixtures/gguf/writer.ts';
import { createBundle, generateKeyPair, signBundle, type GeneratedKeyPair } from './bundles/index.ts';
import { installWithPayloads, uninstallWithPayloads } from './bundles/service.ts';
import { keptPolicyDir, keptPolicyPath } from './policy/index.ts';
import { createCore, type Core } from './core.ts';
import { checkBeforeLoad, listModels } from './models/index.ts';

// Installing bundles with their payloads through the app's services: a model vouched for
// by a bundle is re-hashed before every load, and a policy payload applies only when the
// policy in force allows bundles to change it, as the machine policy at the next start.

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };
const cores: Core[] = [];
let dir: string;
let key: GeneratedKeyPair;
let model: string;

const machinePolicy = async (name: string, allowPolicyUpdates: boolean) => {
  const file = path.join(dir, `${name}.json`);
  await writeFile(
    file,
    JSON.stringify({ version: 1, bundles: { trustedKeys: [{ name: 'IT', publicKey: key.publicKey }], signatureThreshold: 1, allowPolicyUpdates } }),
  );
  return file;
};

const openCore = async (dataDir: string, policyFile: string) => {
  const core = await createCore({ dataDir, host: HOST, policyFile });
  cores.push(core);
  return core;
};

async function bundleWith(name: string, files: Parameters<typeof createBundle>[0]['files'], version = 1) {
  const out = path.join(dir, `${name}-${version}.tar`);
  await createBundle({ out, id: name, name, version, expires: new Date(Date.now() + 86_400_000).toISOString(), publisherKeyId: key.keyId, files });
  await signBundle(out, key.privateKeyPem);
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-bundle-install-'));
  key = generateKeyPair();
  model = path.join(dir, 'vouched.gguf');
  await writeGguf(model, presetSpec('tiny', 'Q8_0', 33));
});

afterEach(async () => {
  for (const core of cores.splice(0)) await core.close();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('installing bundles with their payloads', () => {
  it('marks a model as vouched for, and refuses to load it once its bytes change even with the same size and time', async () => {
    const core = await openCore(await mkdtemp(path.join(dir, 'data-')), await machinePolicy('strict', false));
    const bundle = await bundleWith('models', [{ kind: 'model', source: model, meta: { displayName: 'Vouched' } }]);
    const outcome = await installWithPayloads(core.bundles, bundle);
    expect(outcome.ok).toBe(true);
    const [record] = listModels(core.storage);
    expect(record?.verifiedByBundle).toMatch(/^bundle models v1, signed by IT$/);
    await expect(checkBeforeLoad(core.storage, record!.id)).resolves.toMatchObject({ path: record!.files[0] });

    // One byte flipped in place: size and modification time can be put back, the hash cannot.
    const file = record!.files[0]!;
    const handle = await open(file, 'r+');
    const { mtime } = await handle.stat();
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, 4096);
    byte[0] = byte[0]! ^ 0xff;
    await handle.write(byte, 0, 1, 4096);
    await handle.close();
    await utimes(file, mtime, mtime);
    await expect(checkBeforeLoad(core.storage, record!.id)).rejects.toMatchObject({ code: 'rejected_file' });

    await uninstallWithPayloads(core.bundles, 'models');
    expect(listModels(core.storage)).toEqual([]);
  });

  it('installs a policy payload into the managed location when it may write there, and only when the policy allows bundle updates', async () => {
    const payload = path.join(dir, 'payload-policy.json');
    await writeFile(
      payload,
      JSON.stringify({
        version: 1,
        description: 'From the bundle',
        bundles: { trustedKeys: [{ name: 'IT', publicKey: key.publicKey }], allowPolicyUpdates: true },
        documents: { allowIngestion: false },
      }),
    );
    const bundle = await bundleWith('policy', [{ kind: 'policy', source: payload, meta: {} }]);

    // Refused where the policy in force does not allow it: nothing installed.
    const refusedDir = await mkdtemp(path.join(dir, 'data-'));
    const strict = await openCore(refusedDir, await machinePolicy('no-updates', false));
    await expect(installWithPayloads(strict.bundles, bundle)).rejects.toMatchObject({ code: 'forbidden' });

    // Allowed, and this process may write the managed location (as the installer or an
    // elevated CLI can): the policy is the machine policy from the next start.
    const dataDir = await mkdtemp(path.join(dir, 'data-'));
    const machine = await machinePolicy('updates', true);
    let core = await openCore(dataDir, machine);
    expect((await installWithPayloads(core.bundles, bundle)).ok).toBe(true);
    expect(core.governance.policy.documents.allowIngestion).toBe(true);
    await core.close();
    cores.splice(cores.indexOf(core), 1);
    core = await openCore(dataDir, machine);
    expect(core.governance.loaded.source.machine).toBe(machine);
    expect(core.governance.policy.description).toBe('From the bundle');
    expect(core.governance.policy.documents.allowIngestion).toBe(false);
    // The change of policy in force is on the record.
    expect(core.audit.log?.list({ type: 'policy.changed' }).length).toBeGreaterThan(0);
  });

  it('ignores a policy a user program wrote into the data folder (finding 1), with a record and a notice', async () => {
    const dataDir = await mkdtemp(path.join(dir, 'data-'));
    const machine = await machinePolicy('kept', true);
    const forged = JSON.stringify({
      version: 1,
      audit: { level: 'off' },
      export: { allowed: true },
      models: { allowUnsigned: true },
      bundles: { trustedKeys: null },
    });
    // Where earlier versions read it, and where a kept bundle policy lives now, unsigned.
    await mkdir(keptPolicyDir(dataDir), { recursive: true });
    await writeFile(path.join(dataDir, 'policy', 'from-bundle.json'), forged);
    await writeFile(keptPolicyPath(dataDir), forged);
    const core = await openCore(dataDir, machine);
    expect(core.governance.loaded.source.machine).toBe(machine);
    expect(core.governance.policy.audit.level).toBe('metadata');
    expect(core.governance.policy.bundles.trustedKeys).toHaveLength(1);
    const ignored = core.audit.log?.list({ type: 'policy.bundle_ignored' }) ?? [];
    expect(ignored).toHaveLength(1);
    expect(core.governance.info().notes.join(' ')).toMatch(/bundle/i);
  });

  it('removes at start a knowledge pack whose bundle never committed', async () => {
    const dataDir = await mkdtemp(path.join(dir, 'data-'));
    const policy = await machinePolicy('packs', false);
    let core = await openCore(dataDir, policy);
    const collection = await core.knowledge.createCollection('Half installed', null);
    // What a crash between the pack's import and the bundle's commit leaves behind.
    core.storage.prepare('INSERT INTO bundle_collections (bundle_id, collection_id) VALUES (?, ?)').run('never-committed', collection.id);
    await core.close();
    cores.splice(cores.indexOf(core), 1);
    core = await openCore(dataDir, policy);
    expect(core.knowledge.collections().map((entry) => entry.name)).toEqual([]);
  });
});
