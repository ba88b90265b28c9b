import { defineConfig, type Project } from '@playwright/test';
import { findChromium, QUIET_CHROMIUM_ARGS } from './e2e/browser.ts';

const executablePath = findChromium() ?? undefined;
// E2E_TARGET=chromium or E2E_TARGET=electron runs one target; by default both run, and the
// Electron target reports itself as skipped where its binary is not installed.
const only = process.env.E2E_TARGET;

export default defineConfig({
  testDir: './e2e',
  testMatch: '**/*.spec.ts',
  outputDir: './test-results',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 5_000 },
  forbidOnly: process.env.CI !== undefined,
  reporter: process.env.PLAYWRIGHT_JSON_OUTPUT_NAME === undefined ? [['list']] : [['list'], ['json']],
  use: {
    viewport: { width: 1280, height: 800 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: (
    [
      {
        // The real renderer bundle in a real Chromium, against the real services over the harness transport.
        name: 'chromium',
        use: {
          browserName: 'chromium' as const,
          launchOptions: { ...(executablePath === undefined ? {} : { executablePath }), args: QUIET_CHROMIUM_ARGS },
        },
        metadata: { target: 'chromium' },
      },
      {
        // The same specs against the Electron app; skipped where its binary is not installed.
        // E2E_ELECTRON_APP=packaged runs them against the packaged app (`npm run pack`) instead
        // of the development build: see packagedAppExecutable in e2e/electron-app.ts.
        name: 'electron',
        metadata: { target: 'electron', electronApp: process.env.E2E_ELECTRON_APP === 'packaged' ? 'packaged' : 'development' },
      },
    ] satisfies Project[]
  ).filter((project) => only === undefined || only === '' || project.name === only),
});
