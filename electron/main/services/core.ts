import { mkdir, stat } from 'node:fs/promises';
import type { z } from 'zod';
import type { Contract } from '../../common/contract/index.ts';
import type { Handlers } from '../../common/handlers.ts';
import { ok } from '../../common/result.ts';
import { describeApp, type HostInfo } from './app-info.ts';
import { createBus, type Bus } from './bus.ts';
import { createChatHandlers } from './chat/handlers.ts';
import { purgeConversationsBefore } from './chat/store.ts';
import { runDiagnostics } from './diagnostics.ts';
import { createFileTokens, NO_PICKER, type FilePicker } from './files.ts';
import { createModelHandlers } from './models-handlers.ts';
import { cleanupPartialImports, libraryDirFor, listModels } from './models/index.ts';
import { bundlePolicyPath, createBundleHandlers, tidyBundles, type BundleDeps } from './bundles-handlers.ts';
import type { ModelEntry } from '../../common/contract/models.ts';
import { createEngine, type RuntimeEngine } from './runtime/engine.ts';
import { createRuntimeHandlers } from './runtime/handlers.ts';
import { forkLauncher, type RuntimeLauncher } from './runtime/launcher.ts';
import { checkModelFile } from './runtime/model-check.ts';
import { sqliteQuarantine } from './runtime/quarantine.ts';
import { appendEvent } from './storage/events.ts';
import { openSettings } from './settings.ts';
import { createGovernance, type Governance } from './governance.ts';
import { applyLockedSettings, loadPolicy, userPolicyPath } from './policy/index.ts';
import { createAuditTrail, type AuditTrail } from './audit-trail.ts';
import { createAuditHandlers } from './audit-handlers.ts';
import { product } from './product.ts';
import type { SettingsPatch } from '../../common/contract/schemas.ts';
import { openDatabase, type Database } from './storage/sqlite.ts';
import { openVectorStore } from './storage/lance.ts';
import { createExtractorPool } from './knowledge/extract/pool.ts';
import { createKnowledgeHandlers } from './knowledge/handlers.ts';
import { createKnowledgeService, type KnowledgeService } from './knowledge/service.ts';

/** Payloads of the contract's broadcast events, keyed by name. */
export type AppEvents = {
  [K in keyof Contract as Contract[K]['kind'] extends 'event' ? K : never]: Contract[K] extends { payload: z.ZodType }
    ? z.output<Contract[K]['payload']>
    : never;
};

export interface Core {
  readonly dataDir: string;
  readonly bus: Bus<AppEvents>;
  readonly handlers: Handlers<Contract>;
  readonly storage: Database;
  readonly runtime: RuntimeEngine;
  readonly knowledge: KnowledgeService;
  readonly governance: Governance;
  readonly audit: AuditTrail;
  /** What installing a bundle needs; the CLI installs through it too. */
  readonly bundles: BundleDeps;
  /** Stops the inference process and closes the database. Idempotent. */
  close(): Promise<void>;
}

export interface CoreOptions {
  readonly dataDir: string;
  readonly host: HostInfo;
  readonly onListenerError?: (error: unknown) => void;
  /** How to start the inference process: utilityProcess in Electron, fork elsewhere. */
  readonly runtimeLauncher?: RuntimeLauncher;
  /** The open-file dialog, or the e2e harness's stand-in. */
  readonly filePicker?: FilePicker;
  readonly log?: (level: string, message: string) => void;
  /** The machine policy file; by default the OS's managed location. */
  readonly policyFile?: string;
  /** Documents: a shorter debounce for watched folders (tests). */
  readonly watchDebounceMs?: number;
}

const PARSE_WORKERS = 2;

