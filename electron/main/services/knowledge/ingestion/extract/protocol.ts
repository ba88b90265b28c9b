import type { EgressCheck } from '../../../../../guard/probe.ts';
import type { EgressKind } from '../../../../../guard/egress.ts';
import type { DocumentFailureReason, ExtractedDocument } from '../../types.ts';
import type { ExtractLimits } from './limits.ts';

// Messages between the pool (main thread) and the extraction worker. Errors travel as
// plain data and are rebuilt on the other side, since class identity doesn't cross threads.

export interface ExtractRequest {
  readonly id: number;
  readonly filePath: string;
  readonly limits: ExtractLimits;
  /** Where to write an e-mail's attachments, each as a file of its own; without it they are listed, not written. */
  readonly attachmentsDir?: string;
  /** Tesseract language codes for scanned pages (the collection's setting); English and Spanish without it. */
  readonly ocrLanguages?: readonly string[];
}

export interface WireError {
  /** null when the failure is not about the document (e.g. the file vanished: ENOENT). */
  readonly reason: DocumentFailureReason | null;
  readonly message: string;
  readonly code?: string;
}

export type ExtractReply = (
  | { readonly id: number; readonly ok: true; readonly document: ExtractedDocument; readonly bytes: number; readonly sha256: string }
  | { readonly id: number; readonly ok: false; readonly error: WireError }
) & {
  /** The OCR engine's memory grew past its cap (or it failed): the pool replaces this worker before the next file. */
  readonly recycle?: boolean;
};

/** Sent as each scanned page is recognised; the pool restarts the file's clock (OCR is slow, and paid per page). */
export interface PageProgressNotice {
  readonly type: 'pageProgress';
  readonly id: number;
  readonly done: number;
  readonly total: number;
}

/** Asks the worker to try each way out and report whether its egress guard refused them. */
export interface EgressCheckRequest {
  readonly id: number;
  readonly op: 'egressCheck';
}

export type WorkerRequest = ExtractRequest | EgressCheckRequest;

export interface EgressCheckReply {
  readonly id: number;
  readonly egress: EgressCheck;
}

/** Sent by the worker's egress guard when it refuses an attempt, before it throws. */
export interface EgressBlockedNotice {
  readonly type: 'egressBlocked';
  readonly kind: EgressKind;
  readonly target: string;
}

export type WorkerMessage = ExtractReply | EgressCheckReply | EgressBlockedNotice | PageProgressNotice;
