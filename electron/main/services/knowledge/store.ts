import { randomUUID } from 'node:crypto';
import { AppError } from '../../../common/result.ts';
import { transaction, type Database } from '../storage/sqlite.ts';
import type { Chunk, DocumentFailureReason, DocumentFormat } from './types.ts';

// Knowledge collections, documents, chunks and watched folders in SQLite: the source of
// truth. LanceDB (lance-index.ts) holds a rebuildable copy for search. Synchronous functions
// over one connection, like the chat store; every multi-row write is one transaction.

export type DocumentStatus = 'queued' | 'extracted' | 'embedded' | 'indexed' | 'failed';

/** The key of collections searched by text only: their LanceDB table has no vector column. */
export const FTS_ONLY_KEY = 'fts';

export interface Collection {
  readonly id: string;
  readonly name: string;
  readonly embeddingModelId: string | null;
  readonly embeddingKey: string;
  readonly dimensions: number | null;
  readonly readOnly: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface CollectionSummary extends Collection {
  readonly documentCount: number;
  readonly chunkCount: number;
  readonly failedCount: number;
  /** Documents not yet indexed or failed: still being ingested. */
  readonly pendingCount: number;
}

export interface EmbeddingSpace {
  readonly embeddingModelId: string | null;
  /** The model's sha256, or FTS_ONLY_KEY when there is no model. */
  readonly embeddingKey: string;
  /** Null exactly when the key is FTS_ONLY_KEY. */
  readonly dimensions: number | null;
}

export interface KnowledgeDocument {
  readonly id: string;
  readonly collectionId: string;
  readonly name: string;
  readonly sourcePath: string;
  readonly storedPath: string | null;
  readonly format: DocumentFormat;
  readonly bytes: number;
  readonly sha256: string;
  readonly pageCount: number | null;
  readonly status: DocumentStatus;
  readonly errorReason: DocumentFailureReason | null;
  readonly errorMessage: string | null;
  readonly chunkCount: number;
  readonly addedAt: string;
  readonly updatedAt: string;
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
}

export interface StoredChunk extends Chunk {
  readonly id: string;
  readonly documentId: string;
}

/** A chunk with what a citation needs about its document. */
export interface ChunkRecord extends StoredChunk {
  readonly collectionId: string;
  readonly documentName: string;
  readonly sourcePath: string;
  readonly storedPath: string | null;
  readonly format: DocumentFormat;
}

/** What LanceDB holds for one chunk. */
export interface IndexRow {
  readonly chunkId: string;
  readonly documentId: string;
  readonly collectionId: string;
  readonly text: string;
  readonly vector: Float32Array | null;
}

export interface WatchedFolder {
  readonly id: string;
  readonly collectionId: string;
  readonly path: string;
  readonly addedAt: string;
}

export interface RecoveryCandidate {
  readonly id: string;
  readonly collectionId: string;
  readonly status: 'queued' | 'extracted' | 'embedded';
  readonly embeddingKey: string;
}

export interface KnowledgeStore {
  createCollection(input: { name: string; readOnly?: boolean } & EmbeddingSpace): Collection;
  collection(id: string): Collection;
  listCollections(): CollectionSummary[];
  renameCollection(id: string, name: string): Collection;
  setReadOnly(id: string, readOnly: boolean): Collection;
  /**
   * Deletes the collection with its documents, chunks and watched folders. Returns what the
   * caller must clean up outside SQLite: the LanceDB rows (by key) and the stored copies.
   */
  deleteCollection(id: string): { embeddingKey: string; documentIds: string[]; storedPaths: string[] };
  /**
   * Switches the collection to another embedding model: clears every vector and moves its
   * embedded and indexed documents back to `extracted`, to be embedded again. Returns the
   * previous key and the documents whose LanceDB rows the caller must delete.
   */
  setEmbeddingModel(id: string, space: EmbeddingSpace): { previousKey: string; documentIds: string[] };
  /** Every embedding key a collection uses. */
  embeddingKeys(): string[];
  dimensionsOf(key: string): number | null;

