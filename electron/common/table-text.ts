// Tables as passages carry them, so a chunk of rows keeps the names of its columns and the
// viewer can show it as a table again: one row per line, written "| a | b |", the header row
// first. Spreadsheets and CSV files add a first column named "#" holding each row's number in
// the sheet, which is how citations name the rows ("rows 12–40"). Inside a cell, "|" is
// written "\|" and "\" is written "\\". Shared by the extractors (main) and the viewer (renderer).

/** The header of the column that holds the sheet's row numbers. */
export const ROW_NUMBER_HEADER = '#';

function escapeCell(cell: string): string {
  return cell
    .replace(/[\s\u00a0]+/g, ' ')
    .trim()
    .replace(/[\\|]/g, (c) => '\\' + c);
}

/** One row as a line of a table passage. */
export function tableLine(cells: readonly string[]): string {
  return `| ${cells.map(escapeCell).join(' | ')} |`;
}

export function isTableLine(line: string): boolean {
  const trimmed = line.trim();
  return trimmed.length >= 2 && trimmed.startsWith('|') && trimmed.endsWith('|') && !trimmed.endsWith('\\|');
}

/** The cells of a table line, unescaped; null when the line is not one. */
export function parseTableLine(line: string): string[] | null {
  if (!isTableLine(line)) return null;
  const inner = line.trim().slice(1, -1);
  const cells: string[] = [];
  let cell = '';
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i] as string;
    if (c === '\\' && i + 1 < inner.length) cell += inner[++i];
    else if (c === '|') {
      cells.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  cells.push(cell.trim());
  return cells;
}

export type TextSegment = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'table'; readonly header: string[]; readonly rows: string[][] };

/** A passage's text cut into plain text and tables; each run of table lines starts with its header. */
export function segmentTables(text: string): TextSegment[] {
  const segments: TextSegment[] = [];
  let plain: string[] = [];
  let table: string[][] = [];
  const flushPlain = () => {
    const joined = plain.join('\n').trim();
    if (joined !== '') segments.push({ kind: 'text', text: joined });
    plain = [];
  };
  const flushTable = () => {
    const [header, ...rows] = table;
    if (header !== undefined) segments.push({ kind: 'table', header, rows });
    table = [];
  };
  for (const line of text.split('\n')) {
    const cells = parseTableLine(line);
    if (cells === null) {
      flushTable();
      plain.push(line);
    } else {
      flushPlain();
      table.push(cells);
    }
  }
  flushTable();
  flushPlain();
  return segments;
}

/** The first and last sheet rows a passage holds, from its "#" column; null when it holds no numbered rows. */
export function rowRange(text: string): [number, number] | null {
  let first: number | null = null;
  let last: number | null = null;
  for (const segment of segmentTables(text)) {
    if (segment.kind !== 'table' || segment.header[0] !== ROW_NUMBER_HEADER) continue;
    for (const row of segment.rows) {
      const n = Number.parseInt(row[0] ?? '', 10);
      if (!Number.isSafeInteger(n) || n < 1) continue;
      first = first === null ? n : Math.min(first, n);
      last = last === null ? n : Math.max(last, n);
    }
  }
  return first === null || last === null ? null : [first, last];
}
