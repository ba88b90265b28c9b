// Rebuilds lines and paragraphs from pdf.js text items, which are runs of glyphs with a
// position and no notion of words or lines. Pure functions, tested without pdf.js.

export interface TextRun {
  readonly str: string;
  /** [a, b, c, d, e, f]: e/f are the baseline origin; hypot(c, d) is the font size. */
  readonly transform: readonly number[];
  readonly width: number;
  readonly height: number;
  readonly hasEOL: boolean;
}

export interface Line {
  text: string;
  readonly y: number;
  readonly size: number;
  readonly x: number;
  endX: number;
}

export interface Paragraph {
  readonly text: string;
  readonly size: number;
  readonly lines: number;
}

function sizeOf(run: TextRun): number {
  const [a = 0, b = 0, c = 0, d = 0] = run.transform;
  return Math.hypot(c, d) || run.height || Math.hypot(a, b) || 1;
}

/** Groups runs into lines: a new line at an end-of-line mark, a baseline jump, or a jump back left. */
export function linesOf(runs: readonly TextRun[]): Line[] {
  const lines: Line[] = [];
  let line: Line | null = null;
  const end = () => {
    if (line !== null && line.text.trim() !== '') lines.push({ ...line, text: line.text.replace(/\s+/g, ' ').trim() });
    line = null;
  };
  for (const run of runs) {
    if (run.str === '') {
      if (run.hasEOL) end();
      continue;
    }
    const size = sizeOf(run);
    const x = run.transform[4] ?? 0;
    const y = run.transform[5] ?? 0;
    const current: Line | null = line;
    if (current !== null && (Math.abs(y - current.y) > Math.min(size, current.size) * 0.5 || x < current.x - size)) end();
    if (line === null) {
      line = { text: run.str, y, size, x, endX: x + run.width };
    } else {
      const open: Line = line;
      // A visible gap between runs is a space the PDF drew by moving, not by a glyph.
      const gap = x - open.endX;
      if (gap > size * 0.15 && !/\s$/.test(open.text) && !/^\s/.test(run.str)) open.text += ' ';
      open.text += run.str;
      open.endX = Math.max(open.endX, x + run.width);
    }
    if (run.hasEOL) end();
  }
  end();
  return lines;
}

function joinLines(parts: readonly string[]): string {
  let text = '';
  for (const part of parts) {
    // Undo end-of-line hyphenation ("inter-" + "national"), but keep real dashes.
    if (/[a-z]-$/.test(text) && /^[a-z]/.test(part)) text = text.slice(0, -1) + part;
    else text = text === '' ? part : `${text} ${part}`;
  }
  return text;
}

/**
 * Groups a page's lines into paragraphs: a new one where the font size changes, the gap
 * below a line is clearly larger than the page's usual line spacing, the text moves up
 * (a new column), or a short line ends a sentence.
 */
export function paragraphsOf(lines: readonly Line[]): Paragraph[] {
  const gaps: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const prev = lines[i - 1];
    const line = lines[i];
    if (prev === undefined || line === undefined || Math.abs(prev.size - line.size) >= 0.5) continue;
    // Lines inside a paragraph are the closest ones; smaller gaps are sub- or superscripts.
    if (prev.y - line.y >= line.size * 0.9) gaps.push(prev.y - line.y);
  }
  const usualGap = gaps.length === 0 ? 0 : Math.min(...gaps);
  const fullWidth = Math.max(0, ...lines.map((l) => l.endX - l.x));
  const out: Paragraph[] = [];
  let group: Line[] = [];
  const flush = () => {
    if (group.length > 0) out.push({ text: joinLines(group.map((l) => l.text)), size: group[0]?.size ?? 0, lines: group.length });
    group = [];
  };
  for (const line of lines) {
    const prev = group.at(-1);
    if (prev !== undefined) {
      const gap = prev.y - line.y;
      const sizeChanged = Math.abs(prev.size - line.size) >= 0.5;
      const wideGap = gap > Math.max(usualGap * 1.3, Math.max(prev.size, line.size) * 1.1) || gap > Math.max(prev.size, line.size) * 2.5;
      const shortEnd = /[.!?:]["')\]]?$/.test(prev.text) && prev.endX - prev.x < fullWidth * 0.6;
      if (sizeChanged || wideGap || gap < -prev.size || shortEnd) flush();
    }
    group.push(line);
  }
  flush();
  return out;
}

/**
 * Heading levels by font size across the document: text clearly larger than the body
 * size (the size that carries the most characters) is a heading, the largest level 1.
 */
export function headingLevels(paragraphs: readonly Paragraph[]): (size: number) => number | null {
  const weight = new Map<number, number>();
  for (const p of paragraphs) {
    const key = Math.round(p.size * 2) / 2;
    weight.set(key, (weight.get(key) ?? 0) + p.text.length);
  }
  let body = 0;
  let best = -1;
  for (const [size, chars] of weight) if (chars > best) [body, best] = [size, chars];
  const headingSizes = [...weight.keys()].filter((size) => size >= body * 1.15).sort((a, b) => b - a);
  return (size) => {
    const index = headingSizes.indexOf(Math.round(size * 2) / 2);
    return index === -1 ? null : Math.min(6, index + 1);
  };
}
