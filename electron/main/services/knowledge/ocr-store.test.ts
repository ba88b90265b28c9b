import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { knowledgeFixture, type KnowledgeFixture } from '../../../test-support/knowledge-test-helpers.ts';
import { withScanConfidence } from './ingestion/scan-chunks.ts';
import { FTS_ONLY_KEY } from './store.ts';
import type { Chunk, ExtractedBlock } from './types.ts';

let fx: KnowledgeFixture;
beforeEach(async () => {
  fx = await knowledgeFixture();
});
afterEach(async () => {
  await fx.close();
});

const block = (text: string, page: number, ocrConfidence?: number): ExtractedBlock => ({
  kind: 'paragraph',
  text,
  page,
  headingPath: [],
  ...(ocrConfidence === undefined ? {} : { ocrConfidence }),
});
const chunk = (ordinal: number, start: number, end: number): Chunk => ({ ordinal, text: 'x', page: 1, headingPath: [], start, end, tokens: 1 });

describe('passages from scans', () => {
  it('marks only the chunks that cover OCR blocks, with the lowest confidence among them', () => {
    // "Typed intro" [0, 11), then two OCR blocks at [13, 23) and [25, 35).
    const blocks = [block('Typed intro', 1), block('Scanned on', 2, 91.5), block('Second one', 2, 78)];
    const marked = withScanConfidence([chunk(0, 0, 11), chunk(1, 13, 35), chunk(2, 20, 24)], blocks);
    expect(marked.map((c) => c.ocrConfidence)).toEqual([undefined, 78, 91.5]);
    expect(withScanConfidence([chunk(0, 0, 11)], [block('Typed intro', 1)])[0]).not.toHaveProperty('ocrConfidence');
  });

  it('keeps each chunk’s confidence and each page’s word boxes, and drops them with the document', () => {
    const collection = fx.store.createCollection({ name: 'Scans', embeddingModelId: null, embeddingKey: FTS_ONLY_KEY, dimensions: null });
    const document = fx.store.addDocument({
      collectionId: collection.id,
      name: 'letter.png',
      sourcePath: '/x/letter.png',
      storedPath: '/data/letter.png',
      format: 'png',
      bytes: 10,
      sha256: 'f'.repeat(64),
    });
    fx.store.replaceChunks(document.id, [{ ...chunk(0, 0, 10), ocrConfidence: 88.4 }, chunk(1, 12, 20)], 1);
    expect(fx.store.chunksForDocument(document.id).map((c) => c.ocrConfidence)).toEqual([88.4, undefined]);
    const words = [{ text: 'budget', box: [10, 20, 30, 12] as const, confidence: 96.1 }];
    fx.store.replaceOcrPages(document.id, [{ page: 1, width: 1240, height: 1754, words }]);
    expect(fx.store.ocrPage(document.id, 1)).toEqual({
      page: 1,
      width: 1240,
      height: 1754,
      words: [{ text: 'budget', box: [10, 20, 30, 12], confidence: 96.1 }],
    });
    expect(fx.store.ocrPage(document.id, 2)).toBeNull();
    fx.store.deleteDocument(document.id);
    expect(fx.store.ocrPage(document.id, 1)).toBeNull();
  });

  it('keeps the languages a collection’s scans are read in: both by default, one when chosen, never none', () => {
    const collection = fx.store.createCollection({ name: 'Cartas', embeddingModelId: null, embeddingKey: FTS_ONLY_KEY, dimensions: null });
    expect(collection.ocrLanguages).toEqual(['eng', 'spa']);
    expect(fx.store.setOcrLanguages(collection.id, ['spa']).ocrLanguages).toEqual(['spa']);
    expect(fx.store.collection(collection.id).ocrLanguages).toEqual(['spa']);
    expect(fx.store.setOcrLanguages(collection.id, ['spa', 'eng']).ocrLanguages).toEqual(['eng', 'spa']);
    expect(() => fx.store.setOcrLanguages(collection.id, [])).toThrow(/at least one language/);
  });
});
