// Rebuilds lines, paragraphs and tables from pdf.js text items, which are runs of glyphs with
// a position and no notion of words or lines. Pure functions, tested without pdf.js.

import { tableLine } from '../../../../../common/table-text.ts';

export interface TextRun {
  readonly str: string;
  /** [a, b, c, d, e, f]: e/f are the baseline origin; hypot(c, d) is the font size. */
  readonly transform: readonly number[];
  readonly width: number;
  readonly height: number;
  readonly hasEOL: boolean;
}

/** A non-blank run of a line, where the page drew it: tables are found from these. */
export interface Part {
  readonly text: string;
  readonly x: number;
  readonly endX: number;
}

export interface Line {
  text: string;
  readonly y: number;
  readonly size: number;
  readonly x: number;
  endX: number;
  readonly parts: Part[];
}

export interface Paragraph {
  readonly text: string;
  readonly size: number;
  readonly lines: number;
  /** Set when the paragraph is a table; `text` is then the table in common/table-text.ts form. */
  readonly table?: Table;
}

export interface Table {
  /** The header row first. */
  readonly rows: readonly string[][];
  /** Each column's left and right edge on the page, to recognise the table going on over a page break. */
  readonly columns: readonly Span[];
}

export interface Span {
  readonly left: number;
  readonly right: number;
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
      line = { text: run.str, y, size, x, endX: x + run.width, parts: [] };
    } else {
      const open: Line = line;
      // A visible gap between runs is a space the PDF drew by moving, not by a glyph.
      const gap = x - open.endX;
      if (gap > size * 0.15 && !/\s$/.test(open.text) && !/^\s/.test(run.str)) open.text += ' ';
      open.text += run.str;
      open.endX = Math.max(open.endX, x + run.width);
    }
    if (run.str.trim() !== '') (line as Line).parts.push({ text: run.str, x, endX: x + run.width });
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
 * (a new column), or a short line ends a sentence. `page` is all the page's lines, whose
 * spacing and width tell what is usual when `lines` is only a stretch of them.
 */
