import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, saveScreenshot, test } from './fixtures.ts';
import { writeDocuments } from './fixtures/documents/index.ts';
import { tenMillionCellsXlsx, xlsxDocument, zipBombXlsx } from './fixtures/documents/sheets.ts';
import { dropDocuments, openSection } from './pages.ts';

// A spreadsheet dropped like any document: each sheet a section, its rows searchable by the
// names of their columns, the cited rows shown as a table; hostile workbooks refused by reason.

let dir: string;
let files: Record<string, string>;

test.beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-sheets-e2e-'));
  const rows: (string | number | { value: number; format: string })[][] = [['Supplier', 'Warehouse', 'Unit cost', 'Delivered']];
  for (let i = 1; i <= 120; i++) {
    rows.push([
      i === 77 ? 'Brindlewick Farms' : `Supplier ${i}`,
      `Depot ${i % 7}`,
      { value: i * 1.25, format: '"$"#,##0.00' },
      { value: 45352 + i, format: 'yyyy-mm-dd' },
    ]);
  }
  files = await writeDocuments(path.join(dir, 'docs'), {
    'suppliers.xlsx': xlsxDocument([
      { name: 'Suppliers', rows },
      { name: 'Old prices', hidden: true, rows: [['Supplier'], ['Former vendor']] },
    ]),
    'bomb.xlsx': zipBombXlsx(),
    'huge.xlsx': tenMillionCellsXlsx(),
  });
});

test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('drop an XLSX, find a value by its column name, and see the cited rows as a table', async ({ app }) => {
  test.setTimeout(120_000);
  const { page } = app;
  await openSection(app, 'Documents');
  await page.getByRole('button', { name: 'New collection' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'New collection' });
  await dialog.getByLabel('Name').fill('Purchasing');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(dialog).toBeHidden();

  await dropDocuments(app, [files['suppliers.xlsx']!, files['bomb.xlsx']!, files['huge.xlsx']!]);
  const table = page.getByTestId('documents-table');
  await expect(table.locator('[data-document="suppliers.xlsx"]')).toHaveAttribute('data-status', 'indexed', { timeout: 60_000 });
  await expect(table.locator('[data-document="bomb.xlsx"]')).toHaveAttribute('data-status', 'failed', { timeout: 30_000 });
  await expect(table.locator('[data-document="bomb.xlsx"]')).toContainText(/zip bomb/);
  await expect(table.locator('[data-document="huge.xlsx"]')).toHaveAttribute('data-status', 'failed', { timeout: 30_000 });
  await expect(table.locator('[data-document="huge.xlsx"]')).toContainText(/declares 10,000,000 cells/);

  // The column's name and a value from its row find the row: the header is in every passage.
  await page.getByLabel('Search this collection').fill('Supplier Brindlewick unit cost');
  await page.getByLabel('Search this collection').press('Enter');
  const first = page.getByTestId('search-results').getByRole('listitem').first();
  await expect(first).toContainText('suppliers.xlsx', { timeout: 30_000 });
  await expect(first).toContainText('Suppliers');
  // The card's snippet starts with the header; the row itself is checked in the viewer below.
  await expect(first).toContainText('| # | Supplier | Warehouse | Unit cost | Delivered |');
  await first.getByRole('button').first().click();

  const viewer = page.getByTestId('document-viewer');
  const target = viewer.locator('[data-target="true"]');
  await expect(target.locator('table thead th').nth(1)).toHaveText('Supplier');
  await expect(target.locator('table thead th').nth(3)).toHaveText('Unit cost');
  const row = target.locator('table tbody tr', { hasText: 'Brindlewick Farms' });
  await expect(row.locator('td').first()).toHaveText('78');
  await expect(row.locator('td').nth(3)).toHaveText('$96.25');
  await expect(row.locator('td').nth(4)).toHaveText('2024-05-17');
  // The hidden sheet is indexed and says it is hidden.
  await expect(viewer).toContainText('Old prices [hidden sheet]');
  await saveScreenshot(app, 'documents-spreadsheet');
});
