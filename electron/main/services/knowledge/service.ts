import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { DocumentsQuery, IngestProgress, Marking, MarkingScheme, RuntimeSettings } from '../../../common/contract/index.ts';
import type { Emit } from '../domain/events.ts';
import type { Gate } from '../domain/gate.ts';
import type { RuntimeEngine } from '../inference/engine.ts';
import { appendEvent } from '../storage/events.ts';
import type { VectorStore } from '../storage/lance.ts';
import type { Database } from '../storage/sqlite.ts';
import {
  collectionByName,
  collectionView,
  createCollection,
  deleteCollection,
  exportPack,
  listCollectionViews,
  packsOf,
  removeCollections,
  updateCollection,
  type CollectionPatch,
} from './collections.ts';
import { documentEntry, documentFolders, pageDocuments } from './documents-page.ts';
import { assertViewable, markCollections, markDocuments, markPassages } from './marking-views.ts';
import { documentMarkings, retrievalScope, setMarking, type MarkingTarget } from './markings.ts';
import { effectiveMarking } from '../../../common/markings.ts';
import { addPaths, register, registerSkipped, removeDocument, removeDocumentNow, retryFailed, unwatch, viewDocument } from './documents.ts';
import { createKnowledgeIndex } from './index/lance-index.ts';
import { recoverKnowledge } from './index/recover.ts';
import { createEmbedders } from './ingestion/embedder.ts';
import { createIngestQueue, type Extractor, type IngestDeps, type IngestJob } from './ingestion/ingest.ts';
import { createFolderWatch } from './ingestion/watch.ts';
import type { KnowledgeParts, WatchedParts } from './parts.ts';
import type { PackProgress } from './pack.ts';
import { retrieveForChat, search, type SearchParts, type SearchRequest } from './retrieval/search.ts';
import { pinnedForChat, type PinnedParts, type PinnedRequest } from './retrieval/pinned.ts';
import { createKnowledgeStore } from './store.ts';
import type { Answerer } from './checks/run.ts';
import { createPackChecks } from './checks/service.ts';

// The knowledge service: collections, ingestion, retrieval and the viewer, over SQLite (the
// record) and LanceDB (the index). Handlers, the chat and the CLI all come through here.
// This file builds the parts once and wires them; collections.ts, documents.ts and
// retrieval/search.ts act on them.

