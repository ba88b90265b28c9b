import path from 'node:path';
import { AppError } from '../../../common/result.ts';
import { transaction, type Database } from '../storage/sqlite.ts';
import { collectionRow } from './collections-store.ts';
import type { DocumentFailureReason, DocumentFormat } from './types.ts';

// Documents in SQLite and their ingestion journal (queued → extracted → embedded → indexed,
// or failed), which recovery reads after a crash. `skipped` rows are files found in an added
// folder that Soberana cannot read: listed with their reason, outside the journal.

export type DocumentStatus = 'queued' | 'extracted' | 'embedded' | 'indexed' | 'failed' | 'skipped';

export interface KnowledgeDocument {
  readonly id: string;
  readonly collectionId: string;
  readonly name: string;
  readonly sourcePath: string;
  /** The absolute folder it was added from (dirname of sourcePath). */
  readonly folder: string;
  readonly storedPath: string | null;
  /** For a skipped file, its lower-case extension ('file' without one): it has no document format. */
  readonly format: DocumentFormat | SkippedFormat;
  readonly bytes: number;
  readonly sha256: string;
  readonly pageCount: number | null;
  readonly status: DocumentStatus;
  readonly errorReason: DocumentFailureReason | null;
  readonly errorMessage: string | null;
  readonly chunkCount: number;
  readonly addedAt: string;
  readonly updatedAt: string;
  /** For an e-mail's attachment, its message; null otherwise. */
  readonly parentId: string | null;
}

export interface DocumentSummary extends KnowledgeDocument {
  /** Chunks with a vector. */
  readonly vectorCount: number;
}

export interface NewDocument {
  readonly collectionId: string;
  readonly name: string;
  readonly sourcePath: string;
  readonly storedPath: string | null;
  readonly format: DocumentFormat;
  readonly bytes: number;
  readonly sha256: string;
  /** The message an attachment came from. */
  readonly parentId?: string | null;
}

/** A skipped attachment: it belongs to its message and says why it was not read. */
export interface SkippedAttachment {
  readonly parentId: string;
  readonly name: string;
  readonly reason: DocumentFailureReason;
}

export interface RecoveryCandidate {
  readonly id: string;
  readonly collectionId: string;
  readonly status: 'queued' | 'extracted' | 'embedded';
  readonly embeddingKey: string;
}

export interface DocumentStore {
  /**
   * Adds a document as `queued`. The same source path in the same collection is the same
   * document: its row is updated and queued again, keeping its id.
   */
  addDocument(input: NewDocument): KnowledgeDocument;
  /**
   * Records a file Soberana cannot read as `skipped`, with `message` saying why. A path the
   * collection already holds keeps its row (one row per path). Returns whether a row was added.
   */
  addSkipped(collectionId: string, sourcePath: string, message: string, attachment?: SkippedAttachment): boolean;
  /** An e-mail's attachments, and theirs (attached messages), deepest first. */
  attachmentIds(id: string): string[];
  /** How many messages a document is attached inside (0 for a file that was added). */
  attachmentDepth(id: string): number;
  document(id: string): KnowledgeDocument;
  findDocument(collectionId: string, sourcePath: string): KnowledgeDocument | null;
  listDocuments(collectionId: string): DocumentSummary[];
  /** Moves along the ingestion journal; throws on a step the journal does not allow. */
  setStatus(id: string, status: Exclude<DocumentStatus, 'failed'>): KnowledgeDocument;
  markFailed(id: string, reason: DocumentFailureReason, message: string): KnowledgeDocument;
  /** Returns the stored copy's path for the caller to delete, and the embedding key of its LanceDB rows. */
  deleteDocument(id: string): { storedPath: string | null; embeddingKey: string } | null;
  /** Documents of collections using `key`, in the given statuses, in insertion order. */
  documentIdsForKey(key: string, statuses: readonly DocumentStatus[]): string[];
  /** Documents whose ingestion did not finish: anything not indexed, failed or skipped. */
  documentsNeedingRecovery(): RecoveryCandidate[];
  /** Whether a document id exists (LanceDB rows of missing documents are orphans). */
  existingDocumentIds(ids: readonly string[]): Set<string>;
}

/** A skipped file's extension, shown in place of a document format. */
export type SkippedFormat = string & { readonly skipped?: never };

const skippedFormat = (file: string): SkippedFormat => path.extname(file).slice(1).toLowerCase().slice(0, 16) || 'file';

