import { z } from 'zod';
import { AppError } from '../../../common/result.ts';
import type { Database } from '../storage/sqlite.ts';
import { decodePublicKey, keyIdOf, publicKeyObject, verifyBytes, type BundleSignature } from './keys.ts';
import { fixedMessages, reject, shortKey } from './rejections.ts';

export interface TrustedKey {
  readonly id: string;
  /** Raw 32-byte Ed25519 public key, base64. */
  readonly publicKey: string;
  readonly name: string;
}

/** Which keys may sign bundles, and how many of them must. Comes from the policy, or the local store in development. */
export interface TrustSource {
  readonly keys: readonly TrustedKey[];
  readonly threshold: number;
  readonly source: 'policy' | 'local';
}

export interface Signer {
  readonly keyId: string;
  readonly name: string;
}

const MAX_SIGNATURES = 64;

const signaturesSchema = z
  .array(
    z.strictObject({
      keyId: z.string().regex(/^[0-9a-f]{16}$/),
      signature: z
        .string()
        .regex(/^[A-Za-z0-9+/]*={0,2}$/)
        .max(200),
    }),
  )
  .max(MAX_SIGNATURES);

export function parseSignatures(bytes: Buffer): BundleSignature[] {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    reject('malformed_signature', fixedMessages.malformed_signature, error instanceof Error ? error.message : String(error));
  }
  const parsed = signaturesSchema.safeParse(value);
  if (!parsed.success) reject('malformed_signature', fixedMessages.malformed_signature, z.prettifyError(parsed.error));
  return parsed.data;
}

/** Throws bad_request for a trust source no bundle could ever satisfy correctly (a caller's bug, not the bundle's fault). */
export function assertTrustSource(trust: TrustSource): void {
  if (!Number.isInteger(trust.threshold) || trust.threshold < 1) {
    throw new AppError('bad_request', 'The signature threshold must be a whole number of at least 1.', `threshold ${trust.threshold}`);
  }
  for (const key of trust.keys) {
    if (keyIdOf(key.publicKey) !== key.id)
      throw new AppError(
        'bad_request',
        `The trusted key "${key.name}" has an id that does not match its public key.`,
        `listed ${key.id}, computed ${keyIdOf(key.publicKey)}`,
      );
  }
}

/**
 * Checks the detached signatures over manifest.json's bytes. A signature that claims a
 * trusted key and does not verify means tampering, and wins over every other finding.
 */
export function checkSignatures(manifestBytes: Buffer, signatures: readonly BundleSignature[], trust: TrustSource): Signer[] {
  assertTrustSource(trust);
  const trusted = new Map(trust.keys.map((key) => [key.id, key]));
  const valid = new Map<string, Signer>();
  const untrusted: string[] = [];
  const bad: string[] = [];
  for (const { keyId, signature } of signatures) {
    const key = trusted.get(keyId);
    if (key === undefined) {
      untrusted.push(keyId);
      continue;
    }
    if (verifyBytes(manifestBytes, signature, publicKeyObject(key.publicKey))) valid.set(keyId, { keyId, name: key.name });
    else bad.push(keyId);
  }
  const where = trust.source === 'policy' ? "the policy's trusted keys" : "this machine's trusted keys (development mode)";
  if (bad.length > 0) {
    const key = trusted.get(bad[0] ?? '');
    reject(
      'bad_signature',
      `The signature by key ${shortKey(bad[0] ?? '')}${key === undefined ? '' : ` ("${key.name}")`} does not match the bundle's contents: the manifest or its signature was changed after signing. Do not install it; get a fresh copy from the publisher.`,
      `bad signatures from ${bad.join(', ')}`,
    );
  }
  if (valid.size >= trust.threshold) return [...valid.values()];
  const untrustedText = untrusted.map(shortKey).join(', ');
  if (valid.size > 0) {
    reject(
      'below_threshold',
      `The bundle has ${valid.size} valid signature${valid.size === 1 ? '' : 's'} from trusted keys, but ${trust.threshold} are required. Have more trusted keys sign it${untrusted.length > 0 ? `, or add the other signers (${untrustedText}) to ${where}` : ''}.`,
      `valid: ${[...valid.keys()].join(', ')}; untrusted: ${untrusted.join(', ') || 'none'}; threshold ${trust.threshold}`,
    );
  }
  if (untrusted.length > 0) {
    reject(
      'untrusted_key',
      `Signed by key ${untrustedText} which this machine does not trust. Add the key to ${where}, or get the bundle re-signed by a trusted key.`,
      `signers: ${untrusted.join(', ')}; trusted: ${[...trusted.keys()].join(', ') || 'none'}`,
    );
  }
  reject('unsigned', fixedMessages.unsigned);
}

// --- Development-mode trust store: used only when no policy names trusted keys. ---

interface KeyRow {
  id: string;
  public_key: string;
  name: string;
  added_at: string;
}

export interface StoredTrustedKey extends TrustedKey {
  readonly addedAt: string;
}

export function addTrustedKey(db: Database, input: { publicKey: string; name: string }, now = new Date()): StoredTrustedKey {
  const publicKey = decodePublicKey(input.publicKey.trim()).toString('base64');
  const name = input.name.trim();
  if (name.length === 0 || name.length > 200) throw new AppError('bad_request', 'Give the key a name of 1 to 200 characters.');
  const key = { id: keyIdOf(publicKey), publicKey, name, addedAt: now.toISOString() };
  db.prepare('INSERT INTO bundle_trusted_keys (id, public_key, name, added_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name').run(
    key.id,
    key.publicKey,
    key.name,
    key.addedAt,
  );
  return listTrustedKeys(db).find((stored) => stored.id === key.id) ?? key;
}

export function listTrustedKeys(db: Database): StoredTrustedKey[] {
  return (db.prepare('SELECT id, public_key, name, added_at FROM bundle_trusted_keys ORDER BY added_at, id').all() as unknown as KeyRow[]).map((row) => ({
    id: row.id,
    publicKey: row.public_key,
    name: row.name,
    addedAt: row.added_at,
  }));
}

/** Returns whether a key was removed. */
export function removeTrustedKey(db: Database, keyId: string): boolean {
  return db.prepare('DELETE FROM bundle_trusted_keys WHERE id = ?').run(keyId).changes > 0;
}

export function localTrustSource(db: Database, threshold = 1): TrustSource {
  return { keys: listTrustedKeys(db).map(({ id, publicKey, name }) => ({ id, publicKey, name })), threshold, source: 'local' };
}
