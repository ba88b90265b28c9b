import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

// `npm start` when Electron's binary is missing. Electron 45 has no install script, so
// `npm ci` leaves the binary out; npm start installs it with Electron's own installer
// (node_modules/electron/install.js, which honours electron_config_cache, ELECTRON_MIRROR,
// ELECTRON_CUSTOM_DIR and the checksums shipped in the package) and only when that fails
// says why, with the installer's own error, and how to install it offline.
//
// The decisions and the messages are pure functions (electron-install.test.ts); only
// runElectronInstaller touches the world.

export type StartDecision =
  { readonly action: 'start'; readonly binary: string } | { readonly action: 'install' } | { readonly action: 'explain'; readonly cause: string };

function truthy(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/** Pure: what npm start does before starting Electron, given the binary found (or not). */
export function beforeStart(binary: string | null, env: NodeJS.ProcessEnv, attempted: InstallerRun | null = null): StartDecision {
  if (binary !== null) return { action: 'start', binary };
  if (attempted !== null) {
    return {
      action: 'explain',
      cause: attempted.status === 0 ? "Electron's installer finished but no binary is where it should be." : installerFailureCause(attempted),
    };
  }
  // Whoever set it asked for no download; npm start respects that instead of fetching behind their back.
  if (truthy(env.ELECTRON_SKIP_BINARY_DOWNLOAD)) {
    return { action: 'explain', cause: 'ELECTRON_SKIP_BINARY_DOWNLOAD is set, so npm start did not run the installer.' };
  }
  return { action: 'install' };
}

export interface InstallerRun {
  readonly status: number | null;
  readonly stderr: string;
}

/** Marks the line our fetch hook adds: the network error behind the installer's bare "fetch failed". */
export const CAUSE_MARK = '[electron-install] cause:';

/**
 * Node's fetch reports every network failure as "TypeError: fetch failed" and keeps the reason
 * (ENETUNREACH, EAI_AGAIN, ECONNREFUSED...) in error.cause, which the installer does not print.
 * This hook, loaded into the installer's process with --import, prints it. It changes nothing else.
 */
const FETCH_CAUSE_HOOK = `
const original = globalThis.fetch;
globalThis.fetch = (input, init) => original(input, init).catch((error) => {
  const cause = error && error.cause;
  const reason = cause ? [cause.code, cause.message].filter(Boolean).join(' ') : String(error && error.message);
  console.error(${JSON.stringify(CAUSE_MARK)} + ' ' + String(input && input.url ? input.url : input) + ': ' + reason);
  throw error;
});`;

/** @electron/get's debug lines (DEBUG=@electron/get:index): they say when a cached zip failed its checksum. */
const DEBUG_LINE = / @electron\/get:[a-z]+ /;
const CHECKSUM_MISMATCH = "Artifact in cache didn't match checksums";

/** Pure: the real cause of a failed install, from what the installer printed. */
export function installerFailureCause(run: InstallerRun): string {
  const causes: string[] = [];
  const errorLines: string[] = [];
  // A debug line may be followed by the error it logs: indented stack frames and properties, then "}".
  let inDebugBlock = false;
  for (const raw of run.stderr.split(/\r?\n/)) {
    const line = raw.trim();
    if (inDebugBlock && (/^\s/.test(raw) || line === '}')) continue;
    inDebugBlock = false;
    if (line.startsWith(CAUSE_MARK)) {
      causes.push(line.slice(CAUSE_MARK.length).trim());
    } else if (DEBUG_LINE.test(line)) {
      inDebugBlock = true;
      const mismatch = line.indexOf(CHECKSUM_MISMATCH);
      if (mismatch !== -1) causes.unshift(`the zip in the cache did not match Electron's checksums: ${line.slice(mismatch + CHECKSUM_MISMATCH.length).trim()}`);
    } else if (line !== '' && !/^\s/.test(raw)) {
      // The installer prints err.stack: the error's own first line(s), then indented "at ..." frames.
      errorLines.push(line);
    }
  }
  const error = errorLines.join(' ');
  const parts = [error, ...causes.map((cause) => `(${cause})`)].filter((part) => part !== '');
  if (parts.length > 0) return `Electron's installer failed: ${parts.join(' ')}`;
  return `Electron's installer failed (exit ${run.status ?? 'by signal'}) without saying why.`;
}

export interface ElectronArtifact {
  readonly version: string;
  readonly platform: string;
  readonly arch: string;
}

export function artifactFileName({ version, platform, arch }: ElectronArtifact): string {
  return `electron-v${version}-${platform}-${arch}.zip`;
}

/**
 * Pure: where Electron's installer looks for the zip before downloading it. @electron/get keeps
 * each file under <cache>/<sha256 of the download URL's folder>/, so a zip dropped at the top of
 * the cache folder is not found. Mirrors the URL rules of @electron/get's artifact-utils for the
 * release artefact: ELECTRON_MIRROR (or npm_config_electron_mirror) and ELECTRON_CUSTOM_DIR.
 */
export function electronCachePath(artifact: ElectronArtifact, env: NodeJS.ProcessEnv, home = os.homedir()): string {
  const base =
    env.ELECTRON_MIRROR ?? env.npm_config_electron_mirror ?? env.NPM_CONFIG_ELECTRON_MIRROR ?? 'https://github.com/electron/electron/releases/download/';
  const dir = (env.ELECTRON_CUSTOM_DIR ?? env.npm_config_electron_custom_dir ?? `v${artifact.version}`).replace('{{ version }}', artifact.version);
  const fileName = artifactFileName(artifact);
  const url = new URL(`${base}${dir}/${fileName}`);
  url.hash = '';
  url.search = '';
  url.pathname = path.posix.dirname(url.pathname);
  const folder = createHash('sha256').update(url.toString()).digest('hex');
  return path.join(env.electron_config_cache ?? defaultCacheRoot(env, home), folder, fileName);
}

/** env-paths('electron', { suffix: '' }).cache, which @electron/get uses when electron_config_cache is unset. */
function defaultCacheRoot(env: NodeJS.ProcessEnv, home: string): string {
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Caches', 'electron');
  if (process.platform === 'win32') return path.join(env.LOCALAPPDATA ?? path.join(home, 'AppData', 'Local'), 'electron', 'Cache');
  return path.join(env.XDG_CACHE_HOME ?? path.join(home, '.cache'), 'electron');
}

/** Pure: what npm start prints when it cannot start Electron. */
export function offlineInstructions(cause: string, artifact: ElectronArtifact, env: NodeJS.ProcessEnv, home = os.homedir()): string {
  const fileName = artifactFileName(artifact);
  const cacheRoot = env.electron_config_cache ?? '/path/to/cache';
  const cachePath = electronCachePath(artifact, { ...env, electron_config_cache: cacheRoot }, home);
  return `Electron's binary is not installed, so the app cannot start here.

${cause}

To install it without a network: copy ${fileName} (from
https://github.com/electron/electron/releases/tag/v${artifact.version} or your mirror) to

  ${cachePath}

(the folder name is the SHA-256 of the download URL's folder, as Electron's installer
expects), then run npm start again with electron_config_cache=${cacheRoot}, or run
  electron_config_cache=${cacheRoot} node node_modules/electron/install.js
The installer checks the zip against the checksums shipped in node_modules/electron.
With a network, a mirror works too: ELECTRON_MIRROR=https://mirror.example/electron/

Without Electron, "npm run preview" opens the same app in this machine's Chromium,
against the real services, and "npm test" runs everything but the Electron shell.`;
}

/** Runs Electron's own installer (with the cause hook). Resolves with its exit status and what it wrote to stderr. */
export function runElectronInstaller(root: string, env: NodeJS.ProcessEnv = process.env): Promise<InstallerRun> {
  const installer = path.join(root, 'node_modules', 'electron', 'install.js');
  return new Promise((resolve) => {
    // @electron/get's debug channel is the only place it says a cached zip failed its checksum
    // (it then tries to download, and the download's error is all the installer prints).
    const child = spawn(process.execPath, [`--import=data:text/javascript,${encodeURIComponent(FETCH_CAUSE_HOOK)}`, installer], {
      cwd: root,
      env: { ...env, DEBUG: '@electron/get:index' },
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    // Collected, not echoed: the debug lines are noise, and installerFailureCause says what matters.
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (error) => resolve({ status: null, stderr: `${stderr}${error.message}\n` }));
    child.on('close', (status) => resolve({ status, stderr }));
  });
}
