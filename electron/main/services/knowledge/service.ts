import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Collection as CollectionView, DocumentEntry, DocumentView, IngestProgress, Passage, RuntimeSettings, SearchResult } from '../../../common/contract/index.ts';
import { AppError } from '../../../common/result.ts';
import type { Emit } from '../domain/events.ts';
import type { Gate } from '../domain/gate.ts';
import { getModel, listModels } from '../models/index.ts';
import type { RuntimeEngine } from '../runtime/engine.ts';
import { appendEvent } from '../storage/events.ts';
import type { VectorStore } from '../storage/lance.ts';
import { transaction, type Database } from '../storage/sqlite.ts';
import { createEmbedders, type Embedder } from './ingestion/embedder.ts';
import { formatByName } from './ingestion/extract/detect.ts';
import { expandPaths } from './ingestion/files.ts';
import { CHARS_PER_PAGE, createIngestQueue, type Extractor, type IngestDeps, type IngestJob } from './ingestion/ingest.ts';
import { createKnowledgeIndex } from './index/lance-index.ts';
import { exportKnowledgePack, importKnowledgePack, type PackProgress } from './pack.ts';
import { recoverKnowledge } from './index/recover.ts';
import { budgetPassages, reciprocalRankFusion, retrieve, type Passage as Retrieved } from './retrieval/retrieve.ts';
import { createKnowledgeStore, type CollectionSummary } from './store.ts';
import { createFolderWatch } from './ingestion/watch.ts';

// The knowledge service: collections, ingestion, retrieval and the viewer, over SQLite (the
// record) and LanceDB (the index). Handlers, the chat and the CLI all come through here.

export interface KnowledgeServiceDeps {
  readonly db: Database;
  readonly dataDir: string;
  readonly engine: Pick<RuntimeEngine, 'embed' | 'embeddingInfo' | 'countTokens' | 'rank' | 'hardware' | 'state' | 'start'>;
  readonly settings: () => RuntimeSettings;
  readonly vectors: VectorStore;
  readonly extractor: Extractor;
  readonly onProgress: (progress: IngestProgress) => void;
  readonly onChanged: (collectionId: string | null) => void;
  readonly log?: (level: string, message: string) => void;
  /** Tests shorten the folder watcher's timings. */
  readonly watchDebounceMs?: number;
  /** Files parsed ahead of the one being embedded (one per parsing worker). */
  readonly lookahead?: number;
  /** The policy's PII screening for ingestion; none screens nothing. */
  readonly screen?: IngestDeps['screen'];
  /** The policy and audit gate every change passes, whoever asked for it. */
  readonly gate: Gate;
  /** Domain events: documents ingested, deleted, exported. */
  readonly emit: Emit;
}

export interface SearchRequest {
  readonly query: string;
  readonly collectionIds: readonly string[];
  readonly documentIds?: readonly string[] | undefined;
  readonly limit?: number | undefined;
}

/** The viewer sends PDFs whole; past this size it shows the extracted text instead. */
const MAX_VIEW_PDF_BYTES = 64 * 1024 * 1024;
/** A passage counts as relevant for "answer only from the documents" when its words matched, or the reranker is this sure. */
const RELEVANT_RERANK_SCORE = 0.5;

export function documentsDirFor(dataDir: string): string {
  return path.join(dataDir, 'documents');
}

