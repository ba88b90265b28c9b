// The ingest queue's shapes: what it is given (jobs, dependencies) and what it offers. Apart
// from ingest.ts so the queue's file holds its logic alone.

import type { IngestProgress } from '../../../../common/contract/knowledge.ts';
import type { KnowledgeIndex } from '../index/lance-index.ts';
import type { KnowledgeDocument, KnowledgeStore } from '../store.ts';
import type { Embedder } from './embedder.ts';
import type { Extractor } from './extract/pool.ts';
import type { MutableFile, SettledFile } from './progress.ts';
import type { BlockScreen } from './screen-blocks.ts';

export interface IngestJob {
  readonly collectionId: string;
  /** The file to read; for a resumed document, its stored copy. */
  readonly path: string;
  /** A document the journal left unfinished: continue it instead of adding a new one. */
  readonly resume?: { readonly documentId: string; readonly from: 'queued' | 'extracted' };
}

export interface IngestDeps {
  readonly store: KnowledgeStore;
  readonly index: KnowledgeIndex;
  readonly extractor: Extractor;
  /** The collection's embedder; null for text-only collections or when its model is gone. */
  readonly embedderFor: (modelId: string | null) => Promise<Embedder | null>;
  /** Where the app keeps its own copy of each document (the viewer and re-indexing read it). */
  readonly documentsDir: string;
  readonly onProgress: (progress: IngestProgress) => void;
  readonly onChanged: (collectionId: string | null) => void;
  readonly log?: (level: string, message: string) => void;
  /** Index rows gathered before one LanceDB write; more rows, fewer table versions. */
  readonly flushRows?: number;
  readonly progressMs?: number;
  /** Files parsed ahead of the one being embedded; the extractor should have as many workers. */
  readonly lookahead?: number;
  /** Screens a block of text for personal data by the policy; a blocked document fails with the reason. */
  readonly screen?: BlockScreen;
  /** Records what personal data a document holds (types and counts), for the Documents screen. */
  readonly notePersonalData?: (documentId: string, counts: Readonly<Record<string, number>> | null) => void;
  /** A document became searchable (for the audit log). */
  readonly onIndexed?: (document: KnowledgeDocument) => void;
  /** Runs `fn`, recording the audit events it emits together (one key-file update, not one per document). */
  readonly together?: <T>(fn: () => T) => T;
}

export interface Prepared {
  readonly job: IngestJob;
  readonly entry: MutableFile;
  readonly document: KnowledgeDocument | null;
  readonly outcome: 'ready' | 'skipped' | 'failed' | 'cancelled';
  readonly embedder: Embedder | null;
  /** Files written for this attempt, to remove if it does not finish. */
  readonly created: boolean;
  readonly pages: number;
}

export interface IngestQueue {
  enqueue(jobs: readonly IngestJob[]): void;
  /** Calls `listener` as each file ends, for any number of files (the progress lists only the last few); returns the unsubscribe. */
  onSettled(listener: (file: SettledFile) => void): () => void;
  /** Stops the run: queued files are dropped, the one in flight is undone. Returns how many files were cancelled. */
  cancel(): number;
  progress(): IngestProgress;
  /** Resolves when the queue is empty. */
  idle(): Promise<void>;
  close(): Promise<void>;
}
