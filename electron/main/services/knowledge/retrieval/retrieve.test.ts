import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { budgetPassages, findTerms, reciprocalRankFusion, retrieve, snippet } from './retrieve.ts';
import { ingestSynthetic, knowledgeFixture, seededVector, type KnowledgeFixture } from '../../../../test-support/knowledge-test-helpers.ts';

describe('reciprocalRankFusion', () => {
  it('adds 1/(k+rank) per list and sorts by the sum, ties in order of first appearance', () => {
    const fused = reciprocalRankFusion([
      ['a', 'b', 'c'],
      ['c', 'a', 'd'],
    ]);
    expect(fused.map((entry) => entry.id)).toEqual(['a', 'c', 'b', 'd']);
    expect(fused[0]?.score).toBeCloseTo(1 / 61 + 1 / 62, 12);
    expect(fused[2]?.score).toBeCloseTo(1 / 62, 12);
    expect(reciprocalRankFusion([['x'], ['y']]).map((entry) => entry.id)).toEqual(['x', 'y']);
    expect(reciprocalRankFusion([['x', 'x', 'y']], 1)).toEqual([
      { id: 'x', score: 1 / 2 },
      { id: 'y', score: 1 / 4 },
    ]);
    expect(reciprocalRankFusion([])).toEqual([]);
  });

  it('never ranks an id lower for appearing in more lists (property)', () => {
    const ids = Array.from({ length: 20 }, (_, index) => `id${index}`);
    for (let seed = 0; seed < 50; seed++) {
      const shuffle = (offset: number) => [...ids].sort((a, b) => ((a.charCodeAt(2) * (seed + offset)) % 7) - ((b.charCodeAt(2) * (seed + offset)) % 7));
      const one = shuffle(1);
      const fused = reciprocalRankFusion([one, shuffle(2)]);
      expect(fused).toHaveLength(20);
      const scores = fused.map((entry) => entry.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      const single = reciprocalRankFusion([one]);
      for (const entry of single) expect(fused.find((candidate) => candidate.id === entry.id)?.score).toBeGreaterThan(entry.score);
    }
  });
});

describe('snippets and budgets', () => {
  it('highlights whole words, without regard to case or accents', () => {
    const text = 'The Café sells cats; a catalog of CAFE items. Cafe!';
    const result = snippet(text, ['cafe', 'cat']);
    expect(result.text).toBe(text);
    expect(result.highlights.map(([start, end]) => result.text.slice(start, end))).toEqual(['Café', 'CAFE', 'Cafe']);
    expect(findTerms('cat cats cat.', ['cat'])).toEqual([
      [0, 3],
      [9, 12],
    ]);
  });

  it('cuts a window around the densest matches of a long text, at word boundaries', () => {
    const filler = Array.from({ length: 200 }, (_, index) => `word${index}`).join(' ');
    const text = `${filler} the needle and another needle here ${filler}`;
    const result = snippet(text, ['needle'], 120);
    expect(result.text.startsWith('…') && result.text.endsWith('…')).toBe(true);
    expect(result.text.length).toBeLessThanOrEqual(122);
    expect(result.highlights).toHaveLength(2);
    for (const [start, end] of result.highlights) expect(result.text.slice(start, end)).toBe('needle');
    expect(result.text.slice(1, -1)).toMatch(/^\S.*\S$/u);
    expect(text.includes(result.text.slice(1, -1))).toBe(true);
  });

  it('keeps passages in order while they fit', () => {
    const passages = [{ text: 'a' }, { text: 'bb' }, { text: 'c' }];
    expect(budgetPassages(passages, 3, (passage) => passage.text.length)).toEqual([{ text: 'a' }, { text: 'bb' }]);
    expect(budgetPassages(passages, 2, (passage) => passage.text.length)).toEqual([{ text: 'a' }]);
    expect(budgetPassages(passages, 0)).toEqual([]);
  });
});

describe('retrieve', () => {
  let fx: KnowledgeFixture;
  let collectionId: string;
  const key = 'b'.repeat(64);

  beforeEach(async () => {
    fx = await knowledgeFixture();
    collectionId = fx.store.createCollection({ name: 'Docs', embeddingModelId: 'm', embeddingKey: key, dimensions: 16 }).id;
  });
  afterEach(async () => {
    await fx.close();
  });

  it('fuses vector and text hits and joins SQLite for citations', async () => {
    const first = await ingestSynthetic(fx, collectionId, 'first.txt', 10, 1);
    await ingestSynthetic(fx, collectionId, 'second.txt', 10, 2);
    // A passage only the text search can find.
    const special = fx.store.addDocument({
      collectionId,
      name: 'special.txt',
      sourcePath: '/src/special.txt',
      storedPath: null,
      format: 'text',
      bytes: 1,
      sha256: '0'.repeat(64),
    });
    const [specialChunk] = fx.store.replaceChunks(
      special.id,
      [{ ordinal: 0, text: 'Methods\n\nThe Quokka survey was on page five.', page: 5, headingPath: ['Methods'], start: 0, end: 36, tokens: 9 }],
      5,
    );
    fx.store.setVectors([{ chunkId: specialChunk as string, vector: seededVector(77, 16) }], { documentId: special.id });
    await fx.index.add(key, 16, fx.store.indexRows([special.id]));
    fx.store.setStatus(special.id, 'indexed');

    // The query vector is exactly the vector of first.txt's chunk 3.
    const target = fx.store.chunksForDocument(first)[3];
    const vector = seededVector(1 * 10_000 + 3, 16);
    const result = await retrieve({ index: fx.index, store: fx.store, key, query: 'quokka', vector, collectionIds: [collectionId], limit: 5, candidates: 10 });
    expect(result.mode).toBe('hybrid');
    expect(result.passages).toHaveLength(5);
    const top = result.passages.find((passage) => passage.chunkId === target?.id);
    expect(top?.ranks.vector).toBe(1);
    const quokka = result.passages.find((passage) => passage.chunkId === specialChunk);
    expect(quokka).toMatchObject({ documentName: 'special.txt', page: 5, headingPath: ['Methods'], start: 0, end: 36, ranks: { text: 1, rerank: null } });
    expect(quokka?.snippet.highlights.map(([start, end]) => quokka.snippet.text.slice(start, end))).toEqual(['Quokka']);
    // Those two lead: each is first in one list.
    expect(
      result.passages
        .slice(0, 2)
        .map((passage) => passage.chunkId)
        .sort(),
    ).toEqual([target?.id, specialChunk].sort());
  });

  it('searches by text only without a vector, by vector only without words', async () => {
    await ingestSynthetic(fx, collectionId, 'a.txt', 8, 3);
    const text = await retrieve({ index: fx.index, store: fx.store, key, query: 'river ledger', vector: null, collectionIds: [collectionId], limit: 4 });
    expect(text.mode).toBe('text');
    expect(text.passages.length).toBeGreaterThan(0);
    expect(text.passages.every((passage) => passage.ranks.vector === null && passage.ranks.text !== null)).toBe(true);

    const vector = await retrieve({
      index: fx.index,
      store: fx.store,
      key,
      query: '  ?! ',
      vector: seededVector(5, 16),
      collectionIds: [collectionId],
      limit: 4,
    });
    expect(vector.mode).toBe('vector');
    expect(vector.passages).toHaveLength(4);
    expect(vector.passages.every((passage) => passage.ranks.text === null)).toBe(true);
    expect(vector.passages.every((passage) => passage.snippet.highlights.length === 0)).toBe(true);
  });

  it('lets a reranker reorder the candidates, and drops rows SQLite no longer has', async () => {
    const documentId = await ingestSynthetic(fx, collectionId, 'a.txt', 8, 4);
    // LanceDB rows of a document deleted from SQLite before the index caught up.
    await fx.index.add(key, 16, [{ chunkId: 'ghost', documentId: 'gone', collectionId, text: 'river river river river', vector: seededVector(6, 16) }]);
    const reranked = await retrieve({
      index: fx.index,
      store: fx.store,
      key,
      query: 'river',
      vector: seededVector(6, 16),
      collectionIds: [collectionId],
      limit: 8,
      rerank: (_query, texts) => Promise.resolve(texts.map((text) => text.length)),
    });
    expect(reranked.passages.some((passage) => passage.chunkId === 'ghost')).toBe(false);
    expect(reranked.passages.every((passage) => passage.documentId === documentId)).toBe(true);
    const lengths = reranked.passages.map((passage) => passage.text.length);
    expect(lengths).toEqual([...lengths].sort((a, b) => b - a));
    expect(reranked.passages.map((passage) => passage.ranks.rerank)).toEqual(reranked.passages.map((_, index) => index + 1));
  });
});
