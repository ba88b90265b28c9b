import { describe, expect, it } from 'vitest';
import { contentTerms, coverage, FUSION_WEIGHTS, fuseLists, phraseShare, termWeights, wordsOf } from './fusion.ts';

describe('contentTerms', () => {
  it('drops English and Spanish stop words, folds accents and plurals', () => {
    expect(contentTerms('How many days of annual leave do the employees get?')).toEqual(['day', 'annual', 'leave', 'employee']);
    expect(contentTerms('¿Dónde está el punto de reunión?')).toEqual(['punto', 'reunion']);
    expect(contentTerms('what is the')).toEqual([]);
  });
});

describe('termWeights and coverage', () => {
  it('counts a word few candidates hold more than one most hold', () => {
    const candidates = [new Set(['leave', 'annual']), new Set(['leave']), new Set(['leave', 'boat'])];
    const weights = termWeights(['leave', 'annual'], candidates);
    expect(weights.get('annual')!).toBeGreaterThan(weights.get('leave')!);
    expect(coverage(candidates[0]!, weights)).toBe(1);
    expect(coverage(candidates[1]!, weights)).toBeLessThan(0.5);
    expect(coverage(new Set(), weights)).toBe(0);
  });
});

describe('phraseShare', () => {
  const words = (text: string) => wordsOf(text);
  it('is the longest in-order run of the query words, as a share of the query', () => {
    expect(phraseShare(words('the derivative works thereof'), words('any Derivative Works thereof, you may'))).toBeCloseTo(3 / 4);
    expect(phraseShare(words('works derivative'), words('derivative works'))).toBe(0);
  });
  it('ignores runs of stop words alone and single words', () => {
    expect(phraseShare(words('what is the fee'), words('what is the answer'))).toBe(0);
    expect(phraseShare(words('fee'), words('fee'))).toBe(0);
  });
});

describe('fuseLists', () => {
  const texts = new Map([
    ['exact', 'You may add Your own copyright statement to Your modifications.'],
    ['counts', 'Your own modifications, your own copyright, your own statement: you may add notices.'],
    ['meaning', 'Staff accrue vacation days every year.'],
    ['noise', 'What is the status of the boat?'],
  ]);

  it('ranks the passage holding a pasted sentence first, even when the words rank another first', () => {
    const fused = fuseLists('You may add Your own copyright statement', ['counts', 'exact'], ['meaning', 'counts', 'exact'], texts);
    expect(fused[0]!.id).toBe('exact');
  });

  it('lets the vector list speak alone when the text list matched only stop words', () => {
    const fused = fuseLists('What is the annual leave?', ['noise'], ['meaning', 'noise'], texts);
    expect(fused.map((entry) => entry.id)).toEqual(['meaning', 'noise']);
    // The same lists with plain reciprocal rank fusion put the noise first.
    const plain = fuseLists('What is the annual leave?', ['noise'], ['meaning', 'noise'], texts, {
      ...FUSION_WEIGHTS,
      vector: 1,
      gate: 0,
      power: 0,
      coverage: 0,
      phrase: 0,
    });
    expect(plain[0]!.id).toBe('noise');
  });

  it('keeps the text list first for a plain question the words answer', () => {
    const fused = fuseLists('staff vacation days', ['meaning'], ['noise', 'counts', 'meaning'], texts);
    expect(fused[0]!.id).toBe('meaning');
  });

  it('drops ids without text and is deterministic on ties', () => {
    const fused = fuseLists('boat', ['gone', 'noise'], [], texts);
    expect(fused.map((entry) => entry.id)).toEqual(['noise']);
    expect(fuseLists('', ['noise', 'meaning'], [], texts).map((entry) => entry.id)).toEqual(['noise', 'meaning']);
  });
});
