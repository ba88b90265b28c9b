import { describe, expect, it } from 'vitest';
import { rowRange, segmentTables } from '../../../../../common/table-text.ts';
import {
  hugeSharedStringsXlsx,
  hugeStylesXlsx,
  odsDocument,
  tenMillionCellsXlsx,
  xlsxDocument,
  zipBombXlsx,
} from '../../../../../../e2e/fixtures/documents/sheets.ts';
import { chunkBody, chunkDocument, estimateTokenCounter } from '../chunk.ts';
import { DocumentError } from '../../types.ts';
import { detectFormat, extractDocument } from './index.ts';
import { formatValue } from './numfmt.ts';

const MARCH_1_2024 = 45352;

async function refusal(promise: Promise<unknown>): Promise<DocumentError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DocumentError);
  return error as DocumentError;
}

function budgetWorkbook() {
  return xlsxDocument([
    {
      name: 'Budget 2024',
      rows: [
        ['Region', 'Start date', 'Growth', 'Revenue', 'Total'],
        [
          'North',
          { value: MARCH_1_2024, format: 'yyyy-mm-dd' },
          { value: 0.125, format: '0.0%' },
          { value: 1234.5, format: '"$"#,##0.00' },
          { value: 999, formula: 'SUM(D2:D3)' },
        ],
        [
          'South',
          { value: MARCH_1_2024 + 31, format: 'd mmmm yyyy' },
          { value: -0.04, format: '0.00%' },
          { value: 80000, format: '#,##0 [$€-407]' },
          { value: 0, formula: 'D3*2', cached: false },
        ],
        ['Secret', 'ignored', { value: 42, format: ';;;' }, 'x', 'y'],
      ],
      hiddenRows: [4],
      hiddenColumns: [4],
    },
    { name: 'Notes', hidden: true, rows: [['Topic'], ['Kept out of sight']] },
  ]);
}

