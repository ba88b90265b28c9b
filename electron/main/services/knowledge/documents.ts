import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DocumentView } from '../../../common/contract/index.ts';
import { AppError } from '../../../common/result.ts';
import { transaction } from '../storage/sqlite.ts';
import { writable } from './collections.ts';
import { formatByName } from './ingestion/extract/detect.ts';
import { failedDocumentIds } from './documents-page.ts';
import { removeAttachments } from './ingestion/attachments.ts';
import { expandPaths, unsupportedMessage } from './ingestion/files.ts';
import type { IngestJob } from './ingestion/ingest.ts';
import type { KnowledgeParts, WatchedParts } from './parts.ts';
import type { KnowledgeStore } from './store.ts';

// Documents as the service offers them: adding files and folders (watched or not), files
// that cannot be read (skipped), retrying failed ones, removal, and the viewer. The Documents
// screen's list and folders are in documents-page.ts.

/** The viewer sends PDFs whole; past this size it shows the extracted text instead. */
const MAX_VIEW_PDF_BYTES = 64 * 1024 * 1024;
/** The viewer sends a PNG or JPEG scan whole too; past this size (far beyond a 600 dpi page) it shows the text. */
const MAX_VIEW_IMAGE_BYTES = 32 * 1024 * 1024;
/** Images the renderer can draw itself; TIFF is not among them (Chromium cannot decode it), so a TIFF shows its text. */
const VIEWABLE_IMAGES = { png: 'image/png', jpeg: 'image/jpeg' } as const;

/** The stored copy's bytes, base64, when it exists and is at most `max` bytes; null otherwise. */
async function storedBase64(storedPath: string | null, max: number): Promise<string | null> {
  if (storedPath === null) return null;
  const info = await stat(storedPath).catch(() => null);
  if (info === null || info.size > max) return null;
  return readFile(storedPath).then(
    (bytes) => bytes.toString('base64'),
    () => null,
  );
}

/** Removes a document with its index rows, stored copy and attachments; no gate: the folder watcher calls it too. */
export async function removeDocumentNow(parts: Pick<KnowledgeParts, 'store' | 'index' | 'emit' | 'onChanged'>, id: string): Promise<void> {
  const document = parts.store.document(id);
  await removeAttachments(parts, id);
  const removed = parts.store.deleteDocument(id);
  if (removed === null) return;
  parts.emit({ type: 'document.deleted', data: { documentId: id, collectionId: document.collectionId, sha256: document.sha256 } });
  await parts.index.deleteDocuments(removed.embeddingKey, [id]);
  if (removed.storedPath !== null) await rm(removed.storedPath, { force: true });
  parts.onChanged(document.collectionId);
}

/**
 * New files get a `queued` row before any work starts, so a crash mid-run leaves the rest
 * of the list in the journal and the next start resumes it. Files already in the
 * collection keep their indexed row until their new content is ready.
 */
export const register = (parts: Pick<KnowledgeParts, 'db' | 'store'>, collectionId: string, files: readonly string[]): IngestJob[] =>
  transaction(parts.db, () =>
    files.map((file) => {
      if (parts.store.findDocument(collectionId, file) !== null) return { collectionId, path: file };
      const document = parts.store.addDocument({
        collectionId,
        name: path.basename(file),
        sourcePath: file,
        storedPath: null,
        format: formatByName(file) ?? 'text',
        bytes: 0,
        sha256: '',
      });
      return { collectionId, path: file, resume: { documentId: document.id, from: 'queued' as const } };
    }),
  );

/** Records the files of an added folder that Soberana cannot read as skipped (one row per path). */
export function registerSkipped(parts: Pick<KnowledgeParts, 'db' | 'store'>, collectionId: string, files: readonly string[]): SkippedFile[] {
  return transaction(parts.db, () =>
    files.map((file) => {
      const message = unsupportedMessage(file);
      parts.store.addSkipped(collectionId, file, message);
      return { path: file, reason: 'unsupported' as const, message };
    }),
  );
}

/** A file found in an added folder that Soberana cannot read: listed as skipped, never indexed. */
export interface SkippedFile {
  readonly path: string;
  readonly reason: 'unsupported';
  readonly message: string;
}

