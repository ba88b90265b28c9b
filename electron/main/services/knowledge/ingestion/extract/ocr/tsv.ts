import type { OcrWord } from '../../../types.ts';

/** One page as Tesseract read it: paragraphs in reading order, and every word with its box. */
export interface OcrResult {
  readonly width: number;
  readonly height: number;
  readonly paragraphs: readonly OcrParagraph[];
  readonly words: readonly OcrWord[];
  /** Mean word confidence over the page, 0–100; 0 when nothing was read. */
  readonly confidence: number;
}

export interface OcrParagraph {
  readonly text: string;
  readonly confidence: number;
}

interface Line {
  readonly key: string;
  readonly paragraph: string;
  readonly words: OcrWord[];
}

/** Stand-alone symbols that mean something in running text, kept when Tesseract is sure of them. */
const SYMBOLS = /^[&%€$£§–—]$/u;

/**
 * Speckle and dust on a scan come back as stray "words": a token with no letter or digit, or
 * one or two characters Tesseract doubts. Real short words ("a", "y", "de") are read with high
 * confidence, so a low one marks a speck.
 */
export function isSpeck(text: string, confidence: number): boolean {
  if (!/[\p{L}\p{N}]/u.test(text)) return !(SYMBOLS.test(text) && confidence >= 80);
  return [...text].length <= 2 && confidence < 60;
}

const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
const round1 = (value: number): number => Math.round(value * 10) / 10;

/** Joins a paragraph's lines, mending words hyphenated at a line end ("docu-" + "ment"). */
function joinLines(lines: readonly string[]): string {
  let out = '';
  for (const line of lines) {
    if (out === '') out = line;
    else if (/[a-záéíóúñü]-$/i.test(out) && /^[a-záéíóúñü]/.test(line)) out = out.slice(0, -1) + line;
    else out += ' ' + line;
  }
  return out;
}

/**
 * Parses Tesseract's TSV output (level, page, block, paragraph, line, word, left, top, width,
 * height, confidence, text). Level 1 rows give the page size; level 5 rows are words.
 */
export function pageFromTsv(tsv: string): OcrResult {
  let width = 0;
  let height = 0;
  const lines: Line[] = [];
  const words: OcrWord[] = [];
  for (const row of tsv.split('\n')) {
    const cols = row.split('\t');
    if (cols.length < 12) continue;
    const [level, , block, par, line, , left, top, w, h, conf] = cols.slice(0, 11).map(Number);
    if (level === 1) {
      width = w ?? 0;
      height = h ?? 0;
      continue;
    }
    const text = cols.slice(11).join('\t').trim();
    if (level !== 5 || text === '' || conf === undefined || conf < 0 || isSpeck(text, conf)) continue;
    const word: OcrWord = { text, box: [left ?? 0, top ?? 0, w ?? 0, h ?? 0], confidence: round1(conf) };
    words.push(word);
    const key = `${block}.${par}.${line}`;
    const last = lines.at(-1);
    if (last?.key === key) last.words.push(word);
    else lines.push({ key, paragraph: `${block}.${par}`, words: [word] });
  }
  const paragraphs: OcrParagraph[] = [];
  let group: Line[] = [];
  const flush = (): void => {
    if (group.length === 0) return;
    const text = joinLines(group.map((l) => l.words.map((w) => w.text).join(' ')))
      .replace(/\s+/g, ' ')
      .trim();
    if (text !== '') paragraphs.push({ text, confidence: round1(mean(group.flatMap((l) => l.words.map((w) => w.confidence)))) });
    group = [];
  };
  for (const line of lines) {
    if (group.length > 0 && group[0]?.paragraph !== line.paragraph) flush();
    group.push(line);
  }
  flush();
  return { width, height, paragraphs, words, confidence: round1(mean(words.map((w) => w.confidence))) };
}
