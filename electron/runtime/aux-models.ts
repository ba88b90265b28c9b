import { InsufficientMemoryError, type Llama, type LlamaEmbeddingContext, type LlamaModel, type LlamaRankingContext } from 'node-llama-cpp';
import type { RuntimeLog } from './log.ts';
import { RuntimeError } from './runtime-error.ts';

// The auxiliary models: one embedding model and one ranking model, each cached by path.
// The same file may serve both (a reranker's tokenizer counts tokens), so they share
// weights, and this state is one object that embeddings.ts and ranking.ts both work on.

/**
 * Embedding and ranking contexts are capped: chunks and passages are short, and a
 * decoder-based embedder's KV cache grows with the context, once per lane.
 */
export const AUX_CONTEXT_MAX = 2048;

/**
 * The embedding model stays loaded between batches; its lanes are made when a batch
 * needs them and remade when the thread count changes. Tokenizing needs no context.
 */
export interface EmbeddingHeld {
  path: string;
  model: LlamaModel;
  threads: number;
  lanes: LlamaEmbeddingContext[];
  contextSize: number;
  added: number;
}

export interface RankingHeld {
  path: string;
  model: LlamaModel;
  threads: number;
  context: LlamaRankingContext;
}

export interface AuxModels {
  readonly llama: () => Promise<Llama>;
  readonly log: RuntimeLog;
  embedding: EmbeddingHeld | null;
  ranking: RankingHeld | null;
  /** Embedding, tokenizing and ranking swap cached models, so they take turns. */
  queue: Promise<unknown>;
}

export function createAuxModels(llama: () => Promise<Llama>, log: RuntimeLog): AuxModels {
  return { llama, log, embedding: null, ranking: null, queue: Promise.resolve() };
}

export function auxTurn<T>(aux: AuxModels, task: () => Promise<T>): Promise<T> {
  const run = aux.queue.then(task, task);
  aux.queue = run.catch(() => undefined);
  return run;
}

/** The context an auxiliary model gets: its training length, within the cap. */
export function auxContextSize(model: LlamaModel): number {
  const trained = model.trainContextSize;
  return trained > 0 ? Math.min(trained, AUX_CONTEXT_MAX) : AUX_CONTEXT_MAX;
}

export function auxFailure(error: unknown, doing: string): RuntimeError {
  if (error instanceof RuntimeError) return error;
  if (error instanceof InsufficientMemoryError) return new RuntimeError({ code: 'out_of_memory', message: `There is not enough memory for ${doing}.` });
  return new RuntimeError({ code: 'internal', message: `The model failed while ${doing}.`, details: error instanceof Error ? error.message : String(error) });
}

export async function loadAuxModel(aux: AuxModels, path: string): Promise<LlamaModel> {
  const instance = await aux.llama();
  try {
    return await instance.loadModel({ modelPath: path, gpuLayers: 'auto' });
  } catch (error) {
    if (error instanceof InsufficientMemoryError) throw new RuntimeError({ code: 'out_of_memory', message: 'There is not enough memory to load this model.' });
    throw new RuntimeError({ code: 'load_failed', message: 'The model could not be loaded.', details: error instanceof Error ? error.message : String(error) });
  }
}

export async function disposeLanes(held: { lanes: LlamaEmbeddingContext[] }): Promise<void> {
  const lanes = held.lanes.splice(0);
  await Promise.all(lanes.map((lane) => lane.dispose()));
}

export async function dropRanking(aux: AuxModels): Promise<void> {
  if (aux.ranking === null) return;
  const held = aux.ranking;
  aux.ranking = null;
  await held.context.dispose();
  if (aux.embedding?.model !== held.model) await held.model.dispose();
}
