import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiSettings, ApiStatus } from '../common/contract/index.ts';
import type { CallContext } from '../common/handlers.ts';
import { AppError, type Result } from '../common/result.ts';
import { createCore, type Core } from '../main/services/core.ts';
import { createHttpApi } from './http-api.ts';

// The local API's listener follows the settings and the policy, as the app wires it (main
// passes createHttpApi to createCore): on at start when the settings say so, on and off and
// moved as the settings change, never where the policy forbids it, a port in use reported as
// a problem; each start and stop on the audit record, each change broadcast as api.changed.

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };
const ctx = (): CallContext => ({ caller: { origin: 'test', isMainFrame: true }, signal: new AbortController().signal });

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-api-controller-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new AppError(result.error.code, result.error.message, result.error.details);
  return result.value;
}

/** A port nothing listens on now (the system's choice, released). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function open(name: string, policy: object = {}): Promise<Core> {
  const policyFile = path.join(dir, `${name}-policy.json`);
  await writeFile(policyFile, JSON.stringify({ version: 1, ...policy }));
  return createCore({ dataDir: path.join(dir, name), host: HOST, policyFile, apiServer: (service) => createHttpApi(service) });
}

/** Sets settings.api and waits until the listener has followed it (settings.changed → the controller). */
async function setApi(core: Core, api: ApiSettings): Promise<ApiStatus> {
  unwrap(await core.handlers['settings.update']({ api }, ctx()));
  return core.api.controller.apply();
}

const reachable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

const lifecycle = (core: Core) =>
  core.audit
    .log!.list({ limit: 1000 })
    .filter((record) => record.type === 'api.started' || record.type === 'api.stopped')
    .sort((a, b) => a.seq - b.seq)
    .map((record) => ({ type: record.type, ...(record.data as { port: number }) }));

describe('the local API follows the settings and the policy', () => {
  it('listens when turned on, moves with the port, stops when turned off, and starts with the app when it was on', { timeout: 120_000 }, async () => {
    let core = await open('settings');
    const [first, second] = [await freePort(), await freePort()];
    try {
      expect(unwrap(await core.handlers['api.status']({}, ctx()))).toMatchObject({ state: 'off', unavailable: false, addresses: [] });
      const seen: ApiStatus[] = [];
      core.bus.on('api.changed', (status) => seen.push(status));

      const on = await setApi(core, { enabled: true, port: first, allowedOrigins: [] });
      expect(on).toMatchObject({ state: 'listening', port: first, problem: null });
      expect(on.addresses).toContain(`http://127.0.0.1:${first}`);
      expect(await reachable(first)).toBe(true);
      expect(seen.at(-1)).toMatchObject({ state: 'listening', port: first });

      const moved = await setApi(core, { enabled: true, port: second, allowedOrigins: [] });
      expect(moved).toMatchObject({ state: 'listening', port: second });
      expect(await reachable(first)).toBe(false);
      expect(await reachable(second)).toBe(true);

      const off = await setApi(core, { enabled: false, port: second, allowedOrigins: [] });
      expect(off).toMatchObject({ state: 'off', addresses: [] });
      expect(await reachable(second)).toBe(false);
      expect(lifecycle(core).map(({ type, port }) => `${type} ${port}`)).toEqual([
        `api.started ${first}`,
        `api.stopped ${first}`,
        `api.started ${second}`,
        `api.stopped ${second}`,
      ]);

      await setApi(core, { enabled: true, port: second, allowedOrigins: [] });
      await core.close();
      expect(await reachable(second)).toBe(false);
      core = await open('settings');
      expect(core.api.controller.status()).toMatchObject({ state: 'listening', port: second });
      expect(await reachable(second)).toBe(true);
    } finally {
      await core.close();
    }
  });

  it('reports a port in use as a problem, and never listens where the policy forbids the API', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    const core = await open('busy');
    try {
      const failed = await setApi(core, { enabled: true, port, allowedOrigins: [] });
      expect(failed).toMatchObject({ state: 'failed', addresses: [], problem: expect.stringContaining(`port ${port}`) });
    } finally {
      await core.close();
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }

    const other = await freePort();
    const forbidden = await open('forbidden', { api: { allowed: false } });
    try {
      const status = await setApi(forbidden, { enabled: true, port: other, allowedOrigins: [] });
      expect(status).toMatchObject({ state: 'forbidden', addresses: [], problem: expect.stringMatching(/policy does not allow/) });
      expect(await forbidden.api.controller.serve(other)).toMatchObject({ state: 'forbidden' });
      expect(await reachable(other)).toBe(false);
      expect(lifecycle(forbidden)).toEqual([]);
    } finally {
      await forbidden.close();
    }
  });
});
