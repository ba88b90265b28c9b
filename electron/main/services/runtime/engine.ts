import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { RuntimeModel, RuntimeState } from '../../../common/contract/schemas.ts';
import { AppError, type ErrorCode } from '../../../common/result.ts';
import {
  MAX_BATCH,
  RuntimeMessage,
  type BackendChoice,
  type Delta,
  type EgressCheck,
  type EgressKind,
  RuntimeResultSchemas,
  type ChatParams,
  type GenerateParams,
  type GenerateStats,
  type Hardware,
  type LoadOptions,
  type RuntimeFailure,
  type RuntimeOp,
  type RuntimeRequest,
  type RuntimeResults,
} from '../../../common/runtime/protocol.ts';
import type { RuntimeChild, RuntimeLauncher } from './launcher.ts';
import { autoThreads, cpuFacts, decodeThreadCandidates } from './threads.ts';

// The main process's side of the inference process: it owns the process's life,
// turns its crashes into state changes and typed errors, restarts it with backoff,
// reloads the model it had, and quarantines a file that keeps killing the loader.

export const QUARANTINE_AFTER = 3;

export interface QuarantineStore {
  /** The reason, if this file identity is quarantined. */
  reasonFor(identity: string): string | null;
  add(identity: string, filePath: string, reason: string): void;
}

export type ModelCheck =
  | { readonly ok: true; readonly name: string; readonly kind: 'chat' | 'embedding' | 'reranking' }
  | { readonly ok: false; readonly message: string };

export interface EngineOptions {
  readonly launcher: RuntimeLauncher;
  /** The GGUF check; no file reaches the inference process unless it passes. */
  readonly validate: (filePath: string) => Promise<ModelCheck>;
  readonly quarantine: QuarantineStore;
  readonly onState: (state: RuntimeState) => void;
  readonly log?: (level: string, message: string) => void;
  readonly readyTimeoutMs?: number;
  readonly backoffMs?: (consecutiveCrashes: number) => number;
  /**
   * The backends the policy allows and the runtime packs installed, asked at every start of
   * the inference process (a pack installed since the last start is then used). Absent: the
   * built-in binaries, any backend.
   */
  readonly backends?: () => BackendChoice | Promise<BackendChoice>;
  /** The inference process's egress guard refused an attempt to reach the network (for the audit log). */
  readonly onEgressBlocked?: (attempt: { readonly process: 'inference'; readonly kind: EgressKind; readonly target: string }) => void;
}

export interface ChatTurn {
  readonly role: 'user' | 'assistant';
  readonly content: string;
}

export interface ChatRequest {
  /** Key for reusing the session and its KV cache in the inference process. */
  readonly conversationId: string;
  readonly systemPrompt: string;
  /** Completed turns before the new prompt, oldest first. */
  readonly history: readonly ChatTurn[];
  /** The user message to answer; null continues the last assistant turn in `history` (a truncated answer). */
  readonly prompt: string | null;
  readonly sampling: { temperature: number; topP: number; topK: number; minP: number; repeatPenalty: number; maxTokens: number; seed: number | null };
}

export interface ChatResult {
  /** `evaluatedTokens` says how much of the prompt was evaluated rather than reused from the KV cache. */
  readonly stats: GenerateStats;
  /** Turns dropped or cut to fit the context (0 when none). */
  readonly trimmedTurns: number;
  /** True when the GGUF had no chat template and a default wrapper was used. */
  readonly defaultTemplate: boolean;
}

