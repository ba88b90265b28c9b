import { bundleForm, DEFAULT_LIMITS, readBundle, type BundleForm } from './archive.ts';
import type { BundleSignature } from './keys.ts';
import { parseManifest, type Manifest } from './manifest.ts';
import { BundleRejectedError, type Rejection } from './rejections.ts';
import { parseSignatures } from './trust.ts';

/** A bundle's signed head: its manifest, the exact bytes the signatures cover, and the signatures. */
export interface BundleHead {
  readonly form: BundleForm;
  readonly manifest: Manifest;
  readonly signatures: readonly BundleSignature[];
  readonly manifestBytes: Buffer;
}

/** What a bundle says about itself, or the documented reason it cannot be read. */
export type HeadReading = { readonly ok: true; readonly head: BundleHead } | { readonly ok: false; readonly reason: Rejection };

class HeadRead extends Error {}

/**
 * Reads manifest and signatures without judging them (no trust decision, no payload read).
 * Unlike `inspectBundle`, a bundle that cannot be read comes back with its rejection code, so
 * that `soberana bundle inspect` can print it; only I/O failures throw.
 */
export async function readHead(bundlePath: string): Promise<HeadReading> {
  const form = await bundleForm(bundlePath);
  let head: BundleHead | null = null;
  try {
    await readBundle(bundlePath, {
      limits: DEFAULT_LIMITS,
      head(manifestBytes, signatureBytes) {
        head = { form, manifest: parseManifest(manifestBytes), signatures: parseSignatures(signatureBytes), manifestBytes };
        // Stops the read before any payload byte.
        throw new HeadRead();
      },
    });
  } catch (error) {
    if (error instanceof BundleRejectedError) return { ok: false, reason: error.rejection };
    if (!(error instanceof HeadRead)) throw error;
  }
  // readBundle calls `head` before it can return, or rejects.
  if (head === null) throw new Error('bundle read without a head');
  return { ok: true, head };
}
