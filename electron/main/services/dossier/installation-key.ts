import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../../../common/result.ts';
import { writeFileAtomic } from '../atomic-file.ts';
import { keyIdOf } from '../bundles/keys.ts';

// The installation's own Ed25519 key: it signs the answer dossiers this machine exports, so
// an auditor can tell that a dossier came from here and was not edited since. It is made the
// first time the app starts on a data folder and never leaves it; its public half goes into
// the audit anchor (which IT keeps off the machine) and into the audit log, so a verifier
// can check a dossier's key against a record that this machine cannot rewrite alone.

export const KEYS_DIR = 'keys';
export const INSTALLATION_KEY_FILE = 'installation-ed25519.json';
const FORMAT = 'soberana-installation-key/1';

const KeyFileSchema = z.strictObject({
  format: z.literal(FORMAT),
  algorithm: z.literal('Ed25519'),
  /** First 16 hex characters of SHA-256 over the raw public key (as bundle keys). */
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  /** The raw 32-byte public key, base64. */
  publicKey: z.string().min(40).max(64),
  /** PKCS#8 DER, base64. */
  privateKey: z.string().min(40).max(200),
  createdAt: z.string().min(1).max(40),
});

export interface InstallationKey {
  readonly keyId: string;
  /** The raw 32-byte public key, base64. */
  readonly publicKey: string;
  readonly createdAt: string;
  readonly privateKey: KeyObject;
}

export const installationKeyPath = (dataDir: string) => path.join(dataDir, KEYS_DIR, INSTALLATION_KEY_FILE);

const rawPublicKey = (key: KeyObject): Buffer => {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new AppError('internal', 'The installation key is not an Ed25519 key.');
  return Buffer.from(jwk.x, 'base64url');
};

/** Null when the data folder has no installation key yet; throws `io_error` when the file is there but unusable. */
export function readInstallationKey(dataDir: string): InstallationKey | null {
  const file = installationKeyPath(dataDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new AppError('io_error', 'The installation key could not be read.', `${file}: ${String(error)}`);
  }
  const damaged = (why: string) => new AppError('io_error', 'The installation key file is damaged.', `${file}: ${why}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw damaged('not JSON');
  }
  const parsed = KeyFileSchema.safeParse(json);
  if (!parsed.success) throw damaged(parsed.error.issues[0]?.message ?? 'invalid');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: Buffer.from(parsed.data.privateKey, 'base64'), format: 'der', type: 'pkcs8' });
  } catch (error) {
    throw damaged(error instanceof Error ? error.message : String(error));
  }
  // The stored public key must be the private key's own: a swapped public key would make every dossier fail to verify.
  const publicKey = rawPublicKey(createPublicKey(privateKey)).toString('base64');
  if (privateKey.asymmetricKeyType !== 'ed25519' || publicKey !== parsed.data.publicKey || keyIdOf(publicKey) !== parsed.data.keyId) {
    throw damaged('the public key does not belong to the private key');
  }
  return { keyId: parsed.data.keyId, publicKey, createdAt: parsed.data.createdAt, privateKey };
}

/**
 * The data folder's installation key, made (and written with mode 0600, atomically) when it
 * has none. `created` tells the caller to record the new public key.
 */
export async function ensureInstallationKey(dataDir: string, now: () => Date = () => new Date()): Promise<{ key: InstallationKey; created: boolean }> {
  const existing = readInstallationKey(dataDir);
  if (existing !== null) return { key: existing, created: false };
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = rawPublicKey(publicKey).toString('base64');
  const createdAt = now().toISOString();
  const body = {
    format: FORMAT,
    algorithm: 'Ed25519',
    keyId: keyIdOf(raw),
    publicKey: raw,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
    createdAt,
  };
  const file = installationKeyPath(dataDir);
  await writeFileAtomic(file, `${JSON.stringify(body, null, 2)}\n`);
  // writeFileAtomic creates with 0600; said again in case a umask or an older file widened it.
  if (process.platform !== 'win32') chmodSync(file, 0o600);
  return { key: { keyId: body.keyId, publicKey: raw, createdAt, privateKey }, created: true };
}
