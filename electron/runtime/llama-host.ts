import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import {
  getLlama,
  GgufInsights,
  InsufficientMemoryError,
  readGgufFileInfo,
  LlamaChatSession,
  LlamaLogLevel,
  LlamaText,
  resolveChatWrapper,
  type ChatHistoryItem,
  type ChatWrapper,
  type Llama,
  type LlamaChatResponseChunk,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaEmbeddingContext,
  type LlamaModel,
  type LlamaRankingContext,
  type Token,
} from 'node-llama-cpp';
import { answerBindingTestsInProcess } from './binding-test.ts';
import { DecodeThreadTuner } from './decode-threads.ts';
import { selectBackend } from './backend-select.ts';
import { mappedBindingPath } from './pack-resolver.ts';
import type {
  BackendChoice,
  BackendSource,
  ChatOutcome,
  ChatParams,
  Delta,
  EmbeddingInfo,
  EmbedResult,
  FitEstimate,
  GenerateParams,
  GenerateStats,
  GpuBackend,
  Hardware,
  LoadedModelInfo,
  LoadOptions,
  RuntimeFailure,
} from '../common/runtime/protocol.ts';

// node-llama-cpp behind a small surface: one chat model with one context, one
// embedding model and one ranking model, each cached by path. Only this file knows
// node-llama-cpp's API.
//
// Chat and the KV cache. The context has a single sequence: every extra sequence
// costs a whole context's worth of KV memory, which the fit estimate did not budget
// for. Recent conversations each keep a LlamaChatSession on that one sequence (a small
// LRU). A session remembers its chat history and where the last evaluation left the
// context window, and node-llama-cpp reuses the longest common token prefix between
// what the sequence holds and what it must evaluate next. So a follow-up in the
// conversation that ran last evaluates only the new prompt; going back to another
// conversation re-evaluates from where the two diverge (usually just after the
// system prompt).

export class RuntimeError extends Error {
  readonly failure: RuntimeFailure;
  constructor(failure: RuntimeFailure) {
    super(failure.message);
    this.failure = failure;
  }
}

const DELTA_INTERVAL_MS = 40; // architecture: deltas batched every 30 to 50 ms

// Under Electron, node-llama-cpp's pre-load binary test cannot fork a Node process (runAsNode fuse off): see binding-test.ts.
if (process.versions.electron !== undefined) answerBindingTestsInProcess();

function backendOf(gpu: Llama['gpu']): GpuBackend {
  return gpu === false ? 'cpu' : gpu;
}

export interface LlamaHost {
  /** The allowed backends and runtime packs; only before the first call that needs llama.cpp. Returns false when it came too late. */
  configure(choice: BackendChoice): boolean;
  info(): Promise<Hardware>;
  load(path: string, options: LoadOptions, onProgress: (progress: number) => void): Promise<LoadedModelInfo>;
  unload(): Promise<boolean>;
  generate(params: GenerateParams, signal: AbortSignal, onDelta: (delta: Delta) => void): Promise<GenerateStats>;
  chat(params: ChatParams, signal: AbortSignal, onDelta: (delta: Delta) => void): Promise<ChatOutcome>;
  /** Texts longer than the context are cut to their first `EmbeddingInfo.maxTokens` tokens, and listed. */
  embed(path: string, texts: readonly string[], threads: number): Promise<EmbedResult>;
  embeddingInfo(path: string, threads: number): Promise<EmbeddingInfo>;
  /** Token counts with the model's tokenizer, without the tokens the model adds around an input. */
  countTokens(path: string, texts: readonly string[]): Promise<number[]>;
  /** Scores 0 to 1 in the documents' order. */
  rank(path: string, query: string, documents: readonly string[], threads: number): Promise<number[]>;
  fit(path: string, target: { contextSize?: number | undefined; gpuLayers?: number | undefined }): Promise<FitEstimate>;
}

const GiB = 1024 ** 3;

/**
 * A rough speed class, not a promise: decoding is bound by reading the weights once per
 * token, so it follows where the weights live and how large they are.
 */
