import { DocumentError } from '../../types.ts';
import { BlockCollector } from './blocks.ts';

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

export const CSV_ROWS_PER_BLOCK = 20;

/**
 * CSV rows as "header: value; …" lines, 20 rows to a block, so that a search for a value
 * finds its row and the row says what each value means.
 */
export function extractCsv(text: string): BlockCollector {
  const out = new BlockCollector();
  const rows = parseCsv(text);
  const [header, ...data] = rows;
  if (header === undefined) return out;
  const names = header.map((name, index) => name.trim() || `column ${index + 1}`);
  if (data.length === 0) {
    out.add('table', names.join('; '));
    return out;
  }
  for (let start = 0; start < data.length; start += CSV_ROWS_PER_BLOCK) {
    const lines = data.slice(start, start + CSV_ROWS_PER_BLOCK).map((row) =>
      row
        .map((value, index) => [names[index] ?? `column ${index + 1}`, value.replace(/\s+/g, ' ').trim()] as const)
        .filter(([, value]) => value !== '')
        .map(([name, value]) => `${name}: ${value}`)
        .join('; '),
    );
    out.add('table', lines.filter((line) => line !== '').join('\n'));
  }
  return out;
}
