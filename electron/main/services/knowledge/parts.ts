import type { Emit } from '../domain/events.ts';
import type { Gate } from '../domain/gate.ts';
import type { Database } from '../storage/sqlite.ts';
import type { KnowledgeIndex } from './index/lance-index.ts';
import type { Embedders } from './ingestion/embedder.ts';
import type { IngestQueue } from './ingestion/ingest.ts';
import type { FolderWatch } from './ingestion/watch.ts';
import type { KnowledgeStore } from './store.ts';

// What the knowledge service is built from (service.ts makes them once), handed explicitly to
// the modules that act on them: collections.ts, documents.ts and retrieval/search.ts hold no
// state of their own.

export interface KnowledgeParts {
  readonly db: Database;
  /** The record: collections, documents and chunks in SQLite. */
  readonly store: KnowledgeStore;
  /** The search index in LanceDB. */
  readonly index: KnowledgeIndex;
  readonly embedders: Embedders;
  readonly queue: IngestQueue;
  /** Where the copies of added documents are kept. */
  readonly documentsDir: string;
  /** The policy and audit gate every change passes, whoever asked for it. */
  readonly gate: Gate;
  /** Domain events: documents ingested, deleted, exported. */
  readonly emit: Emit;
  readonly onChanged: (collectionId: string | null) => void;
  readonly log?: ((level: string, message: string) => void) | undefined;
}

/** The parts and the folder watcher, which is built from some of them (see service.ts). */
export interface WatchedParts extends KnowledgeParts {
  readonly watch: FolderWatch;
}