export interface RuntimeEngine {
  state(): RuntimeState;
  pid(): number | null;
  start(): Promise<void>;
  hardware(): Promise<Hardware>;
  /** `displayName` replaces the file's own name in the state, e.g. the library's name for it. */
  load(filePath: string, options: LoadOptions, onProgress?: (progress: number) => void, signal?: AbortSignal, displayName?: string): Promise<RuntimeModel>;
  unload(): Promise<void>;
  generate(params: GenerateParams, onDelta: (delta: Delta) => void, signal?: AbortSignal): Promise<GenerateStats>;
  /**
   * Answers `request.prompt` (or continues the last answer) in a conversation. A follow-up to
   * the conversation answered last evaluates only the new prompt. Requires a loaded chat model.
   */
  chat(request: ChatRequest, onDelta: (delta: Delta) => void, signal?: AbortSignal): Promise<ChatResult>;
  /**
   * One vector per text, in order. A text longer than the model's context is embedded by its
   * first `embeddingInfo().maxTokens` tokens and its index is listed in `truncated`.
   * At most MAX_BATCH texts per call.
   */
  embed(filePath: string, texts: readonly string[], threads: number): Promise<RuntimeResults['embed']>;
  /** The embedding model's vector size, and the most tokens a text may have to be embedded whole. */
  embeddingInfo(filePath: string, threads: number): Promise<RuntimeResults['embeddingInfo']>;
  /**
   * Token counts with that model's tokenizer, without the tokens the model adds around an
   * input; comparable with `embeddingInfo().maxTokens`. Any number of texts.
   */
  countTokens(filePath: string, texts: readonly string[], threads: number): Promise<number[]>;
  /**
   * How relevant each document is to the query, 0 to 1, in the documents' order, by a
   * reranking (cross-encoder) model. Other kinds of model are refused. Any number of documents.
   */
  rank(filePath: string, query: string, documents: readonly string[], threads: number): Promise<number[]>;
  /** node-llama-cpp's fit estimate for this file on this machine's hardware. */
  fit(filePath: string, target?: { contextSize?: number; gpuLayers?: number }): Promise<RuntimeResults['fit']>;
  /** Has the inference process try each way out; `guarded` is true when its egress guard refused them all. */
  checkEgress(): Promise<EgressCheck>;
  stop(): Promise<void>;
}

interface Pending {
  readonly op: RuntimeOp;
  resolve(value: unknown): void;
  reject(error: AppError): void;
  onProgress?: (progress: number) => void;
  onDelta?: (delta: Delta) => void;
}

interface Wanted {
  readonly filePath: string;
  readonly identity: string;
  readonly name: string;
  readonly options: LoadOptions;
}

const INITIAL_STATE: RuntimeState = {
  status: 'stopped',
  hardware: null,
  model: null,
  loadProgress: null,
  memoryBytes: null,
  lastCrash: null,
  restarts: 0,
};

export function defaultBackoff(consecutiveCrashes: number): number {
  return Math.min(10_000, 250 * 2 ** Math.max(0, consecutiveCrashes - 1));
}

/** A file is the same file while its real path, size and modification time are. */
export async function fileIdentity(filePath: string): Promise<{ real: string; identity: string; size: number }> {
  let real: string;
  try {
    real = await realpath(filePath);
  } catch {
    throw new AppError('not_found', `The file ${filePath} does not exist or cannot be read.`);
  }
  const info = await stat(real);
  if (!info.isFile()) throw new AppError('rejected_file', `${filePath} is not a file.`);
  return { real, identity: `${real}\0${info.size}\0${Math.trunc(info.mtimeMs)}`, size: info.size };
}

export function describeExit(exit: { code: number | null; signal: string | null }): string {
  if (exit.signal !== null) return exit.signal === 'SIGKILL' ? 'it was killed (SIGKILL), possibly for lack of memory' : `it was stopped by ${exit.signal}`;
  if (exit.code === 134 || exit.code === 133) return `it aborted (exit code ${exit.code})`;
  return `it exited with code ${exit.code ?? 'unknown'}`;
}

const FAILURE_CODES: Readonly<Record<RuntimeFailure['code'], ErrorCode>> = {
  bad_request: 'bad_request',
  no_model: 'no_model',
  busy: 'busy',
  load_failed: 'rejected_file',
  out_of_memory: 'out_of_memory',
  aborted: 'cancelled',
  internal: 'internal',
};

