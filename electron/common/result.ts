// Errors cross process boundaries as data, never as thrown exceptions: a Result is
// what every handler returns and what every caller receives.

export const errorCodes = [
  'bad_request',
  'forbidden',
  'unknown_endpoint',
  'not_found',
  'cancelled',
  'unavailable',
  'io_error',
  /** A file that is not an acceptable model (failed the GGUF check). */
  'rejected_file',
  /** A model that crashed the loader repeatedly and will not be loaded again. */
  'quarantined',
  /** The inference process stopped while serving the request; it restarts by itself. */
  'runtime_crashed',
  'busy',
  'no_model',
  'out_of_memory',
  /** The audit log cannot record, so an action that must be audited was refused (fail closed). */
  'audit_unavailable',
  'internal',
  /** The local API: no valid token came with the request. */
  'unauthorized',
  /** The local API: the token has too many requests in flight. */
  'too_many_requests',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export interface AppErrorData {
  readonly code: ErrorCode;
  /** Plain words for the user; never a stack trace. */
  readonly message: string;
  /** The technical part, shown behind a "Details" disclosure. */
  readonly details?: string;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: AppErrorData };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: ErrorCode, message: string, details?: string): Result<T> {
  return { ok: false, error: details === undefined ? { code, message } : { code, message, details } };
}

/** Thrown inside services and streams; the router turns it into an error Result. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: string | undefined;

  constructor(code: ErrorCode, message: string, details?: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }

  toData(): AppErrorData {
    return this.details === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, details: this.details };
  }
}