export function speedClassOf(placement: FitEstimate['placement'], modelBytes: number): FitEstimate['speedClass'] {
  if (placement === 'gpu') return 'fast';
  if (placement === 'partial') return modelBytes < 8 * GiB ? 'usable' : 'slow';
  if (modelBytes < 1.5 * GiB) return 'fast';
  return modelBytes < 6 * GiB ? 'usable' : 'slow';
}

/** Conversations whose session (history and context-window state) is kept. */
export const CHAT_SESSIONS = 4;

type ChatTurnParam = ChatParams['history'][number];

export function toChatHistory(systemPrompt: string, turns: readonly ChatTurnParam[]): ChatHistoryItem[] {
  const items: ChatHistoryItem[] = systemPrompt === '' ? [] : [{ type: 'system', text: systemPrompt }];
  for (const turn of turns) items.push(turn.role === 'user' ? { type: 'user', text: turn.content } : { type: 'model', response: [turn.content] });
  return items;
}

/**
 * What the client can know of a history item. Clients store answers without their
 * reasoning segments, so segments are left out when deciding whether a request
 * continues the session's own history.
 */
function visibleText(item: ChatHistoryItem): string {
  switch (item.type) {
    case 'system':
      return `system\u0000${typeof item.text === 'string' ? item.text : LlamaText.fromJSON(item.text).toString()}`;
    case 'user':
      return `user\u0000${item.text}`;
    case 'model':
      return `model\u0000${item.response.filter((part): part is string => typeof part === 'string').join('')}`;
  }
}

/** Like visibleText, but a shortened reasoning segment counts as a change too. */
function fullText(item: ChatHistoryItem): string {
  if (item.type !== 'model') return visibleText(item);
  const parts = item.response.map((part) => (typeof part === 'string' ? part : part.type === 'segment' ? (part.text === '' ? '' : `\u0000${part.segmentType}\u0000${part.text}\u0000`) : `\u0000call\u0000${part.name}`));
  return `model\u0000${parts.join('')}`;
}

export function sameVisibleHistory(a: readonly ChatHistoryItem[], b: readonly ChatHistoryItem[]): boolean {
  return a.length === b.length && a.every((item, index) => visibleText(item) === visibleText(b[index]!));
}

/**
 * How many turns of the full history did not reach the model intact: node-llama-cpp's
 * context shift erases the oldest turns (keeping the first system message) and may cut
 * the oldest surviving one, and the context window it evaluated is what is left. The
 * window's turns line up with the end of the full history; everything before the first
 * turn that matches, counting from the end, was dropped or cut.
 */
export function countTrimmedTurns(history: readonly ChatHistoryItem[], contextWindow: readonly ChatHistoryItem[] | null): number {
  if (contextWindow === null) return 0;
  const turns = history.filter((item) => item.type !== 'system');
  const kept = contextWindow.filter((item) => item.type !== 'system');
  let intact = 0;
  while (intact < kept.length && intact < turns.length && fullText(kept[kept.length - 1 - intact]!) === fullText(turns[turns.length - 1 - intact]!)) intact += 1;
  return turns.length - intact;
}

/** Whether a GGUF lacks a chat template, so node-llama-cpp had to pick a wrapper by itself. */
export function lacksChatTemplate(model: LlamaModel): boolean {
  const template = model.fileInfo.metadata?.tokenizer?.chat_template;
  return typeof template !== 'string' || template.trim() === '';
}

/** A stop generation trigger is the end-of-turn marker written out as text: the model ended its turn too. */
const STOP_REASONS: Readonly<Record<string, GenerateStats['stopReason']>> = { eogToken: 'eos', stopGenerationTrigger: 'eos', maxTokens: 'maxTokens', abort: 'aborted' };

/**
 * Streams what a generation produces as deltas: the first one at once (it is the time to
 * first token the user sees), then whatever gathered every DELTA_INTERVAL_MS, so the
 * main process and the renderer handle a few dozen messages a second, not one per token.
 */
function deltaBatcher(onDelta: (delta: Delta) => void) {
  let text = '';
  let reasoning = '';
  let tokens = 0;
  let sent = false;
  const flush = () => {
    if (text === '' && reasoning === '' && tokens === 0) return;
    onDelta({ text, reasoning, tokens });
    text = '';
    reasoning = '';
    tokens = 0;
  };
  const timer = setInterval(flush, DELTA_INTERVAL_MS);
  return {
    add(chunkText: string, isReasoning: boolean, chunkTokens: number) {
      if (isReasoning) reasoning += chunkText;
      else text += chunkText;
      tokens += chunkTokens;
      if (!sent) {
        sent = true;
        flush();
      }
    },
    close() {
      clearInterval(timer);
      flush();
    },
  };
}

