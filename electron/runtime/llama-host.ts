import { stat } from 'node:fs/promises';
import { getLlama, InsufficientMemoryError, LlamaLogLevel, resolveChatWrapper, type Llama } from 'node-llama-cpp';
import type {
  BackendChoice,
  BackendSource,
  ChatOutcome,
  ChatParams,
  CompletionOutcome,
  CompletionParams,
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
} from '../common/runtime/protocol.ts';
import { createAuxModels } from './aux-models.ts';
import { selectBackend } from './backend-select.ts';
import { answerBindingTestsInProcess } from './binding-test.ts';
import { lacksChatTemplate } from './chat-history.ts';
import type { LoadedChat } from './chat-model.ts';
import { chatTurn, disposeSessions, type ChatSessions } from './chat-session.ts';
import { completeOnce } from './completion.ts';
import { DecodeThreadTuner } from './decode-threads.ts';
import { countTokens, embed, embeddingInfo } from './embeddings.ts';
import { fitEstimate } from './fit.ts';
import { generateOnce } from './generate.ts';
import type { RuntimeLog } from './log.ts';
import { mappedBindingPath } from './pack-resolver.ts';
import { rank } from './ranking.ts';
import { RuntimeError } from './runtime-error.ts';

// node-llama-cpp behind a small surface: one chat model with one context, one
// embedding model and one ranking model, each cached by path. Only the modules of
// this folder know node-llama-cpp's API. This one composes them: it holds the process's
// llama instance and the loaded chat model, loads and unloads it, allows one reply at a
// time, and hands each request to the module that owns it (chat-session.ts, generate.ts, completion.ts,
// embeddings.ts, ranking.ts, fit.ts).

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
  /** A stateless completion (the local API): messages or a raw prompt, nothing kept afterwards. */
  complete(params: CompletionParams, signal: AbortSignal, onDelta: (delta: Delta) => void): Promise<CompletionOutcome>;
  /** Texts longer than the context are cut to their first `EmbeddingInfo.maxTokens` tokens, and listed. */
  embed(path: string, texts: readonly string[], threads: number): Promise<EmbedResult>;
  embeddingInfo(path: string, threads: number): Promise<EmbeddingInfo>;
  /** Token counts with the model's tokenizer, without the tokens the model adds around an input. */
  countTokens(path: string, texts: readonly string[]): Promise<number[]>;
  /** Scores 0 to 1 in the documents' order. */
  rank(path: string, query: string, documents: readonly string[], threads: number): Promise<number[]>;
  fit(path: string, target: { contextSize?: number | undefined; gpuLayers?: number | undefined }): Promise<FitEstimate>;
}

export function createLlamaHost(log: RuntimeLog): LlamaHost {
  let llamaPromise: Promise<Llama> | null = null;
  let chat: LoadedChat | null = null;
  const sessions: ChatSessions = new Map();
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
  const aux = createAuxModels(llama, log);

  /** The loaded chat model, free for a reply. */
  const idleChat = (): LoadedChat => {
    if (chat === null) throw new RuntimeError({ code: 'no_model', message: 'No model is loaded.' });
    if (generating) throw new RuntimeError({ code: 'busy', message: 'A reply is already being generated.' });
    return chat;
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
          throw new RuntimeError({
            code: 'out_of_memory',
            message: 'There is not enough memory to load this model with these settings. Try fewer GPU layers or a smaller context.',
          });
        }
        throw new RuntimeError({
          code: 'load_failed',
          message: 'The model could not be loaded.',
          details: error instanceof Error ? error.message : String(error),
        });
      }
    },

    async unload() {
      if (chat === null) return false;
      const current = chat;
      chat = null;
      disposeSessions(sessions);
      current.sequence.dispose();
      await current.context.dispose();
      await current.model.dispose();
      return true;
    },

    async generate(params, signal, onDelta) {
      const loaded = idleChat();
      generating = true;
      try {
        return await generateOnce(loaded, params, signal, onDelta, log);
      } finally {
        generating = false;
      }
    },

    async chat(params, signal, onDelta) {
      const loaded = idleChat();
      generating = true;
      try {
        return await chatTurn(loaded, sessions, params, signal, onDelta, log);
      } finally {
        generating = false;
      }
    },

    async complete(params, signal, onDelta) {
      const loaded = idleChat();
      generating = true;
      try {
        return await completeOnce(loaded, params, signal, onDelta, log);
      } finally {
        generating = false;
      }
    },

    async fit(path, target) {
      return fitEstimate(await llama(), path, target);
    },

    embed: (path, texts, threads) => embed(aux, path, texts, threads),
    embeddingInfo: (path, threads) => embeddingInfo(aux, path, threads),
    // The loaded chat model counts with its own tokenizer: asking for its file (pinned documents
    // do, to see what fits its context) must not load a second copy of it as an auxiliary model.
    countTokens: (path, texts) => {
      const loaded = chat;
      return loaded !== null && loaded.info.path === path
        ? Promise.resolve(texts.map((text) => loaded.model.tokenize(text).length))
        : countTokens(aux, path, texts);
    },
    rank: (path, query, documents, threads) => rank(aux, path, query, documents, threads),
  };
}
