import { AppError } from '../../../common/result.ts';
import { transaction, type Database } from '../storage/sqlite.ts';
import { batches, documentRow } from './documents-store.ts';
import type { Chunk, DocumentFormat } from './types.ts';

// A document's chunks in SQLite with their vectors, and the rows LanceDB is built from.

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

export interface ChunkStore {
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
}

const CHUNK_COLUMNS = 'k.id, k.document_id, k.ordinal, k.text, k.page, k.heading_path, k.start, k."end", k.tokens, k.ocr_confidence';

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
  ocr_confidence: number | null;
}

export function createChunkStore(db: Database, iso: () => string, newId: () => string): ChunkStore {
  return {
    replaceChunks(documentId, chunks, pageCount) {
      return transaction(db, () => {
        documentRow(db, documentId);
        db.prepare('DELETE FROM chunks WHERE document_id = ?').run(documentId);
        const insert = db.prepare(
          'INSERT INTO chunks (id, document_id, ordinal, text, page, heading_path, start, "end", tokens, ocr_confidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        );
        const ids = chunks.map((chunk) => {
          const id = newId();
          insert.run(
            id,
            documentId,
            chunk.ordinal,
            chunk.text,
            chunk.page,
            JSON.stringify(chunk.headingPath),
            chunk.start,
            chunk.end,
            chunk.tokens,
            chunk.ocrConfidence ?? null,
          );
          return id;
        });
        db.prepare(
          "UPDATE documents SET chunk_count = ?, page_count = ?, status = 'extracted', error_reason = NULL, error_message = NULL, updated_at = ? WHERE id = ?",
        ).run(chunks.length, pageCount, iso(), documentId);
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
          const document = documentRow(db, documentId);
          const missing = db.prepare('SELECT count(*) AS n FROM chunks WHERE document_id = ? AND vector IS NULL').get(documentId) as { n: number };
          if (missing.n > 0)
            throw new AppError('bad_request', 'Some passages of the document have no vector.', `document ${documentId}: ${missing.n} chunks without a vector`);
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
          .all(JSON.stringify(batch)) as unknown as (ChunkRow & {
          collection_id: string;
          document_name: string;
          source_path: string;
          stored_path: string | null;
          format: DocumentFormat;
        })[];
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
        const rows = db
          .prepare('SELECT document_id, count(*) AS n FROM chunks WHERE document_id IN (SELECT value FROM json_each(?)) GROUP BY document_id')
          .all(JSON.stringify(batch)) as {
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
          rows.push({
            chunkId: row.id,
            documentId: row.document_id,
            collectionId: row.collection_id,
            text: row.text,
            vector: row.vector === null ? null : decodeVector(row.vector),
          });
        }
      }
      return rows;
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
    ...(row.ocr_confidence === null ? {} : { ocrConfidence: row.ocr_confidence }),
  };
}
