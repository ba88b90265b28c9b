import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Collection as CollectionView, MarkingScheme, PackCheckTrigger } from '../../../common/contract/index.ts';
import type { PackChecks } from './checks/service.ts';
import { AppError } from '../../../common/result.ts';
import { getModel, listModels } from '../models/index.ts';
import type { Database } from '../storage/sqlite.ts';
import { CHARS_PER_PAGE, type IngestJob, type IngestQueue } from './ingestion/ingest.ts';
import { exportKnowledgePack, importKnowledgePack, type PackProgress } from './pack.ts';
import type { KnowledgeParts, WatchedParts } from './parts.ts';
import type { OcrLanguageCode } from './collections-store.ts';
import type { CollectionSummary, KnowledgeStore } from './store.ts';

// Collections as the service offers them: the Documents screen's view of each, create,
// rename, change of embedding model, delete, and knowledge packs (read-only collections
// that come from signed bundles, and the export that writes one).

/** The collection's embedding model as the Documents screen shows it: its name, and whether search can use it. */
function modelOf(db: Database, id: string | null): { name: string | null; usable: boolean } {
  if (id === null) return { name: null, usable: false };
  try {
    const model = getModel(db, id);
    return { name: model.displayName, usable: model.status === 'ok' && model.role === 'embedding' };
  } catch {
    return { name: null, usable: false };
  }
}

const pagesByCollection = (db: Database) =>
  new Map(
    // Unpaged documents count a page per CHARS_PER_PAGE characters, as ingestion's pages/s does.
    (
      db
        .prepare(
          `SELECT d.collection_id AS id, sum(coalesce(d.page_count, max(1, (SELECT (sum(length(c.text)) + ${CHARS_PER_PAGE - 1}) / ${CHARS_PER_PAGE} FROM chunks c WHERE c.document_id = d.id)))) AS pages
           FROM documents d WHERE d.status = 'indexed' GROUP BY d.collection_id`,
        )
        .all() as { id: string; pages: number }[]
    ).map((row) => [row.id, Number(row.pages)]),
  );

function toView(parts: Pick<KnowledgeParts, 'db' | 'store'>, collection: CollectionSummary, pages: Map<string, number>): CollectionView {
  const model = modelOf(parts.db, collection.embeddingModelId);
  return {
    id: collection.id,
    name: collection.name,
    embeddingModelId: collection.embeddingModelId,
    embeddingModelName: model.name,
    search: model.usable ? 'hybrid' : 'text',
    readOnly: collection.readOnly,
    ocrLanguages: [...collection.ocrLanguages],
    documents: collection.documentCount,
    failed: collection.failedCount,
    pending: collection.pendingCount,
    chunks: collection.chunkCount,
    pages: pages.get(collection.id) ?? 0,
    watched: parts.store.listWatchedFolders(collection.id).map((folder) => ({ id: folder.id, path: folder.path, addedAt: folder.addedAt })),
    createdAt: collection.createdAt,
    updatedAt: collection.updatedAt,
  };
}

export function collectionView(parts: Pick<KnowledgeParts, 'db' | 'store'>, id: string): CollectionView {
  const summary = parts.store.listCollections().find((collection) => collection.id === id);
  if (summary === undefined) throw new AppError('not_found', 'That collection no longer exists.', `collection ${id}`);
  return toView(parts, summary, pagesByCollection(parts.db));
}

export function listCollectionViews(parts: Pick<KnowledgeParts, 'db' | 'store'>): CollectionView[] {
  const pages = pagesByCollection(parts.db);
  return parts.store.listCollections().map((collection) => toView(parts, collection, pages));
}

export function collectionByName(parts: Pick<KnowledgeParts, 'db' | 'store'>, name: string): CollectionView {
  const found = parts.store.listCollections().find((collection) => collection.name.toLowerCase() === name.trim().toLowerCase());
  if (found === undefined) throw new AppError('not_found', `There is no collection named “${name}”.`);
  return collectionView(parts, found.id);
}

/** Whether files of the collection are still in the ingestion run. */
function busyWith(queue: IngestQueue, collectionId: string): boolean {
  const progress = queue.progress();
  return (
    progress.active && progress.files.some((file) => file.collectionId === collectionId && !['done', 'failed', 'skipped', 'cancelled'].includes(file.state))
  );
}

/** The collection, refused when it came from a knowledge pack. */
export function writable(store: KnowledgeStore, collectionId: string) {
  const collection = store.collection(collectionId);
  if (collection.readOnly)
    throw new AppError('forbidden', `“${collection.name}” is read-only: it came from a knowledge pack. Create a collection of your own to add documents.`);
  return collection;
}

/** Removes collections (those still there) with their index rows and stored copies; no gate: packs and recovery call it. */
export async function removeCollections(parts: Pick<KnowledgeParts, 'store' | 'index' | 'onChanged'>, collectionIds: readonly string[]): Promise<void> {
  for (const id of collectionIds) {
    if (!parts.store.listCollections().some((collection) => collection.id === id)) continue;
    const removed = parts.store.deleteCollection(id);
    await parts.index.deleteDocuments(removed.embeddingKey, removed.documentIds);
    for (const stored of removed.storedPaths) await rm(stored, { force: true });
  }
  parts.onChanged(null);
}

/** Re-reads every document of a collection from its stored copy, e.g. for a new embedding model. */
function reindex(parts: Pick<KnowledgeParts, 'store' | 'queue'>, collectionId: string): number {
  const jobs: IngestJob[] = parts.store
    .listDocuments(collectionId)
    .filter((document) => document.status !== 'failed' && document.status !== 'skipped')
    .map((document) => ({ collectionId, path: document.storedPath ?? document.sourcePath, resume: { documentId: document.id, from: 'queued' as const } }));
  parts.queue.enqueue(jobs);
  return jobs.length;
}

