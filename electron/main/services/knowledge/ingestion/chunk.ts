import { isTableLine } from '../../../../common/table-text.ts';
import type { Chunk, ExtractedBlock, TokenCounter } from '../types.ts';

// Splits a document into retrievable chunks that respect its structure.
//
// The document is first cut into units: sentences of paragraphs, lines of lists, tables and
// code, whole headings. Units are packed greedily into chunks, with hard breaks where the
// top-level section or the page changes, so a chunk never mixes two chapters or two pages.
// Token counts come from the collection's counter in a handful of batched calls: one for
// all units and headings, one per round of splitting units that are too long on their own,
// and one per round of verifying the packed chunks (an over-long chunk is split in half, so
// the rounds are O(log n)). The counter may live in another process; calling it per sentence
// would be the slowest part of ingestion.
//
// Heading context: when a chunk does not start with a heading, its `text` starts with the
// nearest heading and a blank line, so full-text search and the embedding both see what the
// passage is about. The rest of `text` is exactly `fullText(blocks).slice(start, end)`; the
// full heading path is kept in `headingPath`. Use `chunkBody` to get the body back.
// Tables (common/table-text.ts) are cut between rows, never overlapped; a chunk starting inside
// one repeats its header row after the heading, and a header row never ends a chunk alone.

export interface ChunkOptions {
  readonly maxTokens: number;
  /** Trailing sentences of a chunk, up to this many tokens, are repeated at the start of the next one in the same section. */
  readonly overlapTokens: number;
  readonly countTokens: TokenCounter;
}

export const BLOCK_SEPARATOR = '\n\n';
const PREFIX_SEPARATOR = '\n\n';

/** The document's full text, which chunk offsets index. */
export function fullText(blocks: readonly ExtractedBlock[]): string {
  return blocks.map((block) => block.text).join(BLOCK_SEPARATOR);
}

/** A chunk's text without the heading context prepended to it. */
export function chunkBody(chunk: Pick<Chunk, 'text' | 'start' | 'end'>): string {
  const length = chunk.end - chunk.start;
  return chunk.text.slice(chunk.text.length - length);
}

/**
 * A fast token estimate for when no embedding model is there to count: the larger of ~4
 * characters and ~0.75 words per token, which errs high for both prose and dense text.
 */
export function estimateTokens(text: string): number {
  if (text.length === 0) return 0;
  const words = text.match(/\S+/gu)?.length ?? 0;
  return Math.max(1, Math.ceil(Math.max(text.length / 4, words * 1.3)));
}

export const estimateTokenCounter: TokenCounter = (texts) => Promise.resolve(texts.map(estimateTokens));

interface Unit {
  readonly start: number;
  readonly end: number;
  readonly page: number | null;
  readonly headingPath: readonly string[];
  readonly heading: boolean;
  /** Top-level section: chunks never cross it. */
  readonly section: string;
  /** The header row of a table that this unit is the first line of. */
  readonly tableHead: boolean;
  /** For a table's other rows: its header row, repeated when a chunk starts here (dropped when too long to repeat). */
  tableHeader: string | null;
  tokens: number;
}

interface Draft {
  units: Unit[];
  /** How many of the first units repeat the previous chunk's end. */
  overlap: number;
}

/** Enough rounds for any document: each round halves what is too long. */
const MAX_ROUNDS = 64;

