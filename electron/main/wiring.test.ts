import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contract } from '../common/contract/index.ts';
import { buildForTests } from '../../scripts/packaging/build-app.ts';

// What the real shell would ask Electron to do, checked without Electron's binary: the BUILT
// main bundle (out/main/index.js) runs in a child process where `electron` resolves to a
// RECORDING STAND-IN (e2e/stand-ins/electron-stand-in.ts, injected with a module hook), with
// the real services on a temporary data folder. e2e/stand-ins/main-probe.ts calls what the
// bundle registered the way Electron would, and reports.

const root = path.resolve(import.meta.dirname, '../..');

interface Report {
  switches: { name: string; value?: string }[];
  singleInstanceLockRequests: number;
  privilegedSchemes: { scheme: string; privileges: Record<string, boolean> }[];
  protocolSchemes: string[];
  appProtocol: { status: number; headers: Record<string, string>; otherHost: number; traversal: number } | null;
  permissions: { request: unknown; check: unknown; device: unknown; displayMedia: unknown };
  spellCheckerEnabled: boolean | null;
  requests: Record<'app' | 'https' | 'file' | 'devtools', { cancel: boolean }>;
  navigation: { external: boolean; file: boolean; inApp: boolean; redirect: boolean; webview: boolean; windowOpen: unknown; webRtcPolicy: unknown };
  windows: { webPreferences: Record<string, unknown>; url: string | null }[];
  ipcChannels: { handle: string[]; on: string[] };
  endpoints: Record<string, { kind: string; evil: string; appSubframe: string; app: string }>;
  unknownEndpoint: string | null;
  forks: { entry: string; options: Record<string, unknown> }[];
  applicationMenu: unknown;
  quitCalls: number;
  exitCodes: number[];
}

const dataDirs: string[] = [];

