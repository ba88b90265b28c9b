import { DocumentError } from '../../types.ts';
import { BlockCollector } from './blocks.ts';
import { CellBudget, sheetTable, type SheetRow } from './sheets.ts';

/**
 * Text files are refused when their start looks binary: a NUL byte, or more than one in ten
 * control characters. Indexing random bytes as Windows-1252 would fill the index with noise.
 */
export function looksBinary(bytes: Uint8Array): boolean {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) return false;
  const head = bytes.subarray(0, 8192);
  let control = 0;
  for (const byte of head) {
    if (byte === 0) return true;
    if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c) control += 1;
  }
  return head.length > 0 && control / head.length > 0.1;
}

/** Bytes to text: a BOM decides; otherwise UTF-8 if valid, else Windows-1252 (old Office exports). */
export function decodeText(bytes: Uint8Array): string {
  if (looksBinary(bytes))
    throw new DocumentError('unsupported', 'This file holds binary data, not text. Soberana reads PDF, Word, HTML, Markdown, text and CSV files.');
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return new TextDecoder('utf-8').decode(bytes.subarray(3));
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

/** Plain text: paragraphs are separated by blank lines; line breaks inside one are kept. */
export function extractText(text: string): BlockCollector {
  const out = new BlockCollector();
  for (const paragraph of text.replace(/\r\n?/g, '\n').split(/\n[ \t]*\n/)) {
    const lines = paragraph
      .split('\n')
      .map((line) => line.replace(/[ \t\u00a0]+/g, ' ').trim())
      .filter((line) => line !== '');
    out.add('paragraph', lines.join('\n'));
  }
  return out;
}

/** RFC 4180 with the delimiter guessed from the first line (comma, semicolon or tab). */
export function parseCsv(text: string): string[][] {
  const firstLine = text.slice(0, text.indexOf('\n') === -1 ? text.length : text.indexOf('\n'));
  const counts = [',', ';', '\t'].map((d) => [d, firstLine.split(d).length] as const);
  const delimiter = counts.reduce((best, c) => (c[1] > best[1] ? c : best))[0];
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === delimiter) {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows.filter((r) => r.some((value) => value.trim() !== ''));
}

/**
 * CSV as a table block, like a spreadsheet's sheet (see sheets.ts): the first row is the
 * header, repeated by the chunker in every chunk, and "#" numbers the rows as the file does.
 */
export function extractCsv(text: string, maxCells = Number.MAX_SAFE_INTEGER): BlockCollector {
  const out = new BlockCollector();
  const budget = new CellBudget(maxCells);
  const rows: SheetRow[] = parseCsv(text).map((values, index) => {
    const cells = new Map<number, string>();
    values.forEach((value, column) => {
      const clean = value.replace(/\s+/g, ' ').trim();
      if (clean !== '') cells.set(column, clean);
    });
    budget.take(cells.size, `row ${index + 1}`);
    return { number: index + 1, hidden: false, cells };
  });
  const table = sheetTable({ name: '', hidden: false, rows, hiddenColumns: new Set() });
  if (table !== null) out.add('table', table);
  return out;
}
