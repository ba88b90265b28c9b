import type { SearchResult } from '../../../electron/common/contract/index.ts';
import type { SearchRequest } from '../../../electron/main/services/knowledge/service.ts';
import { HELD_OUT_PROSE, type Quote } from './real-prose.ts';
import { HELD_OUT, SET_QUESTIONS, type SetQuestion, type Where } from './questions.ts';

// Runs the labelled set through the knowledge service's search, three ways: words only,
// vectors only and both fused (what the app does). A question is answered at rank k when one
// of the first k passages is in its document and at its place (page, heading or phrase).

type Passage = SearchResult['passages'][number];
export type Lists = 'words' | 'vectors' | 'hybrid';

const LISTS: readonly Lists[] = ['words', 'vectors', 'hybrid'];

export function isAt(passage: Passage, document: string, where: Where): boolean {
  if (passage.documentName !== document) return false;
  if ('page' in where) return passage.page === where.page;
  if ('heading' in where) return passage.headingPath.includes(where.heading);
  return passage.text.includes(where.contains);
}

/** 1-based rank of the first right passage, or null. */
export function rankOf(passages: readonly Passage[], document: string, where: Where): number | null {
  const at = passages.findIndex((passage) => isAt(passage, document, where));
  return at < 0 ? null : at + 1;
}

export interface SetCase {
  readonly query: string;
  readonly document: string;
  readonly where: Where;
  readonly half: 'plain' | 'para' | 'quote';
  readonly heldOut: boolean;
}

export function setCases(quotes: readonly Quote[], questions: readonly SetQuestion[] = SET_QUESTIONS): SetCase[] {
  return [
    ...questions.flatMap((question) => [
      { query: question.plain, document: question.document, where: question.where, half: 'plain' as const, heldOut: HELD_OUT.has(question.document) },
      { query: question.para, document: question.document, where: question.where, half: 'para' as const, heldOut: HELD_OUT.has(question.document) },
    ]),
    ...quotes.map((quote) => ({
      query: quote.text,
      document: quote.document,
      where: { page: quote.page },
      half: 'quote' as const,
      heldOut: quote.document === HELD_OUT_PROSE,
    })),
  ];
}

export interface CaseResult {
  readonly case: SetCase;
  readonly ranks: Record<Lists, number | null>;
}

export type Search = (request: SearchRequest) => Promise<SearchResult>;

export async function runSet(search: Search, collectionId: string, cases: readonly SetCase[]): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const item of cases) {
    const ranks = {} as Record<Lists, number | null>;
    for (const lists of LISTS) {
      const found = await search({
        query: item.query,
        collectionIds: [collectionId],
        limit: 5,
        ...(lists === 'hybrid' ? {} : { lists: lists === 'words' ? ('text' as const) : ('vector' as const) }),
      });
      ranks[lists] = rankOf(found.passages, item.document, item.where);
    }
    results.push({ case: item, ranks });
  }
  return results;
}

const share = (results: readonly CaseResult[], lists: Lists, k: number): number =>
  results.length === 0 ? 0 : Number((results.filter((result) => (result.ranks[lists] ?? Infinity) <= k).length / results.length).toFixed(3));

/**
 * The bench's figures: hit@1 and hit@5 per list on the plain half (no suffix) and the
 * paraphrased half (_para), hit@1 of quotes; then the same on the held-out part (_heldout)
 * and on the part used for tuning (_tuning).
 */
export function figures(results: readonly CaseResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  const parts: [string, (result: CaseResult) => boolean][] = [
    ['', () => true],
    ['_tuning', (result) => !result.case.heldOut],
    ['_heldout', (result) => result.case.heldOut],
  ];
  for (const [suffix, keep] of parts) {
    const kept = results.filter(keep);
    for (const [half, name] of [
      ['plain', ''],
      ['para', '_para'],
    ] as const) {
      const cases = kept.filter((result) => result.case.half === half);
      for (const k of [1, 5]) for (const lists of LISTS) out[`hit${k}_${lists}${name}${suffix}`] = share(cases, lists, k);
    }
    const quotes = kept.filter((result) => result.case.half === 'quote');
    out[`hit1_quote${suffix}`] = share(quotes, 'hybrid', 1);
    out[`hit5_quote${suffix}`] = share(quotes, 'hybrid', 5);
    out[`hit1_quote_words${suffix}`] = share(quotes, 'words', 1);
  }
  out.questions = results.filter((result) => result.case.half !== 'quote').length;
  out.questions_heldout = results.filter((result) => result.case.half !== 'quote' && result.case.heldOut).length;
  out.quotes = results.filter((result) => result.case.half === 'quote').length;
  out.quotes_heldout = results.filter((result) => result.case.half === 'quote' && result.case.heldOut).length;
  return out;
}