export function paragraphsOf(lines: readonly Line[], page: readonly Line[] = lines): Paragraph[] {
  const gaps: number[] = [];
  for (let i = 1; i < page.length; i++) {
    const prev = page[i - 1];
    const line = page[i];
    if (prev === undefined || line === undefined || Math.abs(prev.size - line.size) >= 0.5) continue;
    // Lines inside a paragraph are the closest ones; smaller gaps are sub- or superscripts.
    if (prev.y - line.y >= line.size * 0.9) gaps.push(prev.y - line.y);
  }
  const usualGap = gaps.length === 0 ? 0 : Math.min(...gaps);
  const fullWidth = Math.max(0, ...page.map((l) => l.endX - l.x));
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

// Tables. A PDF has no tables, only text drawn at places; a table shows as a run of lines
// whose pieces, apart by wide gaps, sit in the same columns line after line. The rules lean
// hard towards missing a table: a false one cuts prose into cells, which is worse than a
// table read as lines. So a run needs three lines (two when it goes on from the previous
// page's table), each with at least two cells; the columns are the gaps every line leaves
// empty; and runs that read like prose (long cells, columns of running text) or like a
// list (a marker in the first column) are left alone.

/** The gap between two runs of a line, in font sizes, that makes them separate cells. */
const CELL_GAP = 1;
/** The narrowest gap, in font sizes, that all the lines of a table leave empty between two columns. */
const COLUMN_GAP = 0.5;
const LIST_MARKER = /^(?:\(?(?:\d{1,3}|[a-z]|[ivxlc]{1,6})[.)]|[•·▪◦●○■□‣⁃–—*-])$/i;
const NUMBER = /^[-+–(]?[$€£¥]?\d[\d.,]*%?\)?$/;
const YEAR = /^(?:19|20)\d\d$/;

interface Cell {
  text: string;
  left: number;
  right: number;
}

/** A line's cells: its parts in order, joined where they are closer than a cell gap. */
function cellsOf(line: Line): Cell[] {
  const cells: Cell[] = [];
  for (const part of [...line.parts].sort((a, b) => a.x - b.x)) {
    const last = cells.at(-1);
    const text = part.text.replace(/\s+/g, ' ').trim();
    if (last !== undefined && part.x - last.right < line.size * CELL_GAP) {
      last.text += part.x - last.right > line.size * 0.15 ? ` ${text}` : text;
      last.right = Math.max(last.right, part.endX);
    } else cells.push({ text, left: part.x, right: part.endX });
  }
  return cells;
}

/** The columns of some rows: the stretches of the page their cells cover, split where all of them leave a gap. */
function columnsOf(rows: readonly Cell[][], size: number): Span[] {
  const spans = rows.flat().sort((a, b) => a.left - b.left);
  const columns: { left: number; right: number }[] = [];
  for (const span of spans) {
    const last = columns.at(-1);
    if (last !== undefined && span.left - last.right < size * COLUMN_GAP) last.right = Math.max(last.right, span.right);
    else columns.push({ left: span.left, right: span.right });
  }
  return columns;
}

/** A row's cells by column; null when two cells fall in one column. */
function place(cells: readonly Cell[], columns: readonly Span[]): (Cell | null)[] | null {
  const row: (Cell | null)[] = columns.map(() => null);
  for (const cell of cells) {
    const index = columns.findIndex((c) => cell.left < c.right && c.left < cell.right);
    if (index === -1 || row[index] !== null) return null;
    row[index] = cell;
  }
  return row;
}

const words = (text: string) => text.split(' ').length;

/** Whether placed rows read as a table rather than prose or a list; `header` says whether the first row must be a header. */
function looksLikeTable(rows: readonly (Cell | null)[][], columns: readonly Span[], header: boolean): boolean {
  const filled = rows.flat().filter((c): c is Cell => c !== null);
  if (rows.some((row) => row.filter((c) => c !== null).length < 2)) return false;
  // Cells of a table are short; half-lines of a two-column page are not.
  if (filled.reduce((sum, c) => sum + words(c.text), 0) / filled.length > 4) return false;
  for (const [index, column] of columns.entries()) {
    const cells = rows.map((row) => row[index]).filter((c): c is Cell => c !== null);
    if (cells.length < rows.length / 2) return false;
    // A column of running text: most cells several words long and filling the column's width.
    const wordy = cells.filter((c) => words(c.text) >= 4).length;
    const full = cells.filter((c) => c.right - c.left >= (column.right - column.left) * 0.85).length;
    if (wordy >= cells.length / 2 && full >= cells.length / 2) return false;
  }
  const markers = rows.filter((row) => row[0] !== null && row[0] !== undefined && LIST_MARKER.test(row[0].text)).length;
  if (markers >= rows.length / 2) return false;
  if (!header) return true;
  // A header names its columns: all of them, but for the corner above row labels, and not with amounts.
  const first = rows[0] ?? [];
  if (first.slice(1).some((c) => c === null) || first.some((c) => c !== null && NUMBER.test(c.text) && !YEAR.test(c.text))) return false;
  return true;
}

function sameColumns(a: readonly Span[], b: readonly Span[]): boolean {
  return a.length === b.length && a.every((span, i) => span.left < (b[i]?.right ?? 0) && (b[i]?.left ?? 0) < span.right);
}

interface Found {
  readonly start: number;
  readonly end: number;
  readonly table: Table;
}

/** The longest run of lines from `start` whose cells keep to the same columns. */
function runFrom(lines: readonly Line[], start: number): { end: number; rows: Cell[][]; columns: Span[] } {
  const rows: Cell[][] = [];
  let columns: Span[] = [];
  let end = start;
  for (; end < lines.length; end++) {
    const line = lines[end] as Line;
    const prev = lines[end - 1];
    const cells = cellsOf(line);
    if (cells.length < 2) break;
    if (end > start && prev !== undefined) {
      const gap = prev.y - line.y;
      const ratio = line.size / prev.size;
      if (gap < Math.min(line.size, prev.size) * 0.5 || gap > Math.max(line.size, prev.size) * 3 || ratio < 0.8 || ratio > 1.25) break;
    }
    const next = columnsOf([...rows, cells], line.size);
    // Columns may appear only below the first line (a header with an empty corner), never merge.
    if (next.length < 2 || (rows.length > 1 && next.length !== columns.length) || next.length < columns.length) break;
    if ([...rows, cells].some((row) => place(row, next) === null)) break;
    rows.push(cells);
    columns = next;
  }
  return { end, rows, columns };
}

/**
 * The tables among a page's lines. `previous` is the table the previous page ended with: a
 * run at the top of this page in the same columns goes on with it, and gets its header row
 * unless the page repeats it.
 */
export function tablesOf(lines: readonly Line[], previous: Table | null = null): Found[] {
  const found: Found[] = [];
  for (let start = 0; start < lines.length;) {
    const run = runFrom(lines, start);
    const placed = run.rows.map((row) => place(row, run.columns) ?? []);
    const texts = placed.map((row) => row.map((c) => c?.text ?? ''));
    const topOfPage = found.length === 0 && lines.slice(0, start).every((l) => l.text.length <= 80) && start <= 2;
    if (previous !== null && topOfPage && run.rows.length >= 2 && sameColumns(previous.columns, run.columns) && looksLikeTable(placed, run.columns, false)) {
      const header = previous.rows[0] ?? [];
      const repeated = texts[0]?.join('\u0000') === header.join('\u0000');
      found.push({ start, end: run.end, table: { rows: repeated ? texts : [header, ...texts], columns: run.columns } });
      start = run.end;
    } else if (run.rows.length >= 3 && looksLikeTable(placed, run.columns, true)) {
      found.push({ start, end: run.end, table: { rows: texts, columns: run.columns } });
      start = run.end;
    } else start++;
  }
  return found;
}

/**
 * A page's paragraphs and tables in reading order. `previous` is as for tablesOf. A table is a
 * paragraph whose `table` is set and whose text is its rows, one a line, `| a | b |`.
 */
export function pageBlocks(lines: readonly Line[], previous: Table | null = null): Paragraph[] {
  const out: Paragraph[] = [];
  let from = 0;
  for (const { start, end, table } of tablesOf(lines, previous)) {
    out.push(...paragraphsOf(lines.slice(from, start), lines));
    out.push({ text: table.rows.map(tableLine).join('\n'), size: lines[start]?.size ?? 0, lines: end - start, table });
    from = end;
  }
  out.push(...paragraphsOf(lines.slice(from), lines));
  return out;
}

/** The table a page ends with, which the next page's may go on with: only short lines (a footer, a page number) may follow it. */
export function trailingTable(blocks: readonly Paragraph[]): Table | null {
  for (let i = blocks.length - 1; i >= 0; i--) {
    const block = blocks[i] as Paragraph;
    if (block.table !== undefined) return block.table;
    if (blocks.length - i > 2 || block.lines > 1 || block.text.length > 80) return null;
  }
  return null;
}
