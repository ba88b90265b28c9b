import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ServerMessage } from '../e2e/harness/protocol.ts';
import { appWindowArgs } from './preview/app-window.ts';
import { previewDataDir, startPreviewServices, type PreviewServices } from './preview.ts';

// npm run preview without its Chromium: the services and the page it would open.

let dir: string;
let services: PreviewServices | null = null;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-preview-test-'));
});

afterEach(async () => {
  await services?.close();
  services = null;
  await rm(dir, { recursive: true, force: true });
});

function call(socket: WebSocket, id: number, name: string): Promise<ServerMessage> {
  return new Promise((resolve) => {
    const onMessage = (data: Buffer) => {
      const message = JSON.parse(data.toString()) as ServerMessage;
      // Events (the inference process starting) may come first; wait for this call's result.
      if (message.t === 'result' && message.id === id) {
        socket.off('message', onMessage);
        resolve(message);
      }
    };
    socket.on('message', onMessage);
    socket.send(JSON.stringify({ t: 'call', id, name, input: {} }));
  });
}

describe('npm run preview', () => {
  it('serves the renderer on loopback and answers window.api calls with its own data folder', async () => {
    const rendererRoot = path.join(dir, 'renderer');
    await mkdir(rendererRoot);
    await writeFile(path.join(rendererRoot, 'index.html'), '<!doctype html><title>Soberana</title><div id="root"></div>');
    const dataDir = path.join(dir, 'data');
    services = await startPreviewServices(dataDir, { rendererRoot });
    const { harness } = services;
    expect(harness.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

    const page = await fetch(harness.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Soberana</title>');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");

    // What the page's bridge does: the token-guarded WebSocket, from the page's origin.
    const origin = new URL(harness.url).origin;
    const socket = new WebSocket(`${origin.replace('http', 'ws')}/__soberana/ws?token=${harness.token}`, { origin });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    try {
      const reply = await call(socket, 1, 'app.info');
      expect(reply).toMatchObject({ t: 'result', id: 1, result: { ok: true, value: { name: 'Soberana', dataDir, host: 'test-harness' } } });
      // The harness would set one thread for shared test machines; the preview keeps the app's default.
      const settings = await call(socket, 2, 'settings.get');
      expect(settings).toMatchObject({ result: { ok: true } });
      expect((settings as { result: { value: { runtime: { threads: number | 'auto' } } } }).result.value.runtime.threads).toBe('auto');
    } finally {
      socket.close();
    }
  });

  it('keeps its data apart from the app and opens Chromium in app mode with a throwaway profile', () => {
    expect(previewDataDir('linux', { XDG_DATA_HOME: '/xdg' }, '/home/u')).toBe('/xdg/soberana-preview');
    expect(previewDataDir('linux', {}, '/home/u')).toBe('/home/u/.local/share/soberana-preview');
    expect(previewDataDir('darwin', {}, '/Users/u')).toBe('/Users/u/Library/Application Support/soberana-preview');
    const args = appWindowArgs({ url: 'http://127.0.0.1:5/', profileDir: '/tmp/p' }, false);
    expect(args).toContain('--app=http://127.0.0.1:5/');
    expect(args).toContain('--user-data-dir=/tmp/p');
    expect(args).toContain('--remote-debugging-pipe');
    expect(args).toContain('--disable-background-networking');
    expect(args.some((arg) => arg.startsWith('--remote-debugging-port'))).toBe(false);
    expect(args).not.toContain('--no-sandbox');
    expect(appWindowArgs({ url: 'http://127.0.0.1:5/', profileDir: '/tmp/p' }, true)).toContain('--no-sandbox');
  });
});