export async function createKnowledgeService(deps: KnowledgeServiceDeps) {
  const { db } = deps;
  const store = createKnowledgeStore(db);
  const index = createKnowledgeIndex(deps.vectors);
  const embedders = createEmbedders({ db, engine: deps.engine, settings: deps.settings });
  const documentsDir = documentsDirFor(deps.dataDir);
  const notices: string[] = [];

  const queue = createIngestQueue({
    store,
    index,
    extractor: deps.extractor,
    embedderFor: embedders.forModel,
    documentsDir,
    onProgress: deps.onProgress,
    onChanged: deps.onChanged,
    ...(deps.log === undefined ? {} : { log: deps.log }),
    ...(deps.screen === undefined ? {} : { screen: deps.screen }),
    ...(deps.lookahead === undefined ? {} : { lookahead: deps.lookahead }),
    notePersonalData: (documentId, counts) => db.prepare('UPDATE documents SET pii = ? WHERE id = ?').run(counts === null ? null : JSON.stringify(counts), documentId),
    onIndexed: (document) => deps.emit({ type: 'document.ingested', data: { documentId: document.id, collectionId: document.collectionId, name: document.name, sha256: document.sha256 } }),
  });

  const removeDocument = async (id: string) => {
    const document = store.document(id);
    const removed = store.deleteDocument(id);
    if (removed === null) return;
    deps.emit({ type: 'document.deleted', data: { documentId: id, collectionId: document.collectionId, sha256: document.sha256 } });
    await index.deleteDocuments(removed.embeddingKey, [id]);
    if (removed.storedPath !== null) await rm(removed.storedPath, { force: true });
    deps.onChanged(document.collectionId);
  };

  /**
   * New files get a `queued` row before any work starts, so a crash mid-run leaves the rest
   * of the list in the journal and the next start resumes it. Files already in the
   * collection keep their indexed row until their new content is ready.
   */
  const register = (collectionId: string, files: readonly string[]): IngestJob[] =>
    transaction(db, () =>
      files.map((file) => {
        if (store.findDocument(collectionId, file) !== null) return { collectionId, path: file };
        const document = store.addDocument({ collectionId, name: path.basename(file), sourcePath: file, storedPath: null, format: formatByName(file) ?? 'text', bytes: 0, sha256: '' });
        return { collectionId, path: file, resume: { documentId: document.id, from: 'queued' as const } };
      }),
    );

  const watch = createFolderWatch({
    store,
    enqueue: (jobs) => {
      // A watched folder ingests under the same rules as a file added by hand; a refusal is recorded by the gate and logged here.
      try {
        deps.gate.check('knowledge.ingest');
      } catch (error) {
        deps.log?.('warn', `New files in a watched folder were not added: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      queue.enqueue(register(jobs[0]?.collectionId ?? '', jobs.map((job) => job.path)));
    },
    removeDocument,
    ...(deps.log === undefined ? {} : { log: deps.log }),
    ...(deps.watchDebounceMs === undefined ? {} : { debounceMs: deps.watchDebounceMs }),
  });

  /** The collection's embedding model as the Documents screen shows it: its name, and whether search can use it. */
  const modelOf = (id: string | null): { name: string | null; usable: boolean } => {
    if (id === null) return { name: null, usable: false };
    try {
      const model = getModel(db, id);
      return { name: model.displayName, usable: model.status === 'ok' && model.role === 'embedding' };
    } catch {
      return { name: null, usable: false };
    }
  };

  const pagesByCollection = () =>
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

  const toView = (collection: CollectionSummary, pages: Map<string, number>): CollectionView => {
    const model = modelOf(collection.embeddingModelId);
    return {
      id: collection.id,
      name: collection.name,
      embeddingModelId: collection.embeddingModelId,
      embeddingModelName: model.name,
      search: model.usable ? 'hybrid' : 'text',
      readOnly: collection.readOnly,
      documents: collection.documentCount,
      failed: collection.failedCount,
      pending: collection.pendingCount,
      chunks: collection.chunkCount,
      pages: pages.get(collection.id) ?? 0,
      watched: store.listWatchedFolders(collection.id).map((folder) => ({ id: folder.id, path: folder.path, addedAt: folder.addedAt })),
      createdAt: collection.createdAt,
      updatedAt: collection.updatedAt,
    };
  };

  const collectionView = (id: string) => {
    const summary = store.listCollections().find((collection) => collection.id === id);
    if (summary === undefined) throw new AppError('not_found', 'That collection no longer exists.', `collection ${id}`);
    return toView(summary, pagesByCollection());
  };

  const busyWith = (collectionId: string) => {
    const progress = queue.progress();
    return progress.active && progress.files.some((file) => file.collectionId === collectionId && !['done', 'failed', 'skipped', 'cancelled'].includes(file.state));
  };

  const writable = (collectionId: string) => {
    const collection = store.collection(collectionId);
    if (collection.readOnly) throw new AppError('forbidden', `“${collection.name}” is read-only: it came from a knowledge pack. Create a collection of your own to add documents.`);
    return collection;
  };

  const removeCollections = async (collectionIds: readonly string[]) => {
    for (const id of collectionIds) {
      if (!store.listCollections().some((collection) => collection.id === id)) continue;
      const removed = store.deleteCollection(id);
      await index.deleteDocuments(removed.embeddingKey, removed.documentIds);
      for (const stored of removed.storedPaths) await rm(stored, { force: true });
    }
    deps.onChanged(null);
  };

  /** Re-reads every document of a collection from its stored copy, e.g. for a new embedding model. */
  const reindex = (collectionId: string) => {
    const jobs: IngestJob[] = store
      .listDocuments(collectionId)
      .filter((document) => document.status !== 'failed')
      .map((document) => ({ collectionId, path: document.storedPath ?? document.sourcePath, resume: { documentId: document.id, from: 'queued' as const } }));
    queue.enqueue(jobs);
    return jobs.length;
  };

  const toPassage = (passage: Retrieved, formats: Map<string, string>): Passage => {
    let format = formats.get(passage.documentId);
    if (format === undefined) {
      format = store.document(passage.documentId).format;
      formats.set(passage.documentId, format);
    }
    return {
      chunkId: passage.chunkId,
      documentId: passage.documentId,
      documentName: passage.documentName,
      collectionId: passage.collectionId,
      format,
      page: passage.page,
      headingPath: [...passage.headingPath],
      text: passage.text,
      snippet: passage.snippet.text,
      highlights: passage.snippet.highlights.map(([start, end]) => [start, end] as [number, number]),
      score: passage.score,
      start: passage.start,
      end: passage.end,
    };
  };

  /** Rerank with the first healthy reranking model in the library, if there is one. */
  const reranker = async (): Promise<((query: string, texts: readonly string[]) => Promise<number[]>) | undefined> => {
    const model = listModels(db).find((candidate) => candidate.role === 'reranking' && candidate.status === 'ok');
    const file = model?.files[0];
    if (file === undefined) return undefined;
    const threads = await embedders.threads();
    return (query, texts) => deps.engine.rank(file, query, texts, threads);
  };

  const search = async (request: SearchRequest) => {
    const started = performance.now();
    const limit = request.limit ?? 10;
    const collections = request.collectionIds.map((id) => store.collection(id));
    // Vectors of different models are never compared: one search per embedding model, fused by rank.
    const groups = new Map<string, { modelId: string | null; ids: string[] }>();
    for (const collection of collections) {
      const group = groups.get(collection.embeddingKey) ?? { modelId: collection.embeddingModelId, ids: [] };
      group.ids.push(collection.id);
      groups.set(collection.embeddingKey, group);
    }
    const rerank = await reranker();
    const lists: Retrieved[][] = [];
    let textOnly: string[] = [];
    let missingModel: string[] = [];
    for (const [key, group] of groups) {
      const embedder: Embedder | null = await embedders.forModel(group.modelId);
      if (embedder === null) textOnly = [...textOnly, ...group.ids];
      // Words only by choice needs no notice; words only because the model is gone does.
      if (embedder === null && group.modelId !== null) missingModel = [...missingModel, ...group.ids];
      const vector = embedder === null ? null : ((await embedder.embed([request.query]))[0] ?? null);
      const result = await retrieve({
        index,
        store,
        key,
        query: request.query,
        vector,
        collectionIds: group.ids,
        ...(request.documentIds === undefined ? {} : { documentIds: request.documentIds }),
        limit,
        ...(rerank === undefined ? {} : { rerank }),
      });
      lists.push(result.passages);
    }
    let passages: Retrieved[];
    if (lists.length <= 1) passages = lists[0] ?? [];
    else {
      const byId = new Map(lists.flat().map((passage) => [passage.chunkId, passage]));
      passages = reciprocalRankFusion(lists.map((list) => list.map((passage) => passage.chunkId)))
        .slice(0, limit)
        .map(({ id, score }) => ({ ...byId.get(id)!, score }));
    }
    const names = collections.filter((collection) => missingModel.includes(collection.id)).map((collection) => `“${collection.name}”`);
    const notice = names.length === 0 ? null : `${names.join(', ')} ${names.length === 1 ? 'has' : 'have'} no usable embedding model, so ${names.length === 1 ? 'it was' : 'they were'} searched by words only.`;
    return { passages, mode: textOnly.length === collections.length ? ('text' as const) : ('hybrid' as const), notice, ms: performance.now() - started };
  };

  return {
    store,
    index,
    queue,

    /** Makes LanceDB agree with SQLite, resumes unfinished documents, starts the folder watchers. */
    async start() {
      // A knowledge pack whose bundle never committed (a crash mid-install) goes with it.
      const orphans = db.prepare('SELECT collection_id AS id FROM bundle_collections WHERE bundle_id NOT IN (SELECT id FROM bundles)').all() as { id: string }[];
      if (orphans.length > 0) await removeCollections(orphans.map((row) => row.id));
      const report = await recoverKnowledge({ store, index });
      if (report.notice !== null && report.notice.rebuilt.length > 0) {
        const message = 'The search index was missing or damaged and has been rebuilt from the saved documents. Search results are complete again.';
        notices.push(message);
        appendEvent(db, 'knowledge.index_rebuilt', { keys: report.notice.rebuilt, reason: report.notice.reason });
        deps.log?.('warn', `${message} (${report.notice.reason})`);
      }
      const resume: IngestJob[] = [];
      for (const id of report.requeue.queued) {
        const document = store.document(id);
        resume.push({ collectionId: document.collectionId, path: document.storedPath ?? document.sourcePath, resume: { documentId: id, from: 'queued' } });
      }
      for (const id of report.requeue.extracted) {
        const document = store.document(id);
        resume.push({ collectionId: document.collectionId, path: document.storedPath ?? document.sourcePath, resume: { documentId: id, from: 'extracted' } });
      }
      queue.enqueue(resume);
      // Copies whose row never got written (a crash between copy and insert) are removed.
      const referenced = new Set((db.prepare('SELECT stored_path AS path FROM documents WHERE stored_path IS NOT NULL').all() as { path: string }[]).map((row) => path.basename(row.path)));
      const present = await readdir(documentsDir).catch(() => [] as string[]);
      for (const name of present) if (!referenced.has(name)) await rm(path.join(documentsDir, name), { force: true });
      await watch.start();
      return report;
    },

    notices: () => [...notices],

    collections: (): CollectionView[] => {
      const pages = pagesByCollection();
      return store.listCollections().map((collection) => toView(collection, pages));
    },

    collectionByName(name: string) {
      const found = store.listCollections().find((collection) => collection.name.toLowerCase() === name.trim().toLowerCase());
      if (found === undefined) throw new AppError('not_found', `There is no collection named “${name}”.`);
      return collectionView(found.id);
    },

    async createCollection(name: string, embeddingModelId?: string | null) {
      deps.gate.check('knowledge.createCollection');
      const chosen = embeddingModelId === undefined ? (listModels(db).find((model) => model.isDefaultEmbedding && model.status === 'ok')?.id ?? null) : embeddingModelId;
      if (store.listCollections().some((collection) => collection.name.toLowerCase() === name.trim().toLowerCase())) {
        throw new AppError('bad_request', `A collection named “${name.trim()}” already exists. Choose another name.`);
      }
      const space = await embedders.space(chosen);
      const created = store.createCollection({ name: name.trim(), ...space });
      deps.gate.changed('knowledge.createCollection', created.id);
      deps.onChanged(created.id);
      return collectionView(created.id);
    },

    async updateCollection(id: string, patch: { name?: string; embeddingModelId?: string | null }) {
      deps.gate.check('knowledge.updateCollection');
      const collection = store.collection(id);
      if (patch.name !== undefined && patch.name.trim() !== collection.name) {
        if (store.listCollections().some((other) => other.id !== id && other.name.toLowerCase() === patch.name!.trim().toLowerCase())) {
          throw new AppError('bad_request', `A collection named “${patch.name.trim()}” already exists. Choose another name.`);
        }
        store.renameCollection(id, patch.name.trim());
      }
      if (patch.embeddingModelId !== undefined && patch.embeddingModelId !== collection.embeddingModelId) {
        writable(id);
        if (busyWith(id)) throw new AppError('busy', 'Documents are still being added to this collection. Wait for them, or cancel, before changing its embedding model.');
        const space = await embedders.space(patch.embeddingModelId);
        const { previousKey, documentIds } = store.setEmbeddingModel(id, space);
        await index.deleteDocuments(previousKey, documentIds);
        reindex(id);
      }
      deps.gate.changed('knowledge.updateCollection', id);
      deps.onChanged(id);
      return collectionView(id);
    },

    async deleteCollection(id: string) {
      deps.gate.check('knowledge.deleteCollection');
      if (busyWith(id)) throw new AppError('busy', 'Documents are still being added to this collection. Wait for them, or cancel, before deleting it.');
      for (const folder of store.listWatchedFolders(id)) watch.remove(folder.id);
      const removed = store.deleteCollection(id);
      await index.deleteDocuments(removed.embeddingKey, removed.documentIds);
      for (const stored of removed.storedPaths) await rm(stored, { force: true });
      deps.gate.changed('knowledge.deleteCollection', id);
      deps.onChanged(null);
    },

    documents: (collectionId: string): DocumentEntry[] => {
      store.collection(collectionId);
      const pii = new Map(
        (db.prepare('SELECT id, pii FROM documents WHERE collection_id = ? AND pii IS NOT NULL').all(collectionId) as { id: string; pii: string }[]).map((row) => [row.id, JSON.parse(row.pii) as Record<string, number>]),
      );
      return store.listDocuments(collectionId).map((document) => ({
        id: document.id,
        collectionId: document.collectionId,
        name: document.name,
        sourcePath: document.sourcePath,
        format: document.format,
        bytes: document.bytes,
        pages: document.pageCount,
        chunks: document.chunkCount,
        status: document.status,
        error: document.errorReason === null ? null : { reason: document.errorReason, message: document.errorMessage ?? '' },
        personalData: pii.get(document.id) ?? null,
        addedAt: document.addedAt,
        updatedAt: document.updatedAt,
      }));
    },

    /** Queues files and folders (walked); `watchFolder` also keeps the folders watched. */
    async addPaths(collectionId: string, paths: readonly string[], watchFolder = false) {
      deps.gate.check('knowledge.ingest');
      writable(collectionId);
      if (watchFolder) {
        let queued = 0;
        for (const folder of paths) {
          if (!(await stat(folder).then((info) => info.isDirectory(), () => false))) continue;
          const watched = store.listWatchedFolders(collectionId).find((existing) => existing.path === folder) ?? store.addWatchedFolder(collectionId, folder);
          const before = queue.progress().total;
          await watch.add(watched);
          queued += Math.max(0, queue.progress().total - before);
        }
        deps.onChanged(collectionId);
        return { queued, unsupported: [] as string[] };
      }
      const { files, unsupported } = await expandPaths(paths);
      queue.enqueue(register(collectionId, files));
      return { queued: files.length, unsupported };
    },

    async removeDocument(id: string) {
      deps.gate.check('knowledge.removeDocument');
      const document = store.document(id);
      writable(document.collectionId);
      if (document.status !== 'indexed' && document.status !== 'failed' && queue.progress().active) {
        throw new AppError('busy', 'This document is still being added. Wait for it, or cancel, before removing it.');
      }
      await removeDocument(id);
    },

    unwatch(id: string) {
      deps.gate.check('knowledge.unwatch');
      watch.remove(id);
      const folder = store.listWatchedFolders().find((candidate) => candidate.id === id);
      store.removeWatchedFolder(id);
      deps.gate.changed('knowledge.unwatch', id);
      deps.onChanged(folder?.collectionId ?? null);
    },

    async search(request: SearchRequest): Promise<SearchResult> {
      const found = await search(request);
      const formats = new Map<string, string>();
      return { mode: found.mode, passages: found.passages.map((passage) => toPassage(passage, formats)), notice: found.notice, ms: found.ms };
    },

    /** For chat: passages that fit the budget, numbered in order, and whether any is relevant enough to answer from. */
    async retrieveForChat(query: string, collectionIds: readonly string[], budgetTokens: number) {
      const known = new Set(store.listCollections().map((collection) => collection.id));
      const existing = collectionIds.filter((id) => known.has(id));
      if (existing.length === 0) return { passages: [] as Passage[], mode: 'text' as const, relevant: false, notice: null };
      const found = await search({ query, collectionIds: existing, limit: 8 });
      const kept = budgetPassages(found.passages, budgetTokens);
      const relevant = kept.some((passage) => passage.ranks.text !== null || (passage.rerankScore ?? 0) >= RELEVANT_RERANK_SCORE);
      const formats = new Map<string, string>();
      return { passages: kept.map((passage) => toPassage(passage, formats)), mode: found.mode, relevant, notice: found.notice };
    },

    async view(documentId: string): Promise<DocumentView> {
      const document = store.document(documentId);
      let pdfBase64: string | null = null;
      if (document.format === 'pdf' && document.storedPath !== null) {
        const info = await stat(document.storedPath).catch(() => null);
        if (info !== null && info.size <= MAX_VIEW_PDF_BYTES) pdfBase64 = (await readFile(document.storedPath)).toString('base64');
      }
      return {
        documentId,
        name: document.name,
        format: document.format,
        pages: document.pageCount,
        pdfBase64,
        chunks: store.chunksForDocument(documentId).map((chunk) => ({ id: chunk.id, text: chunk.text, page: chunk.page, headingPath: [...chunk.headingPath] })),
      };
    },

    /** Knowledge packs from signed bundles become read-only collections. */
    packs: {
      async install(packJson: string, bundleId: string, requireModel: (sha256: string) => boolean) {
        const collectionId = await importKnowledgePack({ db, store, index, documentsDir }, path.dirname(packJson), { readOnly: true, requireModel });
        // Which bundle brought it, so uninstalling the bundle removes it.
        db.prepare('INSERT INTO bundle_collections (bundle_id, collection_id) VALUES (?, ?)').run(bundleId, collectionId);
        deps.onChanged(collectionId);
        return collectionId;
      },
      remove: removeCollections,
      async removeFor(bundleId: string) {
        const rows = db.prepare('SELECT collection_id AS id FROM bundle_collections WHERE bundle_id = ?').all(bundleId) as { id: string }[];
        await removeCollections(rows.map((row) => row.id));
      },
    },

    /** Writes a collection as a knowledge pack folder; an export, so the policy must allow exporting. */
    async exportPack(collectionId: string, outDir: string, onProgress?: (progress: PackProgress) => void) {
      deps.gate.check('knowledge.export');
      const summary = await exportKnowledgePack({ db, store, documentsDir }, collectionId, outDir, onProgress);
      deps.emit({ type: 'export', data: { what: 'knowledge_pack', format: 'pack', items: summary.documents } });
      return summary;
    },

    idle: () => queue.idle(),

    async close() {
      watch.close();
      await queue.close();
    },
  };
}

export type KnowledgeService = Awaited<ReturnType<typeof createKnowledgeService>>;
