import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { presetSpec, writeGguf } from './fixtures/gguf/writer.ts';
import { bundleBrowserBridge } from './harness/server.ts';

// kill -9 of the app's main process: here the harness runs as a process of its own
// (e2e/harness/serve.ts), with the real services and inference process under it.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Served {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  readonly token: string;
}

async function serve(dataDir: string): Promise<Served> {
  const child = spawn(process.execPath, ['e2e/harness/serve.ts', '--data-dir', dataDir], { cwd: root });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`harness exited with ${code}`)));
  });
  const { url, token } = JSON.parse(line) as { url: string; token: string };
  return { child, url, token };
}

async function openPage(test: { chromium: Browser }, served: Served): Promise<Page> {
  const context = await test.chromium.newContext({ viewport: { width: 1280, height: 800 } });
  const socket = `${served.url.replace('http://', 'ws://').replace(/\/$/, '')}/__soberana/ws?token=${served.token}`;
  await context.addInitScript({ content: await bundleBrowserBridge(socket) });
  const page = await context.newPage();
  await page.goto(served.url);
  return page;
}

test('kill -9 of the main process while an answer streams keeps every completed message and marks the partial answer interrupted', async ({
  chromium,
  target,
}) => {
  test.skip(target !== 'chromium', 'The Electron target runs the main process inside Electron');
  test.setTimeout(90_000);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-chat-crash-'));
  const dataDir = path.join(dir, 'data');
  const model = path.join(dir, 'steady.gguf');
  await writeGguf(model, { ...presetSpec('tiny', 'Q8_0', 61), contextLength: 4096, quietEnd: true });
  let served = await serve(dataDir);
  try {
    let page = await openPage({ chromium: chromium! }, served);
    served.child.stdin.write(`pick ${JSON.stringify([model])}\n`);
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: 'Models' }).click();
    await page.getByRole('button', { name: 'Import model files…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Import models' });
    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    await expect(dialog.locator('[data-candidate="steady"]')).toContainText('Imported', { timeout: 20_000 });
    await dialog.getByRole('button', { name: 'Close' }).first().click();

    await page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: 'Chat' }).click();
    await page.keyboard.press('Control+n');
    await page.getByRole('textbox', { name: 'Message', exact: true }).fill('A first question');
    await page.getByRole('textbox', { name: 'Message', exact: true }).press('Enter');
    await expect(page.getByTestId('message-stats')).toBeVisible({ timeout: 20_000 });
    const firstAnswer = (await page.getByTestId('messages').locator('[data-role="assistant"]').first().locator('.markdown').innerText()).trim();
    expect(firstAnswer.length).toBeGreaterThan(0);

    await page.getByRole('button', { name: 'Settings', exact: true }).last().click();
    await page.getByRole('dialog', { name: 'Conversation settings' }).getByLabel('Maximum reply length').fill('32768');
    await page.getByRole('dialog', { name: 'Conversation settings' }).getByRole('button', { name: 'Save', exact: true }).click();
    // The dialog closes once the settings are saved; on a loaded machine that takes a moment, and a message sent before it goes with the old settings or not at all.
    await expect(page.getByRole('dialog', { name: 'Conversation settings' })).toBeHidden({ timeout: 20_000 });
    await expect(page.getByRole('textbox', { name: 'Message', exact: true })).toBeEditable();
    await page.getByRole('textbox', { name: 'Message', exact: true }).fill('A second question that gets a long answer');
    await page.getByRole('textbox', { name: 'Message', exact: true }).press('Enter');
    await expect(page.getByTestId('streaming-message')).toContainText(/\S{3}/, { timeout: 20_000 });
    // Let a few throttled saves of the partial answer happen, then kill the main process.
    await page.waitForTimeout(1200);
    served.child.kill('SIGKILL');
    await new Promise((resolve) => served.child.once('exit', resolve));
    await page.context().close();

    served = await serve(dataDir);
    page = await openPage({ chromium: chromium! }, served);
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: 'Chat' }).click();
    await page.getByTestId('conversation-list').getByRole('button').first().click();
    const messages = page.getByTestId('messages');
    await expect(messages.locator('[data-role="user"]')).toHaveCount(2);
    // The first answer finished (at its length limit) before the kill: all of it is there.
    expect((await messages.locator('[data-role="assistant"]').first().locator('.markdown').innerText()).trim()).toBe(firstAnswer);
    const partial = messages.locator('[data-role="assistant"]').last();
    await expect(partial).toHaveAttribute('data-status', 'interrupted');
    await expect(partial).toContainText('Interrupted');
    await expect(partial.getByRole('button', { name: 'Continue' })).toBeVisible();
    await page.context().close();
  } finally {
    served.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
