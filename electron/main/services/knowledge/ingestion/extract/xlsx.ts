import path from 'node:path/posix';
import { Parser } from 'htmlparser2';
import { DocumentError } from '../../types.ts';
import { BlockCollector } from './blocks.ts';
import { coreTitle } from './docx.ts';
import type { ResolvedLimits } from './limits.ts';
import { builtinFormat, formatValue, hidesValue } from './numfmt.ts';
import { addSheets, CellBudget, columnIndex, declaredCellsError, HIDDEN_CELL, type Sheet, type SheetRow } from './sheets.ts';
import type { Archive } from './zip.ts';

// Excel workbooks read from the guarded archive with the streaming XML parser already used
// for the other Office formats, rather than a spreadsheet library: every part is inflated
// through zip.ts (sizes and ratios checked), what a part declares (cells, shared strings,
// styles) is checked from its first bytes before the part is parsed, and what it really holds
// is counted while it streams. Values are the cached ones Excel saved, shown through their
// number formats; formulas are never evaluated (a formula without a cached value is empty).

const HEAD_BYTES = 64 * 1024;
const localName = (name: string) => name.slice(name.indexOf(':') + 1);

interface XmlHandlers {
  open?(name: string, attribs: Record<string, string>): void;
  text?(text: string): void;
  close?(name: string): void;
}

/** Streams a part through the XML parser, local names only, refusing nesting past the limit. */
async function parsePart(archive: Archive, part: string, maxDepth: number, handlers: XmlHandlers): Promise<void> {
  let depth = 0;
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        if (++depth > maxDepth) throw new DocumentError('too_deep', `The spreadsheet's XML nests deeper than ${maxDepth} levels.`);
        handlers.open?.(localName(name), attribs);
      },
      ontext(text) {
        handlers.text?.(text);
      },
      onclosetag(name) {
        depth--;
        handlers.close?.(localName(name));
      },
    },
    { xmlMode: true, decodeEntities: true },
  );
  const decoder = new TextDecoder('utf-8');
  await archive.stream(part, (chunk) => void parser.write(decoder.decode(chunk, { stream: true })));
  parser.write(decoder.decode());
  parser.end();
}

/** The start of a part, enough to read what it declares, without inflating the rest. */
async function head(archive: Archive, part: string, until: RegExp): Promise<string> {
  let text = '';
  const decoder = new TextDecoder('utf-8');
  await archive.stream(part, (chunk) => {
    text += decoder.decode(chunk, { stream: true });
    return text.length < HEAD_BYTES && !until.test(text);
  });
  return text;
}

function declared(headText: string, element: string, attribute: string): number | null {
  const tag = new RegExp(`<(?:\\w+:)?${element}\\b[^>]*>`).exec(headText)?.[0];
  const value = tag === undefined ? undefined : new RegExp(`\\b${attribute}="(\\d+)"`).exec(tag)?.[1];
  return value === undefined ? null : Number(value);
}

/** Cells a dimension like "A1:J1000000" spans. */
export function dimensionCells(ref: string): number {
  const [from = '', to = from] = ref.toUpperCase().split(':');
  const parse = (cell: string) => /^\$?([A-Z]{1,3})\$?(\d+)$/.exec(cell);
  const a = parse(from);
  const b = parse(to);
  if (a === null || b === null) return 0;
  const columns = Math.abs(columnIndex(b[1] ?? 'A') - columnIndex(a[1] ?? 'A')) + 1;
  const rows = Math.abs(Number(b[2]) - Number(a[2])) + 1;
  return columns * rows;
}

interface SheetEntry {
  readonly name: string;
  readonly hidden: boolean;
  readonly part: string;
}

async function workbook(
  archive: Archive,
  limits: ResolvedLimits,
): Promise<{ sheets: SheetEntry[]; date1904: boolean; sharedStrings: string | null; styles: string | null }> {
  const rels = new Map<string, { target: string; type: string }>();
  const relsPart = 'xl/_rels/workbook.xml.rels';
  if (archive.has(relsPart)) {
    await parsePart(archive, relsPart, limits.maxDepth, {
      open: (name, a) => void (name === 'Relationship' && rels.set(a.Id ?? '', { target: a.Target ?? '', type: a.Type ?? '' })),
    });
  }
  const resolve = (target: string) => (target.startsWith('/') ? target.slice(1) : path.normalize(path.join('xl', target)));
  const found: SheetEntry[] = [];
  let date1904 = false;
  await parsePart(archive, 'xl/workbook.xml', limits.maxDepth, {
    open(name, a) {
      if (name === 'workbookPr') date1904 = a.date1904 === '1' || a.date1904 === 'true';
      if (name !== 'sheet') return;
      const rel = rels.get(a['r:id'] ?? Object.entries(a).find(([key]) => key.endsWith(':id'))?.[1] ?? '');
      const part = rel === undefined ? `xl/worksheets/sheet${found.length + 1}.xml` : resolve(rel.target);
      found.push({ name: a.name ?? `Sheet${found.length + 1}`, hidden: a.state === 'hidden' || a.state === 'veryHidden', part });
    },
  });
  const byType = (suffix: string, fallback: string) => {
    const rel = [...rels.values()].find((r) => r.type.endsWith(suffix));
    const part = rel === undefined ? fallback : resolve(rel.target);
    return archive.has(part) ? part : null;
  };
  return {
    sheets: found.filter((sheet) => archive.has(sheet.part)),
    date1904,
    sharedStrings: byType('/sharedStrings', 'xl/sharedStrings.xml'),
    styles: byType('/styles', 'xl/styles.xml'),
  };
}

