import { _electron, test as base, expect, type Browser, type ElectronApplication, type Page } from '@playwright/test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IPC_CHANNELS } from '../electron/common/contract/channels.ts';
import { electronBinary } from './electron-app.ts';
import { presetSpec, writeGguf } from './fixtures/gguf/writer.ts';
import { startHarness, type Harness } from './harness/server.ts';

// One fixture, two targets. In the `chromium` project the real renderer bundle runs in
// Chromium against the real services through the harness; in the `electron` project
// the same specs drive the packaged app's window.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export type Target = 'chromium' | 'electron';

export interface AppUnderTest {
  readonly target: Target;
  readonly page: Page;
  readonly dataDir: string;
  /** Node version of the process running the services, when the test can know it. */
  readonly serviceNodeVersion: string | null;
  /** Console errors and uncaught exceptions seen so far. */
  readonly errors: string[];
  /** Errors matching this are expected by the test and not reported at teardown. */
  allowErrors(pattern: RegExp): void;
  reload(): Promise<void>;
  /**
   * Stops the app (services, inference process, page) and starts it again on the same data
   * directory; `whileStopped` runs in between, e.g. to damage or repair the data folder.
   */
  restart(whileStopped?: () => Promise<void>): Promise<void>;
  /** Makes the next "choose" dialog return these paths, as if the user had picked them. */
  choosePickedFile(chosen: string | readonly string[] | null): Promise<void>;
  /**
   * Hands these paths to the main process as the preload does with a real drop's files (a page
   * can only drop files without paths); the app then gets a `files.dropped` token for them.
   * Dispatch the drop on the page first: the token goes to the section that saw a drop.
   */
  dropFiles(paths: readonly string[]): Promise<void>;
  /** SIGKILLs the real inference process. */
  killRuntime(): Promise<void>;
}

interface WorkerFixtures {
  target: Target;
  chromium: Browser | null;
  /** Models written by the project's GGUF writer, once per worker. */
  models: { readonly tiny: string; readonly notGguf: string };
}

interface TestFixtures {
  app: AppUnderTest;
  /** A machine policy file for this test's app (chromium target); set with test.use(). */
  policyFile: string | null;
}

