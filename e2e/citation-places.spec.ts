import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { renderPage } from '../electron/test-support/scanned-pages.ts';
import { expect, saveScreenshot, test } from './fixtures.ts';
import { writeDocuments } from './fixtures/documents/index.ts';
import { xlsxDocument } from './fixtures/documents/sheets.ts';
import { presetSpec, writeGguf } from './fixtures/gguf/writer.ts';
import { collectionWith, importModelFile, openSection } from './pages.ts';

// Where a citation stands: a spreadsheet passage names its sheet and its rows, in the search
// results and in the chat's sources; a PNG scan opens as its picture, the cited words marked.

let dir: string;
let sheet: string;
let scan: string;
let chatModel: string;

test.beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-places-e2e-'));
  const rows: (string | number)[][] = [['Supplier', 'Warehouse', 'Units']];
  for (let i = 1; i <= 120; i++) rows.push([i === 77 ? 'Brindlewick Farms' : `Supplier ${i}`, `Depot ${i % 7}`, i * 3]);
  const files = await writeDocuments(path.join(dir, 'docs'), { 'suppliers.xlsx': xlsxDocument([{ name: 'Suppliers', rows }]) });
  sheet = files['suppliers.xlsx']!;
  scan = path.join(dir, 'harbour-scan.png');
  await writeFile(
    scan,
    renderPage({ lines: ['The harbour board approved the Wexcombe dredging', 'contract on the third of March.'], dpi: 150, widthInches: 6 }).bytes,
  );
  // A chat model made here: its answer is gibberish, but the passages it was given are real.
  chatModel = path.join(dir, 'reader.gguf');
  await writeGguf(chatModel, { ...presetSpec('tiny', 'Q8_0', 61), contextLength: 4096, quietEnd: true });
});

test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const PLACE = /^Suppliers · rows (\d+)–(\d+)$/;

/** Whether a citation's "Sheet · rows a–b" holds the sheet's row 78 (Brindlewick Farms). */
function holds78(place: string): boolean {
  const [, first, last] = PLACE.exec(place) ?? [];
  return Number(first) <= 78 && Number(last) >= 78;
}

test('a spreadsheet passage names its sheet and rows, in search results and in the chat sources', async ({ app }) => {
  test.setTimeout(240_000);
  const { page } = app;
  await importModelFile(app, chatModel, 'reader');
  await collectionWith(app, 'Purchasing', sheet);

  await page.getByLabel('Search this collection').fill('Brindlewick Farms');
  await page.getByLabel('Search this collection').press('Enter');
  const first = page.getByTestId('search-results').getByRole('listitem').first();
  await expect(first).toContainText('suppliers.xlsx', { timeout: 30_000 });
  await expect(first.getByTestId('passage-place')).toHaveText(PLACE);
  expect(holds78((await first.getByTestId('passage-place').textContent()) ?? '')).toBe(true);
  await saveScreenshot(app, 'sheet-rows-search');

  await openSection(app, 'Chat');
  await page.keyboard.press('Control+n');
  await page.getByRole('button', { name: 'Settings', exact: true }).last().click();
  const settings = page.getByRole('dialog', { name: 'Conversation settings' });
  await settings.getByLabel('Maximum reply length').fill('24');
  await settings.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByTestId('knowledge-picker').click();
  await page.getByTestId('knowledge-popover').getByLabel('Purchasing').check();
  await page.keyboard.press('Escape');
  const message = page.getByRole('textbox', { name: 'Message', exact: true });
  await message.fill('Which depot does Brindlewick Farms deliver to?');
  await message.press('Enter');
  const sources = page.getByTestId('sources-panel');
  await expect(sources).toBeVisible({ timeout: 60_000 });
  // Every source names the sheet and its rows; the row asked about is among them.
  const places = sources.locator('[data-document="suppliers.xlsx"]').getByTestId('passage-place');
  await expect(places.first()).toHaveText(PLACE);
  const texts = await places.allTextContents();
  expect(texts.every((text) => PLACE.test(text))).toBe(true);
  expect(texts.some(holds78)).toBe(true);
  await expect(page.getByTestId('message-stats')).toBeVisible({ timeout: 60_000 });
  await saveScreenshot(app, 'sheet-rows-chat-sources');
});

test('a PNG scan opens as its picture with the cited words marked from the OCR word boxes', async ({ app }) => {
  // OCR is slow on a busy two-core machine: one small page, and generous limits.
  test.setTimeout(180_000);
  const { page } = app;
  await collectionWith(app, 'Scans', scan);
  await page.getByLabel('Search this collection').fill('Wexcombe dredging contract');
  await page.getByLabel('Search this collection').press('Enter');
  const first = page.getByTestId('search-results').getByRole('listitem').first();
  await expect(first).toContainText('harbour-scan.png', { timeout: 30_000 });
  await expect(first.getByTestId('from-scan')).toHaveText('from a scan');
  await first.getByRole('button').first().click();

  const viewer = page.getByRole('dialog', { name: 'harbour-scan.png' });
  const canvas = viewer.getByTestId('viewer-scan');
  await expect(canvas).toHaveAttribute('data-rendered', 'true', { timeout: 30_000 });
  expect(Number(await canvas.getAttribute('data-marked'))).toBeGreaterThanOrEqual(5);
  await expect(viewer.getByRole('complementary', { name: 'Cited passage' })).toContainText('Wexcombe');
  await expect(viewer.getByTestId('from-scan')).toBeVisible();
  await saveScreenshot(app, 'png-scan-viewer');
});
