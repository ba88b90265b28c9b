import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Locator, Page } from '@playwright/test';
import { expect, saveScreenshot, test, type AppUnderTest } from './fixtures.ts';
import { openSection } from './pages.ts';

// Settings → Local API, as a user meets it: tokens made, shown once, listed and revoked;
// the server turned on at a port of the user's choosing, answering a script that holds a
// token, and off again; and a machine policy's locks and refusals, each with its reason.

/** A port nothing listens on now (the kernel picks one), so parallel runs do not collide. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** What axe finds wrong on the page as it is now (WCAG 2.1 A and AA), e.g. with a dialog open. */
async function axeViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return results.violations.map((violation) => `${violation.id} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`);
}

async function openLocalApi(app: AppUnderTest): Promise<Locator> {
  await openSection(app, 'Settings');
  const card = app.page.getByRole('region', { name: 'Local API' });
  await card.scrollIntoViewIfNeeded();
  await expect(card.getByRole('switch', { name: 'Serve the local API' })).toBeVisible();
  return card;
}

/** Makes a token through the dialog, by keyboard where a user would; returns the token the dialog shows once. */
async function createToken(app: AppUnderTest, card: Locator, name: string, expiry: string): Promise<string> {
  const { page } = app;
  await card.getByRole('button', { name: 'New token…' }).click();
  const dialog = page.getByRole('dialog', { name: 'New token' });
  await expect(dialog.getByLabel('Name')).toBeFocused();
  await page.keyboard.type(name);
  await dialog.getByRole('radio', { name: expiry }).check();
  await dialog.getByRole('button', { name: 'Create token' }).click();
  const created = page.getByRole('dialog', { name: 'Token created' });
  await expect(created.getByRole('alert')).toContainText('cannot be shown again');
  const token = await created.getByLabel(`Token for “${name}”`).inputValue();
  expect(token).toMatch(/^sob_[A-Za-z0-9_-]{40,}$/);
  return token;
}

test('a token is made with a name, scopes and an expiry, shown once with Copy, listed, and revoked after a confirmation', async ({ app }) => {
  const { page } = app;
  const card = await openLocalApi(app);
  await expect(card.getByTestId('api-tokens-empty')).toContainText('No tokens yet');

  // The form says what is missing before it asks the service.
  await card.getByRole('button', { name: 'New token…' }).click();
  const dialog = page.getByRole('dialog', { name: 'New token' });
  await dialog.getByRole('checkbox', { name: /^Chat/ }).uncheck();
  await dialog.getByRole('checkbox', { name: /^Model list/ }).uncheck();
  await dialog.getByRole('radio', { name: 'On a date' }).check();
  await dialog.getByRole('button', { name: 'Create token' }).click();
  await expect(dialog.getByRole('alert')).toHaveText([
    'Give the token a name of up to 100 characters.',
    'Choose at least one thing it may use.',
    'Choose a day after today.',
  ]);
  expect(await axeViolations(page)).toEqual([]);
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();

  const token = await createToken(app, card, 'Report notebook', 'In 30 days');
  const created = page.getByRole('dialog', { name: 'Token created' });
  // Copy has the focus; Enter copies.
  await expect(created.getByRole('button', { name: 'Copy' })).toBeFocused();
  if (app.target === 'chromium') await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.keyboard.press('Enter');
  await expect(created.getByRole('button', { name: 'Copied' })).toBeVisible();
  if (app.target === 'chromium') expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
  await saveScreenshot(app, 'settings-api-token-created');
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  expect(await axeViolations(page)).toEqual([]);
  await page.emulateMedia({ colorScheme: 'light' });
  await created.getByRole('button', { name: 'Done' }).click();
  await expect(created).toBeHidden();

  const table = card.getByRole('table', { name: 'Tokens' });
  const row = table.locator('tr[data-token="Report notebook"]');
  await expect(row).toHaveAttribute('data-state', 'active');
  await expect(row).toContainText('Chat, Model list');
  await expect(row).toContainText('Not yet');
  await expect(row.locator('code')).toHaveText(/^sob_\S+…$/);
  // The token itself is gone from the page, and a reload does not bring it back.
  expect(await page.content()).not.toContain(token);
  await app.reload();
  const again = await openLocalApi(app);
  const listed = again.getByRole('table', { name: 'Tokens' }).locator('tr[data-token="Report notebook"]');
  await expect(listed).toHaveAttribute('data-state', 'active');
  expect(await page.content()).not.toContain(token);
  await saveScreenshot(app, 'settings-api-tokens');

  // Revoke asks first; Cancel keeps the token.
  await listed.getByRole('button', { name: 'Revoke Report notebook' }).click();
  const confirm = page.getByRole('dialog', { name: 'Revoke “Report notebook”?' });
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(listed).toHaveAttribute('data-state', 'active');
  await listed.getByRole('button', { name: 'Revoke Report notebook' }).click();
  await confirm.getByRole('button', { name: 'Revoke' }).click();
  await expect(listed).toHaveAttribute('data-state', 'revoked');
  await expect(listed).toContainText('Revoked');
  await expect(listed.getByRole('button', { name: /Revoke/ })).toHaveCount(0);
  expect(await axeViolations(page)).toEqual([]);
});

