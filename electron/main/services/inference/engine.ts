import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { RuntimeModel, RuntimeState } from '../../../common/contract/schemas.ts';
import { AppError } from '../../../common/result.ts';
import {
  MAX_BATCH,
  type BackendChoice,
  type Delta,
  type EgressCheck,
  type EgressKind,
  type ChatParams,
  type CompletionOutcome,
  CompletionParams,
  type GenerateParams,
  type GenerateStats,
  type Hardware,
  type LoadOptions,
  type RuntimeResults,
} from '../../../common/runtime/protocol.ts';
import { createProtocol, type RequestPayload } from './engine/protocol.ts';
import { createSupervisor, defaultBackoff, type QuarantineStore, type Wanted } from './engine/supervisor.ts';
import type { RuntimeLauncher } from './launcher.ts';
import { autoThreads, cpuFacts, decodeThreadCandidates } from './threads.ts';

// The main process's side of the inference process. Two parts, composed here: the
// supervisor (engine/supervisor.ts) owns the process's life, its crashes, restarts and
// quarantine; the protocol (engine/protocol.ts) owns requests and replies. This module
// adds what the engine's callers see: files admitted (identity, quarantine, GGUF check)
// before they reach the process, loads, one reply at a time, and the typed calls.

export { defaultBackoff, describeExit, QUARANTINE_AFTER, type QuarantineStore } from './engine/supervisor.ts';

export type ModelCheck =
  { readonly ok: true; readonly name: string; readonly kind: 'chat' | 'embedding' | 'reranking' } | { readonly ok: false; readonly message: string };

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
   * A stateless completion (the local API): the whole conversation, or a raw prompt, comes with
   * the request and nothing is kept. Tools, a response format (a grammar) and stop texts as in
   * CompletionParams. Requires a loaded chat model; one reply at a time, as chat.
   */
  complete(params: CompletionParams, onDelta: (delta: Delta) => void, signal?: AbortSignal): Promise<CompletionOutcome>;
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

