import type { LlamaEmbeddingContext, Token } from 'node-llama-cpp';
import type { EmbeddingInfo, EmbedResult } from '../common/runtime/protocol.ts';
import { auxContextSize, auxFailure, auxTurn, disposeLanes, loadAuxModel, type AuxModels, type EmbeddingHeld } from './aux-models.ts';

/** The most lanes one batch gets (see embedLanes). */
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

/** The embedding model for `path`, loaded once; no context yet. */
async function embeddingModel(aux: AuxModels, path: string): Promise<EmbeddingHeld> {
  if (aux.embedding?.path === path) return aux.embedding;
  if (aux.embedding !== null) {
    const held = aux.embedding;
    aux.embedding = null;
    await disposeLanes(held);
    if (aux.ranking?.model !== held.model) await held.model.dispose();
  }
  const model = aux.ranking?.path === path ? aux.ranking.model : await loadAuxModel(aux, path);
  aux.embedding = { path, model, threads: 0, lanes: [], contextSize: auxContextSize(model), added: 0 };
  return aux.embedding;
}

/** The embedding model with enough lanes for `texts` texts at `threads` threads. */
async function embeddingLanes(aux: AuxModels, path: string, threads: number, texts: number): Promise<EmbeddingHeld> {
  const current = await embeddingModel(aux, path);
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
    aux.log('warn', `Embedding with ${current.lanes.length} lane(s) instead of ${wanted}: ${error instanceof Error ? error.message : String(error)}`);
  }
  // What node-llama-cpp adds around an input (BOS, EOS), which the context must hold too.
  const probe = current.model.tokenize('a');
  current.added = current.lanes[0]!.calculateInputLength(probe) - probe.length;
  return current;
}

/** Texts longer than the context are cut to their first `EmbeddingInfo.maxTokens` tokens, and listed. */
export function embed(aux: AuxModels, path: string, texts: readonly string[], threads: number): Promise<EmbedResult> {
  return auxTurn(aux, async () => {
    const current = await embeddingLanes(aux, path, threads, texts.length);
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
}

export function embeddingInfo(aux: AuxModels, path: string, threads: number): Promise<EmbeddingInfo> {
  return auxTurn(aux, async () => {
    const current = await embeddingLanes(aux, path, threads, 1);
    return { dimensions: current.model.embeddingVectorSize, contextSize: current.contextSize, maxTokens: Math.max(1, current.contextSize - 1 - current.added) };
  });
}

/** Token counts with the model's tokenizer, without the tokens the model adds around an input. */
export function countTokens(aux: AuxModels, path: string, texts: readonly string[]): Promise<number[]> {
  return auxTurn(aux, async () => {
    const model = aux.ranking?.path === path ? aux.ranking.model : (await embeddingModel(aux, path)).model;
    return texts.map((text) => model.tokenize(text).length);
  });
}
