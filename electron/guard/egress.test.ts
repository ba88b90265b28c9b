import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EGRESS_BLOCKED, isEgressBlocked, isLoopbackHost } from './egress.ts';

// The guard is process-wide, so each case runs in a Node process of its own: a script that
// installs it as the main process and the CLI do, or the real CLI entry. The suite runs in a
// network namespace with only loopback, so "it failed" proves nothing: each attempt must fail
// with the guard's own error code, and the guard must have reported it through onBlocked.
// Targets are reserved for documentation (RFC 2606 `.example`, RFC 5737 and RFC 3849
// addresses), so even a broken guard on a machine with a network reaches no real host; and
// no case runs the attempts without the guard.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GUARD = pathToFileURL(path.join(ROOT, 'electron/guard/egress.ts')).href;
const PROBE = pathToFileURL(path.join(ROOT, 'electron/guard/probe.ts')).href;
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'soberana-egress-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Outcome {
  readonly label: string;
  /** The error's code, or 'none' when the call went ahead. */
  readonly code: string;
  readonly message: string;
}

/** Runs `body` (an async function body) in a fresh Node process; it returns { outcomes, blocked, loopback }. */
async function runInProcess(name: string, body: string, args: readonly string[] = []): Promise<Record<string, unknown>> {
  const script = path.join(dir, `${name}.mts`);
  await writeFile(script, body);
  const result = spawnSync(process.execPath, ['--no-warnings', ...args, script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`${name} exited with ${result.status}: ${result.stderr}`);
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Record<string, unknown>;
}

const ATTEMPTS = `
import dgram from 'node:dgram';
import dns, { lookup as namedLookup } from 'node:dns';
import dnsPromises from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

export async function attempts() {
  const outcomes = [];
  const record = async (label, run) => {
    try {
      const value = run();
      if (value instanceof Promise) await value;
      outcomes.push({ label, code: 'none', message: '' });
    } catch (error) {
      // fetch wraps the refusal: TypeError('fetch failed', { cause }).
      const refusal = error?.code === undefined && error?.cause !== undefined ? error.cause : error;
      outcomes.push({ label, code: String(refusal?.code ?? 'unknown'), message: String(refusal?.message ?? error) });
    }
  };
  await record('fetch', () => fetch('http://telemetry.example/'));
  await record('fetch https literal', () => fetch('https://203.0.113.5/'));
  await record('net.connect', () => net.connect(80, '203.0.113.5'));
  await record('net.createConnection options', () => net.createConnection({ host: 'telemetry.example', port: 443 }));
  await record('new net.Socket().connect', () => new net.Socket().connect(80, '198.51.100.7'));
  await record('tls.connect', () => tls.connect(443, 'telemetry.example'));
  await record('http.get', () => http.get('http://telemetry.example/'));
  await record('https.request', () => https.request({ host: '2001:db8::1', port: 443 }));
  await record('dns.lookup', () => dns.lookup('telemetry.example', () => undefined));
  await record('named lookup import', () => namedLookup('telemetry.example', () => undefined));
  await record('dns.resolve4', () => dns.resolve4('telemetry.example', () => undefined));
  await record('dns.reverse', () => dns.reverse('203.0.113.5', () => undefined));
  await record('new dns.Resolver', () => new dns.Resolver().resolveTxt('telemetry.example', () => undefined));
  await record('dns/promises lookup', () => dnsPromises.lookup('telemetry.example'));
  await record('dns/promises resolveAny', () => dnsPromises.resolveAny('telemetry.example'));
  await record('dns.promises.Resolver', () => new dns.promises.Resolver().resolve6('telemetry.example'));
  await record('dgram send', () => dgram.createSocket('udp4').send('x', 53, '203.0.113.5'));
  await record('dgram connect', () => dgram.createSocket('udp6').connect(53, '2001:db8::1'));
  await record('listen on every interface', () => net.createServer().listen(0));
  await record('listen on 0.0.0.0', () => net.createServer().listen(0, '0.0.0.0'));
  return outcomes;
}

/** Loopback, unix sockets and 'localhost' still work: a server, a connection, a fetch. */
export async function loopback(socketPath) {
  const server = http.createServer((_request, response) => response.end('ok'));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const results = {};
  results.fetch = await (await fetch('http://127.0.0.1:' + port + '/')).text();
  results.localhost = await new Promise((resolve, reject) => {
    const socket = net.connect(port, 'localhost', () => { socket.destroy(); resolve('connected'); });
    socket.on('error', reject);
  });
  server.close();
  const unix = net.createServer((socket) => socket.end('unix'));
  await new Promise((resolve) => unix.listen(socketPath, resolve));
  results.unix = await new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let text = '';
    socket.on('data', (chunk) => (text += chunk)).on('end', () => resolve(text)).on('error', reject);
  });
  unix.close();
  results.udp = await new Promise((resolve, reject) => {
    const receiver = dgram.createSocket('udp4');
    receiver.on('message', (message) => { receiver.close(); resolve(String(message)); });
    receiver.bind(0, '127.0.0.1', () => {
      const sender = dgram.createSocket('udp4');
      sender.send('udp', receiver.address().port, '127.0.0.1', (error) => { sender.close(); if (error) reject(error); });
    });
  });
  return results;
}
`;

function expectAllRefused(outcomes: readonly Outcome[], blocked: readonly { kind: string; target: string; process: string }[]): void {
  const notRefused = outcomes.filter((outcome) => outcome.code !== EGRESS_BLOCKED);
  expect(notRefused, 'attempts that were not refused by the guard').toEqual([]);
  expect(outcomes.length).toBe(20);
  // One onBlocked call per attempt, each named in its error message.
  expect(blocked).toHaveLength(outcomes.length);
  for (const [index, outcome] of outcomes.entries()) expect(outcome.message).toContain(blocked[index]?.target);
}

describe('the egress guard in a main process', () => {
  it('refuses every way out before anything is sent, reports each one, and leaves loopback working', async () => {
    await writeFile(path.join(dir, 'attempts.mjs'), ATTEMPTS);
    const result = await runInProcess(
      'main',
      `import { installEgressGuard } from ${JSON.stringify(GUARD)};
const blocked = [];
installEgressGuard({ process: 'main', onBlocked: (attempt) => blocked.push(attempt) });
const { attempts, loopback } = await import(${JSON.stringify(pathToFileURL(path.join(dir, 'attempts.mjs')).href)});
const outcomes = await attempts();
const before = blocked.length;
const reachable = await loopback(${JSON.stringify(path.join(dir, 'guard.sock'))});
console.log(JSON.stringify({ outcomes, blocked, afterLoopback: blocked.length - before, reachable }));`,
    );
    const outcomes = result.outcomes as Outcome[];
    const blocked = result.blocked as { kind: string; target: string; process: string }[];
    expectAllRefused(outcomes, blocked);
    expect(outcomes[0]?.message).toBe(
      'Soberana blocks network access: a connection to telemetry.example:80 was refused in the main process before anything was sent. Only loopback (127.0.0.1, ::1, localhost) is allowed.',
    );
    expect(blocked.slice(0, 3)).toEqual([
      { process: 'main', kind: 'connect', target: 'telemetry.example:80' },
      { process: 'main', kind: 'connect', target: '203.0.113.5:443' },
      { process: 'main', kind: 'connect', target: '203.0.113.5:80' },
    ]);
    expect(blocked.find((attempt) => attempt.kind === 'dns')).toEqual({ process: 'main', kind: 'dns', target: 'telemetry.example' });
    expect(blocked.find((attempt) => attempt.kind === 'udp')).toEqual({ process: 'main', kind: 'udp', target: '203.0.113.5:53' });
    expect(blocked.at(-1)).toEqual({ process: 'main', kind: 'listen', target: '0.0.0.0:0' });
    expect(result.afterLoopback).toBe(0);
    expect(result.reachable).toEqual({ fetch: 'ok', localhost: 'connected', unix: 'unix', udp: 'udp' });
  });

  it('is installed by the CLI before any command runs', async () => {
    // Runs after the real entry (electron/cli/soberana.ts) has finished `--help`.
    const hook = path.join(dir, 'after-cli.mjs');
    await writeFile(
      hook,
      `import net from 'node:net';
process.once('beforeExit', () => {
  let code = 'none';
  try { net.connect(80, '203.0.113.5').destroy(); } catch (error) { code = error.code; }
  process.stdout.write('\\n' + JSON.stringify({ code }) + '\\n');
});`,
    );
    const result = spawnSync(process.execPath, ['--no-warnings', '--import', pathToFileURL(hook).href, 'electron/cli/soberana.ts', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}')).toEqual({ code: EGRESS_BLOCKED });
    expect(result.stderr).toContain('soberana: refused connect to 203.0.113.5:80');
  });

  it('self-checks: every probe refused when installed, nothing attempted when not', async () => {
    const result = await runInProcess(
      'probe',
      `import { checkEgress } from ${JSON.stringify(PROBE)};
import { installEgressGuard } from ${JSON.stringify(GUARD)};
const before = await checkEgress();
const blocked = [];
installEgressGuard({ process: 'main', onBlocked: (attempt) => blocked.push(attempt) });
const after = await checkEgress();
console.log(JSON.stringify({ before, after, blocked }));`,
    );
    expect(result.before).toEqual({ guarded: false, attempts: [] });
    expect(result.after).toEqual({
      guarded: true,
      attempts: [
        { via: 'net.connect', kind: 'connect', blocked: true },
        { via: 'fetch', kind: 'connect', blocked: true },
        { via: 'dns.lookup', kind: 'dns', blocked: true },
        { via: 'dns.resolve4', kind: 'dns', blocked: true },
        { via: 'dgram.send', kind: 'udp', blocked: true },
      ],
    });
    expect(result.blocked).toHaveLength(5);
  });
});

describe('isLoopbackHost', () => {
  it('allows loopback literals only', () => {
    for (const host of ['localhost', 'LOCALHOST', 'localhost.', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of [
      'example.com',
      'localhost.example.com',
      'my.localhost',
      '0.0.0.0',
      '128.0.0.1',
      '198.51.100.7',
      '::',
      '::2',
      '2001:db8::1',
      '::ffff:10.0.0.1',
      '2130706433',
      '',
    ]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it('recognises the refusal through a wrapper', () => {
    const refusal = Object.assign(new Error('no'), { code: EGRESS_BLOCKED });
    expect(isEgressBlocked(new TypeError('fetch failed', { cause: refusal }))).toBe(true);
    expect(isEgressBlocked(new Error('ENETUNREACH'))).toBe(false);
  });
});
