import type { DocumentFailureReason, ExtractedDocument } from '../types.ts';
import type { ExtractLimits } from './limits.ts';

// Messages between the pool (main thread) and the extraction worker. Errors travel as
// plain data and are rebuilt on the other side, since class identity doesn't cross threads.

export interface ExtractRequest {
  readonly id: number;
  readonly filePath: string;
  readonly limits: ExtractLimits;
}

export interface WireError {
  /** null when the failure is not about the document (e.g. the file vanished: ENOENT). */
  readonly reason: DocumentFailureReason | null;
  readonly message: string;
  readonly code?: string;
}

export type ExtractReply =
  | { readonly id: number; readonly ok: true; readonly document: ExtractedDocument; readonly bytes: number; readonly sha256: string }
  | { readonly id: number; readonly ok: false; readonly error: WireError };
