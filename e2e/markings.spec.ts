import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Locator, Page } from '@playwright/test';
import { expect, saveScreenshot, test, type AppUnderTest } from './fixtures.ts';
import { markdownDocument, writeDocuments } from './fixtures/documents/index.ts';
import { presetSpec, writeGguf } from './fixtures/gguf/writer.ts';
import { collectionWith, importModelFile, openSection } from './pages.ts';

// Classification markings end to end (issue #18), with a machine policy of four levels and
// this machine allowed up to RESTRICTED: the system-high banner at the top and bottom of the
// window, markings set from the Documents screen (by keyboard), a collection marked SECRET
// never retrieved (search or chat), an answer citing a RESTRICTED passage marked RESTRICTED
// with its sources and conversation, an export whose header and name carry the marking, and
// a lowering that the policy refuses, said so in the dialog and refused by the service.

const dir = path.join(os.tmpdir(), `soberana-markings-e2e-${process.pid}`);
const policyFile = path.join(dir, 'managed', 'policy.json');
const WORD = 'Quillfeather';
let budget: string;
let vault: string;
let chatModel: string;

test.use({ policyFile });

const POLICY = {
  version: 1,
  description: 'Markings test policy',
  contact: 'it@example.test',
  markings: {
    levels: [
      { id: 'PUBLIC', names: { en: 'Public', es: 'Público' }, colour: '#2e7d32' },
      { id: 'INTERNAL', names: { en: 'Internal', es: 'Interno' }, colour: '#1565c0' },
      { id: 'RESTRICTED', names: { en: 'Restricted', es: 'Restringido' }, colour: '#f9a825', textColour: '#000000' },
      { id: 'SECRET', names: { en: 'Secret', es: 'Secreto' }, colour: '#b71c1c' },
    ],
    compartments: [
      { id: 'FINANCE', names: { en: 'Finance', es: 'Finanzas' } },
      { id: 'HEALTH', names: { en: 'Health', es: 'Salud' } },
    ],
    // System high: RESTRICTED with the FINANCE compartment only.
    grantedCompartments: ['FINANCE'],
    maxLevel: 'RESTRICTED',
    defaultLevel: 'INTERNAL',
  },
};

test.beforeAll(async () => {
  await rm(dir, { recursive: true, force: true });
  const files = await writeDocuments(path.join(dir, 'docs'), {
    'budget.md': markdownDocument({
      sections: [{ heading: 'Budget', level: 1, paragraphs: [`The ${WORD} budget line funds the harbour dredging for the coming year.`] }],
    }),
    'vault.md': markdownDocument({
      sections: [{ heading: 'Vault', level: 1, paragraphs: [`The ${WORD} vault holds the contingency reserve for the harbour.`] }],
    }),
  });
  budget = files['budget.md']!;
  vault = files['vault.md']!;
  await writeDocuments(path.dirname(policyFile), { 'policy.json': new TextEncoder().encode(JSON.stringify(POLICY)) });
  // A chat model made here: its answer is gibberish, but the passages it was given are real.
  chatModel = path.join(dir, 'reader.gguf');
  await writeGguf(chatModel, { ...presetSpec('tiny', 'Q8_0', 61), contextLength: 4096, quietEnd: true });
});

test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Opens the selected collection's marking dialog from the keyboard, picks the level with the arrow keys, and saves. */
async function markByKeyboard(app: AppUnderTest, collection: string, level: string): Promise<void> {
  const { page } = app;
  await page.getByRole('button', { name: new RegExp(`change the marking of ${collection}$`, 'i') }).focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: `Marking of ${collection}` });
  await expect(dialog).toBeVisible();
  const radios = dialog.getByRole('radio');
  await radios.and(dialog.locator(':checked')).focus();
  // Arrow keys move through a radio group and check what they reach.
  for (let step = 0; step < 4 && !(await dialog.getByRole('radio', { name: new RegExp(level, 'i') }).isChecked()); step++)
    await page.keyboard.press('ArrowDown');
  await expect(dialog.getByRole('radio', { name: new RegExp(level, 'i') })).toBeChecked();
  await dialog.getByRole('button', { name: 'Save marking' }).focus();
  await page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();
}

/**
 * axe's WCAG A/AA findings on the markings' own elements (the whole screens are the
 * accessibility spec's): the policy's colours on the banner and badges must still read.
 */
async function axeViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .include('.marking-banner')
    .include('.marking-badge')
    .include('[data-testid="marking-control"]')
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return results.violations.map((violation) => `${violation.id} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`);
}

