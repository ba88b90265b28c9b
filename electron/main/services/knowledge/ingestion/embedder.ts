import type { RuntimeSettings } from '../../../../common/contract/index.ts';
import { AppError } from '../../../../common/result.ts';
import { getModel } from '../../models/index.ts';
import type { RuntimeEngine } from '../../inference/engine.ts';
import type { Database } from '../../storage/sqlite.ts';
import { estimateTokenCounter } from './chunk.ts';
import { FTS_ONLY_KEY, type EmbeddingSpace } from '../store.ts';
import type { TokenCounter } from '../types.ts';

// A collection's embedding model as the pipeline uses it: its vector space (the model's
// sha256 names it, so two collections on the same model share one table), a token counter
// for sizing chunks, and batched embedding through the inference process.

export type EmbedderEngine = Pick<RuntimeEngine, 'embed' | 'embeddingInfo' | 'countTokens' | 'rank' | 'hardware' | 'state' | 'start'>;

/** Texts per message to the inference process: large enough to amortize the round trip, small enough to report progress. */
export const EMBED_BATCH = 64;
/** Chunk size in tokens when the model allows it: long enough for context, short enough for precise citations. */
export const CHUNK_TOKENS = 256;
export const OVERLAP_TOKENS = 32;

export interface Embedder {
  readonly modelId: string;
  readonly name: string;
  readonly key: string;
  readonly dimensions: number;
  /** The largest chunk, in this model's tokens, that is embedded whole. */
  readonly maxTokens: number;
  readonly countTokens: TokenCounter;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

export interface EmbedderDeps {
  readonly db: Database;
  readonly engine: EmbedderEngine;
  readonly settings: () => RuntimeSettings;
}

export function createEmbedders(deps: EmbedderDeps) {
  const threads = async () => {
    // Documents resumed at start-up may need the inference process before the host has started it.
    if (deps.engine.state().status === 'stopped') await deps.engine.start();
    const wanted = deps.settings().threads;
    return wanted === 'auto' ? (await deps.engine.hardware()).cpuCores : wanted;
  };

  // Asked once per model file and thread count: search and every ingested file need it, and each ask is a round trip to the inference process.
  const infos = new Map<string, ReturnType<EmbedderEngine['embeddingInfo']>>();
  const embeddingInfo = (file: string, count: number) => {
    const key = `${count}:${file}`;
    let info = infos.get(key);
    if (info === undefined) {
      info = deps.engine.embeddingInfo(file, count);
      infos.set(key, info);
      info.catch(() => infos.delete(key));
    }
    return info;
  };

  const modelFile = (modelId: string) => {
    const model = getModel(deps.db, modelId);
    if (model.role !== 'embedding') throw new AppError('bad_request', `${model.displayName} is not an embedding model. Choose one whose role is “embedding”.`);
    if (model.status !== 'ok')
      throw new AppError(
        'unavailable',
        `${model.displayName} cannot be used: its file is ${model.status === 'missing' ? 'missing' : 'changed since it was imported'}.`,
      );
    const file = model.files[0];
    if (file === undefined) throw new AppError('not_found', `${model.displayName} has no file.`);
    return { model, file };
  };

  /** The vector space a collection on this model lives in; asks the inference process for the dimensions. */
  const space = async (modelId: string | null): Promise<EmbeddingSpace> => {
    if (modelId === null) return { embeddingModelId: null, embeddingKey: FTS_ONLY_KEY, dimensions: null };
    const { model, file } = modelFile(modelId);
    const info = await embeddingInfo(file, await threads());
    return { embeddingModelId: model.id, embeddingKey: model.sha256, dimensions: info.dimensions };
  };

  /** The embedder for a model, or null when the collection has none or its model is gone (then search is by text only). */
  const forModel = async (modelId: string | null): Promise<Embedder | null> => {
    if (modelId === null) return null;
    let resolved;
    try {
      resolved = modelFile(modelId);
    } catch (error) {
      if (error instanceof AppError && (error.code === 'not_found' || error.code === 'unavailable')) return null;
      throw error;
    }
    const { model, file } = resolved;
    const count = await threads();
    const info = await embeddingInfo(file, count);
    return {
      modelId: model.id,
      name: model.displayName,
      key: model.sha256,
      dimensions: info.dimensions,
      maxTokens: info.maxTokens,
      countTokens: (texts) => (texts.length === 0 ? Promise.resolve([]) : deps.engine.countTokens(file, texts, count)),
      async embed(texts) {
        const out: Float32Array[] = [];
        for (let at = 0; at < texts.length; at += EMBED_BATCH) {
          const result = await deps.engine.embed(file, texts.slice(at, at + EMBED_BATCH), count);
          for (const vector of result.vectors) out.push(Float32Array.from(vector));
        }
        return out;
      },
    };
  };

  return { space, forModel, threads };
}

export type Embedders = ReturnType<typeof createEmbedders>;

/** Chunk sizing for a collection: the model's tokenizer and limit, or an estimate for text-only collections. */
export function chunkSizing(embedder: Embedder | null): { maxTokens: number; overlapTokens: number; countTokens: TokenCounter } {
  if (embedder === null) return { maxTokens: CHUNK_TOKENS, overlapTokens: OVERLAP_TOKENS, countTokens: estimateTokenCounter };
  const maxTokens = Math.max(32, Math.min(CHUNK_TOKENS, embedder.maxTokens));
  return { maxTokens, overlapTokens: Math.min(OVERLAP_TOKENS, Math.floor(maxTokens / 8)), countTokens: embedder.countTokens };
}
