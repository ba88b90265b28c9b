import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { AppError } from '../../../common/result.ts';

export interface GeneratedKeyPair {
  readonly keyId: string;
  /** The raw 32-byte Ed25519 public key, base64. */
  readonly publicKey: string;
  /** PKCS#8 PEM; keep it off the offline machines. */
  readonly privateKeyPem: string;
}

export interface BundleSignature {
  readonly keyId: string;
  /** The 64-byte Ed25519 signature over manifest.json's bytes, base64. */
  readonly signature: string;
}

const RAW_PUBLIC_KEY_BYTES = 32;

export function generateKeyPair(): GeneratedKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = rawPublicKey(publicKey);
  return { keyId: keyIdOfRaw(raw), publicKey: raw.toString('base64'), privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** First 16 hex characters of SHA-256 over the raw 32-byte public key. */
export function keyIdOf(publicKeyBase64: string): string {
  return keyIdOfRaw(decodePublicKey(publicKeyBase64));
}

function keyIdOfRaw(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

/** Throws a bad_request AppError for anything but base64 of exactly 32 bytes. */
export function decodePublicKey(publicKeyBase64: string): Buffer {
  const raw = Buffer.from(publicKeyBase64, 'base64');
  // Buffer.from ignores stray characters; re-encoding catches keys that were mangled in a copy.
  if (raw.length !== RAW_PUBLIC_KEY_BYTES || raw.toString('base64') !== publicKeyBase64.trim()) {
    throw new AppError('bad_request', 'This is not an Ed25519 public key: expected 32 bytes in base64.', `got ${raw.length} bytes`);
  }
  return raw;
}

export function publicKeyObject(publicKeyBase64: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: decodePublicKey(publicKeyBase64).toString('base64url') }, format: 'jwk' });
}

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new AppError('bad_request', 'The key is not an Ed25519 key.');
  return Buffer.from(jwk.x, 'base64url');
}

export interface PrivateSigningKey {
  readonly keyId: string;
  readonly publicKey: string;
  readonly key: KeyObject;
}

export function loadPrivateKey(privateKeyPem: string): PrivateSigningKey {
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (error) {
    throw new AppError(
      'bad_request',
      'The private key could not be read. Use the PEM file made by "soberana keys generate".',
      error instanceof Error ? error.message : String(error),
    );
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new AppError('bad_request', 'The private key is not an Ed25519 key.', `type ${key.asymmetricKeyType ?? 'unknown'}`);
  const raw = rawPublicKey(createPublicKey(key));
  return { keyId: keyIdOfRaw(raw), publicKey: raw.toString('base64'), key };
}

export function signBytes(bytes: Uint8Array, key: PrivateSigningKey): BundleSignature {
  return { keyId: key.keyId, signature: sign(null, bytes, key.key).toString('base64') };
}

export function verifyBytes(bytes: Uint8Array, signatureBase64: string, publicKey: KeyObject): boolean {
  const signature = Buffer.from(signatureBase64, 'base64');
  if (signature.length !== 64) return false;
  try {
    return verify(null, bytes, publicKey, signature);
  } catch {
    return false;
  }
}
