import AxeBuilder from '@axe-core/playwright';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, saveScreenshot, test, type AppUnderTest } from './fixtures.ts';
import {
  corruptPdf,
  deepHtml,
  docxDocument,
  encryptedPdf,
  htmlDocument,
  markdownDocument,
  pdfDocument,
  unknownBinary,
  writeDocuments,
  zipBombDocx,
} from './fixtures/documents/index.ts';
import { gv } from './fixtures/gguf/index.ts';
import { presetSpec, writeGguf } from './fixtures/gguf/writer.ts';
import { dropDocuments, importModelFile, openSection } from './pages.ts';

// Documents end to end, in Chromium against the real services: a collection, four kinds of
// documents made here with known content, progress, a question in chat with the collection
// attached, the sources panel, and the viewer at the cited page.

const FILLER = 'Routine minutes of the standing committee cover budgets, staffing and the archive schedule for the coming quarter.';

let dir: string;
let chatModel: string;
let embeddingModel: string;
let documents: Record<string, string>;
let hostile: Record<string, string>;

test.beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-documents-e2e-'));
  chatModel = path.join(dir, 'reader.gguf');
  embeddingModel = path.join(dir, 'finder.gguf');
  await writeGguf(chatModel, { ...presetSpec('tiny', 'Q8_0', 61), contextLength: 4096, quietEnd: true });
  await writeGguf(embeddingModel, { ...presetSpec('tiny', 'Q8_0', 62), name: 'finder', extraMetadata: [['llama.pooling_type', gv.u32(1)]] });
  documents = await writeDocuments(path.join(dir, 'docs'), {
    'treaties.pdf': await pdfDocument(
      [
        {
          blocks: [
            { kind: 'heading', text: 'Treaties of the northern coast' },
            { kind: 'paragraph', text: FILLER },
          ],
        },
        {
          blocks: [
            { kind: 'heading', text: 'The Quillfeather accord' },
            { kind: 'paragraph', text: 'The Quillfeather accord was signed in the harbour town of Vantora in 1847 by both councils.' },
          ],
        },
        { blocks: [{ kind: 'paragraph', text: FILLER }] },
      ],
      { title: 'Treaties' },
    ),
    'handbook.docx': docxDocument([
      { heading: 1, text: 'Staff handbook' },
      { heading: 2, text: 'Leave' },
      { text: 'Each employee receives thirty-one days of zorbalite leave every calendar year.' },
      { text: FILLER },
    ]),
    'lighthouses.html': htmlDocument({
      title: 'Lighthouses',
      sections: [{ heading: 'Kelmarsh light', level: 1, paragraphs: ['The Kelmarsh lighthouse flashes green every nine seconds.', FILLER] }],
    }),
    'recipes.md': markdownDocument({
      sections: [{ heading: 'Bread', level: 1, paragraphs: ['Proof the marrowloaf dough for exactly forty minutes.', FILLER] }],
    }),
  });
  hostile = await writeDocuments(path.join(dir, 'hostile'), {
    'locked.pdf': encryptedPdf(),
    'broken.pdf': corruptPdf(),
    'bomb.docx': zipBombDocx(),
    'nested.html': deepHtml(),
    'mystery.txt': unknownBinary(),
  });
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
  await expect(page.getByTestId('collection-list')).toContainText(name);
}