export function createEngine(options: EngineOptions): RuntimeEngine {
  const protocol = createProtocol({ log: options.log, onEgressBlocked: options.onEgressBlocked });
  const supervisor = createSupervisor({
    launcher: options.launcher,
    protocol,
    quarantine: options.quarantine,
    onState: options.onState,
    log: options.log,
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    backoffMs: options.backoffMs ?? defaultBackoff,
    backends: options.backends,
    restore,
  });
  let lock: Promise<unknown> = Promise.resolve();

  const serialised = <T>(task: () => Promise<T>): Promise<T> => {
    const run = lock.then(task, task);
    lock = run.catch(() => undefined);
    return run;
  };

  /** The process reports llama.cpp's math cores; `auto` threads follow Soberana's rule instead. */
  async function hardwareNow(): Promise<Hardware> {
    const reported = await protocol.request('info', {}).result;
    return { ...reported, cpuCores: autoThreads(cpuFacts(reported.cpuCores)) };
  }

  /** generate, chat and complete: one reply at a time, cancellable, with state changes around it. */
  async function reply<K extends 'generate' | 'chat' | 'complete'>(
    op: K,
    payload: RequestPayload<K>,
    onDelta: (delta: Delta) => void,
    signal: AbortSignal | undefined,
  ): Promise<RuntimeResults[K]> {
    await supervisor.settled();
    if (supervisor.state().model === null) throw new AppError('no_model', 'No model is loaded. Load one first.');
    if (supervisor.state().status === 'generating') throw new AppError('busy', 'A reply is already being generated.');
    supervisor.setState({ status: 'generating' });
    const { id, result } = protocol.request(op, payload, { onDelta });
    const onAbort = () => protocol.abort(id);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    try {
      return await result;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (supervisor.state().status === 'generating') {
        supervisor.setState({ status: 'ready' });
        void refreshMemory();
      }
    }
  }

  async function refreshMemory(): Promise<void> {
    try {
      const { rss } = await protocol.request('memory', {}).result;
      supervisor.setState({ memoryBytes: rss });
    } catch {
      // Memory figures are informative; a crash is reported by the exit handler.
    }
  }

  /** After a start or a restart (the supervisor's hook): the hardware, then the model the process had. */
  async function restore(reload: Wanted | null): Promise<void> {
    const hardware = await hardwareNow();
    supervisor.setState({ hardware, status: reload === null ? 'idle' : 'loading', model: null });
    await refreshMemory();
    if (reload !== null) {
      // The model it had before the crash comes back by itself, so the next request just works.
      try {
        await loadNow(reload, () => undefined);
      } catch (error) {
        options.log?.('warn', `Could not reload ${reload.name} after a restart: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  async function loadNow(wanted: Wanted, onProgress: (progress: number) => void): Promise<RuntimeModel> {
    supervisor.models.loading = wanted;
    supervisor.setState({ status: 'loading', loadProgress: 0, model: null });
    let lastShown = 0;
    try {
      const info = await protocol.request(
        'load',
        { path: wanted.filePath, options: wanted.options },
        {
          onProgress: (progress) => {
            onProgress(progress);
            // The status bar does not need every byte; a percent is enough.
            if (progress - lastShown >= 0.01 || progress === 1) {
              lastShown = progress;
              supervisor.setState({ loadProgress: progress });
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
      supervisor.loadSucceeded(wanted);
      supervisor.setState({ status: 'ready', model, loadProgress: null });
      await refreshMemory();
      return model;
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'runtime_crashed')) {
        supervisor.models.loaded = null;
        supervisor.setState({ status: 'idle', model: null, loadProgress: null });
      }
      throw error;
    } finally {
      supervisor.models.loading = null;
    }
  }

  // The validator's verdicts on files it accepted, by what identifies the bytes on disk: the
  // change time moves with any write, rename over or utimes, and cannot be set back. Embedding
  // and tokenizing are admitted per batch, and validating again read the whole vocabulary each
  // time (for a 60,000-token model about 0.2-1.5 s on the main thread, per batch) to reach the
  // same verdict on the same bytes.
  const accepted = new Map<string, Extract<ModelCheck, { ok: true }>>();
  const contentKey = async (real: string) => {
    const info = await stat(real, { bigint: true });
    return [real, info.dev, info.ino, info.size, info.mtimeNs, info.ctimeNs].join('\0');
  };

  async function validated(real: string): Promise<ModelCheck> {
    const key = await contentKey(real);
    const known = accepted.get(key);
    if (known !== undefined) return known;
    const check = await options.validate(real);
    if (!check.ok) return check;
    // Unchanged since the stat above: a file written meanwhile is validated again next time.
    if ((await contentKey(real)) === key) {
      if (accepted.size >= 16) accepted.delete(accepted.keys().next().value!);
      accepted.set(key, check);
    }
    return check;
  }

  async function admit(filePath: string): Promise<{ real: string; identity: string; name: string; kind: string }> {
    const { real, identity } = await fileIdentity(filePath);
    const quarantined = options.quarantine.reasonFor(identity);
    if (quarantined !== null) throw new AppError('quarantined', quarantined);
    const check = await validated(real);
    if (!check.ok) throw new AppError('rejected_file', check.message);
    return { real, identity, name: check.name || path.basename(real), kind: check.kind };
  }

  return {
    state: () => supervisor.state(),
    pid: () => supervisor.pid(),
    start: () => supervisor.start(),
    stop: () => supervisor.stop(),

    async hardware() {
      await supervisor.settled();
      return hardwareNow();
    },

    load(filePath, loadOptions, onProgress = () => undefined, signal, displayName) {
      return serialised(async () => {
        const admitted = await admit(filePath);
        if (admitted.kind !== 'chat')
          throw new AppError(
            'rejected_file',
            `${admitted.name} is ${admitted.kind === 'embedding' ? 'an embedding' : 'a reranking'} model: it finds and ranks text but cannot chat.`,
          );
        if (signal?.aborted) throw new AppError('cancelled', 'Cancelled.');
        await supervisor.settled();
        // Settings hold 'auto' or a number, and arrive here resolved; the automatic number
        // stands for 'auto', whose decode count the inference process measures. A count the
        // user picked on purpose is used as it is.
        const auto = supervisor.state().hardware?.cpuCores;
        const options: LoadOptions =
          loadOptions.decodeThreadCandidates === undefined && auto !== undefined && loadOptions.threads === auto
            ? { ...loadOptions, decodeThreadCandidates: decodeThreadCandidates(auto) }
            : loadOptions;
        return loadNow({ filePath: admitted.real, identity: admitted.identity, name: displayName ?? admitted.name, options }, onProgress);
      });
    },

    unload() {
      return serialised(async () => {
        await supervisor.settled();
        supervisor.models.loaded = null;
        await protocol.request('unload', {}).result;
        supervisor.setState({ status: 'idle', model: null });
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

    async complete(params, onDelta, signal) {
      // The inference process would refuse a malformed request too, in zod's words; here the caller (the local API) hears which field.
      const checked = CompletionParams.safeParse(params);
      if (!checked.success) {
        const issue = checked.error.issues[0];
        const field = issue === undefined || issue.path.length === 0 ? 'the request' : issue.path.join('.');
        throw new AppError('bad_request', `The completion request is not valid: ${field}: ${issue?.message ?? 'malformed'}.`);
      }
      return reply('complete', { params: checked.data }, onDelta, signal);
    },

    async embed(filePath, texts, threads) {
      const admitted = await admit(filePath);
      await supervisor.settled();
      return protocol.request('embed', { path: admitted.real, texts: [...texts], threads }).result;
    },

    async embeddingInfo(filePath, threads) {
      const admitted = await admit(filePath);
      await supervisor.settled();
      return protocol.request('embeddingInfo', { path: admitted.real, threads }).result;
    },

    async countTokens(filePath, texts, threads) {
      if (texts.length === 0) return [];
      const admitted = await admit(filePath);
      const counts: number[] = [];
      for (let start = 0; start < texts.length; start += MAX_BATCH) {
        await supervisor.settled();
        counts.push(...(await protocol.request('tokenize', { path: admitted.real, texts: texts.slice(start, start + MAX_BATCH), threads }).result).counts);
      }
      return counts;
    },

    async rank(filePath, query, documents, threads) {
      if (documents.length === 0) return [];
      const admitted = await admit(filePath);
      if (admitted.kind !== 'reranking') {
        throw new AppError(
          'rejected_file',
          `${admitted.name} is ${admitted.kind === 'embedding' ? 'an embedding' : 'a chat'} model, not a reranking model: it cannot rank documents.`,
        );
      }
      const scores: number[] = [];
      for (let start = 0; start < documents.length; start += MAX_BATCH) {
        await supervisor.settled();
        scores.push(
          ...(await protocol.request('rank', { path: admitted.real, query, documents: documents.slice(start, start + MAX_BATCH), threads }).result).scores,
        );
      }
      if (scores.length !== documents.length) throw new AppError('internal', 'The inference process sent the wrong number of scores.');
      return scores;
    },

    async fit(filePath, target = {}) {
      const admitted = await admit(filePath);
      await supervisor.settled();
      return protocol.request('fit', {
        path: admitted.real,
        ...(target.contextSize === undefined ? {} : { contextSize: target.contextSize }),
        ...(target.gpuLayers === undefined ? {} : { gpuLayers: target.gpuLayers }),
      }).result;
    },

    async checkEgress() {
      await supervisor.settled();
      return protocol.request('egressCheck', {}).result;
    },
  };
}
