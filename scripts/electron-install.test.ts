import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { electronBinary } from '../e2e/electron-app.ts';
import { beforeStart, electronCachePath, installerFailureCause, offlineInstructions, runElectronInstaller } from './electron-install.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ARTIFACT = { version: '45.6.1', platform: 'linux', arch: 'x64' };

// What Electron's installer printed, recorded from real runs (with the cause hook and DEBUG=@electron/get:index).
const OFFLINE = `2026-12-05T04:45:16.669Z @electron/get:index Downloading https://github.com/electron/electron/releases/download/v45.6.1/electron-v45.6.1-linux-x64.zip to /tmp/electron-download-yLA0Ly/electron-v45.6.1-linux-x64.zip with options: undefined
[electron-install] cause: https://github.com/electron/electron/releases/download/v45.6.1/electron-v45.6.1-linux-x64.zip: EAI_AGAIN getaddrinfo EAI_AGAIN github.com
TypeError: fetch failed
`;
const CHECKSUM = `2026-12-05T04:45:16.608Z @electron/get:index Cache hit
2026-12-05T04:45:16.667Z @electron/get:index Artifact in cache didn't match checksums ChecksumMismatchError: Generated checksum for "electron-v45.6.1-linux-x64.zip" did not match expected checksum.
    at Hash.<anonymous> (/work/main/node_modules/sumchecker/index.js:133:20)
    at prefinish (node:internal/streams/writable:918:14) {
  filename: 'electron-v45.6.1-linux-x64.zip'
}
2026-12-05T04:45:16.668Z @electron/get:index falling back to re-download
${OFFLINE}`;

describe('npm start: what to do when Electron is missing', () => {
  it('starts when the binary is there, installs it when not', () => {
    expect(beforeStart('/x/electron', {})).toEqual({ action: 'start', binary: '/x/electron' });
    expect(beforeStart(null, {})).toEqual({ action: 'install' });
    expect(beforeStart(null, { ELECTRON_SKIP_BINARY_DOWNLOAD: '0' })).toEqual({ action: 'install' });
  });

  it('does not download when ELECTRON_SKIP_BINARY_DOWNLOAD asks it not to, and says so', () => {
    expect(beforeStart(null, { ELECTRON_SKIP_BINARY_DOWNLOAD: '1' })).toEqual({
      action: 'explain',
      cause: expect.stringContaining('ELECTRON_SKIP_BINARY_DOWNLOAD is set'),
    });
  });

  it("after a failed install, explains with the installer's own error", () => {
    const decision = beforeStart(null, {}, { status: 1, stderr: OFFLINE });
    expect(decision).toEqual({
      action: 'explain',
      cause:
        "Electron's installer failed: TypeError: fetch failed (https://github.com/electron/electron/releases/download/v45.6.1/electron-v45.6.1-linux-x64.zip: EAI_AGAIN getaddrinfo EAI_AGAIN github.com)",
    });
    expect(beforeStart('/x/electron', {}, { status: 0, stderr: '' })).toEqual({ action: 'start', binary: '/x/electron' });
    expect(beforeStart(null, {}, { status: 0, stderr: '' })).toMatchObject({ action: 'explain', cause: expect.stringContaining('no binary') });
  });

  it('names a cached zip that failed its checksum first, and leaves out the debug noise', () => {
    const cause = installerFailureCause({ status: 1, stderr: CHECKSUM });
    expect(cause).toBe(
      `Electron's installer failed: TypeError: fetch failed (the zip in the cache did not match Electron's checksums: ChecksumMismatchError: Generated checksum for "electron-v45.6.1-linux-x64.zip" did not match expected checksum.) (https://github.com/electron/electron/releases/download/v45.6.1/electron-v45.6.1-linux-x64.zip: EAI_AGAIN getaddrinfo EAI_AGAIN github.com)`,
    );
    expect(installerFailureCause({ status: null, stderr: '' })).toContain('without saying why');
  });

  it("puts the zip where @electron/get looks: a folder named for the SHA-256 of the URL's folder", () => {
    // sha256("https://github.com/electron/electron/releases/download/v45.6.1"), as the real installer found it (a cache hit).
    expect(electronCachePath(ARTIFACT, { electron_config_cache: '/c' })).toBe(
      '/c/f99b0d5148739f499cd150742d05d943b7049eaef6568de0f2f58c95fcc97bce/electron-v45.6.1-linux-x64.zip',
    );
    expect(electronCachePath(ARTIFACT, { electron_config_cache: '/c', ELECTRON_MIRROR: 'https://mirror.example/electron/' })).not.toContain('f99b0d51');
    expect(electronCachePath(ARTIFACT, { XDG_CACHE_HOME: '/xdg' }, '/home/u')).toMatch(process.platform === 'linux' ? /^\/xdg\/electron\// : /electron/);
  });

  it('prints the cause, the offline install and npm run preview, and never blames ELECTRON_SKIP_BINARY_DOWNLOAD for a network error', () => {
    const message = offlineInstructions(installerFailureCause({ status: 1, stderr: OFFLINE }), ARTIFACT, { electron_config_cache: '/c' });
    expect(message).toContain('EAI_AGAIN getaddrinfo EAI_AGAIN github.com');
    expect(message).toContain('/c/f99b0d5148739f499cd150742d05d943b7049eaef6568de0f2f58c95fcc97bce/electron-v45.6.1-linux-x64.zip');
    expect(message).toContain('npm run preview');
    expect(message).not.toContain('ELECTRON_SKIP_BINARY_DOWNLOAD');
  });
});

describe("Electron's real installer, against a mirror that refuses", () => {
  let cache: string;
  beforeEach(async () => {
    cache = await mkdtemp(path.join(os.tmpdir(), 'soberana-electron-cache-'));
  });
  afterEach(async () => {
    await rm(cache, { recursive: true, force: true });
  });

  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  // Where the binary is installed, the installer exits 0 at once: nothing to fail.
  it.skipIf(electronBinary() !== null)('fails, and the cause names the refused connection', async () => {
    const port = await closedPort();
    const run = await runElectronInstaller(ROOT, { ...process.env, ELECTRON_MIRROR: `http://127.0.0.1:${port}/`, electron_config_cache: cache });
    expect(run.status).toBe(1);
    const cause = installerFailureCause(run);
    expect(cause).toContain('fetch failed');
    expect(cause).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
  });

  it.skipIf(electronBinary() !== null)('finds a zip in the cache folder electronCachePath names, and reports its bad checksum', async () => {
    const port = await closedPort();
    const env = { ...process.env, ELECTRON_MIRROR: `http://127.0.0.1:${port}/`, electron_config_cache: cache };
    const { version } = (await import('../node_modules/electron/package.json', { with: { type: 'json' } })).default;
    const zip = electronCachePath({ version, platform: process.platform, arch: process.arch }, env);
    await mkdir(path.dirname(zip), { recursive: true });
    await writeFile(zip, 'not a zip');
    const run = await runElectronInstaller(ROOT, env);
    expect(run.status).toBe(1);
    expect(installerFailureCause(run)).toContain("the zip in the cache did not match Electron's checksums");
  });
});
