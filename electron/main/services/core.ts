import type { z } from 'zod';
import type { Contract } from '../../common/contract/index.ts';
import { egressGuard } from '../../guard/egress.ts';
import type { ModelEntry } from '../../common/contract/models.ts';
import type { Handlers } from '../../common/handlers.ts';
import { ok } from '../../common/result.ts';
import { describeApp, type HostInfo } from './app-info.ts';
import { createApiController, type ApiController } from './api/controller.ts';
import { createApiHandlers } from './api/handlers.ts';
import { createRefusalLog } from './api/refusal-log.ts';
import { createApiService } from './api/service.ts';
import { createApiTokens, type ApiTokens } from './api/tokens.ts';
import type { ApiListener, ApiService } from './api/types.ts';
import { createAuditHandlers } from './audit-handlers.ts';
import type { AuditTrail } from './audit-trail.ts';
import { createBundleHandlers } from './bundles-handlers.ts';
import { listBundles } from './bundles/index.ts';
import { backendChoice } from './bundles/runtime-pack.ts';
import { tidyBundles, type BundleDeps } from './bundles/service.ts';
import { createBus, type Bus } from './bus.ts';
import { createChatHandlers } from './chat/handlers.ts';
import { packCheckAnswerer } from './chat/pack-check-answer.ts';
import { runDiagnostics } from './diagnostics.ts';
import { createDossierService, startInstallationKey } from './dossier/index.ts';
import { openContext, type GovernedContext } from './domain/context.ts';
import { applyRetention } from './domain/retention.ts';
import { createScreening } from './domain/screening.ts';
import { governSettings } from './domain/settings.ts';
import { createFileTokens, NO_PICKER, type FilePicker } from './files.ts';
import type { Governance } from './governance.ts';
import { createExtractorPool } from './knowledge/ingestion/extract/pool.ts';
import { createKnowledgeHandlers } from './knowledge/handlers.ts';
import { createKnowledgeService, type KnowledgeService } from './knowledge/service.ts';
import { createModelHandlers } from './models-handlers.ts';
import { cleanupPartialImports, libraryDirFor, listModels } from './models/index.ts';
import { createModelService, type ModelService } from './models/service.ts';
import { applyLockedSettings } from './policy/index.ts';
import { product } from './product.ts';
import { createEngine, type RuntimeEngine } from './inference/engine.ts';
import { createRuntimeHandlers } from './inference/handlers.ts';
import { forkLauncher, type RuntimeLauncher } from './inference/launcher.ts';
import { governedEngine } from './inference/governed-engine.ts';
import { lockedEngine } from './inference/locked-engine.ts';
import { createTurns, laneEngine, rememberLoads, type Turns } from './inference/turns.ts';
import { checkModelFile } from './inference/model-check.ts';
import { createModelLookup, modelLoadEvents } from './inference/model-events.ts';
import { sqliteQuarantine } from './inference/quarantine.ts';
import { openSettings } from './settings.ts';
import { appendEvent } from './storage/events.ts';
import { openVectorStore } from './storage/lance.ts';
import type { Database } from './storage/sqlite.ts';

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
  /** The engine the app uses: governed, its loads and replies taken in turns in the 'app' lane. */
  readonly runtime: RuntimeEngine;
  /** The governed engine outside any lane: a caller runs it inside `turns.run(itsLane, ...)` (the local API does). */
  readonly engine: RuntimeEngine;
  /** Who generates next, fairly between the app and each API token. */
  readonly turns: Turns;
  readonly knowledge: KnowledgeService;
  readonly governance: Governance;
  readonly audit: AuditTrail;
  /** The policy, the audit trail, the domain events and the gate every service acts through. */
  readonly context: GovernedContext;
  /** The model library's changes, governed. */
  readonly models: ModelService;
  /** What installing a bundle needs; the CLI installs through it too. */
  readonly bundles: BundleDeps;
  /** The local API: whether it listens (and `soberana serve`), and its tokens. */
  readonly api: { readonly controller: ApiController; readonly tokens: ApiTokens; readonly service: ApiService };
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
  /** The local API's HTTP server (electron/server/'s createHttpApi); without one the API cannot listen in this process. */
  readonly apiServer?: (service: ApiService) => ApiListener;
}

const PARSE_WORKERS = 2;

