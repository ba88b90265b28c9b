import { event, rpc, stream, type DefOfKind } from './define.ts';
import type { endpointKinds } from './endpoints.ts';
import {
  AppInfo,
  DiagnosticEvent,
  Empty,
  GenerateEvent,
  GenerateRequest,
  LoadEvent,
  LoadRequest,
  PickResult,
  RuntimeState,
  Settings,
  SettingsPatch,
} from './schemas.ts';
import { FitEstimate, ImportEvent, ImportMode, ModelEntry, ModelId, ModelLoadSettings, ModelsPage, ModelsQuery, ScanOutcome, VerifyEvent } from './models.ts';
import { z } from 'zod';
import { PolicyInfo } from './policy.ts';
import { ApiStatus, ApiTokenCreate, ApiTokenCreated, ApiTokenInfo } from './api.ts';
import { AuditCheck, AuditFilter, AuditPage } from './audit.ts';
import { BundleInstallEvent, BundleReport, InstalledBundleEntry, TrustInfo } from './bundles.ts';
import { PackCheckRun } from './pack-checks.ts';
import {
  Collection,
  DocumentEntry,
  DocumentFolders,
  DocumentsPage,
  DocumentsQuery,
  DocumentView,
  IngestProgress,
  KnowledgeSettings,
  OcrLanguage,
  SearchResult,
} from './knowledge.ts';
import { Marking } from './markings.ts';
import { ChatEvent, ChatPreset, ChatThread, Conversation, ConversationSettings, ConversationSummary, Id } from './chat.ts';

const ModelList = z.object({ models: z.array(ModelEntry) });
/** A keyset cursor from the previous page's `nextCursor` (opaque), and the page size. */
const Cursor = z.string().min(1).max(1024);
const PageLimit = z.number().int().min(1).max(500);
/** One page of the conversation list; `nextCursor` is null on the last page, `total` counts every page. */
const ConversationList = z.object({ conversations: z.array(ConversationSummary), nextCursor: z.string().nullable(), total: z.number().int().nonnegative() });
const Saved = z.object({ saved: z.boolean(), path: z.string().nullable() });
/** Names one drop's files in the main process, like `candidateToken` names a scanned model. */
const DropToken = z.string().min(16).max(64);

type ContractShape = { readonly [K in keyof typeof endpointKinds]: DefOfKind<(typeof endpointKinds)[K]> };

/**
 * The one contract between the renderer and the main process. `satisfies` makes a
 * missing, extra or wrongly-kinded endpoint a compile error against `endpointKinds`.
 */