export type { SearchRequest } from './retrieval/search.ts';

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
  /** Records the events `fn` emits together (the audit trail's `together`); without it each is recorded alone. */
  readonly together?: <T>(fn: () => T) => T;
  /** The policy's classification scheme (null or omitted: markings are off, nothing is filtered). */
  readonly markings?: () => MarkingScheme | null;
  /** The policy's packs.onCheckFailure (warn when omitted). */
  readonly packCheckAction?: () => 'warn' | 'disable';
  /** Answers a pack check's question with the chat model, for its answer phrases; without it only retrieval is checked. */
  readonly answerCheck?: Answerer;
}

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
    notePersonalData: (documentId, counts) =>
      db.prepare('UPDATE documents SET pii = ? WHERE id = ?').run(counts === null ? null : JSON.stringify(counts), documentId),
    ...(deps.together === undefined ? {} : { together: deps.together }),
    onIndexed: (document) =>
      deps.emit({
        type: 'document.ingested',
        data: { documentId: document.id, collectionId: document.collectionId, name: document.name, sha256: document.sha256 },
      }),
  });

  const parts: KnowledgeParts = {
    db,
    store,
    index,
    embedders,
    queue,
    documentsDir,
    gate: deps.gate,
    emit: deps.emit,
    onChanged: deps.onChanged,
    log: deps.log,
  };

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
      queue.enqueue(
        register(
          parts,
          jobs[0]?.collectionId ?? '',
          jobs.map((job) => job.path),
        ),
      );
    },
    skip: (collectionId, paths) => {
      // Listing a file as skipped indexes nothing, but it is still a change under the ingestion rule.
      try {
        deps.gate.check('knowledge.ingest');
      } catch {
        return;
      }
      registerSkipped(parts, collectionId, paths);
      deps.onChanged(collectionId);
    },
    removeDocument: (id) => removeDocumentNow(parts, id),
    ...(deps.log === undefined ? {} : { log: deps.log }),
    ...(deps.watchDebounceMs === undefined ? {} : { debounceMs: deps.watchDebounceMs }),
  });

  const watched: WatchedParts = { ...parts, watch };
  const searchParts: SearchParts = { ...parts, engine: deps.engine };
  const pinnedParts: PinnedParts = { ...parts, engine: deps.engine };
  const scheme = () => deps.markings?.() ?? null;
  const checks = createPackChecks({
    db,
    store,
    emit: deps.emit,
    search: async (request) => {
      const found = await search(searchParts, { ...request, ...retrievalScope(db, scheme(), request.collectionIds) });
      return { ...found, passages: markPassages(db, scheme(), found.passages) };
    },
    answer: deps.answerCheck,
    action: deps.packCheckAction ?? (() => 'warn'),
    log: deps.log,
  });
  /** A collection whose pack failed its checks, under packs.onCheckFailure "disable", is not searched. */
  const enabled = (collectionIds: readonly string[]) => {
    const disabled = checks.disabled();
    return disabled.size === 0 ? collectionIds : collectionIds.filter((id) => !disabled.has(id));
  };

  /** The collections retrieval may search, and the documents it must leave out, under the policy's markings (markings.ts). */
  const scope = (collectionIds: readonly string[]) => retrievalScope(db, scheme(), enabled(collectionIds));

  return {
    store,
    index,
    queue,

    /** Makes LanceDB agree with SQLite, resumes unfinished documents, starts the folder watchers. */
    async start() {
      // A knowledge pack whose bundle never committed (a crash mid-install) goes with it.
      const orphans = db.prepare('SELECT collection_id AS id FROM bundle_collections WHERE bundle_id NOT IN (SELECT id FROM bundles)').all() as {
        id: string;
      }[];
      if (orphans.length > 0)
        await removeCollections(
          parts,
          orphans.map((row) => row.id),
        );
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
      const referenced = new Set(
        (db.prepare('SELECT stored_path AS path FROM documents WHERE stored_path IS NOT NULL').all() as { path: string }[]).map((row) =>
          path.basename(row.path),
        ),
      );
      const present = await readdir(documentsDir).catch(() => [] as string[]);
      for (const name of present) if (!referenced.has(name)) await rm(path.join(documentsDir, name), { force: true });
      await watch.start();
      return report;
    },

    notices: () => [...notices],

    collections: () => {
      const disabled = checks.disabled();
      return markCollections(db, scheme(), listCollectionViews(parts)).map((collection) =>
        disabled.has(collection.id) ? { ...collection, disabled: 'packChecks' as const } : collection,
      );
    },
    collectionByName: (name: string) => collectionByName(parts, name),
    createCollection: (name: string, embeddingModelId?: string | null) => createCollection(parts, name, embeddingModelId),
    updateCollection: (id: string, patch: CollectionPatch) => updateCollection(parts, id, patch),
    deleteCollection: (id: string) => deleteCollection(watched, id),

    /** A page of a collection's documents, filtered and sorted by SQLite (documents-page.ts). */
    documents: (query: DocumentsQuery) => {
      const page = pageDocuments(db, query);
      return { ...page, documents: markDocuments(db, scheme(), page.documents) };
    },
    /** The collection's folder tree with counts per status. */
    folders: (collectionId: string) => documentFolders(db, collectionId),
    /** Queues the collection's failed documents (in a folder and below it) again; returns how many. */
    retryFailed: (collectionId: string, folder?: string) => retryFailed(parts, collectionId, folder),
    /** Queues files and folders (walked); `watchFolder` also keeps the folders watched. */
    addPaths: (collectionId: string, paths: readonly string[], watchFolder = false) => addPaths(watched, collectionId, paths, watchFolder),
    removeDocument: (id: string) => removeDocument(parts, id),
    unwatch: (id: string) => unwatch(watched, id),

    search: async (request: SearchRequest) => {
      const allowed = scope(request.collectionIds);
      const found = await search(searchParts, { ...request, ...allowed });
      return { ...found, passages: markPassages(db, scheme(), found.passages) };
    },
    /** For chat: passages that fit the budget, numbered in order, and whether any is relevant enough to answer from. */
    retrieveForChat: async (query: string, collectionIds: readonly string[], budgetTokens: number) => {
      const allowed = scope(collectionIds);
      const found = await retrieveForChat(searchParts, query, allowed.collectionIds, budgetTokens, allowed.excludeDocumentIds);
      return { ...found, passages: markPassages(db, scheme(), found.passages) };
    },

    /** For chat: the pinned documents, whole when they fit the model's context, else their most relevant passages (retrieval/pinned.ts). */
    pinnedForChat: async (request: PinnedRequest) => {
      const allowed = scope(request.collectionIds);
      // A pinned document of a collection it may not search, or marked beyond it, is not used (and the user is told).
      const permittedCollections = new Set(allowed.collectionIds);
      const hidden = new Set([
        ...allowed.excludeDocumentIds,
        ...request.documentIds.filter((id) => {
          const collectionId = (db.prepare('SELECT collection_id AS id FROM documents WHERE id = ?').get(id) as { id: string } | undefined)?.id;
          return collectionId !== undefined && request.collectionIds.includes(collectionId) && !permittedCollections.has(collectionId);
        }),
      ]);
      const grounding = await pinnedForChat(pinnedParts, { ...request, collectionIds: enabled(request.collectionIds), hidden });
      return { ...grounding, passages: markPassages(db, scheme(), grounding.passages) };
    },

    /** Sets a collection's or a document's classification marking (markings.ts: raising is governed, lowering is an administrator's action). */
    setMarking: (target: MarkingTarget, id: string, marking: Marking) => {
      setMarking({ db, gate: deps.gate, emit: deps.emit, scheme: scheme() }, target, id, marking);
      deps.onChanged(target === 'collection' ? id : store.document(id).collectionId);
      return target === 'collection'
        ? markCollections(db, scheme(), [collectionView(parts, id)])[0]!
        : markDocuments(db, scheme(), [documentEntry(db, id)])[0]!;
    },

    /** Knowledge packs' acceptance checks (checks/service.ts). */
    checks,

    view: async (documentId: string) => {
      assertViewable(db, scheme(), documentId);
      const view = await viewDocument(store, documentId);
      const current = scheme();
      return current === null ? view : { ...view, marking: effectiveMarking(current, documentMarkings(db, [documentId]).get(documentId)) };
    },

    /** Knowledge packs from signed bundles become read-only collections. */
    packs: packsOf(parts, checks),

    /** Writes a collection as a knowledge pack folder, with acceptance checks from a file when given; an export, so the policy must allow exporting. */
    exportPack: (collectionId: string, outDir: string, onProgress?: (progress: PackProgress) => void, options: { checks?: string } = {}) =>
      exportPack(parts, collectionId, outDir, onProgress, { ...options, scheme: scheme() }),

    idle: () => queue.idle(),

    async close() {
      watch.close();
      await queue.close();
    },
  };
}

export type KnowledgeService = Awaited<ReturnType<typeof createKnowledgeService>>;
