import path from 'node:path';
import { expect, saveScreenshot, test, type AppUnderTest } from './fixtures.ts';

async function openSettings(app: AppUnderTest) {
  await app.page.getByRole('navigation').getByRole('button', { name: 'Settings' }).click();
}

async function setMaxTokens(app: AppUnderTest, value: string) {
  const form = app.page.getByRole('form', { name: 'Runtime' });
  await form.locator('[data-field="maxTokens"]').getByRole('spinbutton').fill(value);
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.getByRole('status')).toHaveText('Saved');
}

async function loadModel(app: AppUnderTest, file: string) {
  const { page } = app;
  await app.choosePickedFile(file);
  const panel = page.getByTestId('runtime-test');
  await panel.getByRole('button', { name: 'Choose a model file…' }).click();
  await expect(panel.getByTestId('picked-file')).toContainText(path.basename(file));
  await panel.getByRole('button', { name: 'Load', exact: true }).click();
  await expect(panel.getByTestId('loaded-model')).toContainText('Loaded:', { timeout: 20_000 });
}

test('the status bar shows the runtime, and Settings the detected hardware', async ({ app }) => {
  const { page } = app;
  await expect(page.getByTestId('status-runtime')).toHaveAttribute('data-status', 'idle', { timeout: 20_000 });
  await expect(page.getByTestId('status-backend')).toHaveText(/CPU|CUDA|Vulkan|Metal/);
  await expect(page.getByTestId('status-memory')).toHaveText(/\d+(\.\d)? (MiB|GiB)/);
  await openSettings(app);
  await expect(page.getByTestId('hardware-cores')).toHaveText(/^\d+$/);
  await expect(page.getByTestId('hardware-ram')).toContainText('free of');
});

test('runtime options are validated, explained and saved', async ({ app }) => {
  const { page } = app;
  await openSettings(app);
  const form = page.getByRole('form', { name: 'Runtime' });
  const threads = form.locator('[data-field="threads"]');
  await expect(threads.getByText('CPU threads for generation.', { exact: false })).toBeVisible();
  await threads.getByRole('checkbox').uncheck();
  await threads.getByRole('spinbutton').fill('0');
  await expect(threads.getByRole('alert')).toHaveText('Enter a value between 1 and 256.');
  await expect(form.getByRole('button', { name: 'Save' })).toBeDisabled();
  await threads.getByRole('spinbutton').fill('3');
  const temperature = form.locator('[data-field="temperature"]');
  await temperature.getByRole('spinbutton').fill('0.3');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.getByRole('status')).toHaveText('Saved');
  await app.reload();
  await openSettings(app);
  await expect(page.getByRole('form', { name: 'Runtime' }).locator('[data-field="threads"]').getByRole('spinbutton')).toHaveValue('3');
  await expect(page.getByRole('form', { name: 'Runtime' }).locator('[data-field="temperature"]').getByRole('spinbutton')).toHaveValue('0.3');
});

test.describe('with a model the tests wrote', () => {
  test('a file that is not a GGUF model is refused with the reason, before llama.cpp sees it', async ({ app, models }) => {
    const { page } = app;
    await openSettings(app);
    await app.choosePickedFile(models.notGguf);
    const panel = page.getByTestId('runtime-test');
    await panel.getByRole('button', { name: 'Choose a model file…' }).click();
    await panel.getByRole('button', { name: 'Load', exact: true }).click();
    await expect(panel.getByRole('alert')).toContainText('This file is not a GGUF model: its first bytes are 3C 21 64 6F');
    await expect(page.getByTestId('status-runtime')).toHaveAttribute('data-status', 'idle');
    await saveScreenshot(app, 'settings-runtime-refused');
  });

  test('loads a model with progress and streams tokens with a live rate', async ({ app, models }) => {
    const { page } = app;
    await openSettings(app);
    await loadModel(app, models.tiny);
    await expect(page.getByTestId('status-runtime')).toHaveAttribute('data-status', 'ready');
    await expect(page.getByTestId('status-model')).toHaveText('soberana-tiny-q8_0');
    const panel = page.getByTestId('runtime-test');
    await panel.getByLabel('Prompt').fill('Tell me a story');
    await panel.getByRole('button', { name: 'Generate' }).click();
    await expect(panel.getByTestId('generation-rate')).toHaveText(/tokens in [\d.]+ s · [\d.]+ tokens\/s/, { timeout: 20_000 });
    await expect(panel.getByTestId('generation-output')).not.toBeEmpty();
    await saveScreenshot(app, 'settings-runtime-test');
  });

  test('Stop ends a long generation and keeps what came', async ({ app, models }) => {
    const { page } = app;
    await openSettings(app);
    await setMaxTokens(app, '32768');
    await loadModel(app, models.tiny);
    const panel = page.getByTestId('runtime-test');
    await panel.getByLabel('Prompt').fill('Keep going');
    await panel.getByLabel('Prompt').press('Control+Enter');
    await expect(panel.getByTestId('generation-rate')).toHaveText(/[1-9]\d* tokens · [\d.]+ tokens\/s/);
    await panel.getByRole('button', { name: 'Stop' }).click();
    await expect(panel.getByTestId('generation-rate')).toHaveText(/Stopped after \d+ tokens\./);
    await expect(panel.getByTestId('generation-output')).not.toBeEmpty();
    await expect(page.getByTestId('status-runtime')).toHaveAttribute('data-status', 'ready');
  });

  test('kill -9 during streaming: an error, then the next generation works', async ({ app, models }) => {
    const { page } = app;
    app.allowErrors(/./); // none expected in the page, but the crash is logged by the harness
    await openSettings(app);
    await setMaxTokens(app, '32768');
    await loadModel(app, models.tiny);
    const panel = page.getByTestId('runtime-test');
    await panel.getByLabel('Prompt').fill('Go on forever');
    await panel.getByRole('button', { name: 'Generate' }).click();
    await expect(panel.getByTestId('generation-rate')).toHaveText(/[1-9]\d* tokens · [\d.]+ tokens\/s/);
    const killedAt = Date.now();
    await app.killRuntime();
    await expect(panel.getByRole('alert')).toContainText('The inference process stopped', { timeout: 2_000 });
    expect(Date.now() - killedAt).toBeLessThan(2_000);
    await expect(page.getByTestId('status-runtime')).toHaveAttribute('data-status', /crashed|restarting|loading|ready/);
    await saveScreenshot(app, 'settings-runtime-crashed');
    // The app stays responsive and the model comes back by itself.
    await page.getByRole('navigation').getByRole('button', { name: 'About' }).click();
    await expect(page.getByTestId('fact-data-dir')).toHaveText(app.dataDir);
    await openSettings(app);
    await expect(page.getByTestId('status-runtime')).toHaveAttribute('data-status', 'ready', { timeout: 20_000 });
    await setMaxTokens(app, '32');
    await panel.getByRole('button', { name: 'Generate' }).click();
    await expect(panel.getByTestId('generation-rate')).toHaveText(/tokens in [\d.]+ s/, { timeout: 20_000 });
    await expect(panel.getByTestId('generation-output')).not.toBeEmpty();
  });
});
