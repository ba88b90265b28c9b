import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addInstallationKeyToAnchor, anchorFilePath, anchorInstallationKey, createAuditLog, parseAnchor, verifyAudit } from '../audit/index.ts';
import { openDatabase } from '../storage/sqlite.ts';
import { ensureInstallationKey, installationKeyPath, readInstallationKey } from './installation-key.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-installation-key-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the installation key', () => {
  it('is made once, readable only by its owner, and read back the same', async () => {
    const first = await ensureInstallationKey(dir);
    expect(first.created).toBe(true);
    expect(first.key.publicKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(first.key.keyId).toMatch(/^[0-9a-f]{16}$/);
    if (process.platform !== 'win32') expect((await stat(installationKeyPath(dir))).mode & 0o777).toBe(0o600);
    const again = await ensureInstallationKey(dir);
    expect(again.created).toBe(false);
    expect(again.key.publicKey).toBe(first.key.publicKey);
    expect(readInstallationKey(dir)?.keyId).toBe(first.key.keyId);
  });

  it('refuses a key file whose public key is not its private key’s', async () => {
    await ensureInstallationKey(dir);
    const file = installationKeyPath(dir);
    const json = JSON.parse(await readFile(file, 'utf8')) as { publicKey: string };
    await writeFile(file, JSON.stringify({ ...json, publicKey: Buffer.alloc(32, 1).toString('base64') }));
    expect(() => readInstallationKey(dir)).toThrow(/damaged/);
  });

  it('goes into the audit anchor beside K0; the anchor still verifies the log, and an older anchor without it too', async () => {
    const db = openDatabase(dir);
    try {
      const log = createAuditLog({ db, dataDir: dir, level: 'metadata', user: 'alice' });
      log.record({ type: 'app.start', data: { version: '1.0.0' } });
      const before = await readFile(anchorFilePath(dir), 'utf8');
      expect(anchorInstallationKey(before)).toBeNull();
      expect(verifyAudit(db, parseAnchor(before)).ok).toBe(true);
      const { key } = await ensureInstallationKey(dir);
      const named = { algorithm: 'Ed25519' as const, keyId: key.keyId, publicKey: key.publicKey, createdAt: key.createdAt };
      expect(addInstallationKeyToAnchor(dir, named)).toBe(true);
      expect(addInstallationKeyToAnchor(dir, named)).toBe(false);
      const after = await readFile(anchorFilePath(dir), 'utf8');
      expect(anchorInstallationKey(after)).toEqual(named);
      const [oldJson, newJson] = [before, after].map((text) => JSON.parse(text) as Record<string, unknown>);
      expect(newJson).toEqual({ ...oldJson, installationKey: named });
      expect(parseAnchor(after)).toEqual(parseAnchor(before));
      expect(verifyAudit(db, parseAnchor(after)).ok).toBe(true);
    } finally {
      db.close();
    }
  });
});
