import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ServerMessage } from './protocol.ts';
import { startHarness, type Harness } from './server.ts';
import { checkUpgrade } from './ws-transport.ts';

// Real sockets on 127.0.0.1 against the real harness (services, router, transport).

let harness: Harness | null = null;
afterEach(async () => {
  await harness?.close();
  harness = null;
});

function socketUrl(h: Harness, token: string | null): string {
  const base = h.url.replace('http://', 'ws://').replace(/\/$/, '');
  return token === null ? `${base}/__soberana/ws` : `${base}/__soberana/ws?token=${encodeURIComponent(token)}`;
}

/** Resolves with the HTTP status when the upgrade is refused, or 101 when it opens. */
function tryConnect(url: string, origin: string): Promise<{ status: number; socket: WebSocket | null }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { origin });
    socket.once('open', () => resolve({ status: 101, socket }));
    socket.once('unexpected-response', (_request, response) => resolve({ status: response.statusCode ?? 0, socket: null }));
    socket.once('error', (error) => {
      if (!/Unexpected server response/.test(String(error))) reject(error);
    });
  });
}

function request(socket: WebSocket, message: object): Promise<ServerMessage> {
  return new Promise((resolve) => {
    socket.once('message', (data) => resolve(JSON.parse(data.toString()) as ServerMessage));
    socket.send(JSON.stringify(message));
  });
}

describe('checkUpgrade', () => {
  const token = 'per-run-token';
  const ok = { remoteAddress: '127.0.0.1', url: `/__soberana/ws?token=${token}`, origin: 'http://127.0.0.1:1234' };

  it('admits a loopback peer with the token, as the page’s origin', () => {
    expect(checkUpgrade(ok, token)).toEqual({ ok: true, caller: { origin: 'http://127.0.0.1:1234', isMainFrame: true } });
    expect(checkUpgrade({ ...ok, remoteAddress: '::1' }, token).ok).toBe(true);
  });

  it('refuses a peer that is not on loopback, even with the token', () => {
    for (const remoteAddress of ['10.0.0.5', '192.168.1.20', '::ffff:172.17.0.2', undefined]) {
      expect(checkUpgrade({ ...ok, remoteAddress }, token)).toEqual({ ok: false, status: 403 });
    }
  });

  it('refuses a missing, empty, wrong or longer token', () => {
    for (const url of ['/__soberana/ws', '/__soberana/ws?token=', '/__soberana/ws?token=nope', `/__soberana/ws?token=${token}x`]) {
      expect(checkUpgrade({ ...ok, url }, token)).toEqual({ ok: false, status: 401 });
    }
  });

  it('refuses other paths', () => {
    expect(checkUpgrade({ ...ok, url: `/other?token=${token}` }, token)).toEqual({ ok: false, status: 404 });
  });
});

describe('the harness WebSocket transport', () => {
  it('refuses a connection without the token', async () => {
    harness = await startHarness({ rendererRoot: '/nonexistent', runtime: false });
    const origin = harness.url.replace(/\/$/, '');
    expect((await tryConnect(socketUrl(harness, null), origin)).status).toBe(401);
    expect((await tryConnect(socketUrl(harness, 'guess'), origin)).status).toBe(401);
  });

  it('serves the contract to the page’s origin with the token', async () => {
    harness = await startHarness({ rendererRoot: '/nonexistent', runtime: false });
    const { status, socket } = await tryConnect(socketUrl(harness, harness.token), harness.url.replace(/\/$/, ''));
    expect(status).toBe(101);
    const reply = await request(socket!, { t: 'call', id: 1, name: 'app.info', input: {} });
    expect(reply).toMatchObject({ t: 'result', id: 1, result: { ok: true, value: { host: 'test-harness', dataDir: harness.dataDir } } });
    socket!.close();
  });

  it('admits a foreign origin’s socket but the router refuses its calls', async () => {
    harness = await startHarness({ rendererRoot: '/nonexistent', runtime: false });
    const { socket } = await tryConnect(socketUrl(harness, harness.token), 'https://evil.example');
    const reply = await request(socket!, { t: 'call', id: 7, name: 'app.info', input: {} });
    expect(reply).toMatchObject({ t: 'result', id: 7, result: { ok: false, error: { code: 'forbidden' } } });
    socket!.close();
  });

  it('rejects a malformed payload', async () => {
    harness = await startHarness({ rendererRoot: '/nonexistent', runtime: false });
    const { socket } = await tryConnect(socketUrl(harness, harness.token), harness.url.replace(/\/$/, ''));
    const reply = await request(socket!, { t: 'call', id: 2, name: 'settings.update', input: { theme: 'purple' } });
    expect(reply).toMatchObject({ t: 'result', id: 2, result: { ok: false, error: { code: 'bad_request' } } });
    socket!.close();
  });

  it('streams over the socket and broadcasts events', async () => {
    harness = await startHarness({ rendererRoot: '/nonexistent', runtime: false });
    const { socket } = await tryConnect(socketUrl(harness, harness.token), harness.url.replace(/\/$/, ''));
    const messages: ServerMessage[] = [];
    const ended = new Promise<void>((resolve) =>
      socket!.on('message', (data) => {
        const message = JSON.parse(data.toString()) as ServerMessage;
        messages.push(message);
        if (message.t === 'frame' && message.frame.type !== 'event') resolve();
      }),
    );
    socket!.send(JSON.stringify({ t: 'stream', id: 3, name: 'diagnostics.run', input: {} }));
    await ended;
    const frames = messages.flatMap((message) => (message.t === 'frame' ? [message.frame] : []));
    expect(frames[0]).toEqual({ type: 'event', event: { type: 'started', total: 5 } });
    expect(frames.at(-1)).toEqual({ type: 'end' });

    const broadcast = new Promise<ServerMessage>((resolve) => socket!.on('message', (data) => resolve(JSON.parse(data.toString()) as ServerMessage)));
    await harness.core.handlers['settings.update']({ theme: 'dark' }, { caller: { origin: 'test', isMainFrame: true }, signal: new AbortController().signal });
    expect(await broadcast).toMatchObject({ t: 'event', name: 'settings.changed', payload: { theme: 'dark' } });
    socket!.close();
  });

  it('serves the renderer with the CSP and refuses traversal', async () => {
    // Its own tiny bundle: unit tests run before the real one is built.
    const rendererRoot = await mkdtemp(path.join(os.tmpdir(), 'soberana-renderer-'));
    await writeFile(path.join(rendererRoot, 'index.html'), '<!doctype html><title>t</title>');
    harness = await startHarness({ rendererRoot, runtime: false });
    const page = await fetch(harness.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>t</title>');
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self';");
    const traversal = await fetch(`${harness.url}..%2f..%2fpackage.json`);
    expect([403, 404]).toContain(traversal.status);
    await rm(rendererRoot, { recursive: true, force: true });
  });
});
