import { stat } from 'node:fs/promises';
import {
  getLlama,
  GgufInsights,
  InsufficientMemoryError,
  readGgufFileInfo,
  LlamaChatSession,
  LlamaLogLevel,
  type Llama,
  type LlamaContext,
  type LlamaEmbeddingContext,
  type LlamaModel,
} from 'node-llama-cpp';
import type { FitEstimate, GenerateParams, GenerateStats, GpuBackend, Hardware, LoadedModelInfo, LoadOptions, RuntimeFailure } from '../common/runtime/protocol.ts';

// node-llama-cpp behind a small surface: one chat model with one context, and one
// embedding model cached by path. Only this file knows node-llama-cpp's API.

export class RuntimeError extends Error {
  readonly failure: RuntimeFailure;
  constructor(failure: RuntimeFailure) {
    super(failure.message);
    this.failure = failure;
  }
}

const DELTA_INTERVAL_MS = 40; // architecture: deltas batched every 30 to 50 ms

function backendOf(gpu: Llama['gpu']): GpuBackend {
  return gpu === false ? 'cpu' : gpu;
}

export interface LlamaHost {
  info(): Promise<Hardware>;
  load(path: string, options: LoadOptions, onProgress: (progress: number) => void): Promise<LoadedModelInfo>;
  unload(): Promise<boolean>;
  generate(params: GenerateParams, signal: AbortSignal, onDelta: (text: string, tokens: number) => void): Promise<GenerateStats>;
  embed(path: string, texts: readonly string[], threads: number): Promise<{ vectors: number[][]; dimensions: number }>;
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

export function createLlamaHost(log: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void): LlamaHost {
  let llamaPromise: Promise<Llama> | null = null;
  let chat: { model: LlamaModel; context: LlamaContext; info: LoadedModelInfo } | null = null;
  let embedding: { path: string; threads: number; model: LlamaModel; context: LlamaEmbeddingContext } | null = null;
  let generating = false;

  const llama = () =>
    (llamaPromise ??= getLlama({
      // Never build, never download: only the prebuilt binaries shipped with the app.
      build: 'never',
      skipDownload: true,
      usePrebuiltBinaries: true,
      gpu: process.env.SOBERANA_RUNTIME_GPU === 'off' ? false : 'auto',
      progressLogs: false,
      logLevel: LlamaLogLevel.warn,
      logger: (level, message) => {
        const text = message.trim();
        if (text !== '') log(level === LlamaLogLevel.error || level === LlamaLogLevel.fatal ? 'error' : 'warn', text);
      },
    }));

  return {
    async info() {
      const instance = await llama();
      const [vram, ram, gpuNames] = await Promise.all([instance.getVramState(), instance.getRamState(), instance.getGpuDeviceNames()]);
      return {
        backend: backendOf(instance.gpu),
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
        chat = { model, context, info };
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
      await current.context.dispose();
      await current.model.dispose();
      return true;
    },

    async generate(params, signal, onDelta) {
      if (chat === null) throw new RuntimeError({ code: 'no_model', message: 'No model is loaded.' });
      if (generating) throw new RuntimeError({ code: 'busy', message: 'A reply is already being generated.' });
      generating = true;
      const sequence = chat.context.getSequence();
      const session = new LlamaChatSession({ contextSequence: sequence, autoDisposeSequence: false });
      let pending = '';
      let pendingTokens = 0;
      let tokens = 0;
      let firstTokenMs: number | null = null;
      const started = performance.now();
      const flush = () => {
        if (pending === '' && pendingTokens === 0) return;
        onDelta(pending, pendingTokens);
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
        session.dispose({ disposeSequence: false });
        sequence.dispose();
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

    async embed(path, texts, threads) {
      const instance = await llama();
      if (embedding === null || embedding.path !== path || embedding.threads !== threads) {
        if (embedding !== null) {
          await embedding.context.dispose();
          await embedding.model.dispose();
          embedding = null;
        }
        const model = await instance.loadModel({ modelPath: path, gpuLayers: 'auto' });
        const context = await model.createEmbeddingContext({ threads });
        embedding = { path, threads, model, context };
      }
      const vectors: number[][] = [];
      for (const text of texts) vectors.push([...(await embedding.context.getEmbeddingFor(text)).vector]);
      return { vectors, dimensions: embedding.model.embeddingVectorSize };
    },
  };
}