/** Every declared count checked from the parts' first bytes, before any of them is parsed. */
async function checkDeclared(
  archive: Archive,
  sheets: readonly SheetEntry[],
  sharedStrings: string | null,
  styles: string | null,
  limits: ResolvedLimits,
): Promise<void> {
  let total = 0;
  for (const sheet of sheets) {
    const ref = /<(?:\w+:)?dimension\b[^>]*\bref="([^"]+)"/.exec(await head(archive, sheet.part, /<(?:\w+:)?sheetData\b/))?.[1];
    const cells = ref === undefined ? 0 : dimensionCells(ref);
    if (cells > limits.maxCells) throw declaredCellsError(cells, `The sheet "${sheet.name}" (${ref})`, limits.maxCells);
    total += cells;
    if (total > limits.maxCells) throw declaredCellsError(total, 'This workbook', limits.maxCells);
  }
  if (sharedStrings !== null) {
    const text = await head(archive, sharedStrings, /<(?:\w+:)?sst\b[^>]*>/);
    const count = Math.max(declared(text, 'sst', 'uniqueCount') ?? 0, declared(text, 'sst', 'count') ?? 0);
    if (count > limits.maxSharedStrings) throw sharedStringsError(count, limits.maxSharedStrings);
  }
  if (styles !== null) {
    const text = await head(archive, styles, /<(?:\w+:)?cellXfs\b[^>]*>/);
    const count = (declared(text, 'cellXfs', 'count') ?? 0) + (declared(text, 'numFmts', 'count') ?? 0);
    if (count > limits.maxStyles) throw stylesError(count, limits.maxStyles);
  }
}

const sharedStringsError = (count: number, limit: number) =>
  new DocumentError('too_large', `This spreadsheet has ${count.toLocaleString('en-US')} distinct texts, over the ${limit.toLocaleString('en-US')} limit.`);
const stylesError = (count: number, limit: number) =>
  new DocumentError('too_large', `This spreadsheet has ${count.toLocaleString('en-US')} cell styles, over the ${limit.toLocaleString('en-US')} limit.`);

async function readSharedStrings(archive: Archive, part: string, limits: ResolvedLimits): Promise<string[]> {
  const strings: string[] = [];
  let current: string | null = null;
  let inText = false;
  let phonetic = 0;
  await parsePart(archive, part, limits.maxDepth, {
    open(name) {
      if (name === 'si') current = '';
      else if (name === 't') inText = true;
      else if (name === 'rPh') phonetic++;
    },
    text(text) {
      if (inText && phonetic === 0 && current !== null) current += text;
    },
    close(name) {
      if (name === 't') inText = false;
      else if (name === 'rPh') phonetic--;
      else if (name === 'si' && current !== null) {
        strings.push(current);
        if (strings.length > limits.maxSharedStrings) throw sharedStringsError(strings.length, limits.maxSharedStrings);
        current = null;
      }
    },
  });
  return strings;
}

/** The number format code of each cell style (cellXfs index). */
async function readStyles(archive: Archive, part: string, limits: ResolvedLimits): Promise<string[]> {
  const custom = new Map<number, string>();
  const formats: string[] = [];
  let inCellXfs = false;
  let count = 0;
  await parsePart(archive, part, limits.maxDepth, {
    open(name, a) {
      if (name === 'numFmt' || (name === 'xf' && inCellXfs)) if (++count > limits.maxStyles) throw stylesError(count, limits.maxStyles);
      if (name === 'numFmt') custom.set(Number(a.numFmtId), a.formatCode ?? 'General');
      else if (name === 'cellXfs') inCellXfs = true;
      else if (name === 'xf' && inCellXfs) {
        const id = Number(a.numFmtId ?? 0);
        formats.push(custom.get(id) ?? builtinFormat(id) ?? 'General');
      }
    },
    close(name) {
      if (name === 'cellXfs') inCellXfs = false;
    },
  });
  return formats;
}