export async function chunkDocument(blocks: readonly ExtractedBlock[], options: ChunkOptions): Promise<Chunk[]> {
  const { maxTokens, countTokens } = options;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new RangeError(`maxTokens must be a positive integer, got ${maxTokens}`);
  const overlapTokens = Math.max(0, Math.min(options.overlapTokens, Math.floor(maxTokens / 2)));
  const text = fullText(blocks);

  let units = splitBlocks(blocks);
  if (units.length === 0) return [];

  // One call for every unit and every prefix (heading, table header) that may be prepended.
  let prefixes = [...new Set(units.map(prefixText).filter((prefix) => prefix !== ''))];
  const firstCounts = await count(countTokens, [...units.map((unit) => text.slice(unit.start, unit.end)), ...prefixes]);
  units.forEach((unit, index) => (unit.tokens = firstCounts[index] ?? 0));
  const prefixTokens = new Map(prefixes.map((prefix, index) => [prefix, firstCounts[units.length + index] ?? 0]));
  // A header row too long to repeat (a very wide sheet) would leave no room for the rows.
  const tooLong = units.filter((unit) => unit.tableHeader !== null && (prefixTokens.get(prefixText(unit)) ?? 0) > maxTokens / 2);
  for (const unit of tooLong) unit.tableHeader = null;
  prefixes = [...new Set(units.map(prefixText).filter((prefix) => prefix !== '' && !prefixTokens.has(prefix)))];
  (await count(countTokens, prefixes)).forEach((tokens, index) => prefixTokens.set(prefixes[index] as string, tokens));
  const bodyBudget = (unit: Unit) => Math.max(1, maxTokens - (prefixTokens.get(prefixText(unit)) ?? 0));

  units = await splitOversized(units, text, countTokens, bodyBudget);

  let drafts = pack(units, maxTokens, overlapTokens, prefixTokens);
  let counts = await count(
    countTokens,
    drafts.map((draft) => render(draft, text)),
  );
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const over = drafts.map((_, index) => index).filter((index) => (counts[index] ?? 0) > maxTokens);
    if (over.length === 0) break;
    const replaced = new Map<number, Draft[]>();
    for (const index of over) replaced.set(index, shrink(drafts[index] as Draft, text));
    const next: Draft[] = [];
    const nextCounts: (number | null)[] = [];
    drafts.forEach((draft, index) => {
      const parts = replaced.get(index);
      if (parts === undefined) {
        next.push(draft);
        nextCounts.push(counts[index] ?? 0);
      } else {
        for (const part of parts) {
          next.push(part);
          nextCounts.push(null);
        }
      }
    });
    const pending = nextCounts.flatMap((value, index) => (value === null ? [index] : []));
    const recount = await count(
      countTokens,
      pending.map((index) => render(next[index] as Draft, text)),
    );
    pending.forEach((index, position) => (nextCounts[index] = recount[position] ?? 0));
    drafts = next;
    counts = nextCounts as number[];
  }

  const chunks: Chunk[] = [];
  drafts.forEach((draft, index) => {
    const first = draft.units[0] as Unit;
    const last = draft.units.at(-1) as Unit;
    // Dropping an overlap can leave a chunk that the next one starts with in full: it adds nothing.
    if (drafts[index + 1]?.units[0] === first) return;
    chunks.push({
      ordinal: chunks.length,
      text: render(draft, text),
      page: first.page,
      headingPath: first.headingPath,
      start: first.start,
      end: last.end,
      tokens: counts[index] ?? 0,
    });
  });
  return chunks;
}

async function count(countTokens: TokenCounter, texts: readonly string[]): Promise<number[]> {
  if (texts.length === 0) return [];
  const counts = await countTokens(texts);
  if (counts.length !== texts.length) throw new Error(`The token counter returned ${counts.length} counts for ${texts.length} texts.`);
  return counts;
}

function nearestHeading(path: readonly string[]): string {
  return (path.at(-1) ?? '').trim();
}

/** What a chunk starting with this unit repeats before its body: the nearest heading, then the table's header row. */
function prefixText(unit: Unit): string {
  if (unit.heading) return '';
  const heading = nearestHeading(unit.headingPath);
  return (heading === '' ? '' : heading + PREFIX_SEPARATOR) + (unit.tableHeader === null ? '' : unit.tableHeader + '\n');
}

function prefixOf(draft: Draft): string {
  const first = draft.units[0];
  return first === undefined ? '' : prefixText(first);
}

function render(draft: Draft, text: string): string {
  const first = draft.units[0] as Unit;
  const last = draft.units.at(-1) as Unit;
  return prefixOf(draft) + text.slice(first.start, last.end);
}

// ── units ────────────────────────────────────────────────────────────────────

