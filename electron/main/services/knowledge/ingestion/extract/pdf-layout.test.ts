import { describe, expect, it } from 'vitest';
import { linesOf, paragraphsOf, type TextRun } from './pdf-layout.ts';

const run = (str: string, x: number, y: number, width: number, hasEOL = false, size = 10): TextRun => ({
  str,
  transform: [size, 0, 0, size, x, y],
  width,
  height: size,
  hasEOL,
});

describe('PDF layout', () => {
  it('adds a space where runs are apart and none where they touch', () => {
    const lines = linesOf([run('Hel', 0, 700, 15), run('lo', 15, 700, 10), run('world', 30, 700, 25)]);
    expect(lines.map((l) => l.text)).toEqual(['Hello world']);
  });

  it('breaks lines on end-of-line marks and baseline jumps, and undoes hyphenation', () => {
    const lines = linesOf([run('an inter-', 0, 700, 40, true), run('national port', 0, 688, 60), run('next', 0, 676, 20)]);
    expect(lines.map((l) => l.text)).toEqual(['an inter-', 'national port', 'next']);
    expect(paragraphsOf(lines).map((p) => p.text)).toEqual(['an international port next']);
  });

  it('starts a paragraph at a wide gap or a size change', () => {
    const lines = linesOf([
      run('Title', 0, 760, 50, true, 18),
      run('body one', 0, 730, 200, true),
      run('body two', 0, 718, 200, true),
      run('new para', 0, 690, 200),
    ]);
    expect(paragraphsOf(lines).map((p) => p.text)).toEqual(['Title', 'body one body two', 'new para']);
  });
});
