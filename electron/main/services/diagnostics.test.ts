import { access, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import type { NetworkInterfaceInfo } from 'node:os';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DiagnosticEvent } from '../../common/contract/index.ts';
import { checkDataDir, checkSqlite, checkVectorStore, classifyFreeSpace, classifyInterfaces, runDiagnostics } from './diagnostics.ts';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-diagnostics-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function ipv4(address: string, internal: boolean): NetworkInterfaceInfo {
  return { address, netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal, cidr: `${address}/8` };
}

function ipv6(address: string, internal: boolean): NetworkInterfaceInfo {
  return { address, netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '00:00:00:00:00:00', internal, cidr: `${address}/64`, scopeid: 0 };
}

async function collect(iterable: AsyncIterable<DiagnosticEvent>): Promise<DiagnosticEvent[]> {
  const events: DiagnosticEvent[] = [];
  for await (const event of iterable) events.push(event);
  return events;
}

describe('classifyFreeSpace', () => {
  it('fails below 200 MiB', () => {
    expect(classifyFreeSpace(100 * MiB)).toEqual({ status: 'fail', detail: '100 MiB free: too little to store a model' });
    expect(classifyFreeSpace(0).status).toBe('fail');
    expect(classifyFreeSpace(200 * MiB - 1).status).toBe('fail');
  });

  it('warns from 200 MiB to below 4 GiB', () => {
    expect(classifyFreeSpace(1 * GiB)).toEqual({ status: 'warn', detail: '1.0 GiB free: small models only' });
    expect(classifyFreeSpace(200 * MiB).status).toBe('warn');
    expect(classifyFreeSpace(4 * GiB - 1).status).toBe('warn');
  });

  it('passes from 4 GiB', () => {
    expect(classifyFreeSpace(10 * GiB)).toEqual({ status: 'pass', detail: '10.0 GiB free' });
    expect(classifyFreeSpace(4 * GiB).status).toBe('pass');
  });
});

describe('classifyInterfaces', () => {
  it('passes when only internal interfaces are up', () => {
    const outcome = classifyInterfaces({ lo: [ipv4('127.0.0.1', true), ipv6('::1', true)] });
    expect(outcome.status).toBe('pass');
    expect(outcome.detail).toBe('Only loopback interfaces are up');
  });

  it('passes with no interfaces, or interfaces without addresses', () => {
    expect(classifyInterfaces({}).status).toBe('pass');
    expect(classifyInterfaces({ lo: [ipv4('127.0.0.1', true)], ghost: undefined }).status).toBe('pass');
  });

  it('warns and names an external interface', () => {
    const outcome = classifyInterfaces({ lo: [ipv4('127.0.0.1', true)], eth0: [ipv4('10.0.0.5', false)] });
    expect(outcome.status).toBe('warn');
    expect(outcome.detail).toContain('(eth0)');
  });

  it('names every external interface, sorted, and no internal one', () => {
    const outcome = classifyInterfaces({
      wlan0: [ipv6('fe80::1', false)],
      lo: [ipv4('127.0.0.1', true)],
      eth0: [ipv4('127.0.0.2', true), ipv4('192.168.1.7', false)],
    });
    expect(outcome.status).toBe('warn');
    expect(outcome.detail).toContain('(eth0, wlan0)');
  });
});

describe('checkDataDir', () => {
  it('passes on a writable directory and leaves nothing behind', async () => {
    const outcome = await checkDataDir(dir);
    expect(outcome).toEqual({ status: 'pass', detail: `Writable: ${dir}` });
    expect(await readdir(dir)).toEqual([]);
  });

  it('creates a missing data directory', async () => {
    const nested = path.join(dir, 'a', 'b');
    expect((await checkDataDir(nested)).status).toBe('pass');
    expect(await readdir(nested)).toEqual([]);
  });

  it('fails when the data directory cannot be created', async () => {
    const file = path.join(dir, 'plain-file');
    await writeFile(file, 'not a directory');
    const target = path.join(file, 'data');
    const outcome = await checkDataDir(target);
    expect(outcome.status).toBe('fail');
    expect(outcome.detail).toContain(`Cannot write to ${target}`);
    expect(await readdir(dir)).toEqual(['plain-file']);
  });
});

describe('checkSqlite', () => {
  it('opens the real database, migrates it and reports it intact', async () => {
    const outcome = await checkSqlite(dir);
    expect(outcome.status).toBe('pass');
    expect(outcome.detail).toMatch(/^SQLite 3\.\d+\.\d+, schema \d+, soberana\.db intact$/);
  });

  it('fails on a file that is not a database', async () => {
    await writeFile(path.join(dir, 'soberana.db'), 'this is not SQLite, it only has the name');
    const outcome = await checkSqlite(dir);
    expect(outcome.status).toBe('fail');
    expect(outcome.detail).toMatch(/cannot be used/);
  });
});

describe('checkVectorStore', () => {
  it('round-trips a vector search through LanceDB', async () => {
    const outcome = await checkVectorStore(dir);
    expect(outcome).toMatchObject({ status: 'pass', detail: expect.stringMatching(/LanceDB answered a vector search in \d+ ms/) });
  });
});

describe('runDiagnostics', () => {
  it('reports started, each check in order, then done', async () => {
    const events = await collect(runDiagnostics(dir));
    expect(events).toHaveLength(7);
    expect(events[0]).toEqual({ type: 'started', total: 5 });

    const checks = events.slice(1, 6);
    expect(checks.map((event) => event.type)).toEqual(['check', 'check', 'check', 'check', 'check']);
    const details = checks.flatMap((event) => (event.type === 'check' ? [event] : []));
    expect(details.map((event) => event.index)).toEqual([0, 1, 2, 3, 4]);
    expect(details.map((event) => event.id)).toEqual(['dataDir', 'diskSpace', 'sqlite', 'vectorStore', 'networkIsolation']);
    expect(details[0]?.status).toBe('pass');
    expect(details[2]?.status).toBe('pass');
    expect(details[3]?.status).toBe('pass');

    const done = events[6];
    expect(done?.type).toBe('done');
    if (done?.type !== 'done') return;
    expect(done.passed + done.warned + done.failed).toBe(5);
    expect(done.passed).toBe(details.filter((event) => event.status === 'pass').length);
    expect(done.warned).toBe(details.filter((event) => event.status === 'warn').length);
    expect(done.failed).toBe(details.filter((event) => event.status === 'fail').length);
  });

  it('yields only started when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const target = path.join(dir, 'never-created');
    const events = await collect(runDiagnostics(target, controller.signal));
    expect(events).toEqual([{ type: 'started', total: 5 }]);
    // No check ran, so the data directory check did not create the folder.
    await expect(access(target)).rejects.toThrow();
  });
});
