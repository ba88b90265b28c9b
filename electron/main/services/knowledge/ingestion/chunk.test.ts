import { describe, expect, it } from 'vitest';
import { chunkBody, chunkDocument, estimateTokenCounter, estimateTokens, fullText, sentenceSpans } from './chunk.ts';
import { seededRandom } from '../../../../test-support/knowledge-test-helpers.ts';
import type { Chunk, ExtractedBlock, TokenCounter } from '../types.ts';

/** Counts words plus punctuation marks: not additive over concatenation, like a real tokenizer. */
const wordCounter: TokenCounter = (texts) => Promise.resolve(texts.map((text) => (text.match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? []).length));

/** A counter that is deliberately super-additive: joining two texts costs more than their sum. */
const charCounter: TokenCounter = (texts) => Promise.resolve(texts.map((text) => Math.ceil(text.length / 3) + (text.match(/\n/gu)?.length ?? 0)));

function spy(counter: TokenCounter): { counter: TokenCounter; calls: () => number } {
  let calls = 0;
  return {
    counter: (texts) => {
      calls++;
      return counter(texts);
    },
    calls: () => calls,
  };
}

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'river', 'mountain', 'ledger', 'contract', 'clause', 'payment', 'zürich', 'año', 'data', 'report', 'x'];

function randomDocument(random: () => number, paged: boolean): ExtractedBlock[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const sentence = () => {
    const length = 1 + Math.floor(random() * (random() < 0.05 ? 400 : 25));
    const words = Array.from({ length }, () => pick(WORDS));
    return words.join(' ') + pick(['.', '!', '?', '.']);
  };
  const blocks: ExtractedBlock[] = [];
  let page = 1;
  let path: string[] = [];
  const count = 5 + Math.floor(random() * 40);
  for (let index = 0; index < count; index++) {
    if (paged && random() < 0.15) page++;
    const roll = random();
    if (roll < 0.15) {
      const level = random() < 0.5 ? 1 : 2;
      const title = `${level === 1 ? 'Chapter' : 'Section'} ${index}`;
      path = level === 1 ? [title] : [path[0] ?? 'Intro', title];
      blocks.push({ kind: 'heading', text: title, page: paged ? page : null, headingPath: path, level });
    } else if (roll < 0.25) {
      const items = Array.from({ length: 1 + Math.floor(random() * 8) }, () => `- ${sentence()}`);
      blocks.push({ kind: 'list', text: items.join('\n'), page: paged ? page : null, headingPath: path });
    } else if (roll < 0.28) {
      blocks.push({ kind: 'paragraph', text: 'x'.repeat(Math.floor(random() * 3000)), page: paged ? page : null, headingPath: path });
    } else {
      const sentences = Array.from({ length: 1 + Math.floor(random() * 12) }, sentence);
      blocks.push({ kind: 'paragraph', text: sentences.join(' '), page: paged ? page : null, headingPath: path });
    }
  }
  return blocks;
}

/** The page each character of the full text is on. */
function pageAt(blocks: readonly ExtractedBlock[], offset: number): number | null {
  let at = 0;
  for (const block of blocks) {
    if (offset < at + block.text.length + 2) return block.page;
    at += block.text.length + 2;
  }
  return null;
}

async function checkInvariants(blocks: readonly ExtractedBlock[], chunks: readonly Chunk[], counter: TokenCounter, maxTokens: number): Promise<void> {
  const text = fullText(blocks);
  const counts = await counter(chunks.map((chunk) => chunk.text));
  chunks.forEach((chunk, index) => {
    expect(chunk.ordinal).toBe(index);
    expect(counts[index]).toBeLessThanOrEqual(maxTokens);
    expect(chunk.tokens).toBe(counts[index]);
    expect(chunk.start).toBeLessThan(chunk.end);
    expect(chunkBody(chunk)).toBe(text.slice(chunk.start, chunk.end));
    expect(chunk.text.endsWith(text.slice(chunk.start, chunk.end))).toBe(true);
    expect(chunk.page).toBe(pageAt(blocks, chunk.start));
    // Never straddles pages.
    expect(pageAt(blocks, chunk.end - 1)).toBe(chunk.page);
  });
  const covered = new Uint8Array(text.length);
  for (const chunk of chunks) covered.fill(1, chunk.start, chunk.end);
  const uncovered = text.split('').findIndex((character, index) => covered[index] === 0 && !/\s/u.test(character));
  expect(uncovered, 'a character in no chunk').toBe(-1);
  // Chunks come in document order.
  for (let index = 1; index < chunks.length; index++)
    expect((chunks[index] as Chunk).start, JSON.stringify([chunks[index - 1], chunks[index]])).toBeGreaterThan((chunks[index - 1] as Chunk).start);
}

