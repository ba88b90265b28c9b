import { describe, expect, it } from 'vitest';
import { createDropTokens } from './files.ts';

describe('createDropTokens', () => {
  it('gives each drop its own token, so a second drop does not replace the first', () => {
    const drops = createDropTokens();
    const first = drops.add(['/a/one.gguf']);
    const second = drops.add(['/b/two.gguf', '/b/three.gguf']);
    expect(first).not.toBe(second);
    expect(drops.take(second)).toEqual(['/b/two.gguf', '/b/three.gguf']);
    expect(drops.take(first)).toEqual(['/a/one.gguf']);
  });

  it('hands a drop out once: a used, unknown or empty token finds nothing', () => {
    const drops = createDropTokens();
    const token = drops.add(['/a/one.gguf']);
    expect(drops.take(token)).toEqual(['/a/one.gguf']);
    expect(drops.take(token)).toEqual([]);
    expect(drops.take('not-a-token-at-all')).toEqual([]);
    expect(drops.take('')).toEqual([]);
  });

  it('forgets the oldest drops nobody used', () => {
    const drops = createDropTokens();
    const oldest = drops.add(['/old']);
    const tokens = Array.from({ length: 16 }, (_, index) => drops.add([`/new/${index}`]));
    expect(drops.take(oldest)).toEqual([]);
    expect(drops.take(tokens[0]!)).toEqual(['/new/0']);
    expect(drops.take(tokens[15]!)).toEqual(['/new/15']);
  });

  it('keeps its own copy of the paths', () => {
    const drops = createDropTokens();
    const paths = ['/a'];
    const token = drops.add(paths);
    paths.push('/b');
    expect(drops.take(token)).toEqual(['/a']);
  });
});
