import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, saveScreenshot, test } from './fixtures.ts';
import { markdownDocument, writeDocuments } from './fixtures/documents/index.ts';
import { openSection } from './pages.ts';

// An audit log that cannot record fails closed (issue 12): with the key file gone, the app
// says so on every screen and, with why and what to do, on the Audit screen; chat and
// ingestion are refused in words a person can act on; putting the key back is enough.
// Also the Settings screen's notice that, with no machine policy, nothing is enforced.

const dir = path.join(os.tmpdir(), `soberana-audit-closed-e2e-${process.pid}`);
const REFUSAL = 'refused because the audit log cannot record it';
let note: string;

test.beforeAll(async () => {
  await rm(dir, { recursive: true, force: true });
  note = (
    await writeDocuments(dir, {
      'note.md': markdownDocument({ sections: [{ heading: 'Note', level: 1, paragraphs: ['The amber ledger is kept in the east wing.'] }] }),
    })
  )['note.md']!;
});

test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('with the audit key deleted, the app says the log is not recording, refuses chat and ingestion, and works again once the key is back', async ({ app }) => {
  test.setTimeout(180_000);
  let page = app.page;

  // First set-up, with a working log: a conversation and a collection to act on later.
  await openSection(app, 'Chat');
  await page.getByRole('button', { name: 'New chat' }).first().click();
  await expect(page.getByTestId('conversation-list').getByRole('listitem')).toHaveCount(1);
  await openSection(app, 'Documents');
  await page.getByRole('button', { name: 'New collection' }).first().click();
  const newCollection = page.getByRole('dialog', { name: 'New collection' });
  await newCollection.getByLabel('Name').fill('Inbox');
  await newCollection.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByTestId('collection-list')).toContainText('Inbox');
  await expect(page.getByTestId('audit-banner')).toHaveCount(0);

  // The key file goes while the app is stopped, as a user program could do it.
  const keyFile = path.join(app.dataDir, 'audit', 'key');
  let key: Buffer | null = null;
  await app.restart(async () => {
    key = await readFile(keyFile);
    await rm(keyFile);
  });
  page = app.page;
  const conversations = page.getByTestId('conversation-list').getByRole('listitem');

  // Every screen says it, with the way to the Audit screen…
  const banner = page.getByTestId('audit-banner');
  await expect(banner).toContainText('The audit log is not recording.', { timeout: 20_000 });
  await banner.getByRole('button', { name: 'Open Audit' }).click();

  // …which says why, what is refused, and what to do.
  const problem = page.getByTestId('audit-problem');
  await expect(problem).toBeVisible();
  await expect(page.getByTestId('audit-problem-reason')).toContainText('The audit key file is missing');
  await expect(problem).toContainText('refuses chat, model imports, document ingestion, exports and bundle installs');
  await expect(problem).toContainText('soberana doctor');
  await expect(problem).toContainText('restoring it from a backup is enough');
  await saveScreenshot(app, 'audit-not-recording');
  await page.emulateMedia({ colorScheme: 'dark', reducedMotion: 'reduce' });
  await saveScreenshot(app, 'audit-not-recording-dark');
  await page.emulateMedia({ colorScheme: 'light' });

  // A chat message is refused before anything is saved, and the refusal is readable.
  await openSection(app, 'Chat');
  await page.getByTestId('conversation-list').locator('.conversation__open').first().click();
  const message = page.getByRole('textbox', { name: 'Message', exact: true });
  await message.fill('Where is the amber ledger kept?');
  await message.press('Enter');
  const chatRefusal = page.getByRole('alert').filter({ hasText: REFUSAL });
  await expect(chatRefusal).toBeVisible({ timeout: 20_000 });
  await expect(chatRefusal).toContainText('The audit key file is missing');
  await expect(chatRefusal).toContainText('soberana doctor');
  await saveScreenshot(app, 'chat-refused-audit');
  // A new conversation too, with none open: the refusal still shows.
  await page.keyboard.press('Control+n');
  await expect(chatRefusal).toBeVisible();
  await expect(conversations).toHaveCount(1);

  // Adding a document is refused the same way.
  await openSection(app, 'Documents');
  await expect(page.getByTestId('collection-list')).toContainText('Inbox');
  await app.choosePickedFile([note]);
  await page.getByRole('button', { name: 'Add files…' }).click();
  await expect(page.getByRole('alert').filter({ hasText: REFUSAL })).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('documents-table')).toHaveCount(0);
  await saveScreenshot(app, 'documents-refused-audit');

  // Putting the key back is enough: the next action opens the log again, no restart.
  expect(key).not.toBeNull();
  await writeFile(keyFile, key!);
  await openSection(app, 'Chat');
  await page.getByRole('button', { name: 'New chat' }).first().click();
  await expect(conversations).toHaveCount(2);
  await openSection(app, 'Audit');
  // The new conversation is on the record (the first one was recorded before the key went).
  await expect(page.getByTestId('audit-table').locator('[data-list-row][data-type="change"]', { hasText: 'chat.create' })).toHaveCount(2);
  await expect(page.getByTestId('audit-problem')).toHaveCount(0);
  await expect(banner).toHaveCount(0);
});

test('without a machine policy, Settings says the app runs in development mode', async ({ app }) => {
  await openSection(app, 'Settings');
  const status = app.page.getByTestId('policy-status');
  await expect(status).toContainText('Development mode: no machine policy is installed');
  await saveScreenshot(app, 'settings-development-mode');
  await app.page.emulateMedia({ colorScheme: 'dark', reducedMotion: 'reduce' });
  await saveScreenshot(app, 'settings-development-mode-dark');
});
