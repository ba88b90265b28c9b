// First: the egress guard, before any parser loads.
import './egress.ts';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { DocumentError, type ExtractedAttachment } from '../../types.ts';
import { extensionOf } from './detect.ts';
import { extractDocument, resolveLimits, tooLarge } from './index.ts';
import { isOcrLanguage, ocrEngineSpent } from './ocr/engine.ts';
import { checkEgress } from '../../../../../guard/probe.ts';
import type { EgressCheckReply, ExtractReply, ExtractRequest, PageProgressNotice, WireError, WorkerRequest } from './protocol.ts';

// The extraction worker: reads, hashes and parses one file per request, so the main thread
// never holds a document's bytes and a hostile file can only exhaust this thread's heap.

async function handle(request: ExtractRequest): Promise<ExtractReply> {
  try {
    const limits = resolveLimits(request.limits);
    const info = await stat(request.filePath);
    if (!info.isFile()) throw Object.assign(new Error(`Not a file: ${request.filePath}`), { code: 'EISDIR' });
    // Checked before reading, so an oversized file is never loaded at all.
    if (info.size > limits.maxFileBytes) throw tooLarge(info.size, limits.maxFileBytes);
    const buffer = await readFile(request.filePath);
    const sha256 = createHash('sha256').update(buffer).digest('hex');
    const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    const languages = (request.ocrLanguages ?? []).filter(isOcrLanguage);
    const extracted = await extractDocument(bytes, path.basename(request.filePath), limits, {
      ...(languages.length === 0 ? {} : { languages }),
      onPage: (done, total) => parentPort?.postMessage({ type: 'pageProgress', id: request.id, done, total } satisfies PageProgressNotice),
    });
    const document =
      extracted.attachments === undefined ? extracted : { ...extracted, attachments: await writeAttachments(extracted.attachments, request.attachmentsDir) };
    return { id: request.id, ok: true, document, bytes: bytes.byteLength, sha256 };
  } catch (error) {
    return { id: request.id, ok: false, error: toWire(error) };
  }
}

/**
 * Writes each readable attachment to a file of its own in `dir`, named like the stored copies,
 * so the main thread never holds its bytes; without a folder they are only listed.
 */
async function writeAttachments(attachments: readonly ExtractedAttachment[], dir: string | undefined): Promise<ExtractedAttachment[]> {
  if (dir !== undefined) await mkdir(dir, { recursive: true });
  const written: ExtractedAttachment[] = [];
  for (const attachment of attachments) {
    const { content } = attachment;
    if (content === null || dir === undefined) {
      written.push({ ...attachment, content: null });
      continue;
    }
    const sha256 = createHash('sha256').update(content).digest('hex');
    const extension = extensionOf(attachment.name).slice(0, 10);
    const file = path.join(dir, `${sha256.slice(0, 16)}-${randomBytes(4).toString('hex')}${extension === '' ? '' : `.${extension}`}`);
    await writeFile(file, content);
    written.push({ ...attachment, content: null, path: file, sha256 });
  }
  return written;
}

function toWire(error: unknown): WireError {
  if (error instanceof DocumentError) return { reason: error.reason, message: error.message };
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' ? { reason: null, message, code } : { reason: null, message };
}

const port = parentPort;
if (port === null) throw new Error('extract/worker.ts must run as a worker thread; use createExtractor() from pool.ts.');
port.on('message', (request: WorkerRequest) => {
  if ('op' in request) {
    void checkEgress().then((egress) => port.postMessage({ id: request.id, egress } satisfies EgressCheckReply));
    return;
  }
  void handle(request).then((reply) => port.postMessage(ocrEngineSpent() ? { ...reply, recycle: true } : reply));
});
