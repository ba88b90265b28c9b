import { chunkBody } from '../ingestion/chunk.ts';
import type { Chunk } from '../types.ts';
import { neutralize } from './grounding.ts';

// Pure rules for pinned documents: their text as a whole, rebuilt from the stored chunks with
// page markers, and which of them fit the model's context whole. The service (pinned.ts)
// reads the chunks and counts tokens with the chat model's tokenizer; this decides.

/**
 * Tokens kept free besides the system prompt, the history, the question and the answer: the
 * chat template's own tokens and the grounding instructions around the documents.
 */
export const PROMPT_OVERHEAD_TOKENS = 320;

/** A fallback with less room than this for passages gives the model none: a scrap of a passage misleads more than it helps. */
export const MIN_PASSAGE_TOKENS = 64;

/** Marks where a page starts in a whole document; neutralize() turns any "<<<" in the text itself, so it cannot be forged. */
export const pageMarker = (page: number): string => `<<<PAGE ${page}>>>`;

/**
 * The document's text from its chunks, in order, each page announced by a marker. Chunks hold
 * offsets into the extracted text and overlap by a few sentences, so each adds only what lies
 * past the text already taken; a heading prepended to a chunk for search is left out (it is
 * in the text where the section starts).
 */
export function wholeText(chunks: readonly Pick<Chunk, 'text' | 'start' | 'end' | 'page'>[]): string {
  const ordered = [...chunks].sort((a, b) => a.start - b.start || a.end - b.end);
  const parts: string[] = [];
  let covered = 0;
  let page: number | null = null;
  for (const chunk of ordered) {
    if (chunk.end <= covered) continue;
    const body = chunkBody(chunk);
    const fresh = chunk.start >= covered ? body : body.slice(covered - chunk.start);
    if (chunk.page !== null && chunk.page !== page) {
      page = chunk.page;
      parts.push(`${parts.length === 0 ? '' : '\n\n'}${pageMarker(page)}\n`);
    } else if (parts.length > 0 && chunk.start > covered) parts.push('\n\n');
    // Neutralized here, so a document's own "<<<PAGE n>>>" is not taken for one of the markers.
    parts.push(neutralize(fresh));
    covered = chunk.end;
  }
  return parts.join('').trim();
}

/** The model's context left for pinned documents once everything else an answer needs is counted. */
export function roomForDocuments(contextSize: number, reservedTokens: number, answerTokens: number): number {
  return Math.max(0, contextSize - reservedTokens - answerTokens - PROMPT_OVERHEAD_TOKENS);
}

export interface Fitted {
  readonly id: string;
  readonly tokens: number;
  readonly whole: boolean;
  /** The room left when it was placed: all of it fits when `whole`, else this much would have. */
  readonly room: number;
}

/**
 * Places the documents in the order they were pinned: each goes whole when it fits in what the
 * ones before it left; one that does not is skipped (answered from passages), and a later,
 * shorter one may still fit. Returns the room left after the whole ones.
 */
export function fitDocuments(documents: readonly { readonly id: string; readonly tokens: number }[], room: number): { fitted: Fitted[]; left: number } {
  let left = Math.max(0, room);
  const fitted = documents.map((document) => {
    const whole = document.tokens <= left;
    const placed = { id: document.id, tokens: document.tokens, whole, room: left };
    if (whole) left -= document.tokens;
    return placed;
  });
  return { fitted, left };
}

/** The tokens fallback passages may take: what the whole documents left, at most the usual share of the context for sources. */
export function passageBudget(left: number, sourcesBudget: number): number {
  const budget = Math.min(left, sourcesBudget);
  return budget < MIN_PASSAGE_TOKENS ? 0 : budget;
}

const thousands = new Intl.NumberFormat('en-US');

/** What the user is told when a pinned document does not fit whole. */
export function fallbackNotice(name: string, tokens: number, room: number, passages: boolean): string {
  const head = `Pinned ${name} is ${thousands.format(tokens)} tokens; ${thousands.format(room)} fit in this model's context`;
  return passages
    ? `${head} — answering from the most relevant passages instead.`
    : `${head}, and nothing of it could be given to the model. Unpin other documents, shorten the conversation or use a model with a larger context.`;
}
