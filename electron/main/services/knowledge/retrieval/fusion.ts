// Hybrid fusion that earns its keep: the full-text and vector lists are fused by weighted
// reciprocal rank, and the candidates' own text is read for what ranks cannot tell:
//
// - coverage: how much of the query's content (its words minus stop words, rare ones
//   counting more) a candidate holds. Words that matched only "the" and "de" are noise;
// - a gate on the text list: when no text candidate holds any content word of the query
//   (a paraphrase), its ranking is noise too and only the vector list speaks;
// - phrase: the longest run of the query's words, in order, that the candidate holds. A
//   pasted sentence ranks the passage that holds it first, whatever the word counts say.
//
// Weights were tuned on the labelled set (scripts/bench-rag/quality/); the choice
// and its figures are in docs/documents.md (Retrieval).

export interface FusionWeights {
  /** Reciprocal-rank constant. */
  readonly k: number;
  readonly text: number;
  readonly vector: number;
  /** Added times the candidate's (rarity-weighted) share of the query's content words. */
  readonly coverage: number;
  /** Added times the square of the share of the query's words the candidate holds as one run. */
  readonly phrase: number;
  /**
   * The text list is ignored when none of its candidates holds at least this (weighted) share
   * of the query's content words: its ranking then rests on stop words and chance matches.
   */
  readonly gate: number;
  /**
   * A candidate's share from the text list, and its coverage bonus, go with its coverage raised
   * to this power: a passage that holds one word of four by chance counts 1/4, 1/16, …
   */
  readonly power: number;
}

export const FUSION_WEIGHTS: FusionWeights = { k: 60, text: 1, vector: 2, coverage: 0.02, phrase: 0.2, gate: 0.4, power: 2 };

const STOP_WORDS = new Set(
  (
    'a an the of to in on at by for with from into about over under after before during while and or but nor so if then than ' +
    'is are was were be been being am do does did has have had can could should would will shall may might must ' +
    'i me my we us our you your he him his she her it its they them their this that these those there here ' +
    'what which who whom whose when where why how much many any some all each every no not ' +
    'go get got do make one someone something ' +
    'el la los las lo un una unos unas de del al en con por para sin sobre entre hacia hasta desde y o u ni que ' +
    'cual cuales cuanto cuanta cuantos cuantas cuando donde como quien quienes es son ser esta estan hay se su sus ' +
    'le les me mi mis te tu tus nos cada muy mas ya'
  ).split(' '),
);

/** Lowercase, accents off: the same folding as the full-text index. */
export function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

export function wordsOf(text: string): string[] {
  return fold(text).match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Plural and singular count as one word ("passwords", "password"). */
const base = (word: string): string => (word.length > 3 && word.endsWith('s') ? word.slice(0, -1) : word);

/** The query's content words: not stop words, not single characters; all its words when none is left. */
export function contentTerms(query: string): string[] {
  const words = [...new Set(wordsOf(query).map(base))];
  const kept = words.filter((word) => word.length > 1 && !STOP_WORDS.has(word));
  return kept;
}

/**
 * Each content term's weight from how many of the candidates hold it: a word most candidates
 * hold says little, one that only a few hold says much. A term no candidate holds keeps the
 * highest weight, so that a candidate matching one common word of a long query scores low.
 */
export function termWeights(terms: readonly string[], candidates: readonly ReadonlySet<string>[]): Map<string, number> {
  const n = candidates.length;
  return new Map(
    terms.map((term) => {
      const holders = candidates.filter((words) => words.has(term)).length;
      return [term, Math.log(1 + (n + 1) / (holders + 1))];
    }),
  );
}

/** The weighted share of `terms` that `words` holds, 0–1. */
export function coverage(words: ReadonlySet<string>, weights: ReadonlyMap<string, number>): number {
  let total = 0;
  let held = 0;
  for (const [term, weight] of weights) {
    total += weight;
    if (words.has(term)) held += weight;
  }
  return total === 0 ? 0 : held / total;
}

/**
 * The longest run of consecutive query words found, in order and adjacent, in `text`'s words,
 * as a share of the query's length. A run counts from two words and only when it holds a
 * content word: "what is the" found together says nothing about a passage.
 */
export function phraseShare(
  queryWords: readonly string[],
  textWords: readonly string[],
  content: ReadonlySet<string> = new Set(contentTerms(queryWords.join(' '))),
): number {
  if (queryWords.length < 2) return 0;
  const positions = new Map<string, number[]>();
  textWords.forEach((word, at) => {
    const list = positions.get(word);
    if (list === undefined) positions.set(word, [at]);
    else list.push(at);
  });
  let longest = 0;
  // Runs ending at each text position, extended from the previous query word's runs: [length, content words].
  let previous = new Map<number, readonly [number, number]>();
  for (const word of queryWords) {
    const current = new Map<number, readonly [number, number]>();
    const isContent = content.has(base(word)) ? 1 : 0;
    for (const at of positions.get(word) ?? []) {
      const [length, held] = previous.get(at - 1) ?? [0, 0];
      const run = [length + 1, held + isContent] as const;
      current.set(at, run);
      if (run[0] > longest && run[1] > 0) longest = run[0];
    }
    previous = current;
  }
  return longest < 2 ? 0 : longest / queryWords.length;
}

export interface FusedCandidate {
  readonly id: string;
  readonly score: number;
}

/**
 * Fuses the text and vector lists (ids, best first) with the candidates' texts. Every
 * candidate must have its text in `texts`; ids without text are dropped. Ties keep the text
 * list's order, then the vector list's.
 */
export function fuseLists(
  query: string,
  textIds: readonly string[],
  vectorIds: readonly string[],
  texts: ReadonlyMap<string, string>,
  weights: FusionWeights = FUSION_WEIGHTS,
): FusedCandidate[] {
  const order = [...new Set([...textIds, ...vectorIds])].filter((id) => texts.has(id));
  const queryWords = wordsOf(query);
  const terms = contentTerms(query);
  const contentSet = new Set(terms);
  const wordSets = new Map(order.map((id) => [id, new Set(wordsOf(texts.get(id) as string).map(base))]));
  const termWeight = termWeights(terms, [...wordSets.values()]);
  const covered = new Map(order.map((id) => [id, coverage(wordSets.get(id) as Set<string>, termWeight)]));
  // The text list speaks only when one of its candidates holds a content word of the query.
  const textCounts = terms.length === 0 || textIds.some((id) => (covered.get(id) ?? 0) >= weights.gate);
  const rank = (list: readonly string[]) => new Map(list.map((id, index) => [id, index + 1]));
  const textRank = rank([...new Set(textIds)]);
  const vectorRank = rank([...new Set(vectorIds)]);
  const scored = order.map((id, index) => {
    const t = textRank.get(id);
    const v = vectorRank.get(id);
    let score = 0;
    const share = (covered.get(id) ?? 0) ** weights.power;
    if (t !== undefined && textCounts) score += ((terms.length > 0 ? share : 1) * weights.text) / (weights.k + t);
    if (v !== undefined) score += weights.vector / (weights.k + v);
    score += weights.coverage * share;
    if (weights.phrase > 0) score += weights.phrase * phraseShare(queryWords, wordsOf(texts.get(id) as string), contentSet) ** 2;
    return { id, score, index };
  });
  return scored.sort((a, b) => b.score - a.score || a.index - b.index).map(({ id, score }) => ({ id, score }));
}
