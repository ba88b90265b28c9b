import { estimateTokens } from '../ingestion/chunk.ts';
import { ftsTerms, type KnowledgeIndex } from '../index/lance-index.ts';
import type { ChunkRecord, KnowledgeStore } from '../store.ts';
import { fuseLists, type FusionWeights } from './fusion.ts';

// Hybrid retrieval: vector and full-text candidates joined with SQLite, fused by rank and by
// what their text holds (fusion.ts), optionally reordered by a reranker. LanceDB
// rows whose chunk is gone from SQLite (a crash between the two writes) are dropped here.

export interface Passage {
  readonly chunkId: string;
  readonly documentId: string;
  readonly documentName: string;
  readonly collectionId: string;
  readonly text: string;
  readonly page: number | null;
  readonly headingPath: readonly string[];
  readonly ordinal: number;
  readonly start: number;
  readonly end: number;
  readonly tokens: number;
  /** The fused score (fusion.ts). */
  readonly score: number;
  /** 1-based rank in each list; null when the list did not return it. */
  readonly ranks: { readonly vector: number | null; readonly text: number | null; readonly rerank: number | null };
  readonly rerankScore: number | null;
  readonly snippet: Snippet;
  /** Recognised from a scan, with this confidence (0–100); absent for text-layer passages. */
  readonly ocrConfidence?: number;
}

export interface Snippet {
  readonly text: string;
  /** [start, end) ranges within `text` of the query's words. */
  readonly highlights: readonly (readonly [number, number])[];
}

export type RetrievalMode = 'hybrid' | 'text' | 'vector';

export interface RetrieveOptions {
  readonly index: KnowledgeIndex;
  readonly store: Pick<KnowledgeStore, 'chunksByIds'>;
  readonly key: string;
  readonly query: string;
  /** The query's embedding; null searches by text only. */
  readonly vector: Float32Array | readonly number[] | null;
  readonly collectionIds: readonly string[];
  readonly documentIds?: readonly string[];
  /** Documents never returned (marked beyond what this machine may retrieve). */
  readonly excludeDocumentIds?: readonly string[];
  readonly limit: number;
  /** How many hits each list contributes before fusion; also how many the reranker sees. */
  readonly candidates?: number;
  /** Scores for `texts` against `query`, higher is better. */
  readonly rerank?: (query: string, texts: readonly string[]) => Promise<number[]>;
  readonly snippetChars?: number;
  /** One list alone, in its own order (for measuring what each half brings); both, fused, when omitted. */
  readonly lists?: 'text' | 'vector';
  /** Fusion weights; FUSION_WEIGHTS when omitted (for tuning them on the labelled set). */
  readonly fusion?: FusionWeights;
}

export const DEFAULT_CANDIDATES = 40;
export const RRF_K = 60;

/**
 * Reciprocal rank fusion: each list adds 1 / (k + rank) to every id it holds. Ties keep the
 * order of first appearance, so the result is deterministic.
 */
export function reciprocalRankFusion(lists: readonly (readonly string[])[], k = RRF_K): { id: string; score: number }[] {
  const scores = new Map<string, number>();
  for (const list of lists) {
    const seen = new Set<string>();
    list.forEach((id, index) => {
      // A duplicate within one list counts once, at its best rank.
      if (seen.has(id)) return;
      seen.add(id);
      scores.set(id, (scores.get(id) ?? 0) + 1 / (k + index + 1));
    });
  }
  const order = [...scores.keys()];
  return order.map((id) => ({ id, score: scores.get(id) ?? 0 })).sort((a, b) => b.score - a.score || order.indexOf(a.id) - order.indexOf(b.id));
}

export async function retrieve(options: RetrieveOptions): Promise<{ passages: Passage[]; mode: RetrievalMode }> {
  const candidates = Math.max(options.limit, options.candidates ?? DEFAULT_CANDIDATES);
  const search = {
    limit: candidates,
    collectionIds: options.collectionIds,
    ...(options.documentIds === undefined ? {} : { documentIds: options.documentIds }),
    ...(options.excludeDocumentIds === undefined ? {} : { excludeDocumentIds: options.excludeDocumentIds }),
  };
  const vector = options.lists === 'text' ? null : options.vector;
  const hasText = ftsTerms(options.query).length > 0 && options.lists !== 'vector';
  const mode: RetrievalMode = vector === null ? 'text' : hasText ? 'hybrid' : 'vector';

  const [vectorHits, textHits] = await Promise.all([
    vector === null ? [] : options.index.vectorSearch(options.key, vector, search),
    hasText ? options.index.textSearch(options.key, options.query, search) : [],
  ]);
  const vectorIds = vectorHits.map((hit) => hit.chunkId);
  const textIds = textHits.map((hit) => hit.chunkId);
  // Text first: on a tie (one list's top hit against the other's), the passage that holds the query's words wins.
  // Join before fusing: fusion reads the candidates' text (fusion.ts), the reranker reads the
  // text SQLite holds, and rows whose chunk is gone from SQLite are dropped.
  const records = new Map(options.store.chunksByIds([...new Set([...textIds, ...vectorIds])]).map((record) => [record.id, record]));
  const texts = new Map([...records].map(([id, record]) => [id, record.text]));
  // One list alone (measuring a half of hybrid search) keeps that list's own order.
  const alone = options.lists === 'text' ? textIds : options.lists === 'vector' ? vectorIds : null;
  let fused = (
    alone === null ? fuseLists(options.query, textIds, vectorIds, texts, options.fusion) : reciprocalRankFusion([alone]).filter((entry) => texts.has(entry.id))
  ).slice(0, candidates);

  const rerankScores = new Map<string, number>();
  if (options.rerank !== undefined && fused.length > 0 && hasText) {
    const scores = await options.rerank(
      options.query,
      fused.map((entry) => (records.get(entry.id) as ChunkRecord).text),
    );
    fused.forEach((entry, index) => rerankScores.set(entry.id, scores[index] ?? Number.NEGATIVE_INFINITY));
    fused = fused
      .map((entry, index) => ({ entry, index }))
      .sort((a, b) => (rerankScores.get(b.entry.id) ?? 0) - (rerankScores.get(a.entry.id) ?? 0) || a.index - b.index)
      .map(({ entry }) => entry);
  }

  const terms = ftsTerms(options.query);
  const passages = fused.slice(0, options.limit).map((entry, index): Passage => {
    const record = records.get(entry.id) as ChunkRecord;
    const vectorRank = vectorIds.indexOf(entry.id);
    const textRank = textIds.indexOf(entry.id);
    return {
      chunkId: record.id,
      documentId: record.documentId,
      documentName: record.documentName,
      collectionId: record.collectionId,
      text: record.text,
      page: record.page,
      headingPath: record.headingPath,
      ordinal: record.ordinal,
      start: record.start,
      end: record.end,
      tokens: record.tokens,
      score: entry.score,
      ranks: { vector: vectorRank < 0 ? null : vectorRank + 1, text: textRank < 0 ? null : textRank + 1, rerank: rerankScores.size === 0 ? null : index + 1 },
      rerankScore: rerankScores.get(entry.id) ?? null,
      snippet: snippet(record.text, highlightTerms(terms), options.snippetChars),
      ...(record.ocrConfidence === undefined ? {} : { ocrConfidence: record.ocrConfidence }),
    };
  });
  return { passages, mode };
}