/** The journal's allowed steps. `queued` and `failed` are reachable from anywhere (retry, re-ingest, error). */
const NEXT: Record<DocumentStatus, readonly DocumentStatus[]> = {
  queued: ['extracted'],
  extracted: ['embedded', 'indexed'],
  embedded: ['indexed', 'extracted'],
  indexed: ['extracted'],
  failed: [],
  skipped: [],
};

/** Keeps IN lists and json_each inputs at a size SQLite handles comfortably. */
const BATCH = 500;

/** Splits `items` into runs of BATCH. */
export function* batches<T>(items: readonly T[]): Generator<T[]> {
  for (let at = 0; at < items.length; at += BATCH) yield items.slice(at, at + BATCH);
}

export const DOCUMENT_COLUMNS =
  'd.id, d.collection_id, d.name, d.source_path, d.folder, d.stored_path, d.format, d.bytes, d.sha256, d.page_count, d.status, d.error_reason, d.error_message, d.chunk_count, d.added_at, d.updated_at, d.parent_id';

export interface DocumentRow {
  id: string;
  collection_id: string;
  name: string;
  source_path: string;
  folder: string;
  stored_path: string | null;
  format: DocumentFormat | SkippedFormat;
  bytes: number;
  sha256: string;
  page_count: number | null;
  status: DocumentStatus;
  error_reason: DocumentFailureReason | null;
  error_message: string | null;
  chunk_count: number;
  added_at: string;
  updated_at: string;
  parent_id: string | null;
}

/** A document, or not_found. */
export function documentRow(db: Database, id: string): KnowledgeDocument {
  const row = db.prepare(`SELECT ${DOCUMENT_COLUMNS} FROM documents d WHERE id = ?`).get(id) as DocumentRow | undefined;
  if (row === undefined) throw new AppError('not_found', 'The document no longer exists.', `document ${id}`);
  return toDocument(row);
}

