import AxeBuilder from '@axe-core/playwright';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, saveScreenshot, test, type AppUnderTest } from './fixtures.ts';
import { presetSpec, writeGguf } from './fixtures/gguf/writer.ts';
import { importModelFile, openSection } from './pages.ts';

let dir: string;
let model: string;
test.beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-chat-e2e-'));
  model = path.join(dir, 'chatty.gguf');
  // quietEnd: answers run until stopped or until the maximum length.
  await writeGguf(model, { ...presetSpec('tiny', 'Q8_0', 51), contextLength: 4096, quietEnd: true });
});
test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function newConversation(app: AppUnderTest) {
  await importModelFile(app, model, 'chatty');
  await openSection(app, 'Chat');
  await app.page.keyboard.press('Control+n');
  await expect(app.page.getByRole('textbox', { name: 'Message', exact: true })).toBeVisible();
}

async function setMaxTokens(app: AppUnderTest, value: string) {
  const { page } = app;
  await page.getByRole('button', { name: 'Settings', exact: true }).last().click();
  const dialog = page.getByRole('dialog', { name: 'Conversation settings' });
  await dialog.getByLabel('Maximum reply length').fill(value);
  await dialog.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(dialog).toBeHidden();
}

async function send(app: AppUnderTest, text: string) {
  await app.page.getByRole('textbox', { name: 'Message', exact: true }).fill(text);
  await app.page.getByRole('textbox', { name: 'Message', exact: true }).press('Enter');
}

test('send, watch it stream, stop midway, regenerate, branch, and find it all after a restart and by search', async ({ app }) => {
  test.setTimeout(90_000);
  const { page } = app;
  await newConversation(app);
  await setMaxTokens(app, '48');

  await send(app, 'Tell me about zebras');
  const messages = page.getByTestId('messages');
  await expect(messages.locator('[data-role="user"]')).toContainText('Tell me about zebras');
  await expect(page.getByTestId('message-stats')).toContainText(/\d+ tokens · [\d.]+ tokens\/s · first token \d+ ms/, { timeout: 20_000 });
  await saveScreenshot(app, 'chat-answer');

  // Stop a long answer midway with Esc.
  await setMaxTokens(app, '32768');
  await send(app, 'Now go on and on');
  await expect(page.getByTestId('streaming-message')).toContainText(/\S/, { timeout: 20_000 });
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('streaming-message')).toBeHidden();
  const last = messages.locator('[data-role="assistant"]').last();
  await expect(last).toHaveAttribute('data-status', 'interrupted');

  // Regenerate the stopped answer: a second version appears.
  await setMaxTokens(app, '24');
  await last.getByRole('button', { name: 'Regenerate' }).click();
  await expect(messages.locator('[data-role="assistant"]').last().getByTestId('branch-position')).toHaveText('2/2', { timeout: 20_000 });

  // Edit the first message: a branch; switch back and forth.
  const firstUser = messages.locator('[data-role="user"]').first();
  await firstUser.getByRole('button', { name: 'Edit and resend' }).click();
  await page.getByLabel('Edit your message').fill('Tell me about giraffes');
  await page.getByRole('button', { name: 'Send as a new branch' }).click();
  await expect(messages.locator('[data-role="user"]').first()).toContainText('giraffes', { timeout: 20_000 });
  await expect(messages.locator('[data-role="user"]').first().getByTestId('branch-position')).toHaveText('2/2');
  await messages.locator('[data-role="user"]').first().getByRole('button', { name: 'Previous version' }).click();
  await expect(messages.locator('[data-role="user"]').first()).toContainText('zebras');
  await expect(messages.locator('[data-role="user"]')).toHaveCount(2);

  // Everything survives a restart of the app.
  await app.restart();
  const after = app.page;
  await openSection(app, 'Chat');
  await after.getByTestId('conversation-list').getByRole('button').first().click();
  await expect(after.getByTestId('messages').locator('[data-role="user"]').first()).toContainText('zebras');
  await expect(after.getByTestId('messages').locator('[data-role="user"]')).toHaveCount(2);

  // Rename it.
  await after.getByRole('button', { name: 'Rename conversation' }).click();
  await after.getByLabel('New title').fill('Animals');
  await after.getByLabel('New title').press('Enter');
  await expect(after.getByTestId('conversation-list')).toContainText('Animals');

  // Search finds the conversation by a word from its body.
  await after.getByLabel('Search conversations').fill('giraffes');
  await expect(after.getByTestId('conversation-list').getByRole('listitem')).toHaveCount(1);
  await after.getByLabel('Search conversations').fill('okapi');
  await expect(after.getByTestId('conversation-list').getByRole('listitem')).toHaveCount(0);
});