/** Queues files and folders (walked); `watchFolder` also keeps the folders watched. */
export async function addPaths(parts: WatchedParts, collectionId: string, paths: readonly string[], watchFolder = false) {
  const { store, queue } = parts;
  parts.gate.check('knowledge.ingest');
  writable(store, collectionId);
  if (watchFolder) {
    let queued = 0;
    for (const folder of paths) {
      if (
        !(await stat(folder).then(
          (info) => info.isDirectory(),
          () => false,
        ))
      )
        continue;
      const watched = store.listWatchedFolders(collectionId).find((existing) => existing.path === folder) ?? store.addWatchedFolder(collectionId, folder);
      const before = queue.progress().total;
      await parts.watch.add(watched);
      queued += Math.max(0, queue.progress().total - before);
    }
    parts.onChanged(collectionId);
    return { queued, unsupported: [] as string[], skipped: [] as SkippedFile[] };
  }
  const { files, unsupported, skipped } = await expandPaths(paths);
  const skippedFiles = registerSkipped(parts, collectionId, skipped);
  queue.enqueue(register(parts, collectionId, files));
  if (skipped.length > 0) parts.onChanged(collectionId);
  return { queued: files.length, unsupported, skipped: skippedFiles };
}

/**
 * Queues every failed document of a collection again from its source path (in `folder`, relative
 * to the collection's root, and below it, when given), under the same rule as adding files.
 */
export function retryFailed(parts: KnowledgeParts, collectionId: string, folder?: string): number {
  parts.gate.check('knowledge.ingest');
  writable(parts.store, collectionId);
  const ids = failedDocumentIds(parts.db, collectionId, folder);
  const jobs: IngestJob[] = ids.map((id) => {
    const document = parts.store.document(id);
    // An attachment has no file of its own outside Soberana: it is read again from its stored copy.
    if (document.parentId !== null && document.storedPath !== null)
      return { collectionId, path: document.sourcePath, resume: { documentId: id, from: 'queued' as const } };
    return { collectionId, path: document.sourcePath };
  });
  parts.queue.enqueue(jobs);
  return jobs.length;
}

export async function removeDocument(parts: KnowledgeParts, id: string): Promise<void> {
  parts.gate.check('knowledge.removeDocument');
  const document = parts.store.document(id);
  writable(parts.store, document.collectionId);
  const settled = (status: string) => status === 'indexed' || status === 'failed' || status === 'skipped';
  const attachments = parts.store.attachmentIds(id).map((attachment) => parts.store.document(attachment).status);
  if ((!settled(document.status) || !attachments.every(settled)) && parts.queue.progress().active) {
    throw new AppError('busy', 'This document is still being added. Wait for it, or cancel, before removing it.');
  }
  await removeDocumentNow(parts, id);
}

export function unwatch(parts: WatchedParts, id: string): void {
  parts.gate.check('knowledge.unwatch');
  parts.watch.remove(id);
  const folder = parts.store.listWatchedFolders().find((candidate) => candidate.id === id);
  parts.store.removeWatchedFolder(id);
  parts.gate.changed('knowledge.unwatch', id);
  parts.onChanged(folder?.collectionId ?? null);
}

export async function viewDocument(store: KnowledgeStore, documentId: string): Promise<DocumentView> {
  const document = store.document(documentId);
  const pdfBase64 = document.format === 'pdf' ? await storedBase64(document.storedPath, MAX_VIEW_PDF_BYTES) : null;
  const mime = document.format === 'png' ? VIEWABLE_IMAGES.png : document.format === 'jpeg' ? VIEWABLE_IMAGES.jpeg : null;
  const imageBase64 = mime === null ? null : await storedBase64(document.storedPath, MAX_VIEW_IMAGE_BYTES);
  return {
    documentId,
    name: document.name,
    format: document.format,
    pages: document.pageCount,
    pdfBase64,
    image: mime === null || imageBase64 === null ? null : { mime, base64: imageBase64 },
    chunks: store.chunksForDocument(documentId).map((chunk) => ({
      id: chunk.id,
      text: chunk.text,
      page: chunk.page,
      headingPath: [...chunk.headingPath],
      ocrConfidence: chunk.ocrConfidence ?? null,
    })),
    scanPages: store.ocrPages(documentId).map((page) => ({
      page: page.page,
      width: page.width,
      height: page.height,
      words: page.words.map((word) => ({ text: word.text, box: [...word.box] as [number, number, number, number] })),
    })),
  };
}