async function bannerText(banner: Locator): Promise<string> {
  return ((await banner.textContent()) ?? '').trim();
}

test('markings: the banner shows, SECRET is never retrieved, a RESTRICTED answer and its export are marked', async ({ app }) => {
  test.setTimeout(300_000);
  const { page } = app;

  // The system-high banner, top and bottom, in the level's colour and words.
  const top = page.getByTestId('marking-banner-top');
  const bottom = page.getByTestId('marking-banner-bottom');
  await expect(top).toHaveAttribute('data-marking', 'RESTRICTED // FINANCE');
  await expect(bottom).toHaveAttribute('data-marking', 'RESTRICTED // FINANCE');
  expect(await bannerText(top)).toBe('Restricted // Finance');
  await expect(page.getByRole('note', { name: /System high: Restricted \/\/ Finance/ })).toBeVisible();
  const topBox = (await top.boundingBox())!;
  const bottomBox = (await bottom.boundingBox())!;
  expect(topBox.y).toBe(0);
  expect(bottomBox.y + bottomBox.height).toBeCloseTo(800, 0);
  await saveScreenshot(app, 'markings-banner');

  await importModelFile(app, chatModel, 'reader');
  await collectionWith(app, 'Budget', budget);
  // New material takes the default level.
  const budgetRow = page.getByTestId('documents-table').locator('[data-document="budget.md"]');
  await expect(budgetRow.getByTestId('document-marking')).toHaveAttribute('data-marking', 'INTERNAL');
  await markByKeyboard(app, 'Budget', 'Restricted');
  await expect(page.getByTestId('collection-list').getByTestId('collection-marking').first()).toHaveAttribute('data-marking', 'RESTRICTED');
  // Its document is raised with it: none may be marked below its collection.
  await expect(budgetRow.getByTestId('document-marking')).toHaveAttribute('data-marking', 'RESTRICTED');

  // A document's dialog offers no level below its collection's.
  await budgetRow.getByRole('button', { name: /^Change the marking of budget\.md/ }).click();
  const documentDialog = page.getByRole('dialog', { name: 'Marking of budget.md' });
  await expect(documentDialog.getByRole('radio', { name: /Internal/ })).toBeDisabled();
  await expect(documentDialog.getByRole('radio', { name: /Secret/ })).toBeEnabled();
  await documentDialog.getByRole('button', { name: 'Cancel' }).click();

  // Lowering is an administrator action this policy does not allow: the dialog says so and
  // does not ask; the service refuses it too.
  await page.getByRole('button', { name: /change the marking of Budget$/i }).click();
  const lowering = page.getByRole('dialog', { name: 'Marking of Budget' });
  await lowering.getByRole('radio', { name: /Public/ }).check();
  await expect(lowering.getByTestId('marking-lowering')).toContainText('administrator action');
  await expect(lowering.getByTestId('marking-lowering-locked')).toBeVisible();
  await expect(lowering.getByRole('button', { name: 'Lower the marking' })).toBeDisabled();
  await saveScreenshot(app, 'marking-lowering-refused');
  await lowering.getByRole('button', { name: 'Cancel' }).click();
  const budgetId = await page.evaluate(async () => {
    const api = (
      window as unknown as { api: { knowledge: { collections(input: object): Promise<{ value: { collections: { id: string; name: string }[] } }> } } }
    ).api;
    return (await api.knowledge.collections({})).value.collections.find((collection) => collection.name === 'Budget')!.id;
  });
  const refused = await page.evaluate(async (id) => {
    const api = (window as unknown as { api: { knowledge: { setMarking(input: object): Promise<{ ok: boolean; error?: { code: string } }> } } }).api;
    return api.knowledge.setMarking({ target: 'collection', id, marking: { level: 'PUBLIC', compartments: [] } });
  }, budgetId);
  expect(refused.ok).toBe(false);
  expect(refused.error?.code).toBe('forbidden');

  // A collection marked above the machine's level: its passages are never found.
  await collectionWith(app, 'Vault', vault);
  await markByKeyboard(app, 'Vault', 'Secret');
  await expect(page.getByRole('button', { name: /change the marking of Vault$/i }).getByTestId('marking-badge')).toHaveAttribute('data-marking', 'SECRET');
  await page.getByLabel('Search this collection').fill(WORD);
  await page.getByLabel('Search this collection').press('Enter');
  await expect(page.getByTestId('search-meta')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('search-results').getByRole('listitem')).toHaveCount(0);
  await saveScreenshot(app, 'markings-documents');
  expect(await axeViolations(page)).toEqual([]);

  // Chat over both collections: only the RESTRICTED passage comes back, and the answer, its
  // source and the conversation are marked RESTRICTED.
  await openSection(app, 'Chat');
  await page.keyboard.press('Control+n');
  await page.getByRole('button', { name: 'Settings', exact: true }).last().click();
  const settings = page.getByRole('dialog', { name: 'Conversation settings' });
  await settings.getByLabel('Maximum reply length').fill('16');
  await settings.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByTestId('knowledge-picker').click();
  await page.getByTestId('knowledge-popover').getByLabel('Budget').check();
  await page.getByTestId('knowledge-popover').getByLabel('Vault').check();
  // The picker shows each collection's marking, so a SECRET one is seen as such before asking.
  await expect(page.getByTestId('knowledge-popover').getByTestId('picker-marking')).toHaveText([/Restricted/, /Secret/]);
  await saveScreenshot(app, 'markings-knowledge-picker');
  await page.keyboard.press('Escape');
  const message = page.getByRole('textbox', { name: 'Message', exact: true });
  await message.fill(`What does the ${WORD} line fund, and what does the ${WORD} vault hold?`);
  await message.press('Enter');
  const sources = page.getByTestId('sources-panel');
  await expect(sources.locator('[data-document="budget.md"]').first()).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('message-stats')).toBeVisible({ timeout: 60_000 });
  await expect(sources.locator('[data-document="vault.md"]')).toHaveCount(0);
  for (const badge of await sources.getByTestId('source-marking').all()) await expect(badge).toHaveAttribute('data-marking', 'RESTRICTED');
  const answer = page.locator('article[data-role="assistant"]').last();
  await expect(answer.getByTestId('answer-marking')).toHaveAttribute('data-marking', 'RESTRICTED');
  await expect(answer.getByTestId('answer-marking')).toContainText('Restricted');
  await expect(page.getByTestId('chat-marking')).toHaveAttribute('data-marking', 'RESTRICTED');
  await expect(page.getByTestId('conversation-list').getByTestId('conversation-marking').first()).toHaveAttribute('data-marking', 'RESTRICTED');
  await saveScreenshot(app, 'markings-chat');
  expect(await axeViolations(page)).toEqual([]);

  // The export: its header and its name carry the conversation's marking. The picker returns
  // a folder here, so the file is saved under the name the app proposes.
  const exports = path.join(dir, 'exports');
  await mkdir(exports, { recursive: true });
  await app.choosePickedFile(exports);
  await page.getByRole('button', { name: 'Export as Markdown' }).click();
  // The save is atomic: a hidden temporary file comes first, then the export under its name.
  const saved = async () => (await readdir(exports)).filter((name) => !name.startsWith('.'));
  await expect.poll(async () => (await saved()).length, { timeout: 20_000 }).toBe(1);
  const [exported] = await saved();
  expect(exported).toMatch(/^RESTRICTED-.*\.md$/);
  const text = await readFile(path.join(exports, exported!), 'utf8');
  expect(text.split('\n').slice(0, 5).join('\n')).toContain('RESTRICTED');
  expect(text).not.toContain('contingency reserve');

  // The same in Spanish and in the dark theme.
  await page.evaluate(async () => {
    const api = (window as unknown as { api: { settings: { update(patch: object): Promise<unknown> } } }).api;
    await api.settings.update({ language: 'es', theme: 'dark' });
  });
  await expect(top).toHaveText('Restringido // Finanzas');
  await expect(answer.getByTestId('answer-marking')).toContainText('Restringido');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await saveScreenshot(app, 'markings-chat-es-dark');
  expect(await axeViolations(page)).toEqual([]);
  await page.getByRole('navigation').getByRole('button', { name: 'Documentos' }).click();
  await page
    .getByTestId('collection-list')
    .getByRole('button', { name: /Budget/ })
    .click();
  await page.getByRole('button', { name: /cambiar el marcado de Budget$/i }).click();
  const spanish = page.getByRole('dialog', { name: 'Marcado de Budget' });
  await spanish.getByRole('radio', { name: /Interno/ }).check();
  await expect(spanish.getByTestId('marking-lowering')).toContainText('acción de administrador');
  await saveScreenshot(app, 'marking-dialog-es-dark');
  expect(await axeViolations(page)).toEqual([]);
});
