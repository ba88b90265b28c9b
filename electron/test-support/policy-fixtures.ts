import { createHash } from 'node:crypto';
import { canonicalJson } from '../main/services/bundles/canonical.ts';
import { loadPrivateKey, signBytes, type GeneratedKeyPair } from '../main/services/bundles/keys.ts';

// Test support for policies that arrive in bundles; product code never imports it.

export interface SignedPolicy {
  readonly bytes: Buffer;
  readonly manifestBytes: Buffer;
  readonly signatureBytes: Buffer;
}

/** A policy bundle's head, as `bundle create` + `bundle sign` make it: canonical manifest, detached Ed25519 signatures. */
export function signedPolicy(policy: unknown, signers: readonly GeneratedKeyPair[], options: { expires?: string; version?: number } = {}): SignedPolicy {
  const bytes = Buffer.from(JSON.stringify(policy, null, 2));
  const manifest = {
    format: 1,
    id: 'it.policy',
    name: 'IT policy',
    version: options.version ?? 1,
    created: '2025-01-01T00:00:00Z',
    expires: options.expires ?? '2099-01-01T00:00:00Z',
    publisher: signers[0]?.keyId ?? '0000000000000000',
    files: [{ path: 'policy.json', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), kind: 'policy', meta: {} }],
  };
  const manifestBytes = Buffer.from(canonicalJson(manifest));
  const signatures = signers.map((signer) => signBytes(manifestBytes, loadPrivateKey(signer.privateKeyPem)));
  return { bytes, manifestBytes, signatureBytes: Buffer.from(canonicalJson(signatures)) };
}
