import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvDocument, writeDocuments } from '../../../../../../e2e/fixtures/documents/index.ts';
import { hugeSharedStringsXlsx, odsDocument, tenMillionCellsXlsx, xlsxDocument, zipBombXlsx } from '../../../../../../e2e/fixtures/documents/sheets.ts';
import { createExtractorPool } from './pool.ts';

// The spreadsheet readers in the extraction worker, as ingestion runs them: behind the worker's
// egress guard (no way out, and any attempt reported), with hostile files refused one by one
// while the same workers go on reading the next file.

let dir = '';
let files: Record<string, string> = {};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'soberana-sheets-'));
  files = await writeDocuments(dir, {
    'prices.xlsx': xlsxDocument([
      {
        name: 'Prices',
        rows: [
          ['Item', 'Price'],
          ['Tea', { value: 3.5, format: '"$"0.00' }],
        ],
      },
    ]),
    'ventas.ods': odsDocument([{ name: 'Ventas', rows: [{ cells: ['Producto', 'Precio'] }, { cells: ['Café', { text: '3,50 €', value: 3.5 }] }] }]),
    'list.csv': csvDocument([
      ['name', 'city'],
      ['Ana', 'Lima'],
    ]),
    'bomb.xlsx': zipBombXlsx(),
    'huge.xlsx': tenMillionCellsXlsx(),
    'strings.xlsx': hugeSharedStringsXlsx(),
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('spreadsheets in the extraction worker', () => {
  it('reads XLSX, ODS and CSV without any attempt to reach the network', async () => {
    const blocked: unknown[] = [];
    const pool = createExtractorPool(1, { onEgressBlocked: (attempt) => blocked.push(attempt) });
    try {
      expect((await pool.checkEgress()).guarded).toBe(true);
      blocked.length = 0; // the check's own five attempts
      const xlsx = await pool.extract(files['prices.xlsx'] ?? '');
      expect(xlsx.blocks.map((b) => b.text)).toEqual(['Prices', '| # | Item | Price |\n| 2 | Tea | $3.50 |']);
      const ods = await pool.extract(files['ventas.ods'] ?? '');
      expect(ods.blocks.at(-1)?.text).toBe('| # | Producto | Precio |\n| 2 | Café | 3,50 € |');
      const csv = await pool.extract(files['list.csv'] ?? '');
      expect(csv.blocks[0]?.text).toBe('| # | name | city |\n| 2 | Ana | Lima |');
      expect(blocked).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('refuses each hostile workbook with its own reason, and the next file still works', async () => {
    const pool = createExtractorPool(1);
    try {
      const failure = (name: string) =>
        pool.extract(files[name] ?? '').then(
          () => null,
          (error: unknown) => error as { reason: string; message: string },
        );
      expect(await failure('bomb.xlsx')).toMatchObject({ reason: 'zip_bomb', message: expect.stringMatching(/may be a zip bomb/) });
      expect(await failure('huge.xlsx')).toMatchObject({ reason: 'too_large', message: expect.stringMatching(/declares 10,000,000 cells/) });
      expect(await failure('strings.xlsx')).toMatchObject({ reason: 'too_large', message: expect.stringMatching(/5,000,000 distinct texts/) });
      expect((await pool.extract(files['prices.xlsx'] ?? '')).format).toBe('xlsx');
    } finally {
      await pool.close();
    }
  });
});
