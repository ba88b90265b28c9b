import AxeBuilder from '@axe-core/playwright';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, saveScreenshot, test } from './fixtures.ts';
import { markdownDocument, pdfDocument, writeDocuments } from './fixtures/documents/index.ts';
import { presetSpec, writeGguf } from './fixtures/gguf/writer.ts';
import { dropDocuments, importModelFile, openSection } from './pages.ts';

// Pinning a document to a conversation, with the keyboard only: found by name in the knowledge
// picker, given whole to the real model, shown in the sources panel as such, and unpinned.

let dir: string;
let chatModel: string;
let documents: Record<string, string>;

test.beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-pinned-e2e-'));
  chatModel = path.join(dir, 'reader.gguf');
  await writeGguf(chatModel, { ...presetSpec('tiny', 'Q8_0', 63), contextLength: 4096, quietEnd: true });
  documents = await writeDocuments(path.join(dir, 'docs'), {
    'ledger.pdf': await pdfDocument([
      { blocks: [{ kind: 'paragraph', text: 'The ledger lists three lanterns issued to the Brindlemoor watch.' }] },
      { blocks: [{ kind: 'paragraph', text: 'A fourth lantern was issued to the Saltmarsh ferry.' }] },
    ]),
    'recipes.md': markdownDocument({ sections: [{ heading: 'Bread', level: 1, paragraphs: ['Proof the marrowloaf dough for forty minutes.'] }] }),
  });
});

test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('pin a document with the keyboard, get it whole in the answer, see it in the sources panel, and unpin it', async ({ app }) => {
  test.setTimeout(120_000);
  const { page } = app;
  await importModelFile(app, chatModel, 'reader');
  await openSection(app, 'Documents');
  await page.getByRole('button', { name: 'New collection' }).first().click();
  const create = page.getByRole('dialog', { name: 'New collection' });
  await create.getByLabel('Name').fill('Harbour');
  await create.getByRole('button', { name: 'Create' }).click();
  await expect(create).toBeHidden();
  await dropDocuments(app, Object.values(documents));
  const table = page.getByTestId('documents-table');
  for (const name of Object.keys(documents))
    await expect(table.locator(`[data-document="${name}"]`)).toHaveAttribute('data-status', 'indexed', { timeout: 60_000 });

  await openSection(app, 'Chat');
  await page.keyboard.press('Control+n');
  await page.getByRole('button', { name: 'Settings', exact: true }).last().click();
  const settings = page.getByRole('dialog', { name: 'Conversation settings' });
  await settings.getByLabel('Maximum reply length').fill('16');
  await settings.getByRole('button', { name: 'Save', exact: true }).click();

  await page.getByTestId('knowledge-picker').click();
  const popover = page.getByTestId('knowledge-popover');
  await popover.getByLabel('Harbour').check();
  const find = popover.getByRole('combobox', { name: 'Pin a document…' });
  await find.focus();
  await page.keyboard.type('ledg');
  const option = popover.getByRole('listbox', { name: 'Documents to pin' }).getByRole('option', { name: 'ledger.pdf' });
  await expect(option).toBeVisible();
  await expect(popover.getByRole('option')).toHaveCount(1);
  await page.keyboard.press('Enter');
  const pinned = popover.getByTestId('pin-picker').locator('[data-document="ledger.pdf"]');
  await expect(pinned).toBeVisible();
  await expect(find).toHaveValue('');
  expect((await new AxeBuilder({ page }).include('[data-testid="knowledge-popover"]').analyze()).violations).toEqual([]);
  await saveScreenshot(app, 'chat-pin-picker');
  await page.keyboard.press('Escape');

  await page.getByRole('textbox', { name: 'Message', exact: true }).fill('How many lanterns were issued?');
  await page.getByRole('textbox', { name: 'Message', exact: true }).press('Enter');
  const panel = page.getByTestId('pinned-documents');
  await expect(panel).toBeVisible({ timeout: 30_000 });
  const entry = panel.locator('[data-document="ledger.pdf"]');
  await expect(entry).toHaveAttribute('data-pinned-state', 'whole');
  await expect(entry).toContainText('[D1]');
  await expect(entry).toContainText('2 pages');
  await expect(entry).toContainText(/Whole document, [\d,]+ tokens/);
  await expect(page.getByTestId('message-stats')).toBeVisible({ timeout: 30_000 });
  await saveScreenshot(app, 'chat-pinned-sources');
  // The pinned document opens in the viewer.
  await entry.getByRole('button').click();
  await expect(page.getByRole('dialog', { name: 'ledger.pdf' })).toBeVisible();
  await page.keyboard.press('Escape');

  // Unpinned from the picker: its entry there goes, and the next answer has nothing pinned.
  await page.getByTestId('knowledge-picker').click();
  await popover.getByRole('button', { name: 'Unpin ledger.pdf' }).click();
  await expect(pinned).toHaveCount(0);
  await page.keyboard.press('Escape');
});