function chatFailure(error: unknown): RuntimeError {
  if (error instanceof RuntimeError) return error;
  const details = error instanceof Error ? error.message : String(error);
  // node-llama-cpp's words when even the system prompt and the new message alone overflow the context.
  if (/compress chat history|context size is too small/i.test(details)) {
    return new RuntimeError({
      code: 'bad_request',
      message: 'The system prompt and the message do not fit in the model’s context. Shorten them, or load the model with a larger context.',
      details,
    });
  }
  return new RuntimeError({ code: 'internal', message: 'The reply could not be generated.', details });
}

/**
 * Embedding and ranking contexts are capped: chunks and passages are short, and a
 * decoder-based embedder's KV cache grows with the context, once per lane.
 */
export const AUX_CONTEXT_MAX = 2048;
export const EMBED_LANES_MAX = 4;

/**
 * Embedding runs on lanes: contexts of one thread each, working through the texts side by
 * side. node-llama-cpp's embedding context evaluates one text at a time on one sequence
 * (its native side reads only sequence 0's pooled vector), so texts cannot share a batch;
 * and one context with N threads pays ggml's per-operation thread barrier, which on a busy
 * machine costs more than the threads bring. Measured on 2 cores (64 texts of 100 tokens,
 * 256-wide 4-layer model): 1 lane 0.9 s, 1 context with 2 threads 8.8 s, 2 lanes 0.58 s.
 * Few texts do not pay for another context.
 */
export function embedLanes(threads: number, texts: number): number {
  return Math.max(1, Math.min(threads, EMBED_LANES_MAX, Math.ceil(texts / 2)));
}

/** The context an auxiliary model gets: its training length, within the cap. */
function auxContextSize(model: LlamaModel): number {
  const trained = model.trainContextSize;
  return trained > 0 ? Math.min(trained, AUX_CONTEXT_MAX) : AUX_CONTEXT_MAX;
}

function auxFailure(error: unknown, doing: string): RuntimeError {
  if (error instanceof RuntimeError) return error;
  if (error instanceof InsufficientMemoryError) return new RuntimeError({ code: 'out_of_memory', message: `There is not enough memory for ${doing}.` });
  return new RuntimeError({ code: 'internal', message: `The model failed while ${doing}.`, details: error instanceof Error ? error.message : String(error) });
}

/**
 * One input's vector. An empty input has nothing for node-llama-cpp to evaluate (it returns
 * an empty vector), so it is evaluated as the tokens the model adds alone.
 */
async function embedTokens(context: LlamaEmbeddingContext, tokens: Token[], dimensions: number): Promise<number[]> {
  if (tokens.length === 0) {
    const model = context.model;
    const marker = model.tokens.bos ?? model.tokens.eos;
    if (marker === null) return new Array<number>(dimensions).fill(0);
    tokens = [marker];
  }
  return [...(await context.getEmbeddingFor(tokens)).vector];
}

