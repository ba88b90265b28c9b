import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, saveScreenshot, test, type AppUnderTest } from './fixtures.ts';
import { importFiles } from './pages.ts';
import { MALFORMED_KINDS, writeMalformed } from './fixtures/gguf/malformed.ts';
import { presetSpec, writeGguf } from './fixtures/gguf/writer.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const THIRD_PARTY = path.join(root, '../shared/fixtures/gguf/llama-2-tiny-random.gguf');

let dir: string;
test.beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-models-e2e-'));
});
test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function openModels(app: AppUnderTest) {
  await app.page.getByRole('navigation').getByRole('button', { name: 'Models' }).click();
}

test('the empty library explains how models reach an offline machine', async ({ app }) => {
  await openModels(app);
  const { page } = app;
  await expect(page.getByText('No models yet')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Import model files…' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Import a folder…' })).toBeVisible();
  await expect(page.getByText('signed bundle')).toBeVisible();
});

test('import by copy and by reference, inspect facts and fit, load, unload, rename and delete', async ({ app }) => {
  const { page } = app;
  const copied = path.join(dir, 'alpha-chat.gguf');
  const referenced = path.join(dir, 'beta-chat.gguf');
  await writeGguf(copied, { ...presetSpec('tiny', 'Q8_0', 21), contextLength: 2048, quietEnd: true });
  await writeGguf(referenced, { ...presetSpec('tiny', 'F16', 22), contextLength: 1024 });
  await openModels(app);

  const dialog = await importFiles(app, [copied, referenced], { 'beta-chat': 'Leave in place' });
  await expect(dialog.locator('[data-candidate="alpha-chat"]')).toContainText('Imported', { timeout: 20_000 });
  await expect(dialog.locator('[data-candidate="beta-chat"]')).toContainText('Imported', { timeout: 20_000 });
  await saveScreenshot(app, 'models-import-dialog');
  await dialog.getByRole('button', { name: 'Close' }).first().click();

  const table = page.getByTestId('models-table');
  await expect(table.locator('[data-list-row]')).toHaveCount(2);
  await expect(table.locator('[data-model="alpha-chat"]')).toContainText('MOSTLY_Q8_0');
  await expect(table.locator('[data-model="beta-chat"]')).toContainText('MOSTLY_F16');
  await expect(table.locator('[data-model="alpha-chat"]')).toContainText(/CPU · [\d,]+ ctx|GPU/, { timeout: 20_000 });

  // Facts and fit, reached by keyboard.
  await table.locator('[data-model="alpha-chat"]').focus();
  await page.keyboard.press('Enter');
  const details = page.getByTestId('model-details');
  await expect(details.getByRole('heading', { name: 'alpha-chat' })).toBeVisible();
  await expect(details.getByTestId('model-facts')).toContainText('llama');
  await expect(details.getByTestId('model-facts')).toContainText('Copy into the library');
  await expect(details.getByTestId('fit-details')).toContainText('Memory needed');
  await expect(details.getByTestId('fit-details')).toContainText('Fits in the free memory now.');
  await saveScreenshot(app, 'models-details');

  // Load and unload.
  await details.getByRole('button', { name: 'Load', exact: true }).click();
  await expect(page.getByTestId('status-model')).toHaveText('alpha-chat', { timeout: 20_000 });
  await expect(table.locator('[data-model="alpha-chat"]')).toContainText('Loaded');
  await details.getByRole('button', { name: 'Unload' }).click();
  await expect(page.getByTestId('status-runtime')).toHaveAttribute('data-status', 'idle');

  // Rename.
  await details.getByRole('button', { name: 'Rename' }).click();
  await details.getByLabel('New name').fill('Alpha, renamed');
  await details.getByLabel('New name').press('Enter');
  await expect(table.locator('[data-model="Alpha, renamed"]')).toBeVisible();

  // Delete the copied one: its library folder goes. Delete the referenced one: its file stays.
  await details.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await expect(table.locator('[data-list-row]')).toHaveCount(1);
  expect(await readdir(path.join(app.dataDir, 'models')).then((entries) => entries.filter((entry) => !entry.startsWith('.')))).toEqual([]);
  await table.locator('[data-model="beta-chat"]').click();
  await page.getByTestId('model-details').getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('dialog')).toContainText('The file stays where it is');
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByText('No models yet')).toBeVisible();
  expect(existsSync(referenced)).toBe(true);
  expect(existsSync(copied)).toBe(true);
});