/** Builds every service over one data directory. Electron, the e2e harness and the CLI all start here. */
export async function createCore(options: CoreOptions): Promise<Core> {
  const { dataDir, host } = options;
  await mkdir(dataDir, { recursive: true });
  const bus = createBus<AppEvents>(options.onListenerError);
  // The policy comes first: it decides what every service below may do.
  const userPath = userPolicyPath(dataDir);
  let loadedPolicy = await loadPolicy({ userPath, ...(options.policyFile === undefined ? {} : { machinePath: options.policyFile }) });
  // A policy installed from a signed bundle takes the machine policy's place, if the policy in force allows that.
  const fromBundle = bundlePolicyPath(dataDir);
  if (loadedPolicy.status !== 'invalid' && loadedPolicy.policy.bundles.allowPolicyUpdates && (await stat(fromBundle).then(() => true, () => false))) {
    loadedPolicy = await loadPolicy({ userPath, machinePath: fromBundle });
  }
  const governance = createGovernance(loadedPolicy);
  const storage = openDatabase(dataDir);
  const closeStorage = () => (storage.isOpen ? storage.close() : undefined);
  const trail = createAuditTrail({ db: storage, dataDir, governance, ...(options.log === undefined ? {} : { log: options.log }) });
  trail.record({ type: 'app.start', data: { version: product.version } });
  trail.record({ type: 'policy.loaded', data: { status: governance.loaded.status, sha256: governance.loaded.hash, machineFile: governance.loaded.source.machine, userFile: governance.loaded.source.user } });
  const lockedSettings = governance.lockSettings(
    await openSettings(storage, dataDir, (next) => bus.emit('settings.changed', applyLockedSettings(next, governance.policy) as typeof next)).catch((error: unknown) => {
      closeStorage();
      throw error;
    }),
  );
  const settings = {
    get: () => lockedSettings.get(),
    async update(patch: SettingsPatch) {
      const next = await lockedSettings.update(patch);
      for (const [key, value] of Object.entries(patch)) trail.record({ type: 'setting.changed', data: { key, value: value as never } });
      return next;
    },
  };

  const quarantine = sqliteQuarantine(storage, (filePath, reason) => appendEvent(storage, 'model.quarantined', { path: filePath, reason }));
  let loadedPath: string | null = null;
  const runtime = createEngine({
    launcher: options.runtimeLauncher ?? forkLauncher(),
    validate: checkModelFile,
    quarantine,
    onState: (state) => {
      // Loads and unloads go to the audit log with the model's hash.
      const now = state.model?.path ?? null;
      if (now !== loadedPath) {
        const before = loadedPath === null ? null : trail.modelByPath(loadedPath);
        const after = now === null ? null : trail.modelByPath(now);
        if (before !== null) trail.record({ type: 'model.unloaded', data: { modelId: before.id, sha256: before.sha256 } });
        if (after !== null) trail.record({ type: 'model.loaded', data: { modelId: after.id, sha256: after.sha256 } });
        loadedPath = now;
      }
      bus.emit('runtime.stateChanged', state);
    },
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  const files = createFileTokens();
  const picker = options.filePicker ?? NO_PICKER;
  const libraryDir = libraryDirFor(dataDir);
  // An import cut short by a crash leaves a partial file and no registry row; tidy both up.
  await cleanupPartialImports(libraryDir, storage).catch((error: unknown) => options.log?.('warn', `Could not tidy up unfinished imports: ${String(error)}`));
  await tidyBundles(storage, dataDir, libraryDir).catch((error: unknown) => options.log?.('warn', `Could not tidy up unfinished bundle installs: ${String(error)}`));

  const vectors = await openVectorStore(dataDir).catch(async (error: unknown) => {
    await runtime.stop();
    closeStorage();
    throw error;
  });
  // Two parsing workers: one file is parsed while another is, and a third embedded.
  const extractor = createExtractorPool(PARSE_WORKERS);
  const knowledge = await createKnowledgeService({
    db: storage,
    dataDir,
    engine: runtime,
    settings: () => settings.get().runtime,
    vectors,
    extractor,
    onProgress: (progress) => bus.emit('knowledge.ingestProgress', progress),
    onChanged: (collectionId) => bus.emit('knowledge.changed', { collectionId }),
    ...(options.log === undefined ? {} : { log: options.log }),
    ...(options.watchDebounceMs === undefined ? {} : { watchDebounceMs: options.watchDebounceMs }),
    screen: (text) => trail.screen(text, 'ingestion'),
    lookahead: PARSE_WORKERS,
    onIngested: (document) => trail.record({ type: 'document.ingested', data: { documentId: document.id, collectionId: document.collectionId, name: document.name, sha256: document.sha256 } }),
    onDeleted: (document) => trail.record({ type: 'document.deleted', data: { documentId: document.id, collectionId: document.collectionId, sha256: document.sha256 } }),
  });

  const bundles: BundleDeps = {
    db: storage,
    dataDir,
    libraryDir,
    picker,
    governance,
    packs: knowledge.packs,
    changed: (bundleId) => bus.emit('bundles.changed', { bundleId }),
    modelsChanged: () => bus.emit('models.changed', { models: listModels(storage) as ModelEntry[] }),
    audit: (event) => trail.record(event),
  };
  const modelGate = {
    beforeImport: () => governance.assertUnsignedImportAllowed(),
    check: (sha256: string, name: string) => governance.assertModelAllowed(sha256, name),
    imported: (model: { id: string; displayName: string; sha256: string }) => trail.record({ type: 'model.imported', data: { modelId: model.id, name: model.displayName, sha256: model.sha256 } }),
  };

  const handlers: Handlers<Contract> = {
    'app.info': () => ok(describeApp(dataDir, host)),
    'settings.get': () => ok(settings.get()),
    'settings.update': async (patch) => ok(await settings.update(patch)),
    'diagnostics.run': (_input, { signal }) => runDiagnostics(dataDir, signal),
    'policy.get': () => ok(governance.info()),
    ...createRuntimeHandlers({ engine: runtime, files, picker, settings: () => settings.get().runtime }),
    ...createModelHandlers({
      db: storage,
      libraryDir,
      engine: runtime,
      picker,
      settings: () => settings.get().runtime,
      changed: (models) => bus.emit('models.changed', { models }),
      gate: modelGate,
    }),
    ...createChatHandlers({
      db: storage,
      engine: runtime,
      picker,
      settings: () => settings.get().runtime,
      changed: (conversationId) => bus.emit('chat.changed', { conversationId }),
      knowledge: { retrieve: (query, collectionIds, budget) => knowledge.retrieveForChat(query, collectionIds, budget) },
      modelGate,
      beforeExport: () => governance.assertExportAllowed(),
      exported: (what, format, items) => trail.record({ type: 'export', data: { what, format, items } }),
      screenPrompt: (text) => trail.screen(text, 'prompts'),
      onTurn: (turn) => {
        const model = turn.modelPath === null ? null : trail.modelByPath(turn.modelPath);
        if (model === null) return;
        trail.record({ type: 'chat.turn', data: { conversationId: turn.conversationId, modelSha256: model.sha256, collections: [...turn.collections], chunkIds: [...turn.chunkIds], prompt: turn.prompt, response: turn.response } });
      },
    }),
    ...createKnowledgeHandlers(knowledge, picker, { beforeIngest: () => governance.assertIngestionAllowed() }),
    ...createBundleHandlers(bundles),
    ...createAuditHandlers({ db: storage, trail, governance, picker, beforeExport: () => governance.assertExportAllowed() }),
  };

  // Retention from the policy: old conversations go, and the audit log's sealed periods past their days.
  const conversationDays = governance.policy.retention.conversationDays;
  if (conversationDays !== null) {
    const removed = purgeConversationsBefore(storage, new Date(Date.now() - conversationDays * 86_400_000));
    if (removed > 0) trail.record({ type: 'retention.purge', data: { scope: 'conversations', olderThanDays: conversationDays, removed } });
  }
  const auditDays = governance.policy.retention.auditDays;
  if (auditDays !== null && trail.log !== null) {
    try {
      trail.log.purge(auditDays);
    } catch (error) {
      options.log?.('warn', `Old audit records were not purged: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  // Recovery reads and repairs the index before anything new is queued; failing it must not stop the app.
  await knowledge.start().catch((error: unknown) => options.log?.('error', `Documents could not be recovered: ${String(error)}`));

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= knowledge
      .close()
      .then(() => extractor.close())
      .catch(() => undefined)
      .then(() => runtime.stop())
      .finally(() => {
        trail.record({ type: 'app.stop', data: { version: product.version } });
        vectors.close();
        closeStorage();
      }));

  return { dataDir, bus, handlers, storage, runtime, knowledge, governance, audit: trail, bundles, close };
}
