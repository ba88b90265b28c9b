import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addTrustedKey, generateKeyPair } from './bundles/index.ts';
import { createGovernance } from './governance.ts';
import { loadPolicy, userPolicyPath } from './policy/index.ts';
import { openDatabase, type Database } from './storage/sqlite.ts';

let dir: string;
let machinePath: string;
let db: Database;
const LOCAL = generateKeyPair();
const IT = generateKeyPair();

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-governance-'));
  machinePath = path.join(dir, 'machine.json');
  db = openDatabase(dir);
  addTrustedKey(db, { publicKey: LOCAL.publicKey, name: 'my own key' });
});

afterEach(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

const governance = async () => createGovernance(await loadPolicy({ machinePath, userPath: userPolicyPath(dir) }));

describe('governance: the local development trust store', () => {
  it('is used in development mode, which info() says plainly', async () => {
    const gov = await governance();
    expect(gov.mode).toBe('development');
    expect(gov.info()).toMatchObject({ status: 'none', mode: 'development' });
    expect(gov.trust(db)).toMatchObject({ source: 'local', keys: [expect.objectContaining({ publicKey: LOCAL.publicKey })] });
    expect(() => gov.assertLocalTrustEditable()).not.toThrow();
  });

  // Issue 12, finding 3: with a policy naming no keys, `keys trust` + a self-signed bundle got past allowUnsigned: false.
  it('is never consulted when a machine policy exists, even one that names no keys: nothing is trusted', async () => {
    await writeFile(machinePath, JSON.stringify({ version: 1, models: { allowUnsigned: false } }));
    const gov = await governance();
    expect(gov.mode).toBe('managed');
    expect(gov.info().mode).toBe('managed');
    expect(gov.trust(db)).toEqual({ source: 'policy', threshold: 1, keys: [] });
    expect(() => gov.assertLocalTrustEditable()).toThrow(
      expect.objectContaining({ code: 'forbidden', message: expect.stringContaining('only the keys it lists') }),
    );
  });

  it('gives way to the machine policy’s keys', async () => {
    await writeFile(machinePath, JSON.stringify({ version: 1, bundles: { trustedKeys: [{ name: 'IT', publicKey: IT.publicKey }] } }));
    const gov = await governance();
    expect(gov.trust(db)).toMatchObject({ source: 'policy', keys: [{ publicKey: IT.publicKey, name: 'IT' }] });
  });

  it('is not consulted under a broken machine policy (locked down, still managed)', async () => {
    await writeFile(machinePath, '{"version": 1');
    const gov = await governance();
    expect(gov.mode).toBe('managed');
    expect(gov.trust(db)).toEqual({ source: 'policy', threshold: 1, keys: [] });
  });

  it('stays development mode with only a user file', async () => {
    await writeFile(userPolicyPath(dir), JSON.stringify({ version: 1, pii: { prompts: 'redact' } }));
    const gov = await governance();
    expect(gov.info()).toMatchObject({ status: 'ok', mode: 'development' });
    expect(gov.trust(db).source).toBe('local');
  });
});