export function createLlamaHost(log: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void): LlamaHost {
  let llamaPromise: Promise<Llama> | null = null;
  let chat: {
    llama: Llama;
    /** The instance's thread cap outside decoding; prompts are evaluated with the load's full count. */
    baseMaxThreads: number;
    /** Picks the decode thread count; null decodes with the load's count. */
    tuner: DecodeThreadTuner | null;
    model: LlamaModel;
    context: LlamaContext;
    sequence: LlamaContextSequence;
    /** Resolved once: parsing a Jinja template for every new session costs a noticeable part of a second. */
    wrapper: ChatWrapper;
    info: LoadedModelInfo;
    defaultTemplate: boolean;
  } | null = null;
  /** Least recently used first. */
  const sessions = new Map<string, LlamaChatSession>();
  /**
   * The embedding model stays loaded between batches; its lanes are made when a batch
   * needs them and remade when the thread count changes. Tokenizing needs no context.
   */
  let embedding: { path: string; model: LlamaModel; threads: number; lanes: LlamaEmbeddingContext[]; contextSize: number; added: number } | null = null;
  let ranking: { path: string; model: LlamaModel; threads: number; context: LlamaRankingContext } | null = null;
  /** Embedding, tokenizing and ranking swap cached models, so they take turns. */
  let auxQueue: Promise<unknown> = Promise.resolve();
  const auxTurn = <T>(task: () => Promise<T>): Promise<T> => {
    const run = auxQueue.then(task, task);
    auxQueue = run.catch(() => undefined);
    return run;
  };
  let generating = false;

  let choice: BackendChoice = { allowedBackends: null, packs: [], notices: [] };
  let backend: { source: BackendSource; notices: readonly string[] } = { source: { kind: 'builtin' }, notices: [] };
  const llama = () =>
    (llamaPromise ??= selectBackend(
      choice,
      (gpu) =>
        getLlama({
          // Never build, never download: only the prebuilt binaries shipped with the app or installed as runtime packs.
          build: 'never',
          skipDownload: true,
          usePrebuiltBinaries: true,
          gpu,
          progressLogs: false,
          logLevel: LlamaLogLevel.warn,
          logger: (level, message) => {
            const text = message.trim();
            if (text !== '') log(level === LlamaLogLevel.error || level === LlamaLogLevel.fatal ? 'error' : 'warn', text);
          },
        }),
      { gpuOff: process.env.SOBERANA_RUNTIME_GPU === 'off' },
    ).then((selected) => {
      backend = { source: selected.source, notices: selected.notices };
      for (const notice of selected.notices) log('warn', notice);
      return selected.llama;
    }));

  /**
   * Decoding may use fewer threads than prompt evaluation (see decode-threads.ts). The
   * context's thread count is fixed when it is created, so the switch goes through the
   * instance's thread cap (`Llama.maxThreads`), which node-llama-cpp applies to every batch.
   */
  const decodePhase = (loaded: NonNullable<typeof chat>) => {
    const { llama: instance, tuner, baseMaxThreads } = loaded;
    instance.maxThreads = baseMaxThreads;
    let decoding = false;
    return {
      tokens(count: number) {
        if (tuner === null) return;
        const now = performance.now();
        if (!decoding) {
          decoding = true;
          instance.maxThreads = tuner.begin(now);
          return;
        }
        const before = tuner.choice?.threads ?? null;
        instance.maxThreads = tuner.advance(count, now);
        const choice = tuner.choice;
        if (choice !== null && choice.threads !== before) {
          const timings = [...choice.msPerToken].map(([threads, ms]) => `${threads}: ${ms.toFixed(1)} ms`).join(', ');
          // The first choice is news; later changes follow the machine's load and would be noise in the log.
          log(before === null ? 'info' : 'debug', `Decoding ${basename(loaded.info.path)} with ${choice.threads} thread(s), the fastest measured (median per token: ${timings}).`);
        }
      },
      end() {
        tuner?.end();
        instance.maxThreads = baseMaxThreads;
      },
    };
  };

  const loadAuxModel = async (path: string): Promise<LlamaModel> => {
    const instance = await llama();
    try {
      return await instance.loadModel({ modelPath: path, gpuLayers: 'auto' });
    } catch (error) {
      if (error instanceof InsufficientMemoryError) throw new RuntimeError({ code: 'out_of_memory', message: 'There is not enough memory to load this model.' });
      throw new RuntimeError({ code: 'load_failed', message: 'The model could not be loaded.', details: error instanceof Error ? error.message : String(error) });
    }
  };

  const disposeLanes = async (held: { lanes: LlamaEmbeddingContext[] }) => {
    const lanes = held.lanes.splice(0);
    await Promise.all(lanes.map((lane) => lane.dispose()));
  };

  const dropRanking = async () => {
    if (ranking === null) return;
    const held = ranking;
    ranking = null;
    await held.context.dispose();
    if (embedding?.model !== held.model) await held.model.dispose();
  };

  /** The embedding model for `path`, loaded once; no context yet. */
  const embeddingModel = async (path: string): Promise<NonNullable<typeof embedding>> => {
    if (embedding?.path === path) return embedding;
    if (embedding !== null) {
      const held = embedding;
      embedding = null;
      await disposeLanes(held);
      if (ranking?.model !== held.model) await held.model.dispose();
    }
    const model = ranking?.path === path ? ranking.model : await loadAuxModel(path);
    embedding = { path, model, threads: 0, lanes: [], contextSize: auxContextSize(model), added: 0 };
    return embedding;
  };

  /** The embedding model with enough lanes for `texts` texts at `threads` threads. */
  const embeddingLanes = async (path: string, threads: number, texts: number): Promise<NonNullable<typeof embedding>> => {
    const current = await embeddingModel(path);
    if (current.threads !== threads) {
      await disposeLanes(current);
      current.threads = threads;
    }
    const wanted = embedLanes(threads, texts);
    try {
      while (current.lanes.length < wanted) {
        // batchSize = contextSize: an encoder (BERT) must see a whole input in one batch.
        current.lanes.push(await current.model.createEmbeddingContext({ contextSize: current.contextSize, batchSize: current.contextSize, threads: 1 }));
      }
    } catch (error) {
      if (current.lanes.length === 0) throw auxFailure(error, 'preparing to compute embeddings');
      // More lanes did not fit; the ones made are enough to go on.
      log('warn', `Embedding with ${current.lanes.length} lane(s) instead of ${wanted}: ${error instanceof Error ? error.message : String(error)}`);
    }
    // What node-llama-cpp adds around an input (BOS, EOS), which the context must hold too.
    const probe = current.model.tokenize('a');
    current.added = current.lanes[0]!.calculateInputLength(probe) - probe.length;
    return current;
  };

  return {
    configure(next) {
      if (llamaPromise !== null) return false;
      choice = next;
      return true;
    },

    async info() {
      const instance = await llama();
      const [vram, ram, gpuNames] = await Promise.all([instance.getVramState(), instance.getRamState(), instance.getGpuDeviceNames()]);
      return {
        backend: backendOf(instance.gpu),
        backendSource: backend.source,
        bindingPath: mappedBindingPath(),
        backendNotices: [...backend.notices],
        gpuNames,
        vramTotal: vram.total,
        vramFree: vram.free,
        ramTotal: ram.total,
        ramFree: ram.free,
        cpuCores: Math.max(1, instance.cpuMathCores),
        llamaCppRelease: instance.llamaCppRelease.release,
      };
    },

    async load(path, options, onProgress) {
      if (generating) throw new RuntimeError({ code: 'busy', message: 'A reply is being generated. Stop it before loading another model.' });
      const started = performance.now();
      const instance = await llama();
      await this.unload();
      try {
        const model = await instance.loadModel({
          modelPath: path,
          gpuLayers: options.gpuLayers,
          onLoadProgress: (progress) => onProgress(Math.min(1, Math.max(0, progress))),
        });
        const context = await model.createContext({
          contextSize: options.contextSize,
          threads: options.threads,
          sequences: 1,
          ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
          ...(options.flashAttention === undefined ? {} : { flashAttention: options.flashAttention }),
          ...(options.kvCacheType === undefined ? {} : { experimentalKvCacheKeyType: options.kvCacheType, experimentalKvCacheValueType: options.kvCacheType }),
        });
        const { size } = await stat(path);
        const info: LoadedModelInfo = {
          path,
          gpuLayers: model.gpuLayers,
          contextSize: context.contextSize,
          threads: options.threads,
          trainContextSize: model.trainContextSize,
          embeddingSize: model.embeddingVectorSize,
          sizeBytes: size,
          loadMs: performance.now() - started,
        };
        const candidates = options.decodeThreadCandidates?.filter((count) => count <= options.threads) ?? [];
        chat = {
          llama: instance,
          baseMaxThreads: instance.maxThreads,
          tuner: candidates.length === 0 ? null : new DecodeThreadTuner(candidates),
          model,
          context,
          sequence: context.getSequence(),
          wrapper: resolveChatWrapper(model),
          info,
          defaultTemplate: lacksChatTemplate(model),
        };
        return info;
      } catch (error) {
        if (error instanceof InsufficientMemoryError) {
          throw new RuntimeError({ code: 'out_of_memory', message: 'There is not enough memory to load this model with these settings. Try fewer GPU layers or a smaller context.' });
        }
        throw new RuntimeError({ code: 'load_failed', message: 'The model could not be loaded.', details: error instanceof Error ? error.message : String(error) });
      }
    },

    async unload() {
      if (chat === null) return false;
      const current = chat;
      chat = null;
      for (const session of sessions.values()) session.dispose({ disposeSequence: false });
      sessions.clear();
      current.sequence.dispose();
      await current.context.dispose();
      await current.model.dispose();
      return true;
    },

    async generate(params, signal, onDelta) {
      if (chat === null) throw new RuntimeError({ code: 'no_model', message: 'No model is loaded.' });
      if (generating) throw new RuntimeError({ code: 'busy', message: 'A reply is already being generated.' });
      generating = true;
      // The one sequence the chat sessions share; a one-off prompt reuses whatever prefix it can.
      const session = new LlamaChatSession({ contextSequence: chat.sequence, chatWrapper: chat.wrapper, autoDisposeSequence: false });
      const phase = decodePhase(chat);
      let pending = '';
      let pendingTokens = 0;
      let tokens = 0;
      let firstTokenMs: number | null = null;
      const started = performance.now();
      const flush = () => {
        if (pending === '' && pendingTokens === 0) return;
        onDelta({ text: pending, reasoning: '', tokens: pendingTokens });
        pending = '';
        pendingTokens = 0;
      };
      const timer = setInterval(flush, DELTA_INTERVAL_MS);
      try {
        const promptTokens = chat.model.tokenize(params.prompt).length;
        const response = await session.promptWithMeta(params.prompt, {
          maxTokens: params.maxTokens,
          temperature: params.temperature,
          topP: params.topP,
          topK: params.topK,
          repeatPenalty: { penalty: params.repeatPenalty },
          ...(params.seed === undefined ? {} : { seed: params.seed }),
          signal,
          stopOnAbortSignal: true,
          onToken: (chunk) => {
            tokens += chunk.length;
            pendingTokens += chunk.length;
            firstTokenMs ??= performance.now() - started;
            phase.tokens(chunk.length);
          },
          onTextChunk: (text) => {
            pending += text;
          },
        });
        flush();
        const ms = performance.now() - started;
        const decodeMs = firstTokenMs === null ? ms : ms - firstTokenMs;
        const stopReason = response.stopReason === 'eogToken' ? 'eos' : response.stopReason === 'maxTokens' ? 'maxTokens' : response.stopReason === 'abort' ? 'aborted' : 'other';
        return {
          tokens,
          promptTokens,
          ms,
          firstTokenMs,
          tokensPerSecond: tokens > 1 && decodeMs > 0 ? ((tokens - 1) * 1000) / decodeMs : 0,
          stopReason,
        };
      } finally {
        clearInterval(timer);
        phase.end();
        session.dispose({ disposeSequence: false });
        generating = false;
      }
    },

    async chat(params, signal, onDelta) {
      if (chat === null) throw new RuntimeError({ code: 'no_model', message: 'No model is loaded.' });
      if (generating) throw new RuntimeError({ code: 'busy', message: 'A reply is already being generated.' });
      const loaded = chat;
      generating = true;
      const started = performance.now();
      const batcher = deltaBatcher(onDelta);
      const phase = decodePhase(loaded);
      const meter = loaded.sequence.tokenMeter;
      const meterBefore = meter.getState();
      let firstTokenMs: number | null = null;
      let evaluatedTokens: number | null = null;
      let promptTokens: number | null = null;
      try {
        let session = sessions.get(params.conversationId);
        if (session === undefined || session.disposed) {
          session = new LlamaChatSession({ contextSequence: loaded.sequence, chatWrapper: loaded.wrapper, autoDisposeSequence: false });
          // The constructor adds node-llama-cpp's default system prompt; the request's history replaces it below.
          session.setChatHistory([]);
        }
        sessions.delete(params.conversationId);
        sessions.set(params.conversationId, session);
        for (const [id, old] of sessions) {
          if (sessions.size <= CHAT_SESSIONS) break;
          old.dispose({ disposeSequence: false });
          sessions.delete(id);
        }

        const requested = toChatHistory(params.systemPrompt, params.history);
        const current = session.getChatHistory();
        let prompt: string;
        let responsePrefix: string | undefined;
        let priorTurns: number;
        if (params.prompt === null) {
          // Continue: answer the last user turn again, with the truncated answer forced as
          // the start of the reply (node-llama-cpp's responsePrefix). Its tokens are mostly
          // still in the sequence from when it was generated, so only the tail is evaluated.
          const last = params.history.at(-1);
          const user = params.history.at(-2);
          if (last?.role !== 'assistant' || user?.role !== 'user') {
            throw new RuntimeError({ code: 'bad_request', message: 'There is no answer to continue: the history must end with a question and its answer.' });
          }
          const base = sameVisibleHistory(current, requested) ? current.slice(0, -2) : requested.slice(0, -2);
          session.setChatHistory(base);
          prompt = user.content;
          responsePrefix = last.content === '' ? undefined : last.content;
          priorTurns = params.history.length - 2;
        } else {
          // A follow-up to what this session last answered keeps the session as it is, with its
          // reasoning segments and its last context window, so only the new prompt is evaluated.
          if (!sameVisibleHistory(current, requested)) session.setChatHistory(requested);
          prompt = params.prompt;
          priorTurns = params.history.length;
        }

        let prefixPending = responsePrefix !== undefined;
        const onResponseChunk = (chunk: LlamaChatResponseChunk) => {
          if (prefixPending && chunk.type === undefined && chunk.text === responsePrefix) {
            // The forced prefix is echoed back first; the client has it already.
            prefixPending = false;
            return;
          }
          if (firstTokenMs === null) {
            firstTokenMs = performance.now() - started;
            const used = meter.diff(meterBefore);
            // The last prompt token is evaluated with logits, so the meter counts it as output.
            evaluatedTokens = used.usedInputTokens + 1;
            promptTokens = Math.max(0, loaded.sequence.nextTokenIndex - Math.max(0, used.usedOutputTokens - 1));
          }
          phase.tokens(chunk.tokens.length);
          batcher.add(chunk.text, chunk.type === 'segment' && chunk.segmentType === 'thought', chunk.tokens.length);
        };

        let stopReason: GenerateStats['stopReason'];
        try {
          const response = await session.promptWithMeta(prompt, {
            maxTokens: params.sampling.maxTokens,
            temperature: params.sampling.temperature,
            topP: params.sampling.topP,
            topK: params.sampling.topK,
            minP: params.sampling.minP,
            repeatPenalty: { penalty: params.sampling.repeatPenalty },
            ...(params.sampling.seed === null ? {} : { seed: params.sampling.seed }),
            ...(responsePrefix === undefined ? {} : { responsePrefix }),
            signal,
            stopOnAbortSignal: true,
            onResponseChunk,
          });
          stopReason = STOP_REASONS[response.stopReason] ?? 'other';
        } catch (error) {
          // Stopped before the first token: there is no partial answer, and the session keeps its history.
          if (signal.aborted) stopReason = 'aborted';
          else throw chatFailure(error);
        }
        batcher.close();
        const ms = performance.now() - started;
        const used = meter.diff(meterBefore);
        const decodeMs = firstTokenMs === null ? ms : ms - firstTokenMs;
        // Every token the model produced took decoding time, shown or not; so the meter, not the chunks, counts them.
        const tokens = used.usedOutputTokens;
        const stats: GenerateStats = {
          tokens,
          promptTokens: promptTokens ?? loaded.model.tokenize(prompt).length,
          ms,
          firstTokenMs,
          tokensPerSecond: tokens > 1 && decodeMs > 0 ? ((tokens - 1) * 1000) / decodeMs : 0,
          stopReason,
          evaluatedTokens: evaluatedTokens ?? used.usedInputTokens,
        };
        const trimmed = stopReason === 'aborted' && firstTokenMs === null ? 0 : countTrimmedTurns(session.getChatHistory(), session.getLastEvaluationContextWindow());
        return { stats, trimmedTurns: Math.min(priorTurns, trimmed), defaultTemplate: loaded.defaultTemplate };
      } finally {
        batcher.close();
        phase.end();
        generating = false;
      }
    },

    async fit(path, target) {
      const instance = await llama();
      // Reached only after the main process's own GGUF check accepted the file.
      const info = await readGgufFileInfo(path, { readTensorInfo: true, logWarnings: false });
      const insights = await GgufInsights.from(info, instance);
      const resolved = await insights.configurationResolver.resolveAndScoreConfig({
        ...(target.contextSize === undefined ? {} : { targetContextSize: target.contextSize }),
        ...(target.gpuLayers === undefined ? {} : { targetGpuLayers: target.gpuLayers }),
      });
      const [vram, ram] = await Promise.all([instance.getVramState(), instance.getRamState()]);
      const { gpuLayers, contextSize, totalRamUsage, totalVramUsage } = resolved.resolvedValues;
      const totalLayers = insights.totalLayers;
      const placement = gpuLayers === 0 ? 'cpu' : gpuLayers >= totalLayers ? 'gpu' : 'partial';
      return {
        placement,
        gpuLayers,
        totalLayers,
        contextSize,
        ramBytes: totalRamUsage,
        vramBytes: totalVramUsage,
        fits: totalRamUsage <= ram.free && totalVramUsage <= vram.free,
        score: Math.min(1, Math.max(0, resolved.compatibilityScore)),
        speedClass: speedClassOf(placement, insights.modelSize),
        warnings: insights.getWarnings(path),
      };
    },

    embed(path, texts, threads) {
      return auxTurn(async () => {
        const current = await embeddingLanes(path, threads, texts.length);
        const dimensions = current.model.embeddingVectorSize;
        const maxTokens = Math.max(1, current.contextSize - 1 - current.added);
        const vectors: number[][] = new Array<number[]>(texts.length);
        const truncated: number[] = [];
        const inputs = texts.map((text, index) => {
          const tokens = current.model.tokenize(text);
          if (tokens.length <= maxTokens) return tokens;
          truncated.push(index);
          return tokens.slice(0, maxTokens);
        });
        let next = 0;
        const lane = async (context: LlamaEmbeddingContext) => {
          for (let index = next++; index < inputs.length; index = next++) vectors[index] = await embedTokens(context, inputs[index]!, dimensions);
        };
        try {
          await Promise.all(current.lanes.map(lane));
        } catch (error) {
          throw auxFailure(error, 'computing embeddings');
        }
        return { vectors, dimensions, truncated };
      });
    },

    embeddingInfo(path, threads) {
      return auxTurn(async () => {
        const current = await embeddingLanes(path, threads, 1);
        return { dimensions: current.model.embeddingVectorSize, contextSize: current.contextSize, maxTokens: Math.max(1, current.contextSize - 1 - current.added) };
      });
    },

    countTokens(path, texts) {
      return auxTurn(async () => {
        const model = ranking?.path === path ? ranking.model : (await embeddingModel(path)).model;
        return texts.map((text) => model.tokenize(text).length);
      });
    },

    rank(path, query, documents, threads) {
      return auxTurn(async () => {
        if (ranking === null || ranking.path !== path || ranking.threads !== threads) {
          await dropRanking();
          // The same file may be cached as an embedding model (to count tokens); share its weights.
          const model = embedding?.path === path ? embedding.model : await loadAuxModel(path);
          if (embedding?.path === path) {
            await disposeLanes(embedding);
            embedding = null;
          }
          try {
            const contextSize = auxContextSize(model);
            const context = await model.createRankingContext({ contextSize, batchSize: contextSize, threads });
            ranking = { path, model, threads, context };
          } catch (error) {
            await model.dispose();
            throw auxFailure(error, 'preparing to rank');
          }
        }
        try {
          // A document too long for the context is scored in overlapping pieces, keeping the best.
          const scores = await ranking.context.rankAll(query, [...documents], { onOverflow: { type: 'maxChunk' } });
          return scores.map((score) => (Number.isFinite(score) ? Math.min(1, Math.max(0, score)) : 0));
        } catch (error) {
          const details = error instanceof Error ? error.message : String(error);
          if (/too long to fit/i.test(details)) throw new RuntimeError({ code: 'bad_request', message: 'The query is too long for the reranking model’s context.', details });
          throw auxFailure(error, 'ranking');
        }
      });
    },
  };
}
