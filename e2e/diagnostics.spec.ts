import pkg from '../package.json' with { type: 'json' };
import { expect, saveScreenshot, test } from './fixtures.ts';

test('Diagnostics shows values that came from the main process', async ({ app }) => {
  const { page } = app;
  await page.getByRole('navigation').getByRole('button', { name: 'About' }).click();
  // The data directory is a fresh temporary folder made for this test: only the services know it.
  await expect(page.getByTestId('fact-data-dir')).toHaveText(app.dataDir);
  await expect(page.getByTestId('fact-version')).toHaveText(`${pkg.productName} ${pkg.version}`);
  if (app.serviceNodeVersion !== null) await expect(page.getByTestId('fact-node')).toHaveText(app.serviceNodeVersion);
  else await expect(page.getByTestId('fact-node')).toHaveText(/^\d+\.\d+\.\d+$/);
  if (app.target === 'electron') {
    await expect(page.getByTestId('fact-host')).toHaveText('Desktop app');
    await expect(page.getByTestId('fact-electron')).toHaveText(/^\d+\.\d+\.\d+/);
  } else {
    await expect(page.getByTestId('fact-host')).toHaveText('Test harness');
    await expect(page.getByTestId('fact-electron')).toHaveText('Not running in Electron');
  }
  await expect(page.getByTestId('fact-network')).toHaveText('None. Soberana makes no outbound connections.');
  await expect(page.getByTestId('network-guards').getByRole('listitem')).not.toHaveCount(0);
});

test('health checks stream their results with progress', async ({ app }) => {
  const { page } = app;
  await page.keyboard.press('Control+7');
  await page.getByRole('button', { name: 'Run checks' }).click();
  const rows = page.getByTestId('checks').getByRole('row');
  await expect(rows).toHaveCount(5);
  await expect(page.locator('[data-check="vectorStore"]')).toHaveAttribute('data-status', 'pass');
  await expect(page.getByTestId('checks-summary')).toHaveText(/^\d passed, \d warned, 0 failed$/);
  await expect(page.locator('[data-check="dataDir"]')).toHaveAttribute('data-status', 'pass');
  await expect(page.locator('[data-check="sqlite"]')).toHaveAttribute('data-status', 'pass');
  await expect(page.locator('[data-check="dataDir"]')).toContainText(app.dataDir);
  await saveScreenshot(app, 'about-checks');
});
