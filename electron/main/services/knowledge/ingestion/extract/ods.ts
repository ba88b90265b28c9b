import { Parser } from 'htmlparser2';
import { DocumentError } from '../../types.ts';
import { BlockCollector } from './blocks.ts';
import { coreTitle } from './docx.ts';
import type { ResolvedLimits } from './limits.ts';
import { addSheets, CellBudget, type Sheet, type SheetRow } from './sheets.ts';
import type { Archive } from './zip.ts';

// OpenDocument spreadsheets (LibreOffice, Google Sheets exports): content.xml streamed from
// the guarded archive. ODS saves each cell's text as displayed (text:p) beside its value, so
// dates, percentages and currencies come out as the author saw them, and formulas are never
// evaluated. Rows and cells can be "repeated" any number of times: that is how ODS writes
// empty space, and how a hostile file would declare millions of cells; repeats are counted
// against the cell limit before anything is built from them.

const localName = (name: string) => name.slice(name.indexOf(':') + 1);
const repeat = (value: string | undefined) => Math.max(1, Math.min(Number.parseInt(value ?? '1', 10) || 1, Number.MAX_SAFE_INTEGER));
const collapsed = (value: string | undefined) => value === 'collapse' || value === 'filter';

interface Table {
  name: string;
  styleName: string;
  rows: SheetRow[];
  hiddenColumns: Set<number>;
  nextRow: number;
  nextColumn: number;
}

export async function extractOds(archive: Archive, limits: ResolvedLimits): Promise<{ title: string | null; collector: BlockCollector }> {
  if (!archive.has('content.xml')) throw new DocumentError('corrupt', 'This OpenDocument spreadsheet is damaged: it has no content.');
  const budget = new CellBudget(limits.maxCells);
  const hiddenTableStyles = new Set<string>();
  const tables: Table[] = [];
  let styles = 0;
  let styleName: string | null = null;
  let table: Table | null = null;
  let row: { hidden: boolean; repeat: number; cells: Map<number, string> } | null = null;
  let cell: { repeat: number; paragraphs: string[]; text: string } | null = null;
  let inParagraph = 0;
  let skip = 0;
  let depth = 0;

  const parser = new Parser(
    {
      onopentag(rawName, a) {
        if (++depth > limits.maxDepth) throw new DocumentError('too_deep', `The spreadsheet's XML nests deeper than ${limits.maxDepth} levels.`);
        const name = localName(rawName);
        if (skip > 0) {
          skip++;
          return;
        }
        if (name === 'style' || /-style$/.test(name)) {
          if (++styles > limits.maxStyles) {
            throw new DocumentError('too_large', `This spreadsheet has more than ${limits.maxStyles.toLocaleString('en-US')} cell styles, over the limit.`);
          }
          if (name === 'style') styleName = a['style:name'] ?? null;
        } else if (name === 'table-properties' && styleName !== null && a['table:display'] === 'false') hiddenTableStyles.add(styleName);
        else if (rawName === 'table:table') {
          table = {
            name: a['table:name'] ?? `Sheet${tables.length + 1}`,
            styleName: a['table:style-name'] ?? '',
            rows: [],
            hiddenColumns: new Set(),
            nextRow: 1,
            nextColumn: 0,
          };
        } else if (table === null) return;
        else if (name === 'table-column') {
          const count = repeat(a['table:number-columns-repeated']);
          // Only columns that can hold cells matter; a hidden run may claim a million of them.
          if (collapsed(a['table:visibility'])) for (let c = 0; c < Math.min(count, 16_384); c++) table.hiddenColumns.add(table.nextColumn + c);
          table.nextColumn += count;
        } else if (name === 'table-row') {
          row = { hidden: collapsed(a['table:visibility']), repeat: repeat(a['table:number-rows-repeated']), cells: new Map() };
          table.nextColumn = 0;
        } else if ((name === 'table-cell' || name === 'covered-table-cell') && row !== null) {
          cell = { repeat: repeat(a['table:number-columns-repeated']), paragraphs: [], text: '' };
        } else if (name === 'annotation') skip = 1;
        else if (cell !== null && name === 'p') inParagraph++;
        else if (cell !== null && name === 's') cell.text += ' '.repeat(Math.min(repeat(a['text:c']), 100));
        else if (cell !== null && (name === 'tab' || name === 'line-break')) cell.text += ' ';
      },
      ontext(text) {
        if (skip === 0 && cell !== null && inParagraph > 0) cell.text += text;
      },
      onclosetag(rawName) {
        depth--;
        const name = localName(rawName);
        if (skip > 0) {
          skip--;
          return;
        }
        if (name === 'style') styleName = null;
        else if (name === 'p' && cell !== null && inParagraph > 0) {
          if (--inParagraph === 0) {
            cell.paragraphs.push(cell.text);
            cell.text = '';
          }
        } else if ((name === 'table-cell' || name === 'covered-table-cell') && cell !== null && row !== null && table !== null) {
          const shown = cell.paragraphs
            .join(' ')
            .replace(/[\s\u00a0]+/g, ' ')
            .trim();
          if (shown !== '') {
            // Counted before the cells are made: a repeated cell can claim 16,384 columns at once.
            budget.take(cell.repeat * row.repeat, `the sheet "${table.name}"`);
            for (let c = 0; c < cell.repeat; c++) row.cells.set(table.nextColumn + c, shown);
          }
          table.nextColumn += cell.repeat;
          cell = null;
        } else if (name === 'table-row' && row !== null && table !== null) {
          if (row.cells.size > 0) {
            for (let r = 0; r < row.repeat; r++) table.rows.push({ number: table.nextRow + r, hidden: row.hidden, cells: row.cells });
          }
          table.nextRow += row.repeat;
          row = null;
        } else if (rawName === 'table:table' && table !== null) {
          tables.push(table);
          table = null;
        }
      },
    },
    { xmlMode: true, decodeEntities: true },
  );
  const decoder = new TextDecoder('utf-8');
  await archive.stream('content.xml', (chunk) => void parser.write(decoder.decode(chunk, { stream: true })));
  parser.write(decoder.decode());
  parser.end();

  const sheets: Sheet[] = tables.map((t) => ({ name: t.name, hidden: hiddenTableStyles.has(t.styleName), rows: t.rows, hiddenColumns: t.hiddenColumns }));
  const collector = new BlockCollector();
  addSheets(collector, sheets);
  return { title: await coreTitle(archive, 'meta.xml'), collector };
}
