import type { KnowledgeIndex } from './lance-index.ts';
import type { KnowledgeStore } from '../store.ts';

// Run once at start, before ingestion resumes: makes LanceDB agree with SQLite again after a
// crash, a kill or a lost index folder. SQLite is the truth; LanceDB is only ever rebuilt or
// trimmed to match it. The engine is never called here: documents that still need extracting
// or embedding are handed back to the orchestrator.

export interface RebuildNotice {
  readonly rebuilt: string[];
  /** Why, per key: what the health check found. */
  readonly reason: string;
}

export interface RecoveryReport {
  /** Keys whose table was missing or unreadable and was rebuilt from SQLite; null when none was. */
  readonly notice: RebuildNotice | null;
  /** Documents left `embedded` by a crash, now re-added to the index and marked `indexed`. */
  readonly reindexed: number;
  /** `indexed` documents whose row count in LanceDB did not match SQLite, repaired. */
  readonly repaired: number;
  /** LanceDB rows whose document is gone or not searchable under that key, deleted. */
  readonly orphansDeleted: number;
  /** Tables of embedding keys no collection uses any more, dropped. */
  readonly tablesDropped: string[];
  /** Documents the orchestrator must queue again: `queued` ones to extract, `extracted` ones to embed. */
  readonly requeue: { readonly queued: string[]; readonly extracted: string[] };
}

export interface RecoverOptions {
  readonly store: KnowledgeStore;
  readonly index: KnowledgeIndex;
  /** Documents per LanceDB write when re-adding. */
  readonly batchDocuments?: number;
}

const DEFAULT_BATCH_DOCUMENTS = 200;

export async function recoverKnowledge(options: RecoverOptions): Promise<RecoveryReport> {
  const { store, index } = options;
  const batchDocuments = options.batchDocuments ?? DEFAULT_BATCH_DOCUMENTS;
  const rebuilt: string[] = [];
  const reasons: string[] = [];
  let reindexed = 0;
  let repaired = 0;
  let orphansDeleted = 0;

  /** Deletes then re-adds the documents' rows, in batches of documents. */
  const readd = async (key: string, documentIds: readonly string[]) => {
    const dimensions = store.dimensionsOf(key);
    for (let at = 0; at < documentIds.length; at += batchDocuments) {
      const batch = documentIds.slice(at, at + batchDocuments);
      await index.deleteDocuments(key, batch);
      await index.add(key, dimensions, store.indexRows(batch));
    }
  };

  const keys = store.embeddingKeys();
  const tablesDropped = await index.dropTablesExcept(keys);

  for (const key of keys) {
    let touched = false;
    const health = await index.tableHealth(key);
    const searchable = store.documentIdsForKey(key, ['embedded', 'indexed']);

    // (a) A lost or damaged table is rebuilt from SQLite's text and vectors. A missing table
    // that should hold nothing yet (no indexed document) is no news: (b) creates it.
    const expectedRows = [...store.chunkCounts(store.documentIdsForKey(key, ['indexed'])).values()].reduce((total, count) => total + count, 0);
    const rebuild = health.status === 'unreadable' || (health.status === 'missing' && expectedRows > 0);
    if (rebuild) {
      await index.drop(key);
      await readd(key, searchable);
      rebuilt.push(key);
      reasons.push(health.status === 'missing' ? `${key}: the table was missing` : `${key}: ${health.message}`);
      touched = true;
    }

    // (b) Embedded but maybe not (fully) written to LanceDB before the crash.
    const embedded = store.documentIdsForKey(key, ['embedded']);
    if (!rebuild && embedded.length > 0) await readd(key, embedded);
    for (const id of embedded) store.setStatus(id, 'indexed');
    if (!rebuild) reindexed += embedded.length;
    touched ||= embedded.length > 0;

    // (c) and (e): compare row counts per document with SQLite.
    const rows = await index.countByDocument(key);
    const indexed = store.documentIdsForKey(key, ['indexed']);
    const expected = store.chunkCounts(indexed);
    const mismatched = indexed.filter((id) => (rows.get(id) ?? 0) !== (expected.get(id) ?? 0));
    if (mismatched.length > 0) {
      await readd(key, mismatched);
      repaired += mismatched.length;
      touched = true;
    }
    // Rows of documents that are not searchable in this key: deleted, failed, moved to another
    // model, or not yet embedded (a crash mid-way through re-ingesting).
    const wanted = new Set(indexed);
    const orphans = [...rows.keys()].filter((id) => !wanted.has(id));
    if (orphans.length > 0) {
      orphansDeleted += orphans.reduce((total, id) => total + (rows.get(id) ?? 0), 0);
      await index.deleteDocuments(key, orphans);
      touched = true;
    }

    if (touched) await index.optimize(key);
  }

  const pending = store.documentsNeedingRecovery();
  return {
    notice: rebuilt.length === 0 ? null : { rebuilt, reason: reasons.join('; ') },
    reindexed,
    repaired,
    orphansDeleted,
    tablesDropped,
    requeue: {
      queued: pending.filter((document) => document.status === 'queued').map((document) => document.id),
      extracted: pending.filter((document) => document.status === 'extracted').map((document) => document.id),
    },
  };
}
