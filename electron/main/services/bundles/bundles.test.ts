import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.ts';
import { buildBundle, defaultPayloads, sha256, trustOf, workspace, type Workspace } from '../../../test-support/bundles-fixtures.ts';
import {
  addTrustedKey,
  bundleDir,
  cleanupBundles,
  generateKeyPair,
  inspectBundle,
  installBundle,
  keyIdOf,
  listBundles,
  listTrustedKeys,
  localTrustSource,
  packBundle,
  removeTrustedKey,
  signBundle,
  uninstallBundle,
  verifyBundle,
} from './index.ts';

let ws: Workspace;
beforeEach(async () => {
  ws = await workspace();
});
afterEach(async () => {
  await ws.close();
});

describe('canonicalJson', () => {
  it('sorts keys, drops whitespace and serialises like JCS', () => {
    expect(canonicalJson({ b: [1, 'x', null, true], a: { d: -0, c: 1.5e-7 }, é: 'é', '\u20ac': 1, '\ud83d\ude00': 2 })).toBe(
      '{"a":{"c":1.5e-7,"d":0},"b":[1,"x",null,true],"é":"é","€":1,"😀":2}',
    );
    expect(canonicalJson('line\nbreak "q"')).toBe('"line\\nbreak \\"q\\""');
  });

  // eslint-disable-next-line no-sparse-arrays -- a hole is one of the non-JSON values under test
  it.each([[Number.NaN], [Infinity], [undefined], [() => 1], [Symbol('s')], [10n], [new Date(0)], [{ a: undefined }], ['\ud800'], [[1, , 2]], [new Map()]])(
    'rejects %s',
    (value) => {
      expect(() => canonicalJson(value)).toThrow();
    },
  );

  it('rejects cycles', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cycle/);
  });
});