/** Requests on the embedding and ranking models, apart from the chat model's state. */
const AUXILIARY_OPS: ReadonlySet<RuntimeOp> = new Set(['embed', 'embeddingInfo', 'tokenize', 'rank']);

export function createEngine(options: EngineOptions): RuntimeEngine {
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const backoff = options.backoffMs ?? defaultBackoff;
  let state: RuntimeState = INITIAL_STATE;
  let child: RuntimeChild | null = null;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  let loaded: Wanted | null = null;
  let stopping = false;
  let consecutiveCrashes = 0;
  const loadCrashes = new Map<string, number>();
  let settleWaiters: (() => void)[] = [];
  let lock: Promise<unknown> = Promise.resolve();

  const setState = (patch: Partial<RuntimeState>) => {
    state = { ...state, ...patch };
    options.onState(state);
    if (state.status === 'idle' || state.status === 'ready' || state.status === 'stopped') {
      const waiters = settleWaiters;
      settleWaiters = [];
      for (const wake of waiters) wake();
    }
  };

  /** Waits until the process is up and not loading: after a crash, the next request waits for the restart. */
  const settled = (): Promise<void> => {
    if (state.status === 'idle' || state.status === 'ready') return Promise.resolve();
    if (state.status === 'stopped') return Promise.reject(new AppError('unavailable', 'The inference process is not running.'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new AppError('unavailable', 'The inference process did not become ready in time.')), readyTimeoutMs);
      settleWaiters.push(() => {
        clearTimeout(timer);
        if (state.status === 'stopped') reject(new AppError('unavailable', 'The inference process is not running.'));
        else resolve();
      });
    });
  };

  const serialised = <T>(task: () => Promise<T>): Promise<T> => {
    const run = lock.then(task, task);
    lock = run.catch(() => undefined);
    return run;
  };

  function onMessage(raw: unknown): void {
    const parsed = RuntimeMessage.safeParse(raw);
    if (!parsed.success) {
      options.log?.('warn', `Ignored a malformed message from the inference process: ${parsed.error.message}`);
      return;
    }
    const message = parsed.data;
    switch (message.type) {
      case 'ready':
        return;
      case 'log':
        options.log?.(message.level, message.message);
        return;
      case 'egressBlocked':
        try {
          options.onEgressBlocked?.({ process: 'inference', kind: message.kind, target: message.target });
        } catch (error) {
          options.log?.('error', `Could not record a blocked network attempt: ${error instanceof Error ? error.message : String(error)}`);
        }
        return;
      case 'progress':
        pending.get(message.id)?.onProgress?.(message.progress);
        return;
      case 'delta':
        pending.get(message.id)?.onDelta?.({ text: message.text, reasoning: message.reasoning ?? '', tokens: message.tokens });
        return;
      case 'result': {
        const entry = pending.get(message.id);
        if (entry === undefined) return;
        pending.delete(message.id);
        if (!message.result.ok) {
          const failure = message.result.error;
          entry.reject(new AppError(FAILURE_CODES[failure.code], failure.message, failure.details));
          return;
        }
        const value = RuntimeResultSchemas[entry.op].safeParse(message.result.value);
        if (value.success) entry.resolve(value.data);
        else entry.reject(new AppError('internal', 'The inference process sent a malformed reply.', value.error.message));
      }
    }
  }

  function request<K extends RuntimeOp>(
    op: K,
    payload: Omit<Extract<RuntimeRequest, { op: K }>, 'id' | 'op'>,
    handlers: Pick<Pending, 'onProgress' | 'onDelta'> = {},
  ): { id: number; result: Promise<RuntimeResults[K]> } {
    const id = nextId++;
    const result = new Promise<RuntimeResults[K]>((resolve, reject) => {
      if (child === null) {
        reject(new AppError('unavailable', 'The inference process is not running.'));
        return;
      }
      pending.set(id, { op, resolve: resolve as (value: unknown) => void, reject, ...handlers });
      child.send({ id, op, ...payload });
    });
    return { id, result };
  }

  /** The process reports llama.cpp's math cores; `auto` threads follow Soberana's rule instead. */
  async function hardwareNow(): Promise<Hardware> {
    const reported = await request('info', {}).result;
    return { ...reported, cpuCores: autoThreads(cpuFacts(reported.cpuCores)) };
  }

  /** generate and chat: one reply at a time, cancellable, with state changes around it. */
  async function reply<K extends 'generate' | 'chat'>(
    op: K,
    payload: Omit<Extract<RuntimeRequest, { op: K }>, 'id' | 'op'>,
    onDelta: NonNullable<Pending['onDelta']>,
    signal: AbortSignal | undefined,
  ): Promise<RuntimeResults[K]> {
    await settled();
    if (state.model === null) throw new AppError('no_model', 'No model is loaded. Load one first.');
    if (state.status === 'generating') throw new AppError('busy', 'A reply is already being generated.');
    setState({ status: 'generating' });
    const { id, result } = request(op, payload, { onDelta });
    const onAbort = () => child?.send({ id: nextId++, op: 'abort', target: id });
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    try {
      return await result;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // setState ran in between, which TypeScript's narrowing cannot see.
      if ((state.status as RuntimeState['status']) === 'generating') {
        setState({ status: 'ready' });
        void refreshMemory();
      }
    }
  }

  async function refreshMemory(): Promise<void> {
    try {
      const { rss } = await request('memory', {}).result;
      setState({ memoryBytes: rss });
    } catch {
      // Memory figures are informative; a crash is reported by the exit handler.
    }
  }

  /** Why runtime packs are no longer offered in this session, after one crashed the process. */
  let packsSetAside: string | null = null;

  function spawn(): Promise<void> {
    const current = options.launcher();
    child = current;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new AppError('unavailable', 'The inference process did not start.')), readyTimeoutMs);
      current.onMessage((raw) => {
        if (child !== current) return;
        const parsed = RuntimeMessage.safeParse(raw);
        if (parsed.success && parsed.data.type === 'ready') {
          clearTimeout(timer);
          resolve();
        }
        onMessage(raw);
      });
      current.onExit((exit) => {
        clearTimeout(timer);
        reject(new AppError('runtime_crashed', `The inference process stopped: ${describeExit(exit)}.`));
        if (child === current) onExit(exit);
      });
    });
    return ready.then(async () => {
      if (options.backends !== undefined) {
        // Before the first `info`: that is when the inference process picks its binaries.
        try {
          const choice = await options.backends();
          // A pack that passed node-llama-cpp's own test but then took the process down is not
          // offered again in this session: the restart comes back on the built-in binaries.
          await request('configure', { choice: packsSetAside === null ? choice : { ...choice, packs: [], notices: [...choice.notices, packsSetAside].slice(0, 32) } }).result;
        } catch (error) {
          options.log?.('warn', `Runtime packs and the policy's backends could not be applied; the built-in binaries are used: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      const hardware = await hardwareNow();
      const reload = loaded;
      setState({ hardware, status: reload === null ? 'idle' : 'loading', model: null });
      await refreshMemory();
      if (reload !== null) {
        // The model it had before the crash comes back by itself, so the next request just works.
        try {
          await loadNow(reload, () => undefined);
        } catch (error) {
          options.log?.('warn', `Could not reload ${reload.name} after a restart: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    });
  }

  function onExit(exit: { code: number | null; signal: string | null }): void {
    child = null;
    const source = state.hardware?.backendSource;
    if (!stopping && source?.kind === 'pack' && packsSetAside === null) {
      packsSetAside = `The runtime pack ${source.package} (bundle ${source.bundleId} v${source.bundleVersion}) stopped the inference process, so it is set aside until Soberana restarts; the built-in binaries are used.`;
    }
    if (stopping) {
      setState({ status: 'stopped', memoryBytes: null });
      return;
    }
    const during = [...pending.values()].some((entry) => entry.op === 'load')
      ? 'load'
      : [...pending.values()].some((entry) => entry.op === 'generate' || entry.op === 'chat')
        ? 'generate'
        : 'idle';
    const reason = `The inference process stopped: ${describeExit(exit)}.`;
    let message = reason;
    if (during === 'load' && loading !== null) {
      const crashes = (loadCrashes.get(loading.identity) ?? 0) + 1;
      loadCrashes.set(loading.identity, crashes);
      if (crashes >= QUARANTINE_AFTER) {
        const why = `${loading.name} stopped the model loader ${crashes} times in a row, so it has been quarantined and will not be loaded again.`;
        options.quarantine.add(loading.identity, loading.filePath, why);
        loadCrashes.delete(loading.identity);
        message = `${reason} ${why}`;
      } else {
        message = `${reason} This happened while loading ${loading.name} (${crashes} of ${QUARANTINE_AFTER} before it is quarantined).`;
      }
      loaded = null; // never reload a file that was being loaded when the process died
    } else if (during === 'generate') {
      message = `${reason} The reply was cut short. Soberana is restarting it; try again in a moment.`;
    } else if ([...pending.values()].some((entry) => AUXILIARY_OPS.has(entry.op))) {
      message = `${reason} Soberana is restarting it; try again in a moment.`;
    }
    for (const entry of pending.values()) entry.reject(new AppError('runtime_crashed', message, describeExit(exit)));
    pending.clear();
    consecutiveCrashes += 1;
    setState({
      status: 'crashed',
      model: null,
      loadProgress: null,
      memoryBytes: null,
      lastCrash: { at: new Date().toISOString(), reason: message, during },
    });
    setTimeout(() => {
      if (stopping) return;
      setState({ status: 'restarting', restarts: state.restarts + 1 });
      spawn().catch((error: unknown) => options.log?.('error', `Restart failed: ${error instanceof Error ? error.message : String(error)}`));
    }, backoff(consecutiveCrashes));
  }

  let loading: Wanted | null = null;

  async function loadNow(wanted: Wanted, onProgress: (progress: number) => void): Promise<RuntimeModel> {
    loading = wanted;
    setState({ status: 'loading', loadProgress: 0, model: null });
    let lastShown = 0;
    try {
      const info = await request(
        'load',
        { path: wanted.filePath, options: wanted.options },
        {
          onProgress: (progress) => {
            onProgress(progress);
            // The status bar does not need every byte; a percent is enough.
            if (progress - lastShown >= 0.01 || progress === 1) {
              lastShown = progress;
              setState({ loadProgress: progress });
            }
          },
        },
      ).result;
      const model: RuntimeModel = {
        name: wanted.name,
        path: wanted.filePath,
        sizeBytes: info.sizeBytes,
        contextSize: info.contextSize,
        gpuLayers: info.gpuLayers,
        threads: info.threads,
      };
      loaded = wanted;
      loadCrashes.delete(wanted.identity);
      consecutiveCrashes = 0;
      setState({ status: 'ready', model, loadProgress: null });
      await refreshMemory();
      return model;
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'runtime_crashed')) {
        loaded = null;
        setState({ status: 'idle', model: null, loadProgress: null });
      }
      throw error;
    } finally {
      loading = null;
    }
  }

  async function admit(filePath: string): Promise<{ real: string; identity: string; name: string; kind: string }> {
    const { real, identity } = await fileIdentity(filePath);
    const quarantined = options.quarantine.reasonFor(identity);
    if (quarantined !== null) throw new AppError('quarantined', quarantined);
    const check = await options.validate(real);
    if (!check.ok) throw new AppError('rejected_file', check.message);
    return { real, identity, name: check.name || path.basename(real), kind: check.kind };
  }

  return {
    state: () => state,
    pid: () => child?.pid ?? null,

    async start() {
      if (child !== null) return;
      stopping = false;
      setState({ status: 'starting' });
      await spawn();
    },

    async hardware() {
      await settled();
      return hardwareNow();
    },

    load(filePath, loadOptions, onProgress = () => undefined, signal, displayName) {
      return serialised(async () => {
        const admitted = await admit(filePath);
        if (admitted.kind !== 'chat') throw new AppError('rejected_file', `${admitted.name} is ${admitted.kind === 'embedding' ? 'an embedding' : 'a reranking'} model: it finds and ranks text but cannot chat.`);
        if (signal?.aborted) throw new AppError('cancelled', 'Cancelled.');
        await settled();
        // Settings hold 'auto' or a number, and arrive here resolved; the automatic number
        // stands for 'auto', whose decode count the inference process measures. A count the
        // user picked on purpose is used as it is.
        const auto = state.hardware?.cpuCores;
        const options: LoadOptions =
          loadOptions.decodeThreadCandidates === undefined && auto !== undefined && loadOptions.threads === auto
            ? { ...loadOptions, decodeThreadCandidates: decodeThreadCandidates(auto) }
            : loadOptions;
        return loadNow({ filePath: admitted.real, identity: admitted.identity, name: displayName ?? admitted.name, options }, onProgress);
      });
    },

    unload() {
      return serialised(async () => {
        await settled();
        loaded = null;
        await request('unload', {}).result;
        setState({ status: 'idle', model: null });
        await refreshMemory();
      });
    },

    generate(params, onDelta, signal) {
      return reply('generate', { params }, onDelta, signal);
    },

    chat(chatRequest, onDelta, signal) {
      const params: ChatParams = {
        conversationId: chatRequest.conversationId,
        systemPrompt: chatRequest.systemPrompt,
        history: chatRequest.history.map(({ role, content }) => ({ role, content })),
        prompt: chatRequest.prompt,
        sampling: { ...chatRequest.sampling },
      };
      return reply('chat', { params }, onDelta, signal);
    },

    async embed(filePath, texts, threads) {
      const admitted = await admit(filePath);
      await settled();
      return request('embed', { path: admitted.real, texts: [...texts], threads }).result;
    },

    async embeddingInfo(filePath, threads) {
      const admitted = await admit(filePath);
      await settled();
      return request('embeddingInfo', { path: admitted.real, threads }).result;
    },

    async countTokens(filePath, texts, threads) {
      if (texts.length === 0) return [];
      const admitted = await admit(filePath);
      const counts: number[] = [];
      for (let start = 0; start < texts.length; start += MAX_BATCH) {
        await settled();
        counts.push(...(await request('tokenize', { path: admitted.real, texts: texts.slice(start, start + MAX_BATCH), threads }).result).counts);
      }
      return counts;
    },

    async rank(filePath, query, documents, threads) {
      if (documents.length === 0) return [];
      const admitted = await admit(filePath);
      if (admitted.kind !== 'reranking') {
        throw new AppError('rejected_file', `${admitted.name} is ${admitted.kind === 'embedding' ? 'an embedding' : 'a chat'} model, not a reranking model: it cannot rank documents.`);
      }
      const scores: number[] = [];
      for (let start = 0; start < documents.length; start += MAX_BATCH) {
        await settled();
        scores.push(...(await request('rank', { path: admitted.real, query, documents: documents.slice(start, start + MAX_BATCH), threads }).result).scores);
      }
      if (scores.length !== documents.length) throw new AppError('internal', 'The inference process sent the wrong number of scores.');
      return scores;
    },

    async fit(filePath, target = {}) {
      const admitted = await admit(filePath);
      await settled();
      return request('fit', {
        path: admitted.real,
        ...(target.contextSize === undefined ? {} : { contextSize: target.contextSize }),
        ...(target.gpuLayers === undefined ? {} : { gpuLayers: target.gpuLayers }),
      }).result;
    },

    async checkEgress() {
      await settled();
      return request('egressCheck', {}).result;
    },

    async stop() {
      stopping = true;
      const current = child;
      if (current === null) {
        setState({ status: 'stopped' });
        return;
      }
      const exited = new Promise<void>((resolve) => current.onExit(() => resolve()));
      current.kill();
      await exited;
    },
  };
}