  /**
   * Adds a document as `queued`. The same source path in the same collection is the same
   * document: its row is updated and queued again, keeping its id.
   */
  addDocument(input: NewDocument): KnowledgeDocument;
  document(id: string): KnowledgeDocument;
  findDocument(collectionId: string, sourcePath: string): KnowledgeDocument | null;
  listDocuments(collectionId: string): DocumentSummary[];
  /** Moves along the ingestion journal; throws on a step the journal does not allow. */
  setStatus(id: string, status: Exclude<DocumentStatus, 'failed'>): KnowledgeDocument;
  markFailed(id: string, reason: DocumentFailureReason, message: string): KnowledgeDocument;
  /** Returns the stored copy's path for the caller to delete, and the embedding key of its LanceDB rows. */
  deleteDocument(id: string): { storedPath: string | null; embeddingKey: string } | null;

  /** Replaces the document's chunks in one transaction and marks it `extracted`. Returns the new chunk ids in ordinal order. */
  replaceChunks(documentId: string, chunks: readonly Chunk[], pageCount: number | null): string[];
  /**
   * Stores vectors for chunks, in one transaction. With `documentId`, the vectors must cover
   * every chunk of that document and the document becomes `embedded` in the same transaction.
   */
  setVectors(entries: readonly { chunkId: string; vector: Float32Array }[], options?: { documentId?: string }): void;
  chunksForDocument(documentId: string): StoredChunk[];
  /** In the order of `ids`; ids that no longer exist are left out. */
  chunksByIds(ids: readonly string[]): ChunkRecord[];
  /** Chunk counts per document, for the given documents (0 for those without chunks). */
  chunkCounts(documentIds: readonly string[]): Map<string, number>;
  /** The LanceDB rows of these documents, with vectors when the collection has a model. */
  indexRows(documentIds: readonly string[]): IndexRow[];
  /** Documents of collections using `key`, in the given statuses, in insertion order. */
  documentIdsForKey(key: string, statuses: readonly DocumentStatus[]): string[];
  /** Documents whose ingestion did not finish: anything not indexed or failed. */
  documentsNeedingRecovery(): RecoveryCandidate[];
  /** Whether a document id exists (LanceDB rows of missing documents are orphans). */
  existingDocumentIds(ids: readonly string[]): Set<string>;