/** Builds every service over one data directory. Electron, the e2e harness and the CLI all start here. Wiring only: every rule lives in the services. */
export async function createCore(options: CoreOptions): Promise<Core> {
  const { dataDir, host } = options;
  const bus = createBus<AppEvents>(options.onListenerError);
  // The policy comes first: it decides what every service below may do. The context holds it, the audit trail and the gate.
  const context = await openContext({
    dataDir,
    ...(options.policyFile === undefined ? {} : { policyFile: options.policyFile }),
    ...(options.log === undefined ? {} : { log: options.log }),
    ...(options.onListenerError === undefined ? {} : { onListenerError: options.onListenerError }),
  });
  const { storage, governance, trail, gate, emit } = context;
  const closeStorage = () => context.close();
  emit({ type: 'app.start', data: { version: product.version } });
  emit({
    type: 'policy.loaded',
    data: {
      status: governance.loaded.status,
      sha256: governance.loaded.hash,
      machineFile: governance.loaded.source.machine,
      userFile: governance.loaded.source.user,
    },
  });
  const lockedSettings = governance.lockSettings(
    await openSettings(storage, dataDir, (next) => bus.emit('settings.changed', applyLockedSettings(next, governance.policy) as typeof next)).catch(
      (error: unknown) => {
        closeStorage();
        throw error;
      },
    ),
  );
  const settings = governSettings(lockedSettings, gate, emit);
  // The key that signs answer dossiers: made at the first start, its public half on the record and in the audit anchor.
  const installationKey = await startInstallationKey(dataDir, emit, options.log);
  const screen = createScreening(governance, emit);

  const quarantine = sqliteQuarantine(storage, (filePath, reason) => appendEvent(storage, 'model.quarantined', { path: filePath, reason }));
  const lookup = createModelLookup(storage);
  const announceLoad = modelLoadEvents(lookup, emit);
  // Each process's egress guard reports here; a refusal is an audit record, whichever process tried.
  const onEgressBlocked = (attempt: { process: 'main' | 'inference' | 'worker'; kind: string; target: string }) =>
    emit({ type: 'egress.blocked', data: { process: attempt.process, kind: attempt.kind, target: attempt.target.slice(0, 500) } });
  const stopEgressAudit = egressGuard()?.subscribe(onEgressBlocked) ?? (() => undefined);
  // Every caller's loads and generations meet the policy here, where they are used: its locks
  // and prompts PII rule (lockedEngine), its model rules and the audit gate (governedEngine).
  const engine = lockedEngine(
    createEngine({
      launcher: options.runtimeLauncher ?? forkLauncher(),
      validate: checkModelFile,
      quarantine,
      onState: (state) => {
        announceLoad(state);
        bus.emit('runtime.stateChanged', state);
      },
      onEgressBlocked,
      // At every start of the inference process: the backends the policy allows and the runtime packs installed.
      backends: () => backendChoice(listBundles(storage), dataDir, governance.policy),
      ...(options.log === undefined ? {} : { log: options.log }),
    }),
    () => governance.policy,
  );
  // rememberLoads: how each model was loaded, so the app's reply can put its model back if an API request swapped it while it waited.
  const governed = rememberLoads(governedEngine(engine, { lookup, governance, gate, emit }));
  // One reply at a time, shared fairly: the app's own calls take their turns in the 'app' lane,
  // which has every other turn while it waits, the local API's in one lane per token (services/inference/turns.ts).
  const turns = createTurns({ priorityLane: 'app' });
  const runtime = laneEngine(governed, turns, 'app');
  const files = createFileTokens();
  const picker = options.filePicker ?? NO_PICKER;
  const libraryDir = libraryDirFor(dataDir);
  // An import cut short by a crash leaves a partial file and no registry row; tidy both up.
  await cleanupPartialImports(libraryDir, storage).catch((error: unknown) => options.log?.('warn', `Could not tidy up unfinished imports: ${String(error)}`));
  await tidyBundles(storage, dataDir, libraryDir).catch((error: unknown) =>
    options.log?.('warn', `Could not tidy up unfinished bundle installs: ${String(error)}`),
  );

  const vectors = await openVectorStore(dataDir).catch(async (error: unknown) => {
    await runtime.stop();
    closeStorage();
    throw error;
  });
  // Two parsing workers: one file is parsed while another is, and a third embedded.
  const extractor = createExtractorPool(PARSE_WORKERS, { onEgressBlocked });
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
    screen: (text) => screen(text, 'ingestion'),
    lookahead: PARSE_WORKERS,
    gate,
    emit,
    together: trail.together,
    packCheckAction: () => governance.policy.packs.onCheckFailure,
    answerCheck: packCheckAnswerer({ db: storage, engine: runtime, settings: () => settings.get().runtime, policy: () => governance.policy }),
    markings: () => governance.policy.markings,
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
    machinePolicyPath: context.machinePolicyPath,
    gate,
    emit,
  };
  const announceModels = () => bus.emit('models.changed', { models: listModels(storage) as ModelEntry[] });
  const models = createModelService({ db: storage, libraryDir, gate, emit, changed: announceModels });

  const apiTokens = createApiTokens({
    db: storage,
    gate,
    policy: () => governance.policy,
    collectionExists: (id) => knowledge.collections().some((collection) => collection.id === id),
  });
  const apiRefusals = createRefusalLog(emit);
  const apiService = createApiService({
    db: storage,
    tokens: apiTokens,
    engine: governed,
    turns,
    settings: () => settings.get().runtime,
    governance,
    gate,
    emit,
    screen: (text) => screen(text, 'prompts'),
    knowledge: {
      retrieve: (query, collectionIds, budget) => knowledge.retrieveForChat(query, collectionIds, budget),
      search: (request) => knowledge.search(request),
    },
    status: () => apiController.status(),
    refusals: apiRefusals,
  });
  const apiController = createApiController({
    settings: () => settings.get().api,
    policy: () => governance.policy,
    gate,
    emit,
    listener: options.apiServer?.(apiService) ?? null,
    changed: (status) => bus.emit('api.changed', status),
    log: options.log,
  });
  bus.on('settings.changed', () => void apiController.apply());
  // A pack collection's embedding model removed, or back: its checks run again on what search now does.
  bus.on('models.changed', () => void knowledge.checks.recheckEmbeddings().catch(() => undefined));

  const dossiers = createDossierService({ db: storage, governance, key: installationKey, picker, gate, emit });

  const handlers: Handlers<Contract> = {
    'app.info': () => ok(describeApp(dataDir, host)),
    'settings.get': () => ok(settings.get()),
    'settings.update': async (patch) => ok(await settings.update(patch)),
    'diagnostics.run': (_input, { signal }) => runDiagnostics(dataDir, signal),
    'policy.get': () => ok(governance.info()),
    ...createRuntimeHandlers({ engine: runtime, files, picker, settings: () => settings.get().runtime }),
    ...createModelHandlers({
      db: storage,
      service: models,
      engine: runtime,
      picker,
      settings: () => settings.get().runtime,
      changed: (models) => bus.emit('models.changed', { models }),
    }),
    ...createChatHandlers({
      db: storage,
      engine: runtime,
      picker,
      settings: () => settings.get().runtime,
      changed: (conversationId) => bus.emit('chat.changed', { conversationId }),
      knowledge: {
        retrieve: (query, collectionIds, budget) => knowledge.retrieveForChat(query, collectionIds, budget),
        pinned: (request) => knowledge.pinnedForChat(request),
      },
      policy: () => governance.policy,
      screenPrompt: (text) => screen(text, 'prompts'),
      gate,
      emit,
    }),
    'chat.exportEvidence': async ({ messageId }) => ok(await dossiers.exportEvidence(messageId)),
    ...createKnowledgeHandlers(knowledge, picker),
    ...createBundleHandlers(bundles),
    ...createAuditHandlers({ db: storage, trail, governance, picker, gate, emit }),
    ...createApiHandlers({ controller: apiController, tokens: apiTokens }),
  };

  applyRetention({ db: storage, governance, trail, emit, ...(options.log === undefined ? {} : { log: options.log }) });

  // Recovery reads and repairs the index before anything new is queued; failing it must not stop the app.
  await knowledge.start().catch((error: unknown) => options.log?.('error', `Documents could not be recovered: ${String(error)}`));
  // The local API listens from the start when the settings (or a policy lock) turn it on; a port in use is a status, not a failed start.
  await apiController.apply().catch((error: unknown) => options.log?.('warn', `The local API could not start: ${String(error)}`));

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= apiController
      .close()
      .catch(() => undefined)
      .then(() => knowledge.close())
      .then(() => extractor.close())
      .catch(() => undefined)
      .then(() => runtime.stop())
      .finally(() => {
        apiRefusals.flush();
        emit({ type: 'app.stop', data: { version: product.version } });
        stopEgressAudit();
        vectors.close();
        closeStorage();
      }));

  return {
    dataDir,
    bus,
    handlers,
    storage,
    runtime,
    engine: governed,
    turns,
    knowledge,
    governance,
    audit: trail,
    context,
    models,
    bundles,
    api: { controller: apiController, tokens: apiTokens, service: apiService },
    close,
  };
}