test('a send applies the saved answer it streams: at most one contract call after done', async ({ app }) => {
  test.skip(app.target !== 'chromium', 'Counts the calls on the harness socket, which only the chromium target has');
  const { page } = app;
  // Everything the page sends and receives on the harness socket, in order.
  const log: { readonly kind: 'call' | 'done'; readonly name?: string }[] = [];
  page.on('websocket', (socket) => {
    socket.on('framesent', ({ payload }) => {
      const message = JSON.parse(String(payload)) as { t: string; name?: string };
      if (message.t === 'call') log.push({ kind: 'call', name: message.name ?? '' });
    });
    socket.on('framereceived', ({ payload }) => {
      const message = JSON.parse(String(payload)) as { t: string; frame?: { type: string; event?: { type: string } } };
      if (message.t === 'frame' && message.frame?.type === 'event' && message.frame.event?.type === 'done') log.push({ kind: 'done' });
    });
  });
  // The socket opened before this test could listen: a reload opens a new one.
  await app.reload();
  await newConversation(app);
  await setMaxTokens(app, '16');

  await send(app, 'Count my calls');
  await expect(page.getByTestId('message-stats')).toBeVisible({ timeout: 20_000 });
  await expect.poll(() => log.filter((entry) => entry.kind === 'done').length).toBe(1);
  // Room for whatever a done would set off (a refetch of the thread, of the list) to be sent.
  await page.waitForTimeout(2_000);
  const afterDone = log.slice(log.findIndex((entry) => entry.kind === 'done') + 1).filter((entry) => entry.kind === 'call');
  expect(afterDone.length, `calls after done: ${afterDone.map((entry) => entry.name).join(', ')}`).toBeLessThanOrEqual(1);

  // What was applied locally is what was saved: the answer in the thread, the first message as the title in the list.
  const messages = page.getByTestId('messages');
  await expect(messages.locator('[data-role="user"]')).toHaveCount(1);
  await expect(messages.locator('[data-role="assistant"]')).toHaveCount(1);
  await expect(page.getByTestId('conversation-list').getByRole('listitem')).toHaveCount(1);
  await expect(page.getByTestId('conversation-list')).toContainText('Count my calls');
  const answer = (await messages.locator('[data-role="assistant"]').textContent()) ?? '';
  await app.reload();
  await openSection(app, 'Chat');
  await page.getByTestId('conversation-list').getByRole('button').first().click();
  await expect(page.getByTestId('messages').locator('[data-role="assistant"]')).toHaveText(answer);
});

test('the chat screen passes axe', async ({ app }) => {
  const { page } = app;
  await newConversation(app);
  await setMaxTokens(app, '16');
  await send(app, 'Hello there');
  await expect(page.getByTestId('message-stats')).toBeVisible({ timeout: 20_000 });
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  const serious = results.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical').map((violation) => violation.id);
  expect(serious).toEqual([]);
});

test('presets are saved from a conversation, renamed and applied to another', async ({ app }) => {
  const { page } = app;
  await newConversation(app);
  await page.getByRole('button', { name: 'Settings', exact: true }).last().click();
  const dialog = page.getByRole('dialog', { name: 'Conversation settings' });
  await dialog.getByLabel('System prompt').fill('You answer like a careful archivist.');
  await dialog.getByLabel('Temperature').fill('0.2');
  await dialog.getByLabel('Preset name').fill('Archivist');
  await dialog.getByRole('button', { name: 'Save as preset' }).click();
  await expect(dialog.getByRole('status')).toHaveText('Saved “Archivist”.');
  await dialog.getByLabel('Preset name').fill('Careful archivist');
  await dialog.getByRole('button', { name: 'Save preset' }).click();
  await expect(dialog.getByRole('status')).toHaveText('Saved “Careful archivist”.');
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  await page.keyboard.press('Control+n');
  await page.getByRole('button', { name: 'Settings', exact: true }).last().click();
  await expect(dialog.getByLabel('Preset', { exact: true }).locator('option')).toHaveText(['No preset', 'Careful archivist']);
  await dialog.getByLabel('Preset', { exact: true }).selectOption({ label: 'Careful archivist' });
  await expect(dialog.getByLabel('System prompt')).toHaveValue('You answer like a careful archivist.');
  await expect(dialog.getByLabel('Temperature')).toHaveValue('0.2');
  await dialog.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(dialog).toBeHidden();
});