function splitBlocks(blocks: readonly ExtractedBlock[]): Unit[] {
  const units: Unit[] = [];
  let offset = 0;
  for (const block of blocks) {
    const base = { page: block.page, headingPath: block.headingPath, heading: block.kind === 'heading', section: block.headingPath[0] ?? '', tokens: 0 };
    const pieces =
      block.kind === 'heading' ? [[0, block.text.length] as const] : block.kind === 'paragraph' ? sentenceSpans(block.text) : lineSpans(block.text);
    // A table block's first line is its header row when it is written as a table (common/table-text.ts).
    let header: string | null = null;
    for (const [start, end] of pieces) {
      const trimmed = trimSpan(block.text, start, end);
      if (trimmed === null) continue;
      const line = block.text.slice(trimmed[0], trimmed[1]);
      const table = block.kind === 'table' && isTableLine(line);
      const tableHead = table && header === null;
      units.push({ ...base, start: offset + trimmed[0], end: offset + trimmed[1], tableHead, tableHeader: table && !tableHead ? header : null });
      if (tableHead) header = line;
    }
    offset += block.text.length + BLOCK_SEPARATOR.length;
  }
  return units;
}

/** Ends after terminal punctuation (and closing quotes or brackets) followed by whitespace. */
const SENTENCE_END = /[.!?。！？…]+["'”’)\]]*\s+/gu;

export function sentenceSpans(text: string): [number, number][] {
  const spans: [number, number][] = [];
  let start = 0;
  for (const match of text.matchAll(SENTENCE_END)) {
    const end = match.index + match[0].length;
    spans.push([start, end]);
    start = end;
  }
  if (start < text.length) spans.push([start, text.length]);
  return spans;
}

function lineSpans(text: string): [number, number][] {
  const spans: [number, number][] = [];
  let start = 0;
  for (const match of text.matchAll(/\n/gu)) {
    spans.push([start, match.index]);
    start = match.index + 1;
  }
  spans.push([start, text.length]);
  return spans;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function trimSpan(text: string, start: number, end: number): [number, number] | null {
  while (start < end && /\s/u.test(text[start] as string)) start++;
  while (end > start && /\s/u.test(text[end - 1] as string)) end--;
  return start < end ? [start, end] : null;
}

/** Splits every unit over its budget at word boundaries (characters for a giant word), one counting call per round. */
async function splitOversized(units: Unit[], text: string, countTokens: TokenCounter, budget: (unit: Unit) => number): Promise<Unit[]> {
  let current = units;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (!current.some((unit) => unit.tokens > budget(unit))) return current;
    const next: Unit[] = [];
    const fresh: Unit[] = [];
    for (const unit of current) {
      if (unit.tokens <= budget(unit) || unit.end - unit.start < 2) {
        next.push(unit);
        continue;
      }
      // Aim below the budget so that most pieces fit after one round.
      const parts = Math.max(2, Math.ceil((unit.tokens / budget(unit)) * 1.25));
      for (const [start, end] of splitSpan(text, unit.start, unit.end, parts)) {
        const piece = { ...unit, start, end, tokens: 0 };
        next.push(piece);
        fresh.push(piece);
      }
    }
    const counts = await count(
      countTokens,
      fresh.map((unit) => text.slice(unit.start, unit.end)),
    );
    fresh.forEach((unit, index) => (unit.tokens = counts[index] ?? 0));
    current = next;
  }
  return current;
}

/** Cuts [start, end) into about `parts` pieces of similar length, at whitespace when there is any. */
function splitSpan(text: string, start: number, end: number, parts: number): [number, number][] {
  const words = [...text.slice(start, end).matchAll(/\S+/gu)].map((match) => [start + match.index, start + match.index + match[0].length] as [number, number]);
  if (words.length >= 2) {
    const target = (end - start) / Math.min(parts, words.length);
    const spans: [number, number][] = [];
    let spanStart = (words[0] as [number, number])[0];
    for (let index = 0; index < words.length; index++) {
      const [, wordEnd] = words[index] as [number, number];
      const next = words[index + 1];
      if (next === undefined) spans.push([spanStart, wordEnd]);
      else if (wordEnd - spanStart >= target) {
        spans.push([spanStart, wordEnd]);
        spanStart = next[0];
      }
    }
    if (spans.length >= 2) return spans;
    const middle = Math.floor(words.length / 2);
    return [
      [(words[0] as [number, number])[0], (words[middle - 1] as [number, number])[1]],
      [(words[middle] as [number, number])[0], (words.at(-1) as [number, number])[1]],
    ];
  }
  const spans: [number, number][] = [];
  const size = Math.max(1, Math.ceil((end - start) / parts));
  let at = start;
  while (at < end) {
    let cut = Math.min(end, at + size);
    // Never cut a surrogate pair in half.
    if (cut < end && isHighSurrogate(text.charCodeAt(cut - 1))) cut++;
    spans.push([at, cut]);
    at = cut;
  }
  return spans;
}

// ── packing ──────────────────────────────────────────────────────────────────

function pack(units: readonly Unit[], maxTokens: number, overlapTokens: number, prefixTokens: ReadonlyMap<string, number>): Draft[] {
  const drafts: Draft[] = [];
  let current: Unit[] = [];
  let overlap = 0;
  let tokens = 0;
  const prefixFor = (first: Unit) => prefixTokens.get(prefixText(first)) ?? 0;

  const flush = () => {
    if (current.length > overlap) drafts.push({ units: current, overlap });
    current = [];
    overlap = 0;
    tokens = 0;
  };

  for (const unit of units) {
    const previous = current.at(-1);
    const hardBreak = previous !== undefined && (previous.section !== unit.section || previous.page !== unit.page);
    if (hardBreak) flush();
    else if (previous !== undefined && tokens + unit.tokens > maxTokens) {
      // A heading (or a table's header row) belongs with what follows it: move it into the next chunk.
      let keep = current.length;
      while (keep > overlap + 1 && ((current[keep - 1] as Unit).heading || (current[keep - 1] as Unit).tableHead)) keep--;
      const moved = current.slice(keep);
      const done = current.slice(0, keep);
      const carried = moved.length > 0 ? [] : overlapUnits(done, overlap, unit, overlapTokens);
      current = done;
      flush();
      current = [...carried, ...moved];
      overlap = carried.length;
      tokens = current.length === 0 ? 0 : prefixFor(current[0] as Unit) + sum(current);
      // Overlap only ever helps; drop it when it would leave no room for the next unit.
      if (overlap > 0 && tokens + unit.tokens > maxTokens) {
        current = [];
        overlap = 0;
        tokens = 0;
      }
    }
    if (current.length === 0) tokens = prefixFor(unit);
    current.push(unit);
    tokens += unit.tokens;
  }
  flush();
  return drafts;
}

function sum(units: readonly Unit[]): number {
  return units.reduce((total, unit) => total + unit.tokens, 0);
}

/** The last non-heading units of `done` in `next`'s section and page, up to `budget` tokens. */
function overlapUnits(done: readonly Unit[], alreadyOverlap: number, next: Unit, budget: number): Unit[] {
  const carried: Unit[] = [];
  let tokens = 0;
  // Never the chunk's first unit: the next chunk would then contain the whole previous one.
  for (let index = done.length - 1; index >= Math.max(alreadyOverlap, 1); index--) {
    const unit = done[index] as Unit;
    // Rows are not repeated: a chunk's rows are the range its citation names.
    if (unit.heading || unit.tableHead || unit.tableHeader !== null || unit.page !== next.page || !samePath(unit.headingPath, next.headingPath)) break;
    if (tokens + unit.tokens > budget) break;
    tokens += unit.tokens;
    carried.unshift(unit);
  }
  return carried;
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

/**
 * Makes an over-long chunk smaller: drop its overlap, else split it in two, else split its
 * only unit. The pieces are counted with the next verification batch.
 */
function shrink(draft: Draft, text: string): Draft[] {
  if (draft.overlap > 0) return [{ units: draft.units.slice(draft.overlap), overlap: 0 }];
  if (draft.units.length > 1) {
    const middle = Math.ceil(draft.units.length / 2);
    return [
      { units: draft.units.slice(0, middle), overlap: 0 },
      { units: draft.units.slice(middle), overlap: 0 },
    ];
  }
  const unit = draft.units[0] as Unit;
  if (unit.end - unit.start < 2) return [draft];
  return splitSpan(text, unit.start, unit.end, 2).map((span) => ({ units: [{ ...unit, start: span[0], end: span[1], tokens: 0 }], overlap: 0 }));
}