async function probe(packaged: boolean): Promise<Report> {
  const userData = await mkdtemp(path.join(os.tmpdir(), 'soberana-wiring-'));
  dataDirs.push(userData);
  const child = spawn(process.execPath, ['--import', './e2e/stand-ins/register-electron-stand-in.ts', 'e2e/stand-ins/main-probe.ts', 'out/main/index.js'], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      STAND_IN_PACKAGED: packaged ? '1' : '0',
      STAND_IN_USER_DATA: userData,
      SOBERANA_DATA_DIR: '',
      VITE_DEV_SERVER_URL: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const line = stdout.split('\n').find((text) => text.startsWith('STAND-IN REPORT '));
  if (code !== 0 || line === undefined) throw new Error(`the probe failed (${code}):\n${stdout}\n${stderr}`);
  return JSON.parse(line.slice('STAND-IN REPORT '.length)) as Report;
}

let packaged: Report;
let development: Report;

beforeAll(async () => {
  await buildForTests(['main', 'preload', 'renderer']);
  [packaged, development] = await Promise.all([probe(true), probe(false)]);
}, 240_000);

afterAll(async () => {
  await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('the built main process, against a recording stand-in for electron', () => {
  it('opens one window, sandboxed and isolated, with DevTools only in development', () => {
    expect(packaged.windows).toHaveLength(1);
    const [window] = packaged.windows;
    expect(window?.url).toBe('app://soberana/');
    expect(window?.webPreferences).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      devTools: false,
    });
    const preload = String(window?.webPreferences.preload);
    expect(preload).toBe(path.join(root, 'out', 'preload', 'index.cjs'));
    expect(existsSync(preload)).toBe(true);
    expect(development.windows[0]?.webPreferences.devTools).toBe(true);
  });

  it('serves the renderer over app:// with the strict CSP, and nothing from another host or outside its folder', () => {
    expect(packaged.privilegedSchemes).toEqual([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } }]);
    expect(packaged.protocolSchemes).toEqual(['app']);
    expect(packaged.appProtocol?.status).toBe(200);
    const csp = packaged.appProtocol?.headers['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/https?:|\*/);
    expect(packaged.appProtocol?.headers['x-content-type-options']).toBe('nosniff');
    expect(packaged.appProtocol?.otherHost).toBe(403);
    expect([403, 404]).toContain(packaged.appProtocol?.traversal);
  });

  it('denies every permission, device and screen capture, and cancels every request that is not app:', () => {
    expect(packaged.permissions).toEqual({ request: false, check: false, device: false, displayMedia: {} });
    expect(packaged.spellCheckerEnabled).toBe(false);
    expect(packaged.requests).toEqual({ app: { cancel: false }, https: { cancel: true }, file: { cancel: true }, devtools: { cancel: true } });
  });

  it('refuses navigation away from the app, redirects, webviews and new windows, on every WebContents', () => {
    // Every navigation is refused, to the app's own URL too: the renderer routes in the page.
    expect(packaged.navigation).toEqual({
      external: true,
      file: true,
      inApp: true,
      redirect: true,
      webview: true,
      windowOpen: { action: 'deny' },
      webRtcPolicy: 'disable_non_proxied_udp',
    });
  });

  it('routes every contract endpoint through IPC, and refuses any sender but the app’s main frame', () => {
    expect(packaged.ipcChannels.handle).toEqual(['soberana:rpc']);
    expect(packaged.ipcChannels.on.sort()).toEqual(['soberana:dropped', 'soberana:stream']);
    const expected = Object.entries(contract).filter(([, definition]) => definition.kind !== 'event');
    expect(Object.keys(packaged.endpoints).sort()).toEqual(expected.map(([name]) => name).sort());
    for (const [name, result] of Object.entries(packaged.endpoints)) {
      // A sender from elsewhere, or a frame inside the app: refused before the handler.
      expect([result.evil, result.appSubframe], name).toEqual(['forbidden', 'forbidden']);
      // The app's own main frame reaches the endpoint, whose input check refuses null: the route exists.
      expect(result.app, name).toBe('bad_request');
    }
    expect(packaged.unknownEndpoint).toBe('unknown_endpoint');
  });

  it('takes the single-instance lock, and starts the inference process from the built entry', () => {
    expect(packaged.singleInstanceLockRequests).toBe(1);
    expect(packaged.quitCalls).toBe(0);
    expect(packaged.exitCodes).toEqual([]);
    expect(packaged.forks).toHaveLength(1);
    expect(packaged.forks[0]?.entry).toBe(path.join(root, 'out', 'runtime', 'index.js'));
    expect(packaged.forks[0]?.options).toMatchObject({ serviceName: 'Soberana inference' });
  });

  it('sets the Chromium switches against egress; the packaged app resolves no name and bypasses no proxy', () => {
    const packagedSwitches = Object.fromEntries(packaged.switches.map(({ name, value }) => [name, value ?? true]));
    expect(packagedSwitches).toEqual({
      'disable-background-networking': true,
      'disable-component-update': true,
      'disable-domain-reliability': true,
      'disable-sync': true,
      'no-pings': true,
      'host-resolver-rules': 'MAP * ~NOTFOUND',
      'proxy-server': 'http://127.0.0.1:1',
      'proxy-bypass-list': '<-loopback>',
      'force-webrtc-ip-handling-policy': 'disable_non_proxied_udp',
    });
    const developmentSwitches = Object.fromEntries(development.switches.map(({ name, value }) => [name, value ?? true]));
    expect(developmentSwitches['host-resolver-rules']).toBe('MAP * ~NOTFOUND, EXCLUDE localhost');
    expect(developmentSwitches['proxy-bypass-list']).toBeUndefined();
  });

  it('has no DevTools or reload in the packaged menu', () => {
    const text = JSON.stringify(packaged.applicationMenu);
    expect(text).toContain('"role":"quit"');
    expect(text).not.toMatch(/toggleDevTools|reload|forceReload/);
    expect(development.applicationMenu).toBeNull();
  });
});