interface Context {
  readonly strings: readonly string[];
  readonly formats: readonly string[];
  readonly date1904: boolean;
  readonly budget: CellBudget;
  readonly limits: ResolvedLimits;
}

async function readSheet(archive: Archive, entry: SheetEntry, context: Context): Promise<Sheet> {
  const rows: SheetRow[] = [];
  const hiddenColumns = new Set<number>();
  let row: { number: number; hidden: boolean; cells: Map<number, string> } | null = null;
  let cell: { column: number; type: string; style: number; value: string; inline: string } | null = null;
  let text: 'v' | 't' | null = null;
  let nextRow = 1;
  let nextColumn = 0;
  const where = `the sheet "${entry.name}"`;
  const display = (c: NonNullable<typeof cell>): string => {
    const code = context.formats[c.style] ?? 'General';
    const raw = c.value.trim();
    let shown: string;
    if (c.type === 's') shown = context.strings[Number(raw)] ?? '';
    else if (c.type === 'inlineStr') shown = c.inline;
    else if (c.type === 'str' || c.type === 'e' || c.type === 'd') shown = c.value;
    else if (c.type === 'b') shown = raw === '1' || raw === 'true' ? 'TRUE' : 'FALSE';
    else if (raw === '' || !Number.isFinite(Number(raw))) shown = raw;
    else return decorate(formatValue(Number(raw), code, context.date1904));
    return decorate({ text: shown, hidden: hidesValue(code) });
  };
  const decorate = ({ text: shown, hidden }: { text: string; hidden: boolean }) => (hidden && shown.trim() !== '' ? `${shown} ${HIDDEN_CELL}` : shown);
  await parsePart(archive, entry.part, context.limits.maxDepth, {
    open(name, a) {
      if (name === 'col' && (a.hidden === '1' || a.hidden === 'true')) {
        const min = Number(a.min ?? 0);
        // A hidden range may span every column of the sheet; only the used ones matter, up to Excel's 16,384.
        for (let c = min; c <= Math.min(Number(a.max ?? min), 16_384); c++) hiddenColumns.add(c - 1);
      } else if (name === 'row') {
        const number = Number(a.r ?? nextRow);
        row = { number, hidden: a.hidden === '1' || a.hidden === 'true', cells: new Map() };
        nextRow = number + 1;
        nextColumn = 0;
      } else if (name === 'c' && row !== null) {
        const letters = /^\$?([A-Za-z]{1,3})/.exec(a.r ?? '')?.[1];
        const column = letters === undefined ? nextColumn : columnIndex(letters);
        nextColumn = column + 1;
        cell = { column, type: a.t ?? 'n', style: Number(a.s ?? 0), value: '', inline: '' };
      } else if (name === 'v' && cell !== null) text = 'v';
      else if (name === 't' && cell !== null) text = 't';
    },
    text(chunk) {
      if (cell === null || text === null) return;
      if (text === 'v') cell.value += chunk;
      else cell.inline += chunk;
    },
    close(name) {
      if (name === 'v' || name === 't') text = null;
      else if (name === 'c' && cell !== null && row !== null) {
        const shown = display(cell)
          .replace(/[\s\u00a0]+/g, ' ')
          .trim();
        if (shown !== '') {
          context.budget.take(1, where);
          row.cells.set(cell.column, shown);
        }
        cell = null;
      } else if (name === 'row' && row !== null) {
        if (row.cells.size > 0) rows.push(row);
        row = null;
      }
    },
  });
  return { name: entry.name, hidden: entry.hidden, rows, hiddenColumns };
}

export async function extractXlsx(archive: Archive, limits: ResolvedLimits): Promise<{ title: string | null; collector: BlockCollector }> {
  if (!archive.has('xl/workbook.xml')) throw new DocumentError('corrupt', 'This Excel file is damaged: it has no workbook.');
  const book = await workbook(archive, limits);
  await checkDeclared(archive, book.sheets, book.sharedStrings, book.styles, limits);
  const strings = book.sharedStrings === null ? [] : await readSharedStrings(archive, book.sharedStrings, limits);
  const formats = book.styles === null ? [] : await readStyles(archive, book.styles, limits);
  const context: Context = { strings, formats, date1904: book.date1904, budget: new CellBudget(limits.maxCells), limits };
  const sheets: Sheet[] = [];
  for (const entry of book.sheets) sheets.push(await readSheet(archive, entry, context));
  const collector = new BlockCollector();
  addSheets(collector, sheets);
  return { title: await coreTitle(archive, 'docProps/core.xml'), collector };
}