describe('keys', () => {
  it('derive the key id from the raw public key', () => {
    const key = generateKeyPair();
    expect(key.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(keyIdOf(key.publicKey)).toBe(key.keyId);
    expect(Buffer.from(key.publicKey, 'base64')).toHaveLength(32);
    expect(() => keyIdOf('AAAA')).toThrow(/32 bytes/);
  });
});

describe('bundles', () => {
  it.each(['tar', 'dir'] as const)('round trip (%s): create, sign, verify, install, list, uninstall', async (form) => {
    const publisher = generateKeyPair();
    const bundle = await buildBundle(ws.src, { form, signers: [publisher] });
    const trust = trustOf([publisher]);

    const head = await inspectBundle(bundle);
    expect(head.form).toBe(form);
    expect(head.manifest).toMatchObject({ format: 1, id: 'acme.models', version: 1, publisher: publisher.keyId });
    expect(head.signatures.map((s) => s.keyId)).toEqual([publisher.keyId]);

    const report = await verifyBundle(bundle, trust, { db: ws.db });
    expect(report).toMatchObject({ ok: true, version: 1, expires: '2099-01-01T00:00:00Z', signers: [{ keyId: publisher.keyId, name: 'Key 1' }] });
    expect(report.files.map((f) => f.path)).toEqual(['model.gguf', 'packs/handbook.pack']);
    // Verification alone writes nothing.
    expect(existsSync(path.join(ws.dataDir, 'bundles'))).toBe(false);

    const phases = new Set<string>();
    const installed: string[] = [];
    const outcome = await installBundle(bundle, trust, {
      db: ws.db,
      dataDir: ws.dataDir,
      onProgress: (p) => phases.add(p.phase),
      installers: {
        model: ({ path: file, entry }) => void installed.push(`${entry.kind}:${path.basename(file)}`),
        'knowledge-pack': ({ entry }) => void installed.push(`${entry.kind}:${entry.path}`),
      },
    });
    expect(outcome.ok).toBe(true);
    expect([...phases]).toEqual(['verifying', 'installing', 'registering', 'done']);
    expect(installed).toEqual(['model:model.gguf', 'knowledge-pack:packs/handbook.pack']);

    const [listed] = listBundles(ws.db);
    expect(listed).toMatchObject({ id: 'acme.models', version: 1, path: 'bundles/installed/acme.models/1', publisher: publisher.keyId });
    const dir = bundleDir(ws.dataDir, listed!);
    for (const payload of defaultPayloads()) expect(sha256(await readFile(path.join(dir, 'payload', payload.path)))).toBe(sha256(payload.bytes));
    expect((await readdir(dir)).sort()).toEqual(['manifest.json', 'manifest.sig.json', 'payload']);
    // The installed folder is itself a bundle that still verifies (bar the replay guard).
    expect((await verifyBundle(dir, trust, { db: ws.db })).reason?.code).toBe('replay');
    expect(await readdir(path.join(ws.dataDir, 'bundles', 'staging'))).toEqual([]);

    await uninstallBundle(ws.db, ws.dataDir, 'acme.models');
    expect(listBundles(ws.db)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    // Still refused after uninstall: the version record stays.
    expect((await installBundle(bundle, trust, { db: ws.db, dataDir: ws.dataDir })).report.reason?.code).toBe('replay');
  });

  it('upgrades in place, removes the old version and refuses the old one afterwards', async () => {
    const key = generateKeyPair();
    const trust = trustOf([key]);
    const v1 = await buildBundle(ws.src, { signers: [key], version: 1 });
    const v2 = await buildBundle(ws.src, { signers: [key], version: 2, payloads: defaultPayloads(7) });
    expect((await installBundle(v1, trust, { db: ws.db, dataDir: ws.dataDir })).ok).toBe(true);
    expect((await installBundle(v2, trust, { db: ws.db, dataDir: ws.dataDir })).ok).toBe(true);
    expect(listBundles(ws.db).map((b) => b.version)).toEqual([2]);
    expect(await readdir(path.join(ws.dataDir, 'bundles', 'installed', 'acme.models'))).toEqual(['2']);
    const again = await installBundle(v1, trust, { db: ws.db, dataDir: ws.dataDir });
    expect(again.report.reason?.code).toBe('rollback');
    expect(again.report.reason?.message).toMatch(/older than version 2/);
  });

  it('rolls everything back when an installer throws', async () => {
    const key = generateKeyPair();
    const trust = trustOf([key]);
    const v1 = await buildBundle(ws.src, { signers: [key], version: 1 });
    const v2 = await buildBundle(ws.src, { signers: [key], version: 2 });
    await installBundle(v1, trust, { db: ws.db, dataDir: ws.dataDir });
    await expect(
      installBundle(v2, trust, {
        db: ws.db,
        dataDir: ws.dataDir,
        installers: {
          'knowledge-pack': () => {
            throw new Error('documents service down');
          },
        },
      }),
    ).rejects.toMatchObject({ code: 'internal', details: 'documents service down' });
    expect(listBundles(ws.db).map((b) => b.version)).toEqual([1]);
    expect(await readdir(path.join(ws.dataDir, 'bundles', 'installed', 'acme.models'))).toEqual(['1']);
    expect(await readdir(path.join(ws.dataDir, 'bundles', 'staging'))).toEqual([]);
    // Not recorded as seen: the same bundle can be installed once the installer works.
    expect((await installBundle(v2, trust, { db: ws.db, dataDir: ws.dataDir })).ok).toBe(true);
  });

  it('cancels on abort and leaves nothing behind', async () => {
    const key = generateKeyPair();
    const bundle = await buildBundle(ws.src, { signers: [key] });
    const controller = new AbortController();
    controller.abort();
    await expect(installBundle(bundle, trustOf([key]), { db: ws.db, dataDir: ws.dataDir, signal: controller.signal })).rejects.toMatchObject({
      code: 'cancelled',
    });
    expect(await readdir(path.join(ws.dataDir, 'bundles', 'staging'))).toEqual([]);
    expect(listBundles(ws.db)).toEqual([]);
  });

  it('signs a tar atomically, keeps payload bytes, and supports a threshold of two', async () => {
    const [a, b, c] = [generateKeyPair(), generateKeyPair(), generateKeyPair()];
    const bundle = await buildBundle(ws.src, { signers: [a] });
    const trust = trustOf([a, b], 2);
    expect((await verifyBundle(bundle, trust, { db: ws.db })).reason?.code).toBe('below_threshold');
    await signBundle(bundle, c.privateKeyPem);
    expect((await verifyBundle(bundle, trust, { db: ws.db })).reason).toMatchObject({
      code: 'below_threshold',
      message: expect.stringContaining(c.keyId.slice(0, 4)),
    });
    await signBundle(bundle, b.privateKeyPem);
    // Re-signing with the same key replaces its signature instead of adding one.
    await signBundle(bundle, b.privateKeyPem);
    expect((await inspectBundle(bundle)).signatures.map((s) => s.keyId)).toEqual([a.keyId, c.keyId, b.keyId]);
    const report = await verifyBundle(bundle, trust, { db: ws.db });
    expect(report.ok).toBe(true);
    expect(report.signers.map((s) => s.keyId).sort()).toEqual([a.keyId, b.keyId].sort());
    expect((await readdir(ws.src)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('packs a signed folder into a tar that verifies the same', async () => {
    const key = generateKeyPair();
    const dir = await buildBundle(ws.src, { form: 'dir', signers: [key] });
    const tar = path.join(ws.src, 'packed.tar');
    await packBundle(dir, tar);
    expect((await verifyBundle(tar, trustOf([key]), { db: ws.db })).ok).toBe(true);
  });

  it('keeps a development trust store in SQLite', async () => {
    const key = generateKeyPair();
    const bundle = await buildBundle(ws.src, { signers: [key] });
    expect((await verifyBundle(bundle, localTrustSource(ws.db), { db: ws.db })).reason).toMatchObject({
      code: 'untrusted_key',
      message: expect.stringMatching(/development mode/),
    });
    const stored = addTrustedKey(ws.db, { publicKey: key.publicKey, name: 'Dev laptop' });
    expect(stored.id).toBe(key.keyId);
    expect(listTrustedKeys(ws.db).map((k) => k.name)).toEqual(['Dev laptop']);
    expect((await verifyBundle(bundle, localTrustSource(ws.db), { db: ws.db })).ok).toBe(true);
    expect(removeTrustedKey(ws.db, key.keyId)).toBe(true);
    expect(listTrustedKeys(ws.db)).toEqual([]);
    expect(() => addTrustedKey(ws.db, { publicKey: 'nope', name: 'x' })).toThrow(/32 bytes/);
  });

  it('honours the grace period after expiry', async () => {
    const key = generateKeyPair();
    const bundle = await buildBundle(ws.src, { signers: [key], expires: '2025-06-01T00:00:00Z' });
    const now = new Date('2025-06-03T00:00:00Z');
    expect((await verifyBundle(bundle, trustOf([key]), { db: ws.db, now })).reason?.code).toBe('expired');
    expect((await verifyBundle(bundle, trustOf([key]), { db: ws.db, now, graceDays: 3 })).ok).toBe(true);
  });

  it('cleans up staging leftovers and unregistered installed folders at start', async () => {
    const key = generateKeyPair();
    await installBundle(await buildBundle(ws.src, { signers: [key] }), trustOf([key]), { db: ws.db, dataDir: ws.dataDir });
    const bundles = path.join(ws.dataDir, 'bundles');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(path.join(bundles, 'staging', '999999999-dead', 'payload'), { recursive: true });
    await mkdir(path.join(bundles, 'installed', 'acme.models', '5', 'payload'), { recursive: true });
    await writeFile(path.join(bundles, 'installed', 'acme.models', '5', '.installing'), '999999999');
    const report = await cleanupBundles(ws.dataDir, ws.db);
    expect(report).toEqual({ removedStaging: 1, removedInstalled: ['bundles/installed/acme.models/5'], missing: [] });
    expect(await readdir(path.join(bundles, 'installed', 'acme.models'))).toEqual(['1']);
    expect(await readdir(path.join(bundles, 'staging'))).toEqual([]);
  });

  it('refuses to create a bundle with an unsafe path or a bad id', async () => {
    const key = generateKeyPair();
    await expect(buildBundle(ws.src, { signers: [key], payloads: [{ path: '../escape', kind: 'model', bytes: Buffer.from('x') }] })).rejects.toMatchObject({
      code: 'bad_request',
    });
    await expect(buildBundle(ws.src, { signers: [key], id: 'Not/An/Id' })).rejects.toMatchObject({ code: 'bad_request' });
  });
});