export async function createCollection(parts: KnowledgeParts, name: string, embeddingModelId?: string | null): Promise<CollectionView> {
  const { db, store } = parts;
  parts.gate.check('knowledge.createCollection');
  const chosen =
    embeddingModelId === undefined ? (listModels(db).find((model) => model.isDefaultEmbedding && model.status === 'ok')?.id ?? null) : embeddingModelId;
  if (store.listCollections().some((collection) => collection.name.toLowerCase() === name.trim().toLowerCase())) {
    throw new AppError('bad_request', `A collection named “${name.trim()}” already exists. Choose another name.`);
  }
  const space = await parts.embedders.space(chosen);
  const created = store.createCollection({ name: name.trim(), ...space });
  parts.gate.changed('knowledge.createCollection', created.id);
  parts.onChanged(created.id);
  return collectionView(parts, created.id);
}

export interface CollectionPatch {
  readonly name?: string;
  readonly embeddingModelId?: string | null;
  readonly ocrLanguages?: readonly OcrLanguageCode[];
}

export async function updateCollection(parts: KnowledgeParts, id: string, patch: CollectionPatch): Promise<CollectionView> {
  const { store } = parts;
  parts.gate.check('knowledge.updateCollection');
  const collection = store.collection(id);
  if (patch.name !== undefined && patch.name.trim() !== collection.name) {
    if (store.listCollections().some((other) => other.id !== id && other.name.toLowerCase() === patch.name!.trim().toLowerCase())) {
      throw new AppError('bad_request', `A collection named “${patch.name.trim()}” already exists. Choose another name.`);
    }
    store.renameCollection(id, patch.name.trim());
  }
  if (patch.ocrLanguages !== undefined && patch.ocrLanguages.join('+') !== collection.ocrLanguages.join('+')) {
    writable(store, id);
    store.setOcrLanguages(id, patch.ocrLanguages);
  }
  if (patch.embeddingModelId !== undefined && patch.embeddingModelId !== collection.embeddingModelId) {
    writable(store, id);
    if (busyWith(parts.queue, id))
      throw new AppError('busy', 'Documents are still being added to this collection. Wait for them, or cancel, before changing its embedding model.');
    const space = await parts.embedders.space(patch.embeddingModelId);
    const { previousKey, documentIds } = store.setEmbeddingModel(id, space);
    await parts.index.deleteDocuments(previousKey, documentIds);
    reindex(parts, id);
  }
  parts.gate.changed('knowledge.updateCollection', id);
  parts.onChanged(id);
  return collectionView(parts, id);
}

export async function deleteCollection(parts: WatchedParts, id: string): Promise<void> {
  const { store } = parts;
  parts.gate.check('knowledge.deleteCollection');
  if (busyWith(parts.queue, id))
    throw new AppError('busy', 'Documents are still being added to this collection. Wait for them, or cancel, before deleting it.');
  for (const folder of store.listWatchedFolders(id)) parts.watch.remove(folder.id);
  const removed = store.deleteCollection(id);
  await parts.index.deleteDocuments(removed.embeddingKey, removed.documentIds);
  for (const stored of removed.storedPaths) await rm(stored, { force: true });
  parts.gate.changed('knowledge.deleteCollection', id);
  parts.onChanged(null);
}

/** Knowledge packs from signed bundles become read-only collections. */
export function packsOf(parts: KnowledgeParts, checks?: PackChecks) {
  const { db, store, index, documentsDir } = parts;
  const remove = (collectionIds: readonly string[]) => removeCollections(parts, collectionIds);
  return {
    async install(packJson: string, bundleId: string, requireModel: (sha256: string) => boolean) {
      const collectionId = await importKnowledgePack({ db, store, index, documentsDir }, path.dirname(packJson), { readOnly: true, requireModel });
      // Which bundle brought it, so uninstalling the bundle removes it.
      db.prepare('INSERT INTO bundle_collections (bundle_id, collection_id) VALUES (?, ?)').run(bundleId, collectionId);
      parts.onChanged(collectionId);
      return collectionId;
    },
    remove,
    ...(checks === undefined
      ? {}
      : {
          check: (bundleId: string, trigger: PackCheckTrigger) => checks.runForBundle(bundleId, trigger),
          checkRuns: (bundleId: string) => ({ runs: checks.runsOfBundle(bundleId), checked: checks.countsOfBundle(bundleId) }),
        }),
    async removeFor(bundleId: string) {
      const rows = db.prepare('SELECT collection_id AS id FROM bundle_collections WHERE bundle_id = ?').all(bundleId) as { id: string }[];
      await remove(rows.map((row) => row.id));
    },
  };
}

/** Writes a collection as a knowledge pack folder; an export, so the policy must allow exporting. */
export async function exportPack(
  parts: KnowledgeParts,
  collectionId: string,
  outDir: string,
  onProgress?: (progress: PackProgress) => void,
  options: { checks?: string; scheme?: MarkingScheme | null } = {},
) {
  parts.gate.check('knowledge.export');
  const summary = await exportKnowledgePack({ db: parts.db, store: parts.store, documentsDir: parts.documentsDir }, collectionId, outDir, onProgress, options);
  parts.emit({ type: 'export', data: { what: 'knowledge_pack', format: 'pack', items: summary.documents } });
  return summary;
}
