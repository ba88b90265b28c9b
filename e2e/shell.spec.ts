import { expect, saveScreenshot, test } from './fixtures.ts';

const SECTIONS = [
  { id: 'chat', label: 'Chat', heading: 'Chat', key: '1' },
  { id: 'documents', label: 'Documents', heading: 'Documents', key: '2' },
  { id: 'models', label: 'Models', heading: 'Models', key: '3' },
  { id: 'bundles', label: 'Bundles', heading: 'Bundles', key: '4' },
  { id: 'audit', label: 'Audit', heading: 'Audit', key: '5' },
  { id: 'settings', label: 'Settings', heading: 'Settings', key: '6' },
  { id: 'about', label: 'About', heading: 'About and diagnostics', key: '7' },
] as const;

test('the shell renders the sidebar, a section and the offline promise', async ({ app }) => {
  const { page } = app;
  const nav = page.getByRole('navigation', { name: 'Sections' });
  for (const section of SECTIONS) await expect(nav.getByRole('button', { name: section.label })).toBeVisible();
  await expect(page.getByRole('heading', { level: 1, name: 'Chat' })).toBeVisible();
  await expect(page.getByTestId('status-offline')).toHaveText('offline · no network');
  await expect(page.getByText('No conversations yet')).toBeVisible();
});

for (const theme of ['light', 'dark'] as const) {
  test(`each section opens by mouse (${theme} theme)`, async ({ app }) => {
    const { page } = app;
    await page.emulateMedia({ colorScheme: theme });
    await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
    for (const section of SECTIONS) {
      const button = page.getByRole('navigation').getByRole('button', { name: section.label });
      await button.click();
      await expect(button).toHaveAttribute('aria-current', 'page');
      await expect(page.getByRole('heading', { level: 1, name: section.heading })).toBeVisible();
      if (section.id === 'about') await expect(page.getByTestId('fact-data-dir')).toBeVisible();
      await saveScreenshot(app, `${theme}-${section.id}`);
    }
  });
}

test('each section opens by keyboard shortcut', async ({ app }) => {
  const { page } = app;
  for (const section of [...SECTIONS].reverse()) {
    await page.keyboard.press(`Control+${section.key}`);
    await expect(page.getByRole('heading', { level: 1, name: section.heading })).toBeVisible();
    await expect(page.getByRole('navigation').getByRole('button', { name: section.label })).toHaveAttribute('aria-current', 'page');
  }
});

test('the sidebar is reachable with Tab and moves with the arrow keys', async ({ app }) => {
  const { page } = app;
  const nav = page.getByRole('navigation');
  await page.keyboard.press('Tab');
  await expect(nav.getByRole('button', { name: 'Chat' })).toBeFocused();
  for (const section of SECTIONS.slice(1)) {
    await page.keyboard.press('ArrowDown');
    await expect(nav.getByRole('button', { name: section.label })).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { level: 1, name: section.heading })).toBeVisible();
  }
  await page.keyboard.press('ArrowDown'); // wraps around
  await expect(nav.getByRole('button', { name: 'Chat' })).toBeFocused();
  await page.keyboard.press(' ');
  await expect(page.getByRole('heading', { level: 1, name: 'Chat' })).toBeVisible();
});

for (const size of [
  { width: 1024, height: 700 },
  { width: 1920, height: 1080 },
]) {
  test(`the layout fits ${size.width}×${size.height}`, async ({ app }) => {
    const { page } = app;
    await page.setViewportSize(size);
    await page.getByRole('navigation').getByRole('button', { name: 'About' }).click();
    await expect(page.getByTestId('fact-data-dir')).toBeVisible();
    const fits = await page.evaluate(() => ({
      horizontal: document.documentElement.scrollWidth <= window.innerWidth,
      vertical: document.documentElement.scrollHeight <= window.innerHeight,
    }));
    expect(fits).toEqual({ horizontal: true, vertical: true });
    await expect(page.getByTestId('status-offline')).toBeInViewport();
    await saveScreenshot(app, `about-${size.width}x${size.height}`);
  });
}

test('theme and language choices survive a reload', async ({ app }) => {
  const { page } = app;
  await page.emulateMedia({ colorScheme: 'light' });
  await page.getByRole('navigation').getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('radio', { name: 'Dark' }).check();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.getByLabel('Language').selectOption('es');
  await expect(page.getByRole('heading', { level: 1, name: 'Ajustes' })).toBeVisible();
  await saveScreenshot(app, 'dark-settings-es');

  await app.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(page.getByRole('navigation').getByRole('button', { name: 'Modelos' })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'es');
});

test('the sidebar can be resized with the keyboard and keeps its width', async ({ app }) => {
  const { page } = app;
  const handle = page.getByRole('separator', { name: 'Resize sidebar' });
  const before = Number(await handle.getAttribute('aria-valuenow'));
  await handle.focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect(handle).toHaveAttribute('aria-valuenow', String(before + 32));
  await app.reload();
  await expect(page.getByRole('separator', { name: 'Resize sidebar' })).toHaveAttribute('aria-valuenow', String(before + 32));
});
