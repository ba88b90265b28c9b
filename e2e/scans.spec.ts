import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { renderPage } from '../electron/test-support/scanned-pages.ts';
import { expect, saveScreenshot, test, type AppUnderTest } from './fixtures.ts';
import { presetSpec, writeGguf } from './fixtures/gguf/writer.ts';
import { dropDocuments, importModelFile, openSection } from './pages.ts';

// A scanned letter: a PDF made here whose only page is a picture of text, with no text layer.
// Dropped into a collection it is read by OCR; a sentence on it is found, the passage says it
// comes from a scan, and the viewer opens the page with the cited words marked.

const LINES = ['The harbour board approved the Wexcombe dredging', 'contract on the third of March, after a long debate.'];

let dir: string;
let scan: string;
let chatModel: string;

test.beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-scans-e2e-'));
  const image = renderPage({ lines: LINES, dpi: 200, widthInches: 6.5 });
  const pdf = await PDFDocument.create();
  const png = await pdf.embedPng(image.bytes);
  const width = (image.width / 200) * 72;
  const height = (image.height / 200) * 72;
  pdf.addPage([width, height]).drawImage(png, { x: 0, y: 0, width, height });
  scan = path.join(dir, 'scanned-letter.pdf');
  await writeFile(scan, await pdf.save());
  // A chat model made here: its answer is gibberish, but the passages it was given are real.
  chatModel = path.join(dir, 'reader.gguf');
  await writeGguf(chatModel, { ...presetSpec('tiny', 'Q8_0', 61), contextLength: 4096, quietEnd: true });
});

test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function createCollection(app: AppUnderTest, name: string) {
  const { page } = app;
  await openSection(app, 'Documents');
  await page.getByRole('button', { name: 'New collection' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'New collection' });
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(dialog).toBeHidden();
}

test('a scanned PDF is read by OCR, found by a sentence on it, and opened with the words marked', async ({ app }) => {
  // OCR is slow on a busy two-core machine: one small page, and generous limits.
  test.setTimeout(180_000);
  const { page } = app;
  await createCollection(app, 'Scans');
  await dropDocuments(app, [scan]);
  const table = page.getByTestId('documents-table');
  await expect(table.locator('[data-document="scanned-letter.pdf"]')).toHaveAttribute('data-status', 'indexed', { timeout: 120_000 });

  await page.getByLabel('Search this collection').fill('Wexcombe dredging contract');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  const first = page.getByTestId('search-results').getByRole('listitem').first();
  await expect(first).toContainText('scanned-letter.pdf');
  await expect(first.getByTestId('from-scan')).toHaveText('from a scan');
  await saveScreenshot(app, 'scan-search');

  await first.getByRole('button').first().click();
  const viewer = page.getByRole('dialog', { name: 'scanned-letter.pdf' });
  await expect(viewer.getByTestId('viewer-page')).toHaveAttribute('data-rendered', '1', { timeout: 30_000 });
  const canvas = viewer.locator('canvas');
  await expect(canvas).not.toHaveAttribute('data-marked', '0');
  expect(Number(await canvas.getAttribute('data-marked'))).toBeGreaterThanOrEqual(5);
  await expect(viewer.getByTestId('from-scan')).toBeVisible();
  await saveScreenshot(app, 'scan-viewer');
});

test('asked in chat about a sentence on a scanned PDF, the sources panel opens the page with the words marked', async ({ app }) => {
  // OCR and a generated model's answer on a busy two-core machine: generous limits.
  test.setTimeout(240_000);
  const { page } = app;
  await importModelFile(app, chatModel, 'reader');
  await createCollection(app, 'Letters');
  await dropDocuments(app, [scan]);
  await expect(page.getByTestId('documents-table').locator('[data-document="scanned-letter.pdf"]')).toHaveAttribute('data-status', 'indexed', {
    timeout: 120_000,
  });

  // A new conversation with the collection attached, and a short reply.
  await openSection(app, 'Chat');
  await page.keyboard.press('Control+n');
  await page.getByRole('button', { name: 'Settings', exact: true }).last().click();
  const settings = page.getByRole('dialog', { name: 'Conversation settings' });
  await settings.getByLabel('Maximum reply length').fill('24');
  await settings.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByTestId('knowledge-picker').click();
  await page.getByTestId('knowledge-popover').getByLabel('Letters').check();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('knowledge-picker')).toHaveText('Letters');
  const message = page.getByRole('textbox', { name: 'Message', exact: true });
  await message.fill('What did the harbour board approve about the Wexcombe dredging contract?');
  await message.press('Enter');

  // The passage read from the scan is the answer's source, on page 1, with the sentence's words marked.
  const sources = page.getByTestId('sources-panel');
  await expect(sources).toBeVisible({ timeout: 60_000 });
  const cited = sources.locator('[data-document="scanned-letter.pdf"][data-page="1"]');
  await expect(cited).toHaveCount(1);
  await expect(cited.locator('mark', { hasText: /^Wexcombe$/i }).first()).toBeVisible();
  await expect(page.getByTestId('message-stats')).toBeVisible({ timeout: 60_000 });
  await saveScreenshot(app, 'scan-chat-sources');

  // Opening it shows the scanned page, rendered, with the cited words marked from OCR's word boxes.
  await cited.getByRole('button').first().click();
  const viewer = page.getByRole('dialog', { name: 'scanned-letter.pdf' });
  await expect(viewer.getByTestId('viewer-page')).toHaveText('Page 1 of 1');
  await expect(viewer.getByTestId('viewer-page')).toHaveAttribute('data-rendered', '1', { timeout: 30_000 });
  const canvas = viewer.locator('canvas');
  await expect(canvas).not.toHaveAttribute('data-marked', '0');
  expect(Number(await canvas.getAttribute('data-marked'))).toBeGreaterThanOrEqual(5);
  await expect(viewer.getByTestId('from-scan')).toBeVisible();
  await saveScreenshot(app, 'scan-chat-viewer');
});
