/**
 * Why a bundle was refused. Each code is precise enough for an IT person to know what
 * went wrong and what to do; `message` says it in plain words, `details` carries the facts
 * (paths, key ids, numbers).
 */
export const bundleRejections = [
  'malformed_archive',
  'malformed_manifest',
  'malformed_signature',
  'unsigned',
  'bad_signature',
  'untrusted_key',
  'below_threshold',
  'expired',
  'rollback',
  'replay',
  'path_traversal',
  'link_entry',
  'unsupported_entry',
  'duplicate_path',
  'unlisted_file',
  'missing_file',
  'size_mismatch',
  'hash_mismatch',
  'too_many_entries',
  'oversized',
  'truncated',
] as const;

export type BundleRejection = (typeof bundleRejections)[number];

export interface Rejection {
  readonly code: BundleRejection;
  readonly message: string;
  readonly details?: string;
}

/** Thrown inside the reader and verifier; turned into a report at the top. */
export class BundleRejectedError extends Error {
  readonly rejection: Rejection;

  constructor(rejection: Rejection) {
    super(rejection.message);
    this.name = 'BundleRejectedError';
    this.rejection = rejection;
  }
}

export function reject(code: BundleRejection, message: string, details?: string): never {
  throw new BundleRejectedError(details === undefined ? { code, message } : { code, message, details });
}

/**
 * The errors odd input makes JavaScript itself throw (a TypeError on a missing field, a
 * RangeError for a stack overflow or a bad length, a SyntaxError) become `code`: a bundle
 * that trips the reader up is refused, never a crash. Everything else passes unchanged: I/O
 * errors, cancellation and the app's own errors are not the bundle's fault.
 */
export function asRejection(error: unknown, code: 'malformed_archive' | 'malformed_manifest'): unknown {
  if (error instanceof BundleRejectedError) return error;
  const odd =
    error instanceof TypeError ||
    error instanceof RangeError ||
    error instanceof SyntaxError ||
    (error instanceof Error && error.name === 'CanonicalJsonError');
  if (!odd) return error;
  const message =
    code === 'malformed_archive'
      ? fixedMessages.malformed_archive
      : 'The bundle manifest (manifest.json) could not be read. Rebuild the bundle with "soberana bundle create".';
  return new BundleRejectedError({ code, message, details: `${error.name}: ${error.message}`.slice(0, 500) });
}

const REBUILD = 'Ask the publisher for a fresh copy of the bundle; do not install this one.';

/** Messages for the codes whose wording does not depend on the case. */
export const fixedMessages = {
  malformed_archive: `The bundle file is not a valid Soberana bundle archive (it is damaged or was not made by "soberana bundle pack"). ${REBUILD}`,
  malformed_signature: `The bundle's signature file (manifest.sig.json) is missing or unreadable. Sign the bundle again with the publisher's key.`,
  unsigned: 'The bundle is not signed. Sign it with a key this machine trusts before installing it.',
  truncated: `The bundle file ends early: it was cut off while being copied or downloaded. Copy it again from the original and retry.`,
} as const satisfies Partial<Record<BundleRejection, string>>;

export const shortKey = (keyId: string): string => `${keyId.slice(0, 4)}…`;

export { REBUILD as REBUILD_ADVICE };
