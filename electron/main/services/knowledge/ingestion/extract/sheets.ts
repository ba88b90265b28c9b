import { ROW_NUMBER_HEADER, tableLine } from '../../../../../common/table-text.ts';
import { DocumentError } from '../../types.ts';
import type { BlockCollector } from './blocks.ts';

// Sheets (XLSX, ODS, CSV) as blocks: each sheet is a section, a level-1 heading with its
// name, holding one table block whose first row is the sheet's first non-empty row (taken as
// the header) and whose first column "#" is each row's number in the sheet. The chunker cuts
// it between rows and repeats the header in every chunk; citations read the row range from "#".
// What the sheet hides is kept, and said: the text a person could not see says so.

export const HIDDEN_SHEET = '[hidden sheet]';
export const HIDDEN_ROW = '[hidden row]';
export const HIDDEN_COLUMN = '[hidden column]';
export const HIDDEN_CELL = '[hidden cell]';

export interface SheetRow {
  /** 1-based, as the spreadsheet numbers it. */
  readonly number: number;
  readonly hidden: boolean;
  /** Displayed text by 0-based column; empty cells are absent. */
  readonly cells: Map<number, string>;
}

export interface Sheet {
  readonly name: string;
  readonly hidden: boolean;
  readonly rows: readonly SheetRow[];
  readonly hiddenColumns: ReadonlySet<number>;
}

/** "A" → 0, "AB" → 27. */
export function columnIndex(letters: string): number {
  let n = 0;
  for (const c of letters.toUpperCase()) n = n * 26 + (c.charCodeAt(0) - 64);
  return n - 1;
}

export function columnName(index: number): string {
  let name = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  return name;
}

/** Counts the cells a workbook holds as it is read, and refuses it past the limit. */
export class CellBudget {
  #used = 0;
  readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
  take(count: number, where: string): void {
    this.#used += count;
    if (this.#used > this.limit) {
      throw new DocumentError(
        'too_large',
        `This spreadsheet holds more than ${this.limit.toLocaleString('en-US')} cells (reached in ${where}). Split it into smaller files and add them.`,
      );
    }
  }
}

export function declaredCellsError(cells: number, where: string, limit: number): DocumentError {
  return new DocumentError(
    'too_large',
    `${where} declares ${cells.toLocaleString('en-US')} cells, over the ${limit.toLocaleString('en-US')} limit. Split it into smaller files and add them.`,
  );
}

/** A sheet's rows as one table block's text: header row first, then each row with its number; null when it has none. */
export function sheetTable(sheet: Sheet): string | null {
  const rows = sheet.rows.filter((row) => row.cells.size > 0);
  const [head, ...data] = rows;
  if (head === undefined) return null;
  const columns = [...new Set(rows.flatMap((row) => [...row.cells.keys()]))].sort((a, b) => a - b);
  const header = columns.map((column) => {
    const title = head.cells.get(column) ?? `column ${columnName(column)}`;
    return sheet.hiddenColumns.has(column) ? `${title} ${HIDDEN_COLUMN}` : title;
  });
  const number = (row: SheetRow) => (row.hidden ? `${row.number} ${HIDDEN_ROW}` : String(row.number));
  const lines = [tableLine([ROW_NUMBER_HEADER, ...header])];
  // A hidden header row is still the header; that it is hidden is said on a line of its own.
  if (head.hidden) lines.push(tableLine([number(head), ...columns.map((column) => head.cells.get(column) ?? '')]));
  for (const row of data) lines.push(tableLine([number(row), ...columns.map((column) => row.cells.get(column) ?? '')]));
  return lines.join('\n');
}

/** Adds each sheet as a section: its name as a heading, its rows as one table block. */
export function addSheets(out: BlockCollector, sheets: readonly Sheet[]): void {
  for (const sheet of sheets) {
    const name = sheet.name.trim() === '' ? 'Sheet' : sheet.name;
    out.heading(sheet.hidden ? `${name} ${HIDDEN_SHEET}` : name, 1);
    const table = sheetTable(sheet);
    if (table !== null) out.add('table', table);
  }
}
