import { randomUUID } from 'node:crypto';
import type { Database } from '../storage/sqlite.ts';
import { createChunkStore, type ChunkStore } from './chunks-store.ts';
import { createOcrPageStore, type OcrPageStore } from './ocr-pages-store.ts';
import { createCollectionStore, type CollectionStore } from './collections-store.ts';
import { createDocumentStore, type DocumentStore } from './documents-store.ts';
import { createWatchedFolderStore, type WatchedFolderStore } from './watched-folders-store.ts';

// Knowledge collections, documents, chunks and watched folders in SQLite: the source of
// truth. LanceDB (lance-index.ts) holds a rebuildable copy for search. Synchronous functions
// over one connection, like the chat store; every multi-row write is one transaction.
// Each table's part lives in its own module; this one opens them together as one store.

export { decodeVector, encodeVector, type ChunkRecord, type IndexRow, type StoredChunk } from './chunks-store.ts';
export { FTS_ONLY_KEY, type Collection, type CollectionSummary, type EmbeddingSpace } from './collections-store.ts';
export { type DocumentStatus, type DocumentSummary, type KnowledgeDocument, type NewDocument, type RecoveryCandidate } from './documents-store.ts';
export { type WatchedFolder } from './watched-folders-store.ts';

export interface KnowledgeStore extends CollectionStore, DocumentStore, ChunkStore, WatchedFolderStore, OcrPageStore {}

export interface KnowledgeStoreOptions {
  readonly now?: () => Date;
  readonly newId?: () => string;
}

export function createKnowledgeStore(db: Database, options: KnowledgeStoreOptions = {}): KnowledgeStore {
  const now = options.now ?? (() => new Date());
  const iso = () => now().toISOString();
  const newId = options.newId ?? randomUUID;

  return {
    ...createCollectionStore(db, iso, newId),
    ...createDocumentStore(db, iso, newId),
    ...createChunkStore(db, iso, newId),
    ...createWatchedFolderStore(db, iso, newId),
    ...createOcrPageStore(db),
  };
}
