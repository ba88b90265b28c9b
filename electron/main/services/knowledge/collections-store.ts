import { AppError } from '../../../common/result.ts';
import { transaction, type Database } from '../storage/sqlite.ts';

// Collections in SQLite: names, read-only, the embedding space their documents share, and
// the languages OCR reads their scans in.

/** Tesseract's codes for the languages scans are read in. */
export type OcrLanguageCode = 'eng' | 'spa';

/** The key of collections searched by text only: their LanceDB table has no vector column. */
export const FTS_ONLY_KEY = 'fts';

export interface Collection {
  readonly id: string;
  readonly name: string;
  readonly embeddingModelId: string | null;
  readonly embeddingKey: string;
  readonly dimensions: number | null;
  readonly readOnly: boolean;
  /** The languages its scans are read in (default: both). */
  readonly ocrLanguages: readonly OcrLanguageCode[];
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

export interface CollectionStore {
  createCollection(input: { name: string; readOnly?: boolean } & EmbeddingSpace): Collection;
  collection(id: string): Collection;
  listCollections(): CollectionSummary[];
  renameCollection(id: string, name: string): Collection;
  setReadOnly(id: string, readOnly: boolean): Collection;
  /** Sets the languages scans are read in; documents already read keep their text until read again. */
  setOcrLanguages(id: string, languages: readonly OcrLanguageCode[]): Collection;
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
}

const COLLECTION_COLUMNS = 'c.id, c.name, c.embedding_model_id, c.embedding_key, c.dimensions, c.read_only, c.ocr_languages, c.created_at, c.updated_at';

interface CollectionRow {
  id: string;
  name: string;
  embedding_model_id: string | null;
  embedding_key: string;
  dimensions: number | null;
  read_only: number;
  ocr_languages: string;
  created_at: string;
  updated_at: string;
}

/** A collection, or not_found. */
export function collectionRow(db: Database, id: string): Collection {
  const row = db.prepare(`SELECT ${COLLECTION_COLUMNS} FROM collections c WHERE id = ?`).get(id) as CollectionRow | undefined;
  if (row === undefined) throw new AppError('not_found', 'The collection no longer exists.', `collection ${id}`);
  return toCollection(row);
}

export function createCollectionStore(db: Database, iso: () => string, newId: () => string): CollectionStore {
  const checkSpace = (space: EmbeddingSpace) => {
    const textOnly = space.embeddingKey === FTS_ONLY_KEY;
    if (textOnly !== (space.dimensions === null) || (space.dimensions !== null && (!Number.isInteger(space.dimensions) || space.dimensions < 1))) {
      throw new AppError(
        'bad_request',
        'The embedding model does not fit this collection.',
        `key ${space.embeddingKey} with dimensions ${String(space.dimensions)}`,
      );
    }
  };

  const checkName = (name: string, exceptId: string | null) => {
    const trimmed = name.trim();
    if (trimmed.length < 1 || trimmed.length > 200)
      throw new AppError('bad_request', 'A collection name must have 1 to 200 characters.', `name length ${trimmed.length}`);
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
      return collectionRow(db, id);
    },

    collection: (id) => collectionRow(db, id),

    listCollections() {
      const rows = db
        .prepare(
          `SELECT ${COLLECTION_COLUMNS},
             (SELECT count(*) FROM documents d WHERE d.collection_id = c.id) AS document_count,
             (SELECT ifnull(sum(chunk_count), 0) FROM documents d WHERE d.collection_id = c.id) AS chunk_count,
             (SELECT count(*) FROM documents d WHERE d.collection_id = c.id AND status = 'failed') AS failed_count,
             (SELECT count(*) FROM documents d WHERE d.collection_id = c.id AND status NOT IN ('indexed', 'failed', 'skipped')) AS pending_count
           FROM collections c ORDER BY name COLLATE NOCASE`,
        )
        .all() as unknown as (CollectionRow & { document_count: number; chunk_count: number; failed_count: number; pending_count: number })[];
      return rows.map((row) => ({
        ...toCollection(row),
        documentCount: row.document_count,
        chunkCount: row.chunk_count,
        failedCount: row.failed_count,
        pendingCount: row.pending_count,
      }));
    },

    renameCollection(id, name) {
      return transaction(db, () => {
        collectionRow(db, id);
        db.prepare('UPDATE collections SET name = ?, updated_at = ? WHERE id = ?').run(checkName(name, id), iso(), id);
        return collectionRow(db, id);
      });
    },

    setReadOnly(id, readOnly) {
      collectionRow(db, id);
      db.prepare('UPDATE collections SET read_only = ?, updated_at = ? WHERE id = ?').run(readOnly ? 1 : 0, iso(), id);
      return collectionRow(db, id);
    },

    deleteCollection(id) {
      return transaction(db, () => {
        const collection = collectionRow(db, id);
        const documents = db.prepare('SELECT id, stored_path FROM documents WHERE collection_id = ?').all(id) as { id: string; stored_path: string | null }[];
        db.prepare('DELETE FROM collections WHERE id = ?').run(id);
        return {
          embeddingKey: collection.embeddingKey,
          documentIds: documents.map((row) => row.id),
          storedPaths: documents.flatMap((row) => (row.stored_path === null ? [] : [row.stored_path])),
        };
      });
    },

    setOcrLanguages(id, languages) {
      const value = (['eng', 'spa'] as const).filter((code) => languages.includes(code)).join('+');
      if (value === '') throw new AppError('bad_request', 'Choose at least one language to read scans in.');
      collectionRow(db, id);
      db.prepare('UPDATE collections SET ocr_languages = ?, updated_at = ? WHERE id = ?').run(value, iso(), id);
      return collectionRow(db, id);
    },

    setEmbeddingModel(id, space) {
      checkSpace(space);
      return transaction(db, () => {
        const previous = collectionRow(db, id);
        const documentIds = (db.prepare('SELECT id FROM documents WHERE collection_id = ?').all(id) as { id: string }[]).map((row) => row.id);
        const at = iso();
        db.prepare('UPDATE collections SET embedding_model_id = ?, embedding_key = ?, dimensions = ?, updated_at = ? WHERE id = ?').run(
          space.embeddingModelId,
          space.embeddingKey,
          space.dimensions,
          at,
          id,
        );
        db.prepare('UPDATE chunks SET vector = NULL WHERE document_id IN (SELECT id FROM documents WHERE collection_id = ?)').run(id);
        db.prepare("UPDATE documents SET status = 'extracted', updated_at = ? WHERE collection_id = ? AND status IN ('embedded', 'indexed')").run(at, id);
        return { previousKey: previous.embeddingKey, documentIds };
      });
    },

    embeddingKeys() {
      return (db.prepare('SELECT DISTINCT embedding_key FROM collections ORDER BY embedding_key').all() as { embedding_key: string }[]).map(
        (row) => row.embedding_key,
      );
    },

    dimensionsOf(key) {
      const row = db.prepare('SELECT dimensions FROM collections WHERE embedding_key = ? LIMIT 1').get(key) as { dimensions: number | null } | undefined;
      return row?.dimensions ?? null;
    },
  };
}

function toCollection(row: CollectionRow): Collection {
  return {
    id: row.id,
    name: row.name,
    embeddingModelId: row.embedding_model_id,
    embeddingKey: row.embedding_key,
    dimensions: row.dimensions,
    readOnly: row.read_only === 1,
    ocrLanguages: row.ocr_languages.split('+') as OcrLanguageCode[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