test('turned on, the API listens on loopback at the chosen port and answers a token; turned off, it stops', async ({ app }) => {
  test.setTimeout(90_000);
  const { page } = app;
  const card = await openLocalApi(app);
  await expect(card.getByTestId('api-status')).toHaveAttribute('data-state', 'off');

  const port = await freePort();
  const form = card.getByRole('form', { name: 'Connection' });
  await form.getByLabel('Port').fill('80');
  await expect(form.getByRole('alert')).toHaveText('Enter a port between 1024 and 65535.');
  await expect(form.getByRole('button', { name: 'Save' })).toBeDisabled();
  await form.getByLabel('Port').fill(String(port));
  await form.getByLabel('Allowed browser origins').fill('http://localhost:3000/\nlocalhost');
  await expect(form.getByRole('alert')).toContainText('“localhost” is not an origin');
  await form.getByLabel('Allowed browser origins').fill('http://localhost:3000/');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.getByRole('status')).toHaveText('Saved');
  await expect(form.getByLabel('Allowed browser origins')).toHaveValue('http://localhost:3000');

  const token = await createToken(app, card, 'Script', 'Never');
  await page.getByRole('dialog', { name: 'Token created' }).getByRole('button', { name: 'Done' }).click();

  // The switch is a button: focus it and press Space, as a keyboard user does.
  const serve = card.getByRole('switch', { name: 'Serve the local API' });
  await serve.focus();
  await page.keyboard.press('Space');
  await expect(serve).toHaveAttribute('aria-checked', 'true');
  const status = card.getByTestId('api-status');
  await expect(status).toHaveAttribute('data-state', 'listening', { timeout: 30_000 });
  await expect(card.getByTestId('api-address').first()).toHaveText(`http://127.0.0.1:${port}`);
  for (const address of await card.getByTestId('api-address').allTextContents())
    expect(address).toMatch(new RegExp(`^http://(127\\.0\\.0\\.1|\\[::1\\]):${port}$`));

  // A script with the token is answered; one without is not.
  const url = `http://127.0.0.1:${port}/v1/models`;
  const answered = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  expect(answered.status).toBe(200);
  expect(((await answered.json()) as { object: string }).object).toBe('list');
  expect((await fetch(url)).status).toBe(401);
  // The table says when the token was last used; the server still listens after a reload.
  await app.reload();
  const after = await openLocalApi(app);
  await expect(after.getByTestId('api-status')).toHaveAttribute('data-state', 'listening');
  const row = after.getByRole('table', { name: 'Tokens' }).locator('tr[data-token="Script"]');
  await expect(row.locator('td').nth(5)).not.toHaveText('Not yet');
  await expect(row.locator('td').nth(5)).toHaveText(/\d/);
  await saveScreenshot(app, 'settings-api-listening');

  await after.getByRole('switch', { name: 'Serve the local API' }).click();
  await expect(after.getByTestId('api-status')).toHaveAttribute('data-state', 'off', { timeout: 30_000 });
  await expect(after.getByTestId('api-address')).toHaveCount(0);
  await expect(fetch(url, { headers: { authorization: `Bearer ${token}` } })).rejects.toThrow();
});

const policyDir = path.join(os.tmpdir(), `soberana-api-settings-e2e-${process.pid}`);

async function writePolicy(file: string, policy: object): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify({ version: 1, contact: 'it@example.test', ...policy }));
}

test.afterAll(async () => {
  await rm(policyDir, { recursive: true, force: true });
});

test.describe('a policy that forbids the API and fixes its port', () => {
  const policyFile = path.join(policyDir, 'forbidden', 'policy.json');
  test.use({ policyFile });
  test.beforeAll(async () => writePolicy(policyFile, { api: { allowed: false }, settings: { api: { port: 12_345 } } }));

  test('the switch is off and disabled, and the port locked, each with the reason', async ({ app }) => {
    const card = await openLocalApi(app);
    await expect(card.getByRole('switch', { name: 'Serve the local API' })).toBeDisabled();
    await expect(card.getByTestId('api-status')).toHaveAttribute('data-state', 'forbidden');
    await expect(card.getByTestId('api-status')).toHaveText(/^Fixed by policy\.\s*This machine’s policy does not allow the local API\.$/);
    await expect(card.getByRole('button', { name: 'New token…' })).toBeDisabled();
    const form = card.getByRole('form', { name: 'Connection' });
    await expect(form.getByLabel('Port')).toHaveValue('12345');
    await expect(form.getByLabel('Port')).toBeDisabled();
    await expect(card.getByTestId('lock-api.port')).toContainText('it@example.test');
    await expect(form.getByLabel('Allowed browser origins')).toBeEnabled();
    await saveScreenshot(app, 'settings-api-forbidden');
  });
});

test.describe('a policy that grants only the chat scope', () => {
  const policyFile = path.join(policyDir, 'chat-only', 'policy.json');
  test.use({ policyFile });
  test.beforeAll(async () => writePolicy(policyFile, { api: { scopes: ['chat'] } }));

  test('the dialog offers only chat and says why the others are not', async ({ app }) => {
    const { page } = app;
    const card = await openLocalApi(app);
    await card.getByRole('button', { name: 'New token…' }).click();
    const dialog = page.getByRole('dialog', { name: 'New token' });
    await expect(dialog.getByRole('checkbox', { name: /^Chat/ })).toBeChecked();
    for (const scope of ['Embeddings', 'Knowledge', 'Model list']) {
      const box = dialog.getByRole('checkbox', { name: new RegExp(`^${scope}`) });
      await expect(box).toBeDisabled();
      await expect(box).not.toBeChecked();
      await expect(box.locator('xpath=..')).toContainText('not allowed by the machine policy');
    }
    await dialog.getByLabel('Name').fill('Chat only');
    await dialog.getByRole('button', { name: 'Create token' }).click();
    await page.getByRole('dialog', { name: 'Token created' }).getByRole('button', { name: 'Done' }).click();
    await expect(card.getByRole('table', { name: 'Tokens' }).locator('tr[data-token="Chat only"]')).toContainText('Chat');
  });
});
