import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findChromium } from '../e2e/browser.ts';
import { startHarness, type Harness } from '../e2e/harness/server.ts';
import { openAppWindow, type AppWindow } from './preview/app-window.ts';

// `npm run preview`: the app without Electron's binary, for development and evaluation on
// machines that lack it. The real services and the real renderer bundle, served by the e2e
// harness (e2e/harness/server.ts) on 127.0.0.1 with `window.api` over its token-guarded
// loopback WebSocket, shown in this machine's Chromium in app mode with a throwaway profile.
// It is a development tool: it lives in scripts/, which electron-builder.yml's `files` never
// packs, and the packaged app has no trace of it.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `Usage: npm run preview -- [--data-dir DIR] [--no-build] [--headless] [--screenshot FILE]

Opens Soberana in this machine's Chromium (app mode) against the real services, without
Electron. Data stays in its own folder (default: ${previewDataDir(process.platform, process.env, os.homedir())}).

  --data-dir DIR     Data folder for the preview
  --no-build         Use out/ as it is instead of building first
  --headless         No window (for tests and CI)
  --screenshot FILE  Save a PNG of the window once the app has started, and keep running
  -h, --help         This help`;

/** Pure: the preview's own data folder, never the app's: $XDG_DATA_HOME/soberana-preview on Linux, the OS's user data folder elsewhere. */
export function previewDataDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'soberana-preview');
  if (platform === 'win32') return path.join(env.LOCALAPPDATA ?? path.join(home, 'AppData', 'Local'), 'soberana-preview');
  return path.join(env.XDG_DATA_HOME !== undefined && env.XDG_DATA_HOME !== '' ? env.XDG_DATA_HOME : path.join(home, '.local', 'share'), 'soberana-preview');
}

export interface PreviewServices {
  readonly harness: Harness;
  close(): Promise<void>;
}

/**
 * The services and the page, without a browser: the e2e harness on the given data folder.
 * The inference process is started here rather than by the harness, which would set one
 * thread (for shared test machines) in the preview's settings.
 */
export async function startPreviewServices(dataDir: string, options: { readonly rendererRoot?: string } = {}): Promise<PreviewServices> {
  await mkdir(dataDir, { recursive: true });
  const harness = await startHarness({ dataDir, runtime: false, ...(options.rendererRoot === undefined ? {} : { rendererRoot: options.rendererRoot }) });
  let closing = false;
  harness.core.runtime.start().catch((error: unknown) => {
    // Closing while it starts stops it; that is not a failure worth reporting.
    if (!closing) console.error('[preview] the inference process failed to start', error);
  });
  return {
    harness,
    close: () => {
      closing = true;
      return harness.close();
    },
  };
}

function build(): void {
  const started = performance.now();
  const result = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.ts')], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('[preview] the build failed');
    process.exit(1);
  }
  console.log(`[preview] built out/ in ${Math.round(performance.now() - started)} ms`);
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the renderer has mounted something (or gives up), so a screenshot shows the app. */
async function waitForApp(window: AppWindow): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt += 1) {
    const ready = await window
      .evaluate("document.readyState === 'complete' && (document.querySelector('#root')?.childElementCount ?? 0) > 0 && typeof window.api === 'object'")
      .catch(() => false);
    if (ready === true) return;
    await delay(200);
  }
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'data-dir': { type: 'string' },
        'no-build': { type: 'boolean', default: false },
        headless: { type: 'boolean', default: false },
        screenshot: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const chromium = findChromium();
  if (chromium === null) {
    console.error('[preview] No Chromium found: install one (Debian: apt-get install chromium) or set PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH.');
    process.exit(1);
  }
  const dataDir = path.resolve(values['data-dir'] ?? previewDataDir(process.platform, process.env, os.homedir()));
  if (!values['no-build']) build();

  const services = await startPreviewServices(dataDir);
  const profileDir = await mkdtemp(path.join(os.tmpdir(), 'soberana-preview-chromium-'));
  console.log(`[preview] Soberana at ${services.harness.url} (loopback only; window.api over a token-guarded WebSocket)`);
  console.log(`[preview] data folder: ${dataDir}`);
  console.log(`[preview] Chromium: ${chromium}, throwaway profile ${profileDir}`);
  // The harness's file picker is the e2e specs' (they choose what a dialog returns), so here every
  // dialog and drop comes back empty. The CLI fills the same data folder, but not while the preview
  // runs: two processes appending to one audit log break its chain.
  console.log(`[preview] File dialogs and drag and drop act as cancelled here. To add models or documents, stop the preview, then:
[preview]   npm run cli -- --data-dir ${JSON.stringify(dataDir)} models import FILE   (or: knowledge ingest, bundle install)`);
  console.log('[preview] Ctrl-C (or closing the window) stops Chromium and the services.');

  let window: AppWindow | null = null;
  let stopping = false;
  const stop = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      await window?.close().catch(() => undefined);
      await services.close().catch((error: unknown) => console.error('[preview] closing the services failed', error));
      await rm(profileDir, { recursive: true, force: true }).catch(() => undefined);
      console.log('[preview] stopped');
      process.exit(code);
    }
    return new Promise<never>(() => undefined);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    window = await openAppWindow({ chromium, url: services.harness.url, initScript: services.harness.initScript, profileDir, headless: values.headless });
  } catch (error) {
    console.error(`[preview] Chromium did not start: ${error instanceof Error ? error.message : String(error)}`);
    await stop(1);
  }
  void window!.exited.then(() => stop(0));
  if (values.screenshot !== undefined) {
    await waitForApp(window!);
    // The app shows the inference process starting; give the first screen a moment to settle.
    await delay(1_500);
    const file = path.resolve(values.screenshot);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, await window!.screenshot());
    console.log(`[preview] screenshot: ${file}`);
  }
}

if (import.meta.main) await main();
