import AxeBuilder from '@axe-core/playwright';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openSeedCore, seedDocumentRows } from '../electron/test-support/archive-seed.ts';
import { expect, saveScreenshot, test, type AppUnderTest } from './fixtures.ts';
import { markdownDocument, writeDocuments } from './fixtures/documents/index.ts';
import { openSection } from './pages.ts';

// The Documents screen with 30,000 documents, in Chromium against the real services. The
// data folder is filled while the harness is stopped: 29,998 document rows written through
// the knowledge store on the real SQLite database and moved to indexed (seedDocumentRows,
// no file read), then a real folder added through the service: a Markdown file ingested
// through the queue, so it has passages and opens in the viewer, and a program it cannot
// read, listed as skipped with its reason. The page must find it by typing part of its name, open it and
// delete it, and the counts must follow without the list being fetched again.

const COUNT = 30_000;
const NAME = 'zephyrine-lease-agreement.md';

interface DocumentsCall {
  readonly id: number;
  readonly cursor: boolean;
  readonly query: string | null;
  rows: number | null;
}

/** Every knowledge.documents call the page sends on the harness socket, with the rows each answer held. */
function watchDocumentCalls(app: AppUnderTest): DocumentsCall[] {
  const calls: DocumentsCall[] = [];
  app.page.on('websocket', (socket) => {
    socket.on('framesent', ({ payload }) => {
      const message = JSON.parse(String(payload)) as { t: string; id: number; name?: string; input?: { cursor?: string; query?: string } };
      if (message.t === 'call' && message.name === 'knowledge.documents')
        calls.push({ id: message.id, cursor: message.input?.cursor !== undefined, query: message.input?.query ?? null, rows: null });
    });
    socket.on('framereceived', ({ payload }) => {
      const message = JSON.parse(String(payload)) as { t: string; id?: number; result?: { ok: boolean; value?: { documents?: unknown[] } } };
      if (message.t !== 'result') return;
      const call = calls.find((entry) => entry.id === message.id);
      if (call !== undefined) call.rows = message.result?.value?.documents?.length ?? 0;
    });
  });
  return calls;
}

const rowsFetched = (calls: readonly DocumentsCall[]) => calls.reduce((sum, call) => sum + (call.rows ?? 0), 0);

let source: string;

test.beforeAll(async () => {
  source = await mkdtemp(path.join(os.tmpdir(), 'soberana-documents-scale-'));
});

test.afterAll(async () => {
  await rm(source, { recursive: true, force: true });
});

