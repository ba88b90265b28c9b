import { rm } from 'node:fs/promises';
import type { KnowledgeIndex } from '../index/lance-index.ts';
import type { KnowledgeDocument, KnowledgeStore } from '../store.ts';
import type { ExtractedAttachment, ExtractedDocument } from '../types.ts';
import { readHead } from './document-file.ts';
import { detectFormat } from './extract/detect.ts';
import type { IngestJob } from './ingest-types.ts';

// An e-mail's attachments become documents of their own that cite their message (parent_id).
// The worker writes each readable attachment to a file beside the stored copies; once the
// message is indexed, its attachments are registered and queued like any added file, and the
// ones Soberana cannot read are listed as skipped with their reason. Removing a message
// removes its attachments, their index rows and their stored copies.

/** How deep attachments are read: an e-mail attached to an e-mail attached to an e-mail, and no deeper. */
export const MAX_ATTACHMENT_DEPTH = 3;

type Parts = { readonly store: KnowledgeStore; readonly index: KnowledgeIndex };

/** What an attachment is listed and cited as: its file name and the message it came with. */
export function attachmentDisplayName(name: string, subject: string): string {
  const short = subject.length > 80 ? `${subject.slice(0, 79).trimEnd()}…` : subject;
  return `${name} (attachment of “${short}”)`;
}

/** A path no file has: the message's path, the attachment's place in it, and its name. One row per attachment. */
export const attachmentSourcePath = (message: KnowledgeDocument, index: number, name: string) => `${message.sourcePath}#${index + 1}:${name}`;

/** Deletes the files the worker wrote for a message whose ingestion did not finish. */
export async function discardAttachmentFiles(attachments: readonly ExtractedAttachment[] | undefined): Promise<void> {
  for (const attachment of attachments ?? []) if (attachment.path !== null) await rm(attachment.path, { force: true });
}

/** An e-mail's attachments, written by the worker, held until their message is indexed (or dropped with it). */
export function attachmentStage() {
  const held = new Map<string, Pick<ExtractedDocument, 'email' | 'attachments'>>();
  return {
    hold(documentId: string, extracted: Pick<ExtractedDocument, 'email' | 'attachments'>): void {
      if (extracted.attachments !== undefined) held.set(documentId, extracted);
    },
    take(documentId: string): Pick<ExtractedDocument, 'email' | 'attachments'> | undefined {
      const extracted = held.get(documentId);
      held.delete(documentId);
      return extracted;
    },
    async discard(documentId: string): Promise<void> {
      await discardAttachmentFiles(this.take(documentId)?.attachments);
    },
  };
}

/** Removes a document's attachments (and theirs): index rows, rows and stored copies. */
export async function removeAttachments(parts: Parts, documentId: string): Promise<string[]> {
  const ids = parts.store.attachmentIds(documentId);
  for (const id of ids) {
    const removed = parts.store.deleteDocument(id);
    if (removed === null) continue;
    await parts.index.deleteDocuments(removed.embeddingKey, [id]).catch(() => undefined);
    if (removed.storedPath !== null) await rm(removed.storedPath, { force: true });
  }
  return ids;
}

/**
 * Replaces an indexed message's attachments with those just extracted: readable ones are
 * registered `queued` with their stored copy (returned as jobs to queue), the rest `skipped`.
 */
export async function adoptAttachments(
  parts: Parts,
  message: KnowledgeDocument,
  extracted: Pick<ExtractedDocument, 'email' | 'attachments'>,
): Promise<IngestJob[]> {
  const attachments = extracted.attachments ?? [];
  await removeAttachments(parts, message.id);
  const depth = parts.store.attachmentDepth(message.id) + 1;
  const subject = extracted.email?.subject !== undefined && extracted.email.subject !== '' ? extracted.email.subject : message.name;
  const jobs: IngestJob[] = [];
  for (const [index, attachment] of attachments.entries()) {
    const sourcePath = attachmentSourcePath(message, index, attachment.name);
    const name = attachmentDisplayName(attachment.name, subject);
    const format = attachment.path === null ? null : detectFormat(attachment.name, await readHead(attachment.path));
    const tooDeep = depth > MAX_ATTACHMENT_DEPTH;
    if (attachment.skipped !== null || tooDeep || attachment.path === null || attachment.sha256 === null || format === null) {
      await discardAttachmentFiles([attachment]);
      const why = tooDeep
        ? {
            reason: 'too_deep' as const,
            message: `This attachment is inside ${depth} nested messages; Soberana reads attachments ${MAX_ATTACHMENT_DEPTH} messages deep.`,
          }
        : (attachment.skipped ?? { reason: 'unsupported' as const, message: "Soberana can't read this attachment." });
      parts.store.addSkipped(message.collectionId, sourcePath, why.message, { parentId: message.id, name, reason: why.reason });
      continue;
    }
    const document = parts.store.addDocument({
      collectionId: message.collectionId,
      name,
      sourcePath,
      storedPath: attachment.path,
      format,
      bytes: attachment.bytes,
      sha256: attachment.sha256,
      parentId: message.id,
    });
    jobs.push({ collectionId: message.collectionId, path: sourcePath, resume: { documentId: document.id, from: 'queued' } });
  }
  return jobs;
}