  addWatchedFolder(collectionId: string, path: string): WatchedFolder;
  removeWatchedFolder(id: string): void;
  listWatchedFolders(collectionId?: string): WatchedFolder[];
}

export interface KnowledgeStoreOptions {
  readonly now?: () => Date;
  readonly newId?: () => string;
}

/** The journal's allowed steps. `queued` and `failed` are reachable from anywhere (retry, re-ingest, error). */
const NEXT: Record<DocumentStatus, readonly DocumentStatus[]> = {
  queued: ['extracted'],
  extracted: ['embedded', 'indexed'],
  embedded: ['indexed', 'extracted'],
  indexed: ['extracted'],
  failed: [],
};

/** Keeps IN lists and json_each inputs at a size SQLite handles comfortably. */
const BATCH = 500;

export function createKnowledgeStore(db: Database, options: KnowledgeStoreOptions = {}): KnowledgeStore {
  const now = options.now ?? (() => new Date());
  const iso = () => now().toISOString();
  const newId = options.newId ?? randomUUID;

  const collectionRow = (id: string): Collection => {
    const row = db.prepare(`SELECT ${COLLECTION_COLUMNS} FROM collections c WHERE id = ?`).get(id) as CollectionRow | undefined;
    if (row === undefined) throw new AppError('not_found', 'The collection no longer exists.', `collection ${id}`);
    return toCollection(row);
  };

  const documentRow = (id: string): KnowledgeDocument => {
    const row = db.prepare(`SELECT ${DOCUMENT_COLUMNS} FROM documents d WHERE id = ?`).get(id) as DocumentRow | undefined;
    if (row === undefined) throw new AppError('not_found', 'The document no longer exists.', `document ${id}`);
    return toDocument(row);
  };

  const checkSpace = (space: EmbeddingSpace) => {
    const textOnly = space.embeddingKey === FTS_ONLY_KEY;
    if (textOnly !== (space.dimensions === null) || (space.dimensions !== null && (!Number.isInteger(space.dimensions) || space.dimensions < 1))) {
      throw new AppError('bad_request', 'The embedding model does not fit this collection.', `key ${space.embeddingKey} with dimensions ${String(space.dimensions)}`);
    }
  };

  const checkName = (name: string, exceptId: string | null) => {
    const trimmed = name.trim();
    if (trimmed.length < 1 || trimmed.length > 200) throw new AppError('bad_request', 'A collection name must have 1 to 200 characters.', `name length ${trimmed.length}`);
    const clash = db.prepare('SELECT id FROM collections WHERE name = ? COLLATE NOCASE AND id IS NOT ?').get(trimmed, exceptId) as { id: string } | undefined;
    if (clash !== undefined) throw new AppError('bad_request', `A collection named “${trimmed}” already exists.`, `collection ${clash.id}`);
    return trimmed;
  };

  return {
    createCollection(input) {
      checkSpace(input);
      const name = checkName(input.name, null);
      const id = newId();
      const at = iso();
      db.prepare(
        'INSERT INTO collections (id, name, embedding_model_id, embedding_key, dimensions, read_only, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(id, name, input.embeddingModelId, input.embeddingKey, input.dimensions, input.readOnly === true ? 1 : 0, at, at);
      return collectionRow(id);
    },

    collection: collectionRow,

    listCollections() {
      const rows = db
        .prepare(
          `SELECT ${COLLECTION_COLUMNS},
             (SELECT count(*) FROM documents d WHERE d.collection_id = c.id) AS document_count,
             (SELECT ifnull(sum(chunk_count), 0) FROM documents d WHERE d.collection_id = c.id) AS chunk_count,
             (SELECT count(*) FROM documents d WHERE d.collection_id = c.id AND status = 'failed') AS failed_count,
             (SELECT count(*) FROM documents d WHERE d.collection_id = c.id AND status NOT IN ('indexed', 'failed')) AS pending_count
           FROM collections c ORDER BY name COLLATE NOCASE`,
        )
        .all() as unknown as (CollectionRow & { document_count: number; chunk_count: number; failed_count: number; pending_count: number })[];
      return rows.map((row) => ({ ...toCollection(row), documentCount: row.document_count, chunkCount: row.chunk_count, failedCount: row.failed_count, pendingCount: row.pending_count }));
    },

    renameCollection(id, name) {
      return transaction(db, () => {
        collectionRow(id);
        db.prepare('UPDATE collections SET name = ?, updated_at = ? WHERE id = ?').run(checkName(name, id), iso(), id);
        return collectionRow(id);
      });
    },

    setReadOnly(id, readOnly) {
      collectionRow(id);
      db.prepare('UPDATE collections SET read_only = ?, updated_at = ? WHERE id = ?').run(readOnly ? 1 : 0, iso(), id);
      return collectionRow(id);
    },

    deleteCollection(id) {
      return transaction(db, () => {
        const collection = collectionRow(id);
        const documents = db.prepare('SELECT id, stored_path FROM documents WHERE collection_id = ?').all(id) as { id: string; stored_path: string | null }[];
        db.prepare('DELETE FROM collections WHERE id = ?').run(id);
        return {
          embeddingKey: collection.embeddingKey,
          documentIds: documents.map((row) => row.id),
          storedPaths: documents.flatMap((row) => (row.stored_path === null ? [] : [row.stored_path])),
        };
      });
    },

    setEmbeddingModel(id, space) {
      checkSpace(space);
      return transaction(db, () => {
        const previous = collectionRow(id);
        const documentIds = (db.prepare('SELECT id FROM documents WHERE collection_id = ?').all(id) as { id: string }[]).map((row) => row.id);
        const at = iso();
        db.prepare('UPDATE collections SET embedding_model_id = ?, embedding_key = ?, dimensions = ?, updated_at = ? WHERE id = ?').run(space.embeddingModelId, space.embeddingKey, space.dimensions, at, id);
        db.prepare('UPDATE chunks SET vector = NULL WHERE document_id IN (SELECT id FROM documents WHERE collection_id = ?)').run(id);
        db.prepare("UPDATE documents SET status = 'extracted', updated_at = ? WHERE collection_id = ? AND status IN ('embedded', 'indexed')").run(at, id);
        return { previousKey: previous.embeddingKey, documentIds };
      });
    },

    embeddingKeys() {
      return (db.prepare('SELECT DISTINCT embedding_key FROM collections ORDER BY embedding_key').all() as { embedding_key: string }[]).map((row) => row.embedding_key);
    },

    dimensionsOf(key) {
      const row = db.prepare('SELECT dimensions FROM collections WHERE embedding_key = ? LIMIT 1').get(key) as { dimensions: number | null } | undefined;
      return row?.dimensions ?? null;
    },

    addDocument(input) {
      return transaction(db, () => {
        collectionRow(input.collectionId);
        const at = iso();
        const existing = db.prepare('SELECT id FROM documents WHERE collection_id = ? AND source_path = ?').get(input.collectionId, input.sourcePath) as { id: string } | undefined;
        if (existing !== undefined) {
          db.prepare(
            "UPDATE documents SET name = ?, stored_path = ?, format = ?, bytes = ?, sha256 = ?, status = 'queued', error_reason = NULL, error_message = NULL, updated_at = ? WHERE id = ?",
          ).run(input.name, input.storedPath, input.format, input.bytes, input.sha256, at, existing.id);
          return documentRow(existing.id);
        }
        const id = newId();
        db.prepare(
          "INSERT INTO documents (id, collection_id, name, source_path, stored_path, format, bytes, sha256, status, added_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
        ).run(id, input.collectionId, input.name, input.sourcePath, input.storedPath, input.format, input.bytes, input.sha256, at, at);
        return documentRow(id);
      });
    },

    document: documentRow,

    findDocument(collectionId, sourcePath) {
      const row = db.prepare(`SELECT ${DOCUMENT_COLUMNS} FROM documents d WHERE collection_id = ? AND source_path = ?`).get(collectionId, sourcePath) as DocumentRow | undefined;
      return row === undefined ? null : toDocument(row);
    },

    listDocuments(collectionId) {
      const rows = db
        .prepare(`SELECT ${DOCUMENT_COLUMNS}, (SELECT count(*) FROM chunks k WHERE k.document_id = d.id AND k.vector IS NOT NULL) AS vector_count FROM documents d WHERE collection_id = ? ORDER BY added_at, name`)
        .all(collectionId) as unknown as (DocumentRow & { vector_count: number })[];
      return rows.map((row) => ({ ...toDocument(row), vectorCount: row.vector_count }));
    },

    setStatus(id, status) {
      return transaction(db, () => {
        const current = documentRow(id);
        if (status !== 'queued' && current.status !== status && !NEXT[current.status].includes(status)) {
          throw new AppError('bad_request', 'The document cannot move to that step.', `document ${id}: ${current.status} → ${status}`);
        }
        db.prepare('UPDATE documents SET status = ?, error_reason = NULL, error_message = NULL, updated_at = ? WHERE id = ?').run(status, iso(), id);
        return documentRow(id);
      });
    },

    markFailed(id, reason, message) {
      documentRow(id);
      db.prepare("UPDATE documents SET status = 'failed', error_reason = ?, error_message = ?, updated_at = ? WHERE id = ?").run(reason, message, iso(), id);
      return documentRow(id);
    },

    deleteDocument(id) {
      return transaction(db, () => {
        const row = db.prepare('SELECT d.stored_path, c.embedding_key FROM documents d JOIN collections c ON c.id = d.collection_id WHERE d.id = ?').get(id) as
          | { stored_path: string | null; embedding_key: string }
          | undefined;
        if (row === undefined) return null;
        db.prepare('DELETE FROM documents WHERE id = ?').run(id);
        return { storedPath: row.stored_path, embeddingKey: row.embedding_key };
      });
    },

    replaceChunks(documentId, chunks, pageCount) {
      return transaction(db, () => {
        documentRow(documentId);
        db.prepare('DELETE FROM chunks WHERE document_id = ?').run(documentId);
        const insert = db.prepare('INSERT INTO chunks (id, document_id, ordinal, text, page, heading_path, start, "end", tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
        const ids = chunks.map((chunk) => {
          const id = newId();
          insert.run(id, documentId, chunk.ordinal, chunk.text, chunk.page, JSON.stringify(chunk.headingPath), chunk.start, chunk.end, chunk.tokens);
          return id;
        });
        db.prepare("UPDATE documents SET chunk_count = ?, page_count = ?, status = 'extracted', error_reason = NULL, error_message = NULL, updated_at = ? WHERE id = ?").run(
          chunks.length,
          pageCount,
          iso(),
          documentId,
        );
        return ids;
      });
    },

    setVectors(entries, setOptions = {}) {
      transaction(db, () => {
        const update = db.prepare('UPDATE chunks SET vector = ? WHERE id = ?');
        for (const entry of entries) {
          if (Number(update.run(encodeVector(entry.vector), entry.chunkId).changes) !== 1) {
            throw new AppError('not_found', 'A passage of the document no longer exists.', `chunk ${entry.chunkId}`);
          }
        }
        const documentId = setOptions.documentId;
        if (documentId !== undefined) {
          const document = documentRow(documentId);
          const missing = db.prepare('SELECT count(*) AS n FROM chunks WHERE document_id = ? AND vector IS NULL').get(documentId) as { n: number };
          if (missing.n > 0) throw new AppError('bad_request', 'Some passages of the document have no vector.', `document ${documentId}: ${missing.n} chunks without a vector`);
          if (document.status !== 'extracted' && document.status !== 'embedded') {
            throw new AppError('bad_request', 'The document cannot move to that step.', `document ${documentId}: ${document.status} → embedded`);
          }
          db.prepare("UPDATE documents SET status = 'embedded', updated_at = ? WHERE id = ?").run(iso(), documentId);
        }
      });
    },

    chunksForDocument(documentId) {
      const rows = db.prepare(`SELECT ${CHUNK_COLUMNS} FROM chunks k WHERE document_id = ? ORDER BY ordinal`).all(documentId) as unknown as ChunkRow[];
      return rows.map(toStoredChunk);
    },

    chunksByIds(ids) {
      const byId = new Map<string, ChunkRecord>();
      for (const batch of batches(ids)) {
        const rows = db
          .prepare(
            `SELECT ${CHUNK_COLUMNS}, d.collection_id, d.name AS document_name, d.source_path, d.stored_path, d.format
             FROM chunks k JOIN documents d ON d.id = k.document_id WHERE k.id IN (SELECT value FROM json_each(?))`,
          )
          .all(JSON.stringify(batch)) as unknown as (ChunkRow & { collection_id: string; document_name: string; source_path: string; stored_path: string | null; format: DocumentFormat })[];
        for (const row of rows) {
          byId.set(row.id, {
            ...toStoredChunk(row),
            collectionId: row.collection_id,
            documentName: row.document_name,
            sourcePath: row.source_path,
            storedPath: row.stored_path,
            format: row.format,
          });
        }
      }
      return ids.flatMap((id) => byId.get(id) ?? []);
    },

    chunkCounts(documentIds) {
      const counts = new Map(documentIds.map((id) => [id, 0]));
      for (const batch of batches(documentIds)) {
        const rows = db.prepare('SELECT document_id, count(*) AS n FROM chunks WHERE document_id IN (SELECT value FROM json_each(?)) GROUP BY document_id').all(JSON.stringify(batch)) as {
          document_id: string;
          n: number;
        }[];
        for (const row of rows) counts.set(row.document_id, row.n);
      }
      return counts;
    },

    indexRows(documentIds) {
      const rows: IndexRow[] = [];
      for (const batch of batches(documentIds)) {
        const found = db
          .prepare(
            `SELECT k.id, k.document_id, d.collection_id, k.text, k.vector FROM chunks k JOIN documents d ON d.id = k.document_id
             WHERE k.document_id IN (SELECT value FROM json_each(?)) ORDER BY d.rowid, k.ordinal`,
          )
          .all(JSON.stringify(batch)) as { id: string; document_id: string; collection_id: string; text: string; vector: Uint8Array | null }[];
        for (const row of found) {
          rows.push({ chunkId: row.id, documentId: row.document_id, collectionId: row.collection_id, text: row.text, vector: row.vector === null ? null : decodeVector(row.vector) });
        }
      }
      return rows;
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
          "SELECT d.id, d.collection_id, d.status, c.embedding_key FROM documents d JOIN collections c ON c.id = d.collection_id WHERE d.status NOT IN ('indexed', 'failed') ORDER BY d.rowid",
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

    addWatchedFolder(collectionId, path) {
      return transaction(db, () => {
        collectionRow(collectionId);
        const existing = db.prepare('SELECT id FROM watched_folders WHERE collection_id = ? AND path = ?').get(collectionId, path) as { id: string } | undefined;
        const id = existing?.id ?? newId();
        if (existing === undefined) db.prepare('INSERT INTO watched_folders (id, collection_id, path, added_at) VALUES (?, ?, ?, ?)').run(id, collectionId, path, iso());
        const row = db.prepare('SELECT id, collection_id, path, added_at FROM watched_folders WHERE id = ?').get(id) as unknown as FolderRow;
        return toFolder(row);
      });
    },

    removeWatchedFolder(id) {
      db.prepare('DELETE FROM watched_folders WHERE id = ?').run(id);
    },

    listWatchedFolders(collectionId) {
      const rows = (
        collectionId === undefined
          ? db.prepare('SELECT id, collection_id, path, added_at FROM watched_folders ORDER BY added_at, path').all()
          : db.prepare('SELECT id, collection_id, path, added_at FROM watched_folders WHERE collection_id = ? ORDER BY added_at, path').all(collectionId)
      ) as unknown as FolderRow[];
      return rows.map(toFolder);
    },
  };
}

// ── vectors ─────────────────────────────────────────────────────────────────

/** Float32 little-endian, whatever the machine's byte order. */
export function encodeVector(vector: Float32Array): Uint8Array {
  const bytes = new Uint8Array(vector.length * 4);
  const view = new DataView(bytes.buffer);
  vector.forEach((value, index) => view.setFloat32(index * 4, value, true));
  return bytes;
}

export function decodeVector(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new Error(`A stored vector has ${bytes.byteLength} bytes, not a multiple of 4.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const vector = new Float32Array(bytes.byteLength / 4);
  for (let index = 0; index < vector.length; index++) vector[index] = view.getFloat32(index * 4, true);
  return vector;
}

// ── rows ────────────────────────────────────────────────────────────────────

function* batches<T>(items: readonly T[]): Generator<T[]> {
  for (let at = 0; at < items.length; at += BATCH) yield items.slice(at, at + BATCH);
}

const COLLECTION_COLUMNS = 'c.id, c.name, c.embedding_model_id, c.embedding_key, c.dimensions, c.read_only, c.created_at, c.updated_at';
const DOCUMENT_COLUMNS =
  'd.id, d.collection_id, d.name, d.source_path, d.stored_path, d.format, d.bytes, d.sha256, d.page_count, d.status, d.error_reason, d.error_message, d.chunk_count, d.added_at, d.updated_at';
const CHUNK_COLUMNS = 'k.id, k.document_id, k.ordinal, k.text, k.page, k.heading_path, k.start, k."end", k.tokens';

interface CollectionRow {
  id: string;
  name: string;
  embedding_model_id: string | null;
  embedding_key: string;
  dimensions: number | null;
  read_only: number;
  created_at: string;
  updated_at: string;
}

interface DocumentRow {
  id: string;
  collection_id: string;
  name: string;
  source_path: string;
  stored_path: string | null;
  format: DocumentFormat;
  bytes: number;
  sha256: string;
  page_count: number | null;
  status: DocumentStatus;
  error_reason: DocumentFailureReason | null;
  error_message: string | null;
  chunk_count: number;
  added_at: string;
  updated_at: string;
}

interface ChunkRow {
  id: string;
  document_id: string;
  ordinal: number;
  text: string;
  page: number | null;
  heading_path: string;
  start: number;
  end: number;
  tokens: number;
}

interface FolderRow {
  id: string;
  collection_id: string;
  path: string;
  added_at: string;
}

function toCollection(row: CollectionRow): Collection {
  return {
    id: row.id,
    name: row.name,
    embeddingModelId: row.embedding_model_id,
    embeddingKey: row.embedding_key,
    dimensions: row.dimensions,
    readOnly: row.read_only === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toDocument(row: DocumentRow): KnowledgeDocument {
  return {
    id: row.id,
    collectionId: row.collection_id,
    name: row.name,
    sourcePath: row.source_path,
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
  };
}

function toStoredChunk(row: ChunkRow): StoredChunk {
  return {
    id: row.id,
    documentId: row.document_id,
    ordinal: row.ordinal,
    text: row.text,
    page: row.page,
    headingPath: JSON.parse(row.heading_path) as string[],
    start: row.start,
    end: row.end,
    tokens: row.tokens,
  };
}

function toFolder(row: FolderRow): WatchedFolder {
  return { id: row.id, collectionId: row.collection_id, path: row.path, addedAt: row.added_at };
}