export function createDocumentStore(db: Database, iso: () => string, newId: () => string): DocumentStore {
  return {
    addDocument(input) {
      return transaction(db, () => {
        collectionRow(db, input.collectionId);
        const at = iso();
        const existing = db.prepare('SELECT id FROM documents WHERE collection_id = ? AND source_path = ?').get(input.collectionId, input.sourcePath) as
          { id: string } | undefined;
        if (existing !== undefined) {
          db.prepare(
            "UPDATE documents SET name = ?, stored_path = ?, format = ?, bytes = ?, sha256 = ?, status = 'queued', error_reason = NULL, error_message = NULL, updated_at = ?, parent_id = ? WHERE id = ?",
          ).run(input.name, input.storedPath, input.format, input.bytes, input.sha256, at, input.parentId ?? null, existing.id);
          return documentRow(db, existing.id);
        }
        const id = newId();
        db.prepare(
          "INSERT INTO documents (id, collection_id, name, source_path, folder, stored_path, format, bytes, sha256, status, added_at, updated_at, parent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)",
        ).run(
          id,
          input.collectionId,
          input.name,
          input.sourcePath,
          path.dirname(input.sourcePath),
          input.storedPath,
          input.format,
          input.bytes,
          input.sha256,
          at,
          at,
          input.parentId ?? null,
        );
        return documentRow(db, id);
      });
    },

    addSkipped(collectionId, sourcePath, message, attachment) {
      const at = iso();
      const name = attachment?.name ?? path.basename(sourcePath);
      const added = db
        .prepare(
          "INSERT INTO documents (id, collection_id, name, source_path, folder, stored_path, format, bytes, sha256, status, error_reason, error_message, added_at, updated_at, parent_id) VALUES (?, ?, ?, ?, ?, NULL, ?, 0, '', 'skipped', ?, ?, ?, ?, ?) ON CONFLICT (collection_id, source_path) DO NOTHING",
        )
        .run(
          newId(),
          collectionId,
          name,
          sourcePath,
          path.dirname(sourcePath),
          skippedFormat(sourcePath),
          attachment?.reason ?? 'unsupported',
          message,
          at,
          at,
          attachment?.parentId ?? null,
        );
      return Number(added.changes) > 0;
    },

    attachmentIds(id) {
      const rows = db
        .prepare(
          'WITH RECURSIVE below (id, depth) AS (SELECT id, 1 FROM documents WHERE parent_id = ? UNION ALL SELECT d.id, b.depth + 1 FROM documents d JOIN below b ON d.parent_id = b.id) SELECT id FROM below ORDER BY depth DESC',
        )
        .all(id) as { id: string }[];
      return rows.map((row) => row.id);
    },

    attachmentDepth(id) {
      const row = db
        .prepare(
          'WITH RECURSIVE above (id, parent_id, depth) AS (SELECT id, parent_id, 0 FROM documents WHERE id = ? UNION ALL SELECT d.id, d.parent_id, a.depth + 1 FROM documents d JOIN above a ON d.id = a.parent_id) SELECT max(depth) AS depth FROM above',
        )
        .get(id) as { depth: number | null } | undefined;
      return row?.depth ?? 0;
    },

    document: (id) => documentRow(db, id),

    findDocument(collectionId, sourcePath) {
      const row = db.prepare(`SELECT ${DOCUMENT_COLUMNS} FROM documents d WHERE collection_id = ? AND source_path = ?`).get(collectionId, sourcePath) as
        DocumentRow | undefined;
      return row === undefined ? null : toDocument(row);
    },

    listDocuments(collectionId) {
      const rows = db
        .prepare(
          `SELECT ${DOCUMENT_COLUMNS}, (SELECT count(*) FROM chunks k WHERE k.document_id = d.id AND k.vector IS NOT NULL) AS vector_count FROM documents d WHERE collection_id = ? ORDER BY added_at, name`,
        )
        .all(collectionId) as unknown as (DocumentRow & { vector_count: number })[];
      return rows.map((row) => ({ ...toDocument(row), vectorCount: row.vector_count }));
    },

    setStatus(id, status) {
      return transaction(db, () => {
        const current = documentRow(db, id);
        if (status !== 'queued' && current.status !== status && !NEXT[current.status].includes(status)) {
          throw new AppError('bad_request', 'The document cannot move to that step.', `document ${id}: ${current.status} → ${status}`);
        }
        db.prepare('UPDATE documents SET status = ?, error_reason = NULL, error_message = NULL, updated_at = ? WHERE id = ?').run(status, iso(), id);
        return documentRow(db, id);
      });
    },

    markFailed(id, reason, message) {
      documentRow(db, id);
      db.prepare("UPDATE documents SET status = 'failed', error_reason = ?, error_message = ?, updated_at = ? WHERE id = ?").run(reason, message, iso(), id);
      return documentRow(db, id);
    },

    deleteDocument(id) {
      return transaction(db, () => {
        const row = db.prepare('SELECT d.stored_path, c.embedding_key FROM documents d JOIN collections c ON c.id = d.collection_id WHERE d.id = ?').get(id) as
          { stored_path: string | null; embedding_key: string } | undefined;
        if (row === undefined) return null;
        db.prepare('DELETE FROM documents WHERE id = ?').run(id);
        return { storedPath: row.stored_path, embeddingKey: row.embedding_key };
      });
    },

    documentIdsForKey(key, statuses) {
      const rows = db
        .prepare(
          'SELECT d.id FROM documents d JOIN collections c ON c.id = d.collection_id WHERE c.embedding_key = ? AND d.status IN (SELECT value FROM json_each(?)) ORDER BY d.rowid',
        )
        .all(key, JSON.stringify(statuses)) as { id: string }[];
      return rows.map((row) => row.id);
    },

    documentsNeedingRecovery() {
      const rows = db
        .prepare(
          "SELECT d.id, d.collection_id, d.status, c.embedding_key FROM documents d JOIN collections c ON c.id = d.collection_id WHERE d.status NOT IN ('indexed', 'failed', 'skipped') ORDER BY d.rowid",
        )
        .all() as { id: string; collection_id: string; status: RecoveryCandidate['status']; embedding_key: string }[];
      return rows.map((row) => ({ id: row.id, collectionId: row.collection_id, status: row.status, embeddingKey: row.embedding_key }));
    },

    existingDocumentIds(ids) {
      const found = new Set<string>();
      for (const batch of batches(ids)) {
        const rows = db.prepare('SELECT id FROM documents WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(batch)) as { id: string }[];
        for (const row of rows) found.add(row.id);
      }
      return found;
    },
  };
}

export function toDocument(row: DocumentRow): KnowledgeDocument {
  return {
    id: row.id,
    collectionId: row.collection_id,
    name: row.name,
    sourcePath: row.source_path,
    folder: row.folder,
    storedPath: row.stored_path,
    format: row.format,
    bytes: row.bytes,
    sha256: row.sha256,
    pageCount: row.page_count,
    status: row.status,
    errorReason: row.error_reason,
    errorMessage: row.error_message,
    chunkCount: row.chunk_count,
    addedAt: row.added_at,
    updatedAt: row.updated_at,
    parentId: row.parent_id,
  };
}
