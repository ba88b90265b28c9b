import type { Passage, SearchResult } from '../../../../common/contract/index.ts';
import { rowRange } from '../../../../common/table-text.ts';
import { listModels } from '../../models/index.ts';
import type { RuntimeEngine } from '../../inference/engine.ts';
import type { Embedder } from '../ingestion/embedder.ts';
import type { KnowledgeParts } from '../parts.ts';
import { budgetPassages, reciprocalRankFusion, retrieve, type Passage as Retrieved } from './retrieve.ts';

// Search across collections, for the Documents screen and the CLI (`search`) and for chat
// (`retrieveForChat`): one retrieval per embedding model, fused by rank, reranked when the
// library has a reranking model, and turned into the contract's passages.

export interface SearchRequest {
  readonly query: string;
  readonly collectionIds: readonly string[];
  readonly documentIds?: readonly string[] | undefined;
  /** Documents never returned: those marked beyond what this machine may retrieve (knowledge/markings.ts). */
  readonly excludeDocumentIds?: readonly string[] | undefined;
  readonly limit?: number | undefined;
  /** One list alone, to measure what each half of hybrid search brings (bench:rag --only quality); both when omitted. */
  readonly lists?: 'text' | 'vector' | undefined;
}

/** What search reads: the record, the index, the embedders, and the engine for reranking. */
export type SearchParts = Pick<KnowledgeParts, 'db' | 'store' | 'index' | 'embedders'> & { readonly engine: Pick<RuntimeEngine, 'rank'> };

/** A passage counts as relevant for "answer only from the documents" when its words matched, or the reranker is this sure. */
const RELEVANT_RERANK_SCORE = 0.5;

function toPassage(parts: Pick<KnowledgeParts, 'store'>, passage: Retrieved, formats: Map<string, string>): Passage {
  let format = formats.get(passage.documentId);
  if (format === undefined) {
    format = parts.store.document(passage.documentId).format;
    formats.set(passage.documentId, format);
  }
  return {
    chunkId: passage.chunkId,
    documentId: passage.documentId,
    documentName: passage.documentName,
    collectionId: passage.collectionId,
    format,
    page: passage.page,
    headingPath: [...passage.headingPath],
    rows: rowRange(passage.text),
    text: passage.text,
    snippet: passage.snippet.text,
    highlights: passage.snippet.highlights.map(([start, end]) => [start, end] as [number, number]),
    score: passage.score,
    start: passage.start,
    end: passage.end,
    ocrConfidence: passage.ocrConfidence ?? null,
  };
}

/** Rerank with the first healthy reranking model in the library, if there is one. */
async function reranker(parts: SearchParts): Promise<((query: string, texts: readonly string[]) => Promise<number[]>) | undefined> {
  const model = listModels(parts.db).find((candidate) => candidate.role === 'reranking' && candidate.status === 'ok');
  const file = model?.files[0];
  if (file === undefined) return undefined;
  const threads = await parts.embedders.threads();
  return (query, texts) => parts.engine.rank(file, query, texts, threads);
}

async function searchPassages(parts: SearchParts, request: SearchRequest) {
  const { store, index, embedders } = parts;
  const started = performance.now();
  const limit = request.limit ?? 10;
  const collections = request.collectionIds.map((id) => store.collection(id));
  // Vectors of different models are never compared: one search per embedding model, fused by rank.
  const groups = new Map<string, { modelId: string | null; ids: string[] }>();
  for (const collection of collections) {
    const group = groups.get(collection.embeddingKey) ?? { modelId: collection.embeddingModelId, ids: [] };
    group.ids.push(collection.id);
    groups.set(collection.embeddingKey, group);
  }
  const rerank = await reranker(parts);
  const lists: Retrieved[][] = [];
  let textOnly: string[] = [];
  let missingModel: string[] = [];
  for (const [key, group] of groups) {
    const embedder: Embedder | null = await embedders.forModel(group.modelId);
    if (embedder === null) textOnly = [...textOnly, ...group.ids];
    // Words only by choice needs no notice; words only because the model is gone does.
    if (embedder === null && group.modelId !== null) missingModel = [...missingModel, ...group.ids];
    const vector = embedder === null ? null : ((await embedder.embed([request.query]))[0] ?? null);
    const result = await retrieve({
      index,
      store,
      key,
      query: request.query,
      vector,
      collectionIds: group.ids,
      ...(request.documentIds === undefined ? {} : { documentIds: request.documentIds }),
      ...(request.excludeDocumentIds === undefined ? {} : { excludeDocumentIds: request.excludeDocumentIds }),
      limit,
      ...(request.lists === undefined ? {} : { lists: request.lists }),
      ...(rerank === undefined ? {} : { rerank }),
    });
    lists.push(result.passages);
  }
  let passages: Retrieved[];
  if (lists.length <= 1) passages = lists[0] ?? [];
  else {
    const byId = new Map(lists.flat().map((passage) => [passage.chunkId, passage]));
    passages = reciprocalRankFusion(lists.map((list) => list.map((passage) => passage.chunkId)))
      .slice(0, limit)
      .map(({ id, score }) => ({ ...byId.get(id)!, score }));
  }
  const names = collections.filter((collection) => missingModel.includes(collection.id)).map((collection) => `“${collection.name}”`);
  const notice =
    names.length === 0
      ? null
      : `${names.join(', ')} ${names.length === 1 ? 'has' : 'have'} no usable embedding model, so ${names.length === 1 ? 'it was' : 'they were'} searched by words only.`;
  return { passages, mode: textOnly.length === collections.length ? ('text' as const) : ('hybrid' as const), notice, ms: performance.now() - started };
}

export async function search(parts: SearchParts, request: SearchRequest): Promise<SearchResult> {
  const found = await searchPassages(parts, request);
  const formats = new Map<string, string>();
  return { mode: found.mode, passages: found.passages.map((passage) => toPassage(parts, passage, formats)), notice: found.notice, ms: found.ms };
}

/** For chat: passages that fit the budget, numbered in order, and whether any is relevant enough to answer from. */
export async function retrieveForChat(
  parts: SearchParts,
  query: string,
  collectionIds: readonly string[],
  budgetTokens: number,
  excludeDocumentIds: readonly string[] = [],
) {
  const known = new Set(parts.store.listCollections().map((collection) => collection.id));
  const existing = collectionIds.filter((id) => known.has(id));
  if (existing.length === 0) return { passages: [] as Passage[], mode: 'text' as const, relevant: false, notice: null };
  const found = await searchPassages(parts, { query, collectionIds: existing, limit: 8, excludeDocumentIds });
  const kept = budgetPassages(found.passages, budgetTokens);
  const relevant = kept.some((passage) => passage.ranks.text !== null || (passage.rerankScore ?? 0) >= RELEVANT_RERANK_SCORE);
  const formats = new Map<string, string>();
  return { passages: kept.map((passage) => toPassage(parts, passage, formats)), mode: found.mode, relevant, notice: found.notice };
}