export const contract = {
  'app.info': rpc({ input: Empty, output: AppInfo }),
  'settings.get': rpc({ input: Empty, output: Settings }),
  'settings.update': rpc({ input: SettingsPatch, output: Settings }),
  'diagnostics.run': stream({ input: Empty, event: DiagnosticEvent }),
  'files.pickModel': rpc({ input: Empty, output: PickResult }),
  'runtime.state': rpc({ input: Empty, output: RuntimeState }),
  'runtime.load': stream({ input: LoadRequest, event: LoadEvent }),
  'runtime.unload': rpc({ input: Empty, output: RuntimeState }),
  'runtime.generate': stream({ input: GenerateRequest, event: GenerateEvent }),
  'models.list': rpc({ input: ModelsQuery, output: ModelsPage }),
  /** `dropped` scans one drop: the `dropToken` its `files.dropped` gave (each is good for one use). */
  'models.scan': rpc({ input: z.object({ source: z.enum(['files', 'folder', 'dropped']), dropToken: DropToken.optional() }).strict(), output: ScanOutcome }),
  'models.import': stream({ input: z.object({ candidateToken: z.string().min(16).max(64), mode: ImportMode }).strict(), event: ImportEvent }),
  'models.fit': rpc({ input: ModelId, output: FitEstimate }),
  'models.load': stream({ input: ModelId, event: LoadEvent }),
  'models.rename': rpc({ input: ModelId.extend({ name: z.string().trim().min(1).max(200) }).strict(), output: ModelEntry }),
  'models.remove': rpc({ input: ModelId, output: z.object({ removed: z.literal(true) }) }),
  'models.verify': stream({ input: ModelId, event: VerifyEvent }),
  'models.setDefault': rpc({ input: ModelId.extend({ role: z.enum(['chat', 'embedding']) }).strict(), output: ModelEntry }),
  'models.setLoadSettings': rpc({ input: ModelId.extend({ settings: ModelLoadSettings.nullable() }).strict(), output: ModelEntry }),
  /** Pinned first, then by last activity; 100 a page unless `limit` says otherwise. */
  'chat.list': rpc({
    input: z.object({ query: z.string().max(500).optional(), cursor: Cursor.optional(), limit: PageLimit.optional() }).strict(),
    output: ConversationList,
  }),
  'chat.create': rpc({
    input: z.object({ modelId: z.string().max(64).optional(), presetId: z.string().max(64).optional(), title: z.string().max(200).optional() }).strict(),
    output: Conversation,
  }),
  'chat.get': rpc({ input: Id, output: ChatThread }),
  'chat.update': rpc({
    input: Id.extend({
      title: z.string().trim().min(1).max(200).optional(),
      pinned: z.boolean().optional(),
      modelId: z.string().max(64).nullable().optional(),
      settings: ConversationSettings.optional(),
      knowledge: KnowledgeSettings.optional(),
    }).strict(),
    output: Conversation,
  }),
  /** Deleting can be undone for a few seconds with the token it returns. */
  'chat.delete': rpc({ input: Id, output: z.object({ undoToken: z.string(), undoSeconds: z.number().int().positive() }) }),
  'chat.restore': rpc({ input: z.object({ undoToken: z.string().min(1).max(64) }).strict(), output: Conversation }),
  /** `parentId` answers a given message instead of the end of the thread: editing an earlier message makes a branch. */
  'chat.send': stream({
    input: z
      .object({ conversationId: z.string().min(1).max(64), content: z.string().trim().min(1).max(200_000), parentId: z.string().max(64).nullable().optional() })
      .strict(),
    event: ChatEvent,
  }),
  'chat.regenerate': stream({ input: z.object({ messageId: z.string().min(1).max(64) }).strict(), event: ChatEvent }),
  'chat.continue': stream({ input: z.object({ messageId: z.string().min(1).max(64) }).strict(), event: ChatEvent }),
  'chat.switchBranch': rpc({ input: z.object({ messageId: z.string().min(1).max(64) }).strict(), output: ChatThread }),
  'chat.export': rpc({ input: Id.extend({ format: z.enum(['markdown', 'json']) }).strict(), output: Saved }),
  /** An answer's signed evidence dossier (docs/dossier.md), saved where the user chooses. */
  'chat.exportEvidence': rpc({ input: z.object({ messageId: z.string().min(1).max(64) }).strict(), output: Saved }),
  'presets.list': rpc({ input: Empty, output: z.object({ presets: z.array(ChatPreset) }) }),
  'presets.save': rpc({
    input: z.object({ id: z.string().max(64).optional(), name: z.string().trim().min(1).max(200), settings: ConversationSettings }).strict(),
    output: ChatPreset,
  }),
  'presets.delete': rpc({ input: Id, output: z.object({ deleted: z.literal(true) }) }),
  'presets.export': rpc({ input: Id, output: Saved }),
  'presets.import': rpc({ input: Empty, output: z.object({ imported: z.array(ChatPreset) }) }),
  'knowledge.collections': rpc({ input: Empty, output: z.object({ collections: z.array(Collection), notices: z.array(z.string()) }) }),
  /** No embedding model given: the default embedding model, or full-text search alone when there is none. */
  'knowledge.createCollection': rpc({
    input: z.object({ name: z.string().trim().min(1).max(200), embeddingModelId: z.string().max(64).nullable().optional() }).strict(),
    output: Collection,
  }),
  /** A new embedding model re-indexes every document of the collection in the background. */
  'knowledge.updateCollection': rpc({
    input: Id.extend({
      name: z.string().trim().min(1).max(200).optional(),
      embeddingModelId: z.string().max(64).nullable().optional(),
      /** The languages scans are read in from now on; documents already read keep their text until re-read. */
      ocrLanguages: z.array(OcrLanguage).min(1).max(2).optional(),
    }).strict(),
    output: Collection,
  }),
  'knowledge.deleteCollection': rpc({ input: Id, output: z.object({ deleted: z.literal(true) }) }),
  'knowledge.documents': rpc({ input: DocumentsQuery, output: DocumentsPage }),
  /** The collection's folder tree with counts per status, for browsing by folder. */
  'knowledge.folders': rpc({ input: z.object({ collectionId: z.string().min(1).max(64) }).strict(), output: DocumentFolders }),
  /** Queues every failed document of the collection (in a folder and below it, when given) again. */
  'knowledge.retryFailed': rpc({
    input: z.object({ collectionId: z.string().min(1).max(64), folder: z.string().max(4096).optional() }).strict(),
    output: z.object({ queued: z.number().int().nonnegative() }),
  }),
  /** Picks files, a folder (optionally watched) or takes what was dropped, and queues them; progress comes as `knowledge.ingestProgress`. */
  'knowledge.add': rpc({
    input: z
      .object({
        collectionId: z.string().min(1).max(64),
        source: z.enum(['files', 'folder', 'dropped']),
        dropToken: DropToken.optional(),
        watch: z.boolean().optional(),
      })
      .strict(),
    output: z.object({ queued: z.number().int().nonnegative(), unsupported: z.array(z.string()) }),
  }),
  'knowledge.removeDocument': rpc({ input: Id, output: z.object({ removed: z.literal(true) }) }),
  'knowledge.unwatch': rpc({ input: Id, output: z.object({ removed: z.literal(true) }) }),
  'knowledge.progress': rpc({ input: Empty, output: IngestProgress }),
  'knowledge.cancel': rpc({ input: Empty, output: z.object({ cancelled: z.number().int().nonnegative() }) }),
  'knowledge.search': rpc({
    input: z
      .object({
        query: z.string().trim().min(1).max(2000),
        collectionIds: z.array(z.string().min(1).max(64)).min(1).max(32),
        documentIds: z.array(z.string().min(1).max(64)).max(256).optional(),
        limit: z.number().int().min(1).max(100).optional(),
      })
      .strict(),
    output: SearchResult,
  }),
  'knowledge.view': rpc({ input: z.object({ documentId: z.string().min(1).max(64) }).strict(), output: DocumentView }),
  /**
   * Sets a collection's or a document's classification marking. Raising is an ordinary change; lowering is an
   * administrator's action the machine policy must allow (markings.allowLowering). A document is never below its collection.
   */
  'knowledge.setMarking': rpc({
    input: z.discriminatedUnion('target', [
      z.object({ target: z.literal('collection'), id: z.string().min(1).max(64), marking: Marking.strict() }).strict(),
      z.object({ target: z.literal('document'), id: z.string().min(1).max(64), marking: Marking.strict() }).strict(),
    ]),
    output: z.union([Collection, DocumentEntry]),
  }),
  'policy.get': rpc({ input: Empty, output: PolicyInfo }),
  'audit.list': rpc({ input: AuditFilter, output: AuditPage }),
  'audit.verify': rpc({ input: Empty, output: AuditCheck }),
  /** JSON lines for a SIEM, with the verification anchor's id; saved where the user chooses. */
  'audit.export': rpc({ input: z.object({ from: z.string().max(40).optional(), to: z.string().max(40).optional() }).strict(), output: Saved }),
  'api.status': rpc({ input: Empty, output: ApiStatus }),
  'api.tokens': rpc({ input: Empty, output: z.object({ tokens: z.array(ApiTokenInfo) }) }),
  'api.createToken': rpc({ input: ApiTokenCreate, output: ApiTokenCreated }),
  'api.revokeToken': rpc({ input: z.object({ id: z.string().min(1).max(64) }).strict(), output: ApiTokenInfo }),
  /** By name; a page when `limit` is given (resume with `cursor`), else every bundle. */
  'bundles.list': rpc({
    input: z.object({ cursor: Cursor.optional(), limit: PageLimit.optional() }).strict(),
    output: z.object({ bundles: z.array(InstalledBundleEntry), nextCursor: z.string().nullable(), total: z.number().int().nonnegative(), trust: TrustInfo }),
  }),
  /** Opens the file dialog for a bundle and verifies it (signatures, expiry, version, every payload's size and hash) without installing. */
  'bundles.pick': rpc({ input: z.object({ source: z.enum(['file', 'folder']) }).strict(), output: z.object({ report: BundleReport.nullable() }) }),
  'bundles.install': stream({ input: z.object({ token: z.string().min(16).max(64) }).strict(), event: BundleInstallEvent }),
  'bundles.uninstall': rpc({ input: z.object({ id: z.string().min(1).max(128) }).strict(), output: z.object({ removed: z.literal(true) }) }),
  /** The latest run of the acceptance checks of each knowledge pack the bundle brought, and how many checks each carries. */
  'bundles.checks': rpc({
    input: z.object({ id: z.string().min(1).max(128) }).strict(),
    output: z.object({ runs: z.array(PackCheckRun), checked: z.array(z.object({ collectionId: z.string(), checks: z.number().int().nonnegative() })) }),
  }),
  /** Runs the bundle's pack checks again (trigger "manual"); recorded and audited like the runs after install. */
  'bundles.test': rpc({ input: z.object({ id: z.string().min(1).max(128) }).strict(), output: z.object({ runs: z.array(PackCheckRun) }) }),
  /** The latest runs as JSON, saved where the user chooses. */
  'bundles.exportChecks': rpc({ input: z.object({ id: z.string().min(1).max(128) }).strict(), output: Saved }),
  'settings.changed': event({ payload: Settings }),
  'runtime.stateChanged': event({ payload: RuntimeState }),
  'models.changed': event({ payload: ModelList }),
  'knowledge.changed': event({ payload: z.object({ collectionId: z.string().nullable() }) }),
  'knowledge.ingestProgress': event({ payload: IngestProgress }),
  'bundles.changed': event({ payload: z.object({ bundleId: z.string().nullable() }) }),
  'api.changed': event({ payload: ApiStatus }),
  'chat.changed': event({ payload: z.object({ conversationId: z.string().nullable() }) }),
  /**
   * Files were dropped on the window. Their paths stay in the main process (the preload read
   * them); the page gets a token for this one drop, to pass to `models.scan` or `knowledge.add`.
   */
  'files.dropped': event({ payload: z.object({ dropToken: DropToken }) }),
} as const satisfies ContractShape;

export type Contract = typeof contract;

export { endpointKinds, type EndpointName } from './endpoints.ts';
export * from './define.ts';
export * from './schemas.ts';
export * from './models.ts';
export * from './chat.ts';
export * from './knowledge.ts';
export * from './bundles.ts';
export * from './pack-checks.ts';
export * from './policy.ts';
export * from './audit.ts';
export * from './api.ts';
export * from './markings.ts';