test('drop four kinds of documents into a collection, ask in chat, and open the cited page', async ({ app }) => {
  test.setTimeout(120_000);
  const { page } = app;
  await importModelFile(app, chatModel, 'reader');
  await importModelFile(app, embeddingModel, 'finder');
  await createCollection(app, 'Archive');
  await expect(page.getByTestId('text-only-notice')).toBeHidden();

  await dropDocuments(app, Object.values(documents));
  const progress = page.getByTestId('ingest-progress');
  await expect(progress).toBeVisible();
  await expect(progress).toContainText(/pages\/s/);
  const table = page.getByTestId('documents-table');
  for (const name of Object.keys(documents))
    await expect(table.locator(`[data-document="${name}"]`)).toHaveAttribute('data-status', 'indexed', { timeout: 60_000 });
  await expect(progress).toContainText('Added 4, unchanged 0, failed 0, skipped 0');
  await expect(table.locator('[data-document="treaties.pdf"]')).toContainText('3');
  await saveScreenshot(app, 'documents-collection');

  // The raw search box shows what the index knows.
  await page.getByLabel('Search this collection').fill('Kelmarsh lighthouse');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page.getByTestId('search-results').getByRole('listitem').first()).toContainText('lighthouses.html');
  await expect(page.getByTestId('search-meta')).toContainText('words and meaning');
  await expect(page.getByTestId('search-results').locator('mark').first()).toHaveText(/Kelmarsh/i);
  await saveScreenshot(app, 'documents-search');
  // Filtered to one document, only its passages come back.
  const searchIn = page.getByRole('combobox', { name: 'Search in' });
  await searchIn.fill('recip');
  await page.getByRole('listbox', { name: 'Documents that match' }).getByRole('option', { name: 'recipes.md' }).click();
  await expect(searchIn).toHaveValue('recipes.md');
  await expect(page.getByTestId('search-results').getByRole('listitem').first()).toContainText('recipes.md');
  for (const item of await page.getByTestId('search-results').getByRole('listitem').all()) await expect(item).toContainText('recipes.md');
  // Typing in "Search in" filters the table by name too; "All documents" brings every row back.
  await expect(table.locator('[data-list-row]')).toHaveCount(1);
  await searchIn.click();
  await page.getByRole('option', { name: 'All documents' }).click();
  await expect(searchIn).toHaveValue('');
  await expect(table.locator('[data-list-row]')).toHaveCount(4);

  // Ask in chat with the collection attached.
  await openSection(app, 'Chat');
  await page.keyboard.press('Control+n');
  await page.getByRole('button', { name: 'Settings', exact: true }).last().click();
  const settings = page.getByRole('dialog', { name: 'Conversation settings' });
  await settings.getByLabel('Maximum reply length').fill('24');
  await settings.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByTestId('knowledge-picker').click();
  await page.getByTestId('knowledge-popover').getByLabel('Archive').check();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('knowledge-picker')).toHaveText('Archive');
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill('Where was the Quillfeather accord signed?');
  await page.getByRole('textbox', { name: 'Message', exact: true }).press('Enter');
  const sources = page.getByTestId('sources-panel');
  await expect(sources).toBeVisible({ timeout: 30_000 });
  const cited = sources.locator('[data-document="treaties.pdf"][data-page="2"]');
  await expect(cited).toHaveCount(1);
  await expect(cited.locator('mark', { hasText: /^Quillfeather$/i }).first()).toBeVisible();
  await expect(page.getByTestId('message-stats')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('message-sources')).toBeVisible();
  await saveScreenshot(app, 'chat-sources');

  // Clicking the source opens the PDF at that page, rendered by pdf.js.
  await cited.getByRole('button').click();
  const viewer = page.getByRole('dialog', { name: 'treaties.pdf' });
  await expect(viewer.getByTestId('viewer-page')).toHaveText('Page 2 of 3');
  await expect(viewer.getByTestId('viewer-page')).toHaveAttribute('data-rendered', '2', { timeout: 20_000 });
  await expect(viewer).toContainText('The Quillfeather accord was signed');
  await saveScreenshot(app, 'document-viewer');
  await page.keyboard.press('Escape');
  await expect(viewer).toBeHidden();

  // The answer keeps its sources after a restart.
  await app.restart();
  await openSection(app, 'Chat');
  await app.page.getByTestId('conversation-list').getByRole('button').first().click();
  await expect(app.page.getByTestId('sources-panel').locator('[data-document="treaties.pdf"][data-page="2"]')).toHaveCount(1);
});

test('hostile files each get a readable error, and the collection keeps working', async ({ app }) => {
  test.setTimeout(90_000);
  const { page } = app;
  await createCollection(app, 'Inbox');
  // No embedding model: full-text search alone, and the screen says so.
  await expect(page.getByTestId('text-only-notice')).toContainText('searched by words only');
  await dropDocuments(app, [...Object.values(hostile), documents['recipes.md']!]);
  const table = page.getByTestId('documents-table');
  await expect(table.locator('[data-document="recipes.md"]')).toHaveAttribute('data-status', 'indexed', { timeout: 60_000 });
  const expected: Record<string, RegExp> = {
    'locked.pdf': /password-protected/,
    'broken.pdf': /damaged|could not be read|not a valid PDF/i,
    'bomb.docx': /zip bomb/,
    'nested.html': /nests deeper/,
    'mystery.txt': /binary data/,
  };
  for (const [name, message] of Object.entries(expected)) {
    const row = table.locator(`[data-document="${name}"]`);
    await expect(row).toHaveAttribute('data-status', 'failed', { timeout: 30_000 });
    await expect(row).toContainText(message);
  }
  await expect(page.getByTestId('ingest-progress')).toContainText('Added 1, unchanged 0, failed 5');
  await saveScreenshot(app, 'documents-hostile');

  // "Retry failed" queues the five again as one run; each fails again for the same reason.
  const retry = page.getByTestId('retry-failed');
  await expect(retry).toHaveText('Retry failed (5)');
  await retry.click();
  await expect(page.getByTestId('ingest-progress')).toContainText('Added 0, unchanged 0, failed 5', { timeout: 60_000 });
  await expect(retry).toHaveText('Retry failed (5)');
  await expect(table.locator('[data-document="locked.pdf"]')).toContainText(/password-protected/);

  await page.getByLabel('Search this collection').fill('marrowloaf');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page.getByTestId('search-results').getByRole('listitem').first()).toContainText('recipes.md');
  await expect(page.getByTestId('search-meta')).toContainText('by words in');

  // Removing a document takes its passages with it.
  await table.getByRole('button', { name: 'Remove recipes.md' }).click();
  await expect(table.locator('[data-document="recipes.md"]')).toHaveCount(0);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page.getByTestId('search-results').getByRole('listitem')).toHaveCount(0);
});

test('the documents screen passes axe in both themes', async ({ app }) => {
  await createCollection(app, 'Empty one');
  for (const theme of ['light', 'dark'] as const) {
    await app.page.evaluate((value) => document.documentElement.setAttribute('data-theme', value), theme);
    const results = await new AxeBuilder({ page: app.page }).withTags(['wcag2a', 'wcag2aa']).analyze();
    expect(results.violations.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`)).toEqual([]);
    await saveScreenshot(app, `documents-empty-${theme}`);
  }
});