/** Keeps passages, in order, while their total fits `maxTokens`; stops at the first that does not. */
export function budgetPassages<T extends { readonly text: string }>(
  passages: readonly T[],
  maxTokens: number,
  countOrEstimate: (passage: T) => number = (passage) => estimateTokens(passage.text),
): T[] {
  const kept: T[] = [];
  let total = 0;
  for (const passage of passages) {
    const tokens = countOrEstimate(passage);
    if (total + tokens > maxTokens) break;
    total += tokens;
    kept.push(passage);
  }
  return kept;
}

// ── snippets ────────────────────────────────────────────────────────────────

export const DEFAULT_SNIPPET_CHARS = 320;

/**
 * A window of `text` around its densest cluster of query words, cut at word boundaries, with
 * the words' ranges. Matching folds case and accents like the FTS index does, one character
 * for one character, so offsets in the folded text are offsets in the original.
 */
export function snippet(text: string, terms: readonly string[], maxChars = DEFAULT_SNIPPET_CHARS): Snippet {
  const matches = findTerms(text, terms);
  let start = 0;
  if (text.length > maxChars && matches.length > 0) {
    // The window that holds the most matches, starting at one of them, with a little lead-in.
    let best = 0;
    let bestCount = 0;
    for (let index = 0; index < matches.length; index++) {
      const from = (matches[index] as [number, number])[0];
      const count = matches.filter(([matchStart, matchEnd]) => matchStart >= from && matchEnd <= from + maxChars).length;
      if (count > bestCount) {
        best = from;
        bestCount = count;
      }
    }
    start = Math.max(0, best - Math.floor(maxChars / 6));
  }
  let end = Math.min(text.length, start + maxChars);
  if (end === text.length) start = Math.max(0, end - maxChars);
  // Move the cuts to whitespace so no word is shown in part.
  if (start > 0) {
    const space = text.slice(start, start + 40).search(/\s/u);
    if (space >= 0) start += space + 1;
  }
  if (end < text.length) {
    const space = text.slice(Math.max(start, end - 40), end).search(/\s\S*$/u);
    if (space >= 0) end = Math.max(start, end - 40) + space;
  }
  const prefix = start > 0 ? '…' : '';
  const suffix = end < text.length ? '…' : '';
  const highlights = matches
    .filter(([matchStart, matchEnd]) => matchStart >= start && matchEnd <= end)
    .map(([matchStart, matchEnd]) => [matchStart - start + prefix.length, matchEnd - start + prefix.length] as const);
  return { text: prefix + text.slice(start, end) + suffix, highlights };
}

/**
 * The words worth marking in a snippet: marking every "the" and "of" hides the words that
 * made the match. Search itself still uses every word; this only affects what is marked.
 * When every word is a stop word, all are marked.
 */
const STOP_WORDS = new Set(
  'a an and are as at be by de del el en es for from how in is it la las los of on or que se the their this to un una was were what when where which who why with y'.split(
    ' ',
  ),
);

export function highlightTerms(terms: readonly string[]): string[] {
  const kept = terms.filter((term) => !STOP_WORDS.has(term) && term.length > 1);
  return kept.length === 0 ? [...terms] : kept;
}

/** Whole-word occurrences of `terms` (already lowercased words) in `text`, in order. */
export function findTerms(text: string, terms: readonly string[]): [number, number][] {
  if (terms.length === 0) return [];
  const folded = foldChars(text);
  const wanted = new Set(terms.map(foldChars));
  const found: [number, number][] = [];
  for (const match of folded.matchAll(/[\p{L}\p{N}]+/gu)) {
    if (wanted.has(match[0])) found.push([match.index, match.index + match[0].length]);
  }
  return found;
}

/** Lowercase without accents, keeping the length: a character that folds to more than one stays as it is. */
function foldChars(text: string): string {
  let out = '';
  for (let index = 0; index < text.length; index++) {
    const character = text[index] as string;
    const folded = character
      .normalize('NFD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase();
    out += folded.length === 1 ? folded : character;
  }
  return out;
}