describe('chunkDocument', () => {
  it('keeps every chunk within the budget, covers all text, slices the full text and respects pages (random documents)', async () => {
    const random = seededRandom(42);
    for (let run = 0; run < 60; run++) {
      const paged = run % 2 === 0;
      const blocks = randomDocument(random, paged);
      const counter = run % 3 === 0 ? charCounter : wordCounter;
      const maxTokens = [16, 64, 200, 512][run % 4] as number;
      const counting = spy(counter);
      const chunks = await chunkDocument(blocks, { maxTokens, overlapTokens: Math.floor(maxTokens / 8), countTokens: counting.counter });
      await checkInvariants(blocks, chunks, counter, maxTokens);
      // Batched: a few calls per document, never one per sentence.
      expect(counting.calls()).toBeLessThanOrEqual(16);
    }
  });

  it('packs paragraphs together, breaks at top-level headings and prepends the nearest heading', async () => {
    const blocks: ExtractedBlock[] = [
      { kind: 'heading', text: 'Introduction', page: null, headingPath: ['Introduction'], level: 1 },
      { kind: 'paragraph', text: 'First paragraph here.', page: null, headingPath: ['Introduction'] },
      { kind: 'paragraph', text: 'Second paragraph here.', page: null, headingPath: ['Introduction'] },
      { kind: 'heading', text: 'Methods', page: null, headingPath: ['Methods'], level: 1 },
      { kind: 'paragraph', text: 'We measured things.', page: null, headingPath: ['Methods'] },
    ];
    const chunks = await chunkDocument(blocks, { maxTokens: 100, overlapTokens: 10, countTokens: wordCounter });
    expect(chunks.map((chunk) => chunk.text)).toEqual(['Introduction\n\nFirst paragraph here.\n\nSecond paragraph here.', 'Methods\n\nWe measured things.']);
    expect(chunks.map((chunk) => chunk.headingPath)).toEqual([['Introduction'], ['Methods']]);

    const small = await chunkDocument(blocks, { maxTokens: 8, overlapTokens: 0, countTokens: wordCounter });
    // A chunk that does not start with its heading gets it as context.
    expect(small.map((chunk) => chunk.text)).toContain('Introduction\n\nSecond paragraph here.');
    // A heading is never left alone at the end of a chunk.
    for (const chunk of small) expect(chunkBody(chunk).trim()).not.toMatch(/(Introduction|Methods)$/u);
  });

  it('splits a long paragraph at sentences and carries the last sentences over within a section', async () => {
    const sentences = Array.from({ length: 12 }, (_, index) => `Sentence number ${index} is here.`);
    const blocks: ExtractedBlock[] = [{ kind: 'paragraph', text: sentences.join(' '), page: null, headingPath: [] }];
    const chunks = await chunkDocument(blocks, { maxTokens: 20, overlapTokens: 6, countTokens: wordCounter });
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk.text).toMatch(/^Sentence number \d+ is here\.( Sentence number \d+ is here\.)*$/u);
    // Overlap: each chunk after the first starts with the previous chunk's last sentence.
    for (let index = 1; index < chunks.length; index++) {
      const previous = chunks[index - 1] as Chunk;
      const lastSentence = previous.text.match(/Sentence number \d+ is here\.$/u)?.[0];
      expect((chunks[index] as Chunk).text.startsWith(lastSentence ?? '?')).toBe(true);
    }
    await checkInvariants(blocks, chunks, wordCounter, 20);
  });

  it('does not overlap across a page change, and a chunk takes the page it starts on', async () => {
    const blocks: ExtractedBlock[] = [
      { kind: 'paragraph', text: 'One two three. Four five six.', page: 1, headingPath: [] },
      { kind: 'paragraph', text: 'Seven eight nine.', page: 2, headingPath: [] },
    ];
    const chunks = await chunkDocument(blocks, { maxTokens: 100, overlapTokens: 50, countTokens: wordCounter });
    expect(chunks.map((chunk) => [chunk.text, chunk.page])).toEqual([
      ['One two three. Four five six.', 1],
      ['Seven eight nine.', 2],
    ]);
  });

  it('splits a giant word by characters and handles empty documents', async () => {
    const blocks: ExtractedBlock[] = [{ kind: 'code', text: 'a'.repeat(1000), page: null, headingPath: [] }];
    const chunks = await chunkDocument(blocks, { maxTokens: 50, overlapTokens: 5, countTokens: charCounter });
    expect(chunks.map((chunk) => chunk.text).join('')).toBe('a'.repeat(1000));
    await checkInvariants(blocks, chunks, charCounter, 50);
    expect(await chunkDocument([], { maxTokens: 50, overlapTokens: 5, countTokens: charCounter })).toEqual([]);
    expect(
      await chunkDocument([{ kind: 'paragraph', text: '  \n ', page: 1, headingPath: [] }], { maxTokens: 50, overlapTokens: 5, countTokens: charCounter }),
    ).toEqual([]);
  });

  it('refuses a counter that returns the wrong number of counts', async () => {
    const blocks: ExtractedBlock[] = [{ kind: 'paragraph', text: 'Hello.', page: null, headingPath: [] }];
    await expect(chunkDocument(blocks, { maxTokens: 10, overlapTokens: 0, countTokens: () => Promise.resolve([]) })).rejects.toThrow(/counts/u);
  });
});

describe('helpers', () => {
  it('joins blocks with blank lines', () => {
    expect(
      fullText([
        { kind: 'heading', text: 'A', page: null, headingPath: ['A'] },
        { kind: 'paragraph', text: 'b', page: null, headingPath: ['A'] },
      ]),
    ).toBe('A\n\nb');
  });

  it('estimates tokens from characters and words', async () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('a')).toBe(2);
    expect(estimateTokens('one two three four')).toBe(6);
    expect(estimateTokens('x'.repeat(400))).toBe(100);
    expect(await estimateTokenCounter(['a b', ''])).toEqual([3, 0]);
  });

  it('finds sentence ends after punctuation and closing quotes', () => {
    const text = 'He said "Go." Then left! Why? Done';
    expect(sentenceSpans(text).map(([start, end]) => text.slice(start, end))).toEqual(['He said "Go." ', 'Then left! ', 'Why? ', 'Done']);
  });
});
