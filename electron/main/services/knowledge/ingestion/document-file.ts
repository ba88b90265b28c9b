import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { DocumentFailure } from '../../../../common/contract/knowledge.ts';
import { DocumentError, type ExtractedDocument } from '../types.ts';

// What ingestion reads from a document file and its failure: pages, hash, first bytes, and
// the user-facing reason a file could not be indexed. Split from ingest.ts, whose queue uses them.

/** Unpaged formats count one page per this many characters, so pages/s compares across formats. */
export const CHARS_PER_PAGE = 3000;

export function pagesOf(extracted: Pick<ExtractedDocument, 'pageCount' | 'blocks'>): number {
  if (extracted.pageCount !== null) return extracted.pageCount;
  const chars = extracted.blocks.reduce((sum, block) => sum + block.text.length, 0);
  return Math.max(1, Math.ceil(chars / CHARS_PER_PAGE));
}

export async function hashFile(filePath: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  // Small reads keep each hashing step short, so the main process stays responsive.
  for await (const chunk of createReadStream(filePath, { highWaterMark: 256 * 1024, ...(signal === undefined ? {} : { signal }) }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function readHead(filePath: string): Promise<Uint8Array> {
  const handle = await open(filePath, 'r');
  try {
    const buffer = new Uint8Array(8192);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export const failureOf = (error: unknown): DocumentFailure => {
  if (error instanceof DocumentError) return { reason: error.reason, message: error.message };
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return { reason: 'io_error', message: 'The file is gone: it was moved or deleted before it could be read.' };
  if (code === 'EACCES' || code === 'EPERM') return { reason: 'io_error', message: 'The file cannot be read: permission denied.' };
  if (typeof code === 'string' && code.startsWith('E')) return { reason: 'io_error', message: `The file could not be read (${code}).` };
  if (typeof code === 'string' && code === 'runtime_crashed')
    return { reason: 'embedding_failed', message: 'The inference process stopped while embedding this document. Add it again.' };
  const message = error instanceof Error ? error.message : String(error);
  return { reason: 'embedding_failed', message: `This document could not be indexed: ${message}` };
};

export const isAbort = (error: unknown) => error instanceof Error && (error.name === 'AbortError' || (error as { code?: unknown }).code === 'cancelled');