function watchErrors(page: Page, errors: string[]): void {
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  target: [
    // Playwright reads a fixture's dependencies from its destructuring pattern; this one has none.
    // eslint-disable-next-line no-empty-pattern
    async ({}, use, workerInfo) => {
      await use(workerInfo.project.metadata.target === 'electron' ? 'electron' : 'chromium');
    },
    { scope: 'worker' },
  ],

  models: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-e2e-models-'));
      const tiny = path.join(dir, 'soberana-tiny.gguf');
      // A 4,096-token context, because the chat wrapper's default system prompt alone fills
      // most of 512 with a byte-level vocabulary; quietEnd, so replies last until stopped.
      await writeGguf(tiny, { ...presetSpec('tiny', 'Q8_0', 11), contextLength: 4096, quietEnd: true });
      const notGguf = path.join(dir, 'download.gguf');
      await writeFile(notGguf, '<!doctype html><title>Sign in</title>');
      await use({ tiny, notGguf });
      await rm(dir, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],

  chromium: [
    async ({ playwright, target }, use, workerInfo) => {
      if (target !== 'chromium') {
        await use(null);
        return;
      }
      const browser = await playwright.chromium.launch(workerInfo.project.use.launchOptions);
      await use(browser);
      await browser.close();
    },
    { scope: 'worker' },
  ],

  policyFile: [null, { option: true }],

  app: async ({ target, chromium, policyFile }, use, testInfo) => {
    const errors: string[] = [];
    const allowed: RegExp[] = [];
    let page!: Page;
    let harness: Harness | null = null;
    let electronApp: ElectronApplication | null = null;

    if (target === 'electron') testInfo.skip(electronBinary() === null, 'Electron binary not installed (npm ci ran with ELECTRON_SKIP_BINARY_DOWNLOAD=1)');
    const dataDir = await mkdtemp(path.join(os.tmpdir(), target === 'chromium' ? 'soberana-e2e-' : 'soberana-electron-e2e-'));

    const launch = async () => {
      if (target === 'chromium') {
        harness = await startHarness({ dataDir, ...(policyFile === null ? {} : { policyFile }) });
        const context = await chromium!.newContext({ viewport: { width: 1280, height: 800 } });
        await context.addInitScript({ content: harness.initScript });
        page = await context.newPage();
        watchErrors(page, errors);
        await page.goto(harness.url);
      } else {
        electronApp = await _electron.launch({
          executablePath: electronBinary()!,
          args: [path.join(root, 'out/main/index.js')],
          env: { ...process.env, SOBERANA_DATA_DIR: dataDir, ...(policyFile === null ? {} : { SOBERANA_POLICY_FILE: policyFile }) },
        });
        page = await electronApp.firstWindow();
        watchErrors(page, errors);
        await page.setViewportSize({ width: 1280, height: 800 });
      }
      await expect(page.getByRole('navigation')).toBeVisible();
    };
    const shutdown = async () => {
      await page
        .context()
        .close()
        .catch(() => undefined);
      await (electronApp as ElectronApplication | null)?.close();
      await (harness as Harness | null)?.close();
      harness = null;
      electronApp = null;
    };
    await launch();

    await use({
      target,
      get page() {
        return page;
      },
      dataDir,
      serviceNodeVersion: target === 'chromium' ? process.versions.node : null,
      errors,
      allowErrors: (pattern) => void allowed.push(pattern),
      async reload() {
        await page.reload();
        await expect(page.getByRole('navigation')).toBeVisible();
      },
      async restart(whileStopped) {
        await shutdown();
        await whileStopped?.();
        await launch();
      },
      async choosePickedFile(chosen) {
        if (harness !== null) {
          (harness as Harness).setNextPick(chosen);
          return;
        }
        const paths = chosen === null ? [] : typeof chosen === 'string' ? [chosen] : [...chosen];
        await electronApp!.evaluate(({ dialog }, filePaths) => {
          dialog.showOpenDialog = (async () => ({ canceled: filePaths.length === 0, filePaths })) as typeof dialog.showOpenDialog;
        }, paths);
      },
      async dropFiles(paths) {
        if (harness !== null) {
          (harness as Harness).drop(paths);
          return;
        }
        // The preload's message, from the window's own frame, so the main process's sender check applies as for a real drop.
        await electronApp!.evaluate(
          ({ BrowserWindow, ipcMain }, { channel, filePaths }) => {
            const window = BrowserWindow.getAllWindows()[0];
            if (window !== undefined) ipcMain.emit(channel, { senderFrame: window.webContents.mainFrame }, filePaths);
          },
          { channel: IPC_CHANNELS.dropped, filePaths: [...paths] },
        );
      },
      async killRuntime() {
        const pid =
          harness !== null
            ? (harness as Harness).core.runtime.pid()
            : await electronApp!.evaluate(
                ({ app: electron }) =>
                  electron.getAppMetrics().find((metric) => metric.type === 'Utility' && metric.serviceName === 'Soberana inference')?.pid ?? null,
              );
        if (pid === null || pid === undefined) throw new Error('The inference process is not running.');
        process.kill(pid, 'SIGKILL');
      },
    });

    const unexpected = errors.filter((error) => !allowed.some((pattern) => pattern.test(error)));
    await shutdown();
    await rm(dataDir, { recursive: true, force: true });
    expect(unexpected, 'console errors or uncaught exceptions in the page').toEqual([]);
  },
});

export { expect };

/** Saves a screenshot under the test output, named for what it shows. */
export async function saveScreenshot(app: AppUnderTest, name: string): Promise<void> {
  const file = path.join(test.info().project.outputDir, 'screenshots', app.target, `${name}.png`);
  await app.page.screenshot({ path: file });
  await test.info().attach(name, { path: file, contentType: 'image/png' });
}
