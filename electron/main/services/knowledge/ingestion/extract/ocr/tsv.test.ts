import { describe, expect, it } from 'vitest';
import { isSpeck, pageFromTsv } from './tsv.ts';

const row = (
  level: number,
  block: number,
  par: number,
  line: number,
  word: number,
  box: [number, number, number, number],
  conf: number,
  text: string,
): string => [level, 1, block, par, line, word, ...box, conf, text].join('\t');

describe('Tesseract TSV', () => {
  it('rebuilds paragraphs from lines, mends words hyphenated at a line end, and keeps word boxes', () => {
    const tsv = [
      'level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext',
      row(1, 0, 0, 0, 0, [0, 0, 1240, 1754], -1, ''),
      row(5, 1, 1, 1, 1, [10, 10, 50, 20], 96, 'The'),
      row(5, 1, 1, 1, 2, [70, 10, 90, 20], 90, 'docu-'),
      row(5, 1, 1, 2, 1, [10, 40, 80, 20], 94, 'ment'),
      row(5, 1, 1, 2, 2, [95, 40, 40, 20], 92, 'reads'),
      row(5, 1, 2, 1, 1, [10, 90, 60, 20], 80, 'Second'),
      row(5, 1, 2, 1, 2, [80, 90, 20, 20], 20, '~~'),
    ].join('\n');
    const page = pageFromTsv(tsv);
    expect(page).toMatchObject({ width: 1240, height: 1754 });
    expect(page.paragraphs).toEqual([
      { text: 'The document reads', confidence: 93 },
      { text: 'Second', confidence: 80 },
    ]);
    expect(page.words.map((w) => w.text)).toEqual(['The', 'docu-', 'ment', 'reads', 'Second']);
    expect(page.words[0]?.box).toEqual([10, 10, 50, 20]);
  });

  it('drops speckle read as words, and keeps short words and symbols read with confidence', () => {
    expect(isSpeck('~~', 33)).toBe(true);
    expect(isSpeck(':', 85)).toBe(true);
    expect(isSpeck('o', 26)).toBe(true);
    expect(isSpeck('y', 95)).toBe(false);
    expect(isSpeck('€', 90)).toBe(false);
    expect(isSpeck('budget', 7)).toBe(false);
  });
});