describe('spreadsheets', () => {
  it('XLSX: each sheet a section, values as displayed, formulas only as cached, hidden parts marked', async () => {
    const bytes = budgetWorkbook();
    expect(detectFormat('budget.xlsx', bytes)).toBe('xlsx');
    const doc = await extractDocument(bytes, 'budget.xlsx');
    expect(doc.format).toBe('xlsx');
    const headings = doc.blocks.filter((b) => b.kind === 'heading').map((b) => b.text);
    expect(headings).toEqual(['Budget 2024', 'Notes [hidden sheet]']);
    const table = doc.blocks.find((b) => b.kind === 'table' && b.headingPath[0] === 'Budget 2024');
    expect(table?.text.split('\n')).toEqual([
      '| # | Region | Start date | Growth | Revenue | Total [hidden column] |',
      '| 2 | North | 2024-03-01 | 12.5% | $1,234.50 | 999 |',
      '| 3 | South | 1 April 2024 | -4.00% | 80,000 € |  |',
      '| 4 [hidden row] | Secret | ignored | 42 [hidden cell] | x | y |',
    ]);
    const notes = doc.blocks.find((b) => b.kind === 'table' && b.headingPath[0] === 'Notes [hidden sheet]');
    expect(notes?.text).toBe('| # | Topic |\n| 2 | Kept out of sight |');
  });

  it('number formats: dates, percentages, currencies, thousands, General', () => {
    expect(formatValue(MARCH_1_2024, 'yyyy-mm-dd').text).toBe('2024-03-01');
    expect(formatValue(MARCH_1_2024 + 0.75, 'm/d/yyyy h:mm').text).toBe('3/1/2024 18:00');
    expect(formatValue(0.0412, '0.00%').text).toBe('4.12%');
    expect(formatValue(-1234.5, '"$"#,##0.00;\\-"$"#,##0.00').text).toBe('-$1,234.50');
    expect(formatValue(-12, '#,##0 ;(#,##0)').text).toBe('(12)');
    expect(formatValue(1234567, '#,##0,"K"').text).toBe('1,235K');
    expect(formatValue(1 / 3, 'General').text).toBe('0.33333333333');
    expect(formatValue(5, ';;;')).toEqual({ text: '5', hidden: true });
    // The 1904 date system (old Mac workbooks) counts from 1904-01-01.
    expect(formatValue(MARCH_1_2024 - 1462, 'yyyy-mm-dd', true).text).toBe('2024-03-01');
  });

  it('ODS: displayed text, hidden sheets and rows, repeated rows and cells', async () => {
    const bytes = odsDocument([
      {
        name: 'Ventas',
        rows: [
          { cells: ['Producto', 'Precio', 'Margen'] },
          { cells: ['Café', { text: '3,50 €', value: 3.5 }, { text: '12 %', value: 0.12, formula: 'of:=[.B2]*0' }] },
          { cells: ['Té', { text: 'n/a', repeat: 2 }], repeat: 2 },
          { cells: ['Oculto', '1', '2'], hidden: true },
          { cells: [{ text: '', repeat: 16_384 }], repeat: 1_048_000 },
        ],
      },
      { name: 'Internal', hidden: true, rows: [{ cells: ['Key'] }, { cells: ['value'] }] },
    ]);
    expect(detectFormat('ventas.ods', bytes)).toBe('ods');
    const doc = await extractDocument(bytes, 'ventas.ods');
    expect(doc.format).toBe('ods');
    expect(doc.blocks.filter((b) => b.kind === 'heading').map((b) => b.text)).toEqual(['Ventas', 'Internal [hidden sheet]']);
    expect(doc.blocks[1]?.text.split('\n')).toEqual([
      '| # | Producto | Precio | Margen |',
      '| 2 | Café | 3,50 € | 12 % |',
      '| 3 | Té | n/a | n/a |',
      '| 4 | Té | n/a | n/a |',
      '| 5 [hidden row] | Oculto | 1 | 2 |',
    ]);
  });

  it('chunks of a long sheet each repeat the header row and name their rows', async () => {
    const rows: (string | number)[][] = [['Invoice', 'Customer', 'Amount']];
    for (let i = 1; i <= 300; i++) rows.push([`INV-${1000 + i}`, `Customer ${i}`, i * 10]);
    const doc = await extractDocument(xlsxDocument([{ name: 'Invoices', rows }]), 'invoices.xlsx');
    const chunks = await chunkDocument(doc.blocks, { maxTokens: 120, overlapTokens: 20, countTokens: estimateTokenCounter });
    expect(chunks.length).toBeGreaterThan(5);
    let expectedFirst = 2;
    for (const chunk of chunks) {
      expect(chunk.headingPath).toEqual(['Invoices']);
      expect(chunk.tokens).toBeLessThanOrEqual(120);
      const [table] = segmentTables(chunk.text).filter((s) => s.kind === 'table');
      expect(table?.kind === 'table' ? table.header : null).toEqual(['#', 'Invoice', 'Customer', 'Amount']);
      const range = rowRange(chunk.text);
      expect(range?.[0]).toBe(expectedFirst);
      expectedFirst = (range?.[1] ?? 0) + 1;
      // The repeated header is context, like the heading: the body is still the document's own text.
      expect(chunk.text.endsWith(chunkBody(chunk))).toBe(true);
    }
    expect(expectedFirst).toBe(302);
  });

  it('tables in HTML and DOCX-like HTML keep their header in every chunk', async () => {
    const body = Array.from({ length: 80 }, (_, i) => `<tr><td>Item ${i}</td><td>${i} kg</td></tr>`).join('');
    const html = `<h1>Stock</h1><table><tr><th>Item</th><th>Weight</th></tr>${body}</table>`;
    const doc = await extractDocument(new TextEncoder().encode(html), 'stock.html');
    const chunks = await chunkDocument(doc.blocks, { maxTokens: 80, overlapTokens: 10, countTokens: estimateTokenCounter });
    const tables = chunks.filter((c) => c.text.includes('Item 5'));
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks.filter((c) => /Item \d/.test(c.text))) expect(chunk.text).toContain('| Item | Weight |');
    expect(tables.length).toBeGreaterThan(0);
  });

  it('refuses a zip bomb, 10 million declared cells, huge shared strings and styles, each with its own reason', async () => {
    const bomb = await refusal(extractDocument(zipBombXlsx(), 'bomb.xlsx'));
    expect(bomb.reason).toBe('zip_bomb');
    expect(bomb.message).toMatch(/expands .* over the 100:1 limit; it may be a zip bomb/);

    const cells = await refusal(extractDocument(tenMillionCellsXlsx(), 'huge.xlsx'));
    expect(cells.reason).toBe('too_large');
    expect(cells.message).toBe('The sheet "Huge" (A1:J1000000) declares 10,000,000 cells, over the 1,000,000 limit. Split it into smaller files and add them.');

    const strings = await refusal(extractDocument(hugeSharedStringsXlsx(5_000_000), 'strings.xlsx'));
    expect(strings.message).toBe('This spreadsheet has 5,000,000 distinct texts, over the 1,000,000 limit.');

    const styles = await refusal(extractDocument(hugeStylesXlsx(1_000_000), 'styles.xlsx'));
    expect(styles.message).toBe('This spreadsheet has 1,000,000 cell styles, over the 65,000 limit.');

    // What a file really holds is counted too, whatever it declares.
    const rows = Array.from({ length: 40 }, (_, i) => ['a', 'b', String(i)]);
    const real = await refusal(extractDocument(xlsxDocument([{ name: 'S', rows, dimension: 'A1' }]), 'small-claim.xlsx', { maxCells: 100 }));
    expect(real.message).toMatch(/more than 100 cells \(reached in the sheet "S"\)/);

    const repeated = odsDocument([{ name: 'R', rows: [{ cells: [{ text: 'x', repeat: 16_384 }], repeat: 1_000 }] }]);
    const ods = await refusal(extractDocument(repeated, 'repeated.ods'));
    expect(ods.message).toMatch(/more than 1,000,000 cells \(reached in the sheet "R"\)/);

    // And the next file still reads.
    expect((await extractDocument(budgetWorkbook(), 'after.xlsx')).blocks.length).toBeGreaterThan(0);
  });
});
