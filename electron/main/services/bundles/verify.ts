import type { Database } from '../storage/sqlite.ts';
import { DEFAULT_LIMITS, readBundle, type BundleLimits } from './archive.ts';
import type { BundleSignature } from './keys.ts';
import { parseManifest, type Manifest, type ManifestFile } from './manifest.ts';
import { asRejection, BundleRejectedError, reject, type Rejection } from './rejections.ts';
import { highestVersion } from './store.ts';
import { checkSignatures, parseSignatures, type Signer, type TrustSource } from './trust.ts';

export interface BundleProgress {
  readonly phase: 'verifying' | 'installing' | 'registering' | 'done';
  /** The payload file being read, during 'verifying'. */
  readonly file?: string;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

export interface VerifyOptions {
  readonly db: Database;
  readonly now?: Date;
  /** Days a bundle stays acceptable after `expires`. */
  readonly graceDays?: number;
  readonly limits?: Partial<BundleLimits>;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: BundleProgress) => void;
}

export interface VerificationReport {
  readonly ok: boolean;
  readonly reason?: Rejection;
  /**
   * The manifest, when it could be read. On a rejection before the signatures were accepted
   * it is only what the bundle claims: show it, never act on it.
   */
  readonly manifest: Manifest | null;
  readonly signers: readonly Signer[];
  readonly version: number | null;
  readonly expires: string | null;
  readonly files: readonly ManifestFile[];
}

const DAY_MS = 86_400_000;

/** A bundle that passed every check, with who signed it. */
export interface VerifiedBundle {
  readonly manifest: Manifest;
  readonly signers: readonly Signer[];
  readonly manifestBytes: Buffer;
  readonly signatures: readonly BundleSignature[];
}

export interface VerifyRun {
  readonly report: VerificationReport;
  readonly verified: VerifiedBundle | null;
}

/**
 * Signatures, then expiry, then rollback, then each payload's size and hash, streamed into
 * `stageDir` when given. Rejections come back in the report; I/O failures and cancellation
 * throw.
 */
export async function runVerification(bundlePath: string, trust: TrustSource, options: VerifyOptions & { stageDir?: string }): Promise<VerifyRun> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const now = options.now ?? new Date();
  const graceDays = options.graceDays ?? 0;
  let claimed: Manifest | null = null;
  let head: VerifiedBundle | null = null;
  let bytesTotal = 0;
  const doneBefore = new Map<string, number>();
  let bytesDone = 0;
  try {
    await readBundle(bundlePath, {
      limits,
      stageDir: options.stageDir,
      signal: options.signal,
      head(manifestBytes, signatureBytes) {
        try {
          claimed = parseManifest(manifestBytes);
        } catch {
          // Reported below, after the signatures: an unsigned manifest's faults come second.
        }
        let signatures: BundleSignature[];
        let signers: Signer[];
        let manifest: Manifest;
        try {
          signatures = parseSignatures(signatureBytes);
          signers = checkSignatures(manifestBytes, signatures, trust);
          manifest = parseManifest(manifestBytes);
        } catch (error) {
          // Whatever the head's bytes make JavaScript throw is the bundle's fault: a rejection, never exit 3.
          throw asRejection(error, 'malformed_manifest');
        }
        checkExpiry(manifest, now, graceDays);
        checkRollback(options.db, manifest);
        head = { manifest, signers, manifestBytes, signatures };
        bytesTotal = manifest.files.reduce((sum, file) => sum + file.size, 0);
        options.onProgress?.({ phase: 'verifying', bytesDone: 0, bytesTotal });
        return manifest;
      },
      onBytes(file, done) {
        const before = doneBefore.get(file.path) ?? 0;
        doneBefore.set(file.path, done);
        bytesDone += done - before;
        options.onProgress?.({ phase: 'verifying', file: file.path, bytesDone, bytesTotal });
      },
    });
  } catch (error) {
    if (!(error instanceof BundleRejectedError)) throw error;
    const manifest = (head as VerifiedBundle | null)?.manifest ?? claimed;
    return { report: report(false, manifest, (head as VerifiedBundle | null)?.signers ?? [], error.rejection), verified: null };
  }
  const verified = head as VerifiedBundle | null;
  if (verified === null) throw new Error('bundle read without a head');
  return { report: report(true, verified.manifest, verified.signers), verified };
}

export async function verifyBundle(bundlePath: string, trust: TrustSource, options: VerifyOptions): Promise<VerificationReport> {
  return (await runVerification(bundlePath, trust, options)).report;
}

function report(ok: boolean, manifest: Manifest | null, signers: readonly Signer[], reason?: Rejection): VerificationReport {
  const base = { ok, manifest, signers, version: manifest?.version ?? null, expires: manifest?.expires ?? null, files: manifest?.files ?? [] };
  return reason === undefined ? base : { ...base, reason };
}

export function checkExpiry(manifest: Manifest, now: Date, graceDays: number): void {
  const expires = Date.parse(manifest.expires);
  if (now.getTime() <= expires + graceDays * DAY_MS) return;
  const grace = graceDays > 0 ? ` (the ${graceDays}-day grace period is over too)` : '';
  reject(
    'expired',
    `The bundle "${manifest.name}" expired on ${manifest.expires.slice(0, 10)}${grace}. Ask the publisher for a newer version; if this machine's clock is wrong, correct it first.`,
    `expires ${manifest.expires}, now ${now.toISOString()}, grace ${graceDays} days`,
  );
}

export function checkRollback(db: Database, manifest: Manifest): void {
  const highest = highestVersion(db, manifest.id);
  if (highest === null || manifest.version > highest) return;
  if (manifest.version === highest) {
    reject(
      'replay',
      `Version ${manifest.version} of "${manifest.name}" was already installed on this machine. Nothing to do; to install again, the publisher must issue a higher version.`,
      `id ${manifest.id}`,
    );
  }
  reject(
    'rollback',
    `This is version ${manifest.version} of "${manifest.name}", older than version ${highest} already installed on this machine. Older versions are refused so that fixes cannot be undone; install version ${highest + 1} or later.`,
    `id ${manifest.id}, highest ${highest}`,
  );
}
