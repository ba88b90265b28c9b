import path from 'node:path';
import type { Locator } from '@playwright/test';
import { expect, type AppUnderTest } from './fixtures.ts';

// Steps several specs share, written as a user would do them.

export async function openSection(app: AppUnderTest, name: 'Chat' | 'Documents' | 'Models' | 'Bundles' | 'Audit' | 'Settings' | 'About'): Promise<void> {
  await app.page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name }).click();
}

/** Imports files through the Models screen's dialog; returns the dialog, left open. */
export async function importFiles(app: AppUnderTest, files: readonly string[], modes: Readonly<Record<string, string>> = {}): Promise<Locator> {
  const { page } = app;
  await app.choosePickedFile(files);
  const dialog = page.getByRole('dialog', { name: 'Import models' });
  if (!(await dialog.isVisible())) {
    const emptyAction = page.getByRole('button', { name: 'Import model files…' });
    if (await emptyAction.isVisible()) await emptyAction.click();
    else {
      await page.getByRole('button', { name: 'Import…' }).click();
      await dialog.getByRole('button', { name: 'Choose files…' }).click();
    }
  } else {
    await dialog.getByRole('button', { name: 'Choose files…' }).click();
  }
  await expect(dialog.getByRole('list', { name: 'Models to import' }).getByRole('listitem')).toHaveCount(files.length);
  for (const [name, mode] of Object.entries(modes)) await dialog.getByLabel(`How to keep ${name}`).selectOption({ label: mode });
  await dialog.getByRole('button', { name: 'Import', exact: true }).click();
  return dialog;
}

/** Imports one model and waits until it is in the library. */
export async function importModelFile(app: AppUnderTest, file: string, name: string): Promise<void> {
  await openSection(app, 'Models');
  const dialog = await importFiles(app, [file]);
  await expect(dialog.locator(`[data-candidate="${name}"]`)).toContainText('Imported', { timeout: 20_000 });
  await dialog.getByRole('button', { name: 'Close' }).first().click();
}

/**
 * Drops files on the Documents screen: the page's drag events, then the paths. In Electron the
 * preload hands the dropped paths to the main process, which answers with a token for this
 * drop; a page's File has no path, so the test gives them.
 */
export async function dropDocuments(app: AppUnderTest, files: readonly string[]): Promise<void> {
  const zone = app.page.getByTestId('documents-drop-zone');
  const dataTransfer = await app.page.evaluateHandle(
    (names) => {
      const transfer = new DataTransfer();
      for (const name of names) transfer.items.add(new File(['x'], name));
      return transfer;
    },
    files.map((file) => path.basename(file)),
  );
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });
  await app.dropFiles(files);
}

/** Creates a collection on the Documents screen and drops one file into it, waiting until the file is indexed. */
export async function collectionWith(app: AppUnderTest, name: string, file: string): Promise<void> {
  const { page } = app;
  await openSection(app, 'Documents');
  await page.getByRole('button', { name: 'New collection' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'New collection' });
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(dialog).toBeHidden();
  await dropDocuments(app, [file]);
  await expect(page.getByTestId('documents-table').locator(`[data-document="${path.basename(file)}"]`)).toHaveAttribute('data-status', 'indexed', {
    timeout: 120_000,
  });
}