test('with 30,000 documents: find one by typing part of its name, open it, delete it; the counts follow without reloading the list', async ({ app }) => {
  test.skip(app.target !== 'chromium', 'Seeds the data folder while the harness is stopped and counts calls on its socket, which only the chromium target has');
  test.setTimeout(300_000);

  await writeDocuments(path.join(source, 'Tenancy', 'Leases'), {
    [NAME]: markdownDocument({
      sections: [{ heading: 'Lease of the Zephyrine warehouse', level: 1, paragraphs: ['The tenant pays the rent of the Zephyrine warehouse every quarter.'] }],
    }),
    'setup.exe': new Uint8Array([0x4d, 0x5a, 0x90, 0x00, 0x03]),
  });
  let seedSeconds = 0;
  await app.restart(async () => {
    const started = performance.now();
    const core = await openSeedCore(app.dataDir);
    try {
      await seedDocumentRows(core, { collection: 'Archive', count: COUNT - 2, sourceRoot: source, files: [path.join(source, 'Tenancy')] });
    } finally {
      await core.close();
    }
    seedSeconds = (performance.now() - started) / 1000;
  });
  expect(seedSeconds, 'seeding 30,000 documents').toBeLessThan(60);

  // The socket opened before the test could listen: a reload opens a new one.
  const calls = watchDocumentCalls(app);
  await app.reload();
  const { page } = app;
  await openSection(app, 'Documents');
  const collection = page.getByTestId('collection-list').getByRole('button', { name: /Archive/ });
  await expect(collection).toContainText('30,000 documents');
  const table = page.getByTestId('documents-table');
  await expect(table).toHaveAttribute('aria-rowcount', String(COUNT + 1));
  await expect(page.getByTestId('status-all')).toContainText('30,000');
  await expect(page.getByTestId('documents-matching')).toContainText('30,000 documents');
  // A screenful of rows is in the page, not 30,000.
  const rendered = await table.locator('[data-list-row]').count();
  expect(rendered).toBeGreaterThan(5);
  expect(rendered).toBeLessThan(100);
  // Rows are reached by keyboard: one tab stop, arrows and Page Down move it, Home goes back.
  const first = table.locator('[data-list-row][data-index="0"]');
  await first.focus();
  await first.press('ArrowDown');
  await expect(table.locator('[data-list-row][data-index="1"]')).toBeFocused();
  await page.keyboard.press('PageDown');
  await expect(table.locator('[data-list-row]:focus')).toHaveAttribute('data-index', /^([5-9]|1[0-9])$/);
  await page.keyboard.press('Home');
  await expect(first).toBeFocused();
  await expect(table.locator('[data-list-row][tabindex="0"]')).toHaveCount(1);

  // Scrolling asks for the next pages, one at a time, and the search field stays in view.
  for (let i = 0; i < 4; i++) await table.evaluate((element) => element.scrollBy(0, 4_000));
  await expect.poll(() => calls.filter((call) => call.cursor).length, { timeout: 20_000 }).toBeGreaterThan(0);
  await expect(page.getByLabel('Search this collection')).toBeInViewport();
  await expect(page.getByRole('combobox', { name: 'Search in' })).toBeInViewport();
  await saveScreenshot(app, 'documents-scale-scrolled');
  expect(rowsFetched(calls), 'rows fetched after scrolling').toBeLessThan(2_000);

  // The folder tree: the seeded departments and the real file's folder, with their counts.
  const tree = page.getByRole('tree', { name: 'Folders' });
  await expect(tree.getByRole('treeitem', { name: /All folders/ })).toContainText('30,000');
  const tenancy = tree.getByRole('treeitem', { name: /^Tenancy/ });
  await tenancy.click();
  await expect(tenancy).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('documents-matching')).toContainText('2 documents');
  // The file Soberana cannot read is listed as skipped, with why.
  await expect(page.getByTestId('status-skipped')).toContainText('1');
  await page.getByTestId('status-skipped').click();
  const skipped = table.locator('[data-document="setup.exe"]');
  await expect(skipped).toHaveAttribute('data-status', 'skipped');
  await expect(skipped).toContainText('Skipped');
  await expect(skipped.getByRole('note')).not.toBeEmpty();
  await expect(page.getByTestId('documents-matching')).toContainText('1 document');
  await saveScreenshot(app, 'documents-scale-skipped');
  await page.getByTestId('status-all').click();
  // By keyboard: up to the root, choose it, down to the first department and open it.
  await tenancy.press('Home');
  const all = tree.getByRole('treeitem', { name: /All folders/ });
  await expect(all).toBeFocused();
  await all.press('Enter');
  await expect(page.getByTestId('documents-matching')).toContainText('30,000 documents');
  await all.press('ArrowDown');
  const finance = tree.getByRole('treeitem', { name: /^finance/ });
  await expect(finance).toBeFocused();
  await finance.press('ArrowRight');
  await expect(finance).toHaveAttribute('aria-expanded', 'true');
  await expect(tree.getByRole('treeitem', { name: /^2019/ }).first()).toBeVisible();
  await saveScreenshot(app, 'documents-scale-folders');

  // Find it by typing part of its name: the combobox lists it, the table shows only it.
  const searchIn = page.getByRole('combobox', { name: 'Search in' });
  await searchIn.click();
  await searchIn.pressSequentially('zephyr', { delay: 40 });
  await expect(searchIn).toHaveAttribute('aria-expanded', 'true');
  const option = page.getByRole('listbox', { name: 'Documents that match' }).getByRole('option', { name: NAME });
  await expect(option).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('documents-matching')).toContainText('1 document');
  await saveScreenshot(app, 'documents-scale-combobox');
  // The screen at scale, the folder tree open and the matches listed, passes axe in both themes.
  for (const theme of ['dark', 'light'] as const) {
    await page.evaluate((value) => document.documentElement.setAttribute('data-theme', value), theme);
    const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
    expect(results.violations.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`)).toEqual([]);
    await saveScreenshot(app, `documents-scale-${theme}`);
  }
  // Chosen with the keyboard: typing made the first match the active option; the arrows go
  // round the options, "All documents" first.
  const optionId = (await option.getAttribute('id'))!;
  await expect(searchIn).toHaveAttribute('aria-activedescendant', optionId);
  await searchIn.press('ArrowDown');
  await expect(searchIn).toHaveAttribute('aria-activedescendant', /-option-0$/);
  await searchIn.press('ArrowUp');
  await expect(searchIn).toHaveAttribute('aria-activedescendant', optionId);
  await searchIn.press('Enter');
  await expect(searchIn).toHaveAttribute('aria-expanded', 'false');
  await expect(searchIn).toHaveValue(NAME);
  const row = table.locator(`[data-document="${NAME}"]`);
  await expect(row).toHaveAttribute('data-status', 'indexed');

  // Open it in the viewer.
  await row.getByRole('button', { name: `Open ${NAME}` }).click();
  const viewer = page.getByRole('dialog', { name: NAME });
  await expect(viewer).toContainText('The tenant pays the rent of the Zephyrine warehouse');
  await page.keyboard.press('Escape');
  await expect(viewer).toBeHidden();

  // Delete it: its row goes, the counts say 29,999, and the list is not fetched again.
  const before = calls.length;
  const rowsBefore = rowsFetched(calls);
  await row.getByRole('button', { name: `Remove ${NAME}` }).click();
  await expect(row).toHaveCount(0);
  await expect(collection).toContainText('29,999 documents');
  await expect(page.getByTestId('status-all')).toContainText('29,999');
  // Room for whatever the deletion would set off (the change event, a refetch) to be sent and answered.
  await page.waitForTimeout(2_500);
  const after = calls.slice(before);
  expect(
    after.filter((call) => call.cursor),
    'no page past the first is fetched again',
  ).toEqual([]);
  expect(after.length, 'knowledge.documents calls after the deletion').toBeLessThanOrEqual(1);
  expect(rowsFetched(calls) - rowsBefore, 'rows fetched after the deletion').toBeLessThanOrEqual(100);

  // Clearing the name shows the whole collection again, one document fewer.
  await searchIn.press('Escape');
  await expect(searchIn).toHaveValue('');
  await expect(page.getByTestId('documents-matching')).toContainText('29,999 documents');
  await expect(table).toHaveAttribute('aria-rowcount', String(COUNT));
  expect(rowsFetched(calls), 'rows fetched in the whole test').toBeLessThan(3_000);
});
