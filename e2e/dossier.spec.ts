import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../electron/test-support/run-cli.ts';
import { expect, saveScreenshot, test } from './fixtures.ts';
import { markdownDocument, writeDocuments } from './fixtures/documents/index.ts';
import { presetSpec, writeGguf } from './fixtures/gguf/writer.ts';
import { collectionWith, importModelFile, openSection } from './pages.ts';

// "Export evidence" from the chat (issue #18): the answer's action saves a signed dossier
// where the person chooses, and the built CLI verifies it against the app's own data store.

const dir = path.join(os.tmpdir(), `soberana-dossier-e2e-${process.pid}`);
const WORD = 'Brindlemoor';
let ledger: string;
let chatModel: string;

test.beforeAll(async () => {
  await rm(dir, { recursive: true, force: true });
  const files = await writeDocuments(path.join(dir, 'docs'), {
    'ledger.md': markdownDocument({
      sections: [{ heading: 'Ledger', level: 1, paragraphs: [`The ${WORD} watch was issued three lanterns in the spring.`] }],
    }),
  });
  ledger = files['ledger.md']!;
  chatModel = path.join(dir, 'reader.gguf');
  await writeGguf(chatModel, { ...presetSpec('tiny', 'Q8_0', 61), contextLength: 4096, quietEnd: true });
});

test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('export evidence: an answer’s signed dossier is saved, and verifies against the data store', async ({ app }) => {
  test.setTimeout(300_000);
  const { page } = app;
  await importModelFile(app, chatModel, 'reader');
  await collectionWith(app, 'Ledger', ledger);

  await openSection(app, 'Chat');
  await page.keyboard.press('Control+n');
  await page.getByRole('button', { name: 'Settings', exact: true }).last().click();
  const settings = page.getByRole('dialog', { name: 'Conversation settings' });
  await settings.getByLabel('Maximum reply length').fill('16');
  await settings.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByTestId('knowledge-picker').click();
  await page.getByTestId('knowledge-popover').getByLabel('Ledger').check();
  await page.keyboard.press('Escape');
  const message = page.getByRole('textbox', { name: 'Message', exact: true });
  await message.fill(`How many lanterns was the ${WORD} watch issued?`);
  await message.press('Enter');
  await expect(page.getByTestId('sources-panel').locator('[data-document="ledger.md"]').first()).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('message-stats')).toBeVisible({ timeout: 60_000 });

  const evidence = path.join(dir, 'evidence');
  await mkdir(evidence, { recursive: true });
  await app.choosePickedFile(evidence);
  const answer = page.locator('article[data-role="assistant"]').last();
  const button = answer.getByRole('button', { name: 'Export evidence' });
  await expect(button).toBeVisible();
  await saveScreenshot(app, 'export-evidence');
  await button.click();
  // The save is atomic: a dot-named temporary file is there first, then renamed.
  const savedFiles = async () => (await readdir(evidence)).filter((name) => !name.startsWith('.'));
  await expect.poll(async () => (await savedFiles()).length, { timeout: 20_000 }).toBe(1);
  const [saved] = await savedFiles();
  expect(saved).toMatch(/^evidence-.*\.json$/);
  const file = JSON.parse(await readFile(path.join(evidence, saved!), 'utf8')) as {
    format: string;
    body: { question: { text: string }; passages: { documentName: string }[] };
  };
  expect(file.format).toBe('soberana-dossier/1');
  expect(file.body.question.text).toBe(`How many lanterns was the ${WORD} watch issued?`);
  expect(file.body.passages.map((passage) => passage.documentName)).toContain('ledger.md');

  // The auditor's side: the built CLI, reading the app's data folder while the app runs.
  const verified = runCli(['dossier', 'verify', path.join(evidence, saved!)], { dataDir: app.dataDir });
  expect(verified.status, verified.stderr).toBe(0);
  expect(verified.stdout).toContain('signature  good');
});