test('a referenced file that changed or vanished is marked and not loaded; per-model load settings apply at the next load', async ({ app }) => {
  const { page } = app;
  const kept = path.join(dir, 'gamma-ref.gguf');
  await writeGguf(kept, { ...presetSpec('tiny', 'Q8_0', 41), contextLength: 4096 });
  await openModels(app);
  const dialog = await importFiles(app, [kept], { 'gamma-ref': 'Leave in place' });
  await expect(dialog.locator('[data-candidate="gamma-ref"]')).toContainText('Imported', { timeout: 20_000 });
  await dialog.getByRole('button', { name: 'Close' }).first().click();
  const row = page.getByTestId('models-table').locator('[data-model="gamma-ref"]');
  await row.click();
  const details = page.getByTestId('model-details');

  // Its own context size, used at the next load.
  const form = details.getByRole('form', { name: 'Load settings for this model' });
  await form.getByLabel('Context size').fill('1024');
  await form.getByRole('button', { name: 'Save load settings' }).click();
  await expect(form.getByRole('status')).toHaveText('Saved');
  await details.getByRole('button', { name: 'Load', exact: true }).click();
  await expect(page.getByTestId('status-model')).toHaveText('gamma-ref', { timeout: 20_000 });
  const loaded = await page.evaluate(
    async () =>
      (
        await (
          window as unknown as { api: { runtime: { state(input: object): Promise<{ ok: boolean; value: { model: { contextSize: number } } }> } } }
        ).api.runtime.state({})
      ).value.model.contextSize,
  );
  expect(loaded).toBe(1024);
  await details.getByRole('button', { name: 'Unload' }).click();
  await expect(page.getByTestId('status-runtime')).toHaveAttribute('data-status', 'idle');

  // One byte changes: verify finds it, and the model is not loaded.
  const handle = await open(kept, 'r+');
  await handle.write(Buffer.from([0x5a]), 0, 1, (await handle.stat()).size - 1);
  await handle.close();
  await details.getByRole('button', { name: 'Verify' }).click();
  await expect(row).toContainText('File changed');
  await expect(details.getByRole('button', { name: 'Load', exact: true })).toBeDisabled();

  // The file vanishes: a load attempt says so, next to the model.
  await rm(kept);
  await details.getByRole('button', { name: 'Verify' }).click();
  await expect(row).toContainText('File missing');
  await expect(page.getByTestId('status-runtime')).toHaveAttribute('data-status', 'idle');
});

test('dropping files on the Models screen offers them for import', async ({ app }) => {
  const { page } = app;
  const dropped = path.join(dir, 'dropped-model.gguf');
  await writeGguf(dropped, presetSpec('tiny', 'Q8_0', 31));
  await openModels(app);
  const zone = page.getByTestId('models-drop-zone');
  const dataTransfer = await page.evaluateHandle(() => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(['GGUF'], 'dropped-model.gguf'));
    return transfer;
  });
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });
  // In Electron the preload reads the dropped files' paths and gives them to the main process,
  // which answers with a token for this drop; a page's File has no path, so the test gives them.
  await app.dropFiles([dropped]);
  const dialog = page.getByRole('dialog', { name: 'Import models' });
  await expect(dialog.locator('[data-candidate="dropped-model"]')).toBeVisible();
  await dialog.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(dialog.locator('[data-candidate="dropped-model"]')).toContainText('Imported', { timeout: 20_000 });
});

test('every malformed variant is refused with its reason, and the inference process never sees it', async ({ app }) => {
  const { page } = app;
  const folder = path.join(dir, 'malformed');
  await mkdir(folder, { recursive: true });
  const files: string[] = [];
  for (const kind of MALFORMED_KINDS) {
    const file = path.join(folder, `${kind}.gguf`);
    await writeMalformed(file, kind);
    files.push(file);
  }
  await openModels(app);
  await expect(page.getByTestId('status-runtime')).toHaveAttribute('data-status', 'idle', { timeout: 20_000 });
  const dialog = await importFiles(app, files);
  for (const kind of MALFORMED_KINDS) {
    await expect(dialog.locator(`[data-candidate="${kind}"]`).getByRole('alert')).not.toBeEmpty({ timeout: 20_000 });
  }
  await saveScreenshot(app, 'models-import-malformed');
  await dialog.getByRole('button', { name: 'Close' }).first().click();
  await expect(page.getByText('No models yet')).toBeVisible();
  await expect(page.getByTestId('status-runtime')).toHaveAttribute('data-status', 'idle');
});

test('the third-party GGUF imports with the right facts and loads', async ({ app }) => {
  test.skip(!existsSync(THIRD_PARTY), '../shared/fixtures/gguf is absent');
  const { page } = app;
  await openModels(app);
  const dialog = await importFiles(app, [THIRD_PARTY], { 'llama-2-tiny-random': 'Leave in place' });
  await expect(dialog.locator('[data-candidate="llama-2-tiny-random"]')).toContainText('Imported', { timeout: 20_000 });
  await dialog.getByRole('button', { name: 'Close' }).first().click();
  await page.getByTestId('models-table').locator('[data-model="llama-2-tiny-random"]').click();
  const facts = page.getByTestId('model-details').getByTestId('model-facts');
  await expect(facts).toContainText('llama');
  await expect(facts).toContainText('MOSTLY_F16');
  await expect(facts).toContainText('32,000');
  await expect(facts.locator('.facts__row', { hasText: 'Layers' })).toContainText('1');
  await page.getByTestId('model-details').getByRole('button', { name: 'Load', exact: true }).click();
  await expect(page.getByTestId('status-runtime')).toHaveAttribute('data-status', 'ready', { timeout: 20_000 });
});
