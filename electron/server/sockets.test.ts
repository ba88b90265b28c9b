import { readdir, readFile, readlink } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiTestServer } from '../test-support/api-server.ts';

// Whatever the code says, what the kernel says: once the local API listens, every listening
// TCP socket this process holds is on 127.0.0.1 or ::1. Read from /proc (Linux): the
// process's socket inodes (/proc/self/fd) matched to the kernel's TCP tables.

const LINUX = process.platform === 'linux';
const LISTEN = '0A';

interface Listening {
  readonly address: string;
  readonly port: number;
}

/** `0100007F:2CAB` → 127.0.0.1:11435; IPv6 as four little-endian 32-bit words. */
function decodeAddress(hex: string): Listening {
  const [host = '', port = ''] = hex.split(':');
  if (host.length === 8) {
    const bytes = Buffer.from(host, 'hex').reverse();
    return { address: [...bytes].join('.'), port: parseInt(port, 16) };
  }
  const words = Buffer.from(host, 'hex');
  for (let i = 0; i < 16; i += 4) words.subarray(i, i + 4).reverse();
  const groups = Array.from({ length: 8 }, (_, i) => words.readUInt16BE(i * 2).toString(16));
  // The URL parser writes IPv6 in its shortest form (RFC 5952).
  const address = new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
  return { address, port: parseInt(port, 16) };
}

async function listeningSockets(): Promise<Listening[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match?.[1] !== undefined) inodes.add(match[1]);
  }
  const found: Listening[] = [];
  for (const table of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    const lines = (await readFile(table, 'utf8').catch(() => '')).split('\n').slice(1);
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      // sl, local_address, rem_address, st, tx:rx, tr:when, retrnsmt, uid, timeout, inode
      if (fields.length < 10 || fields[3] !== LISTEN || !inodes.has(fields[9]!)) continue;
      found.push(decodeAddress(fields[1]!));
    }
  }
  return found;
}

describe.skipIf(!LINUX)('listening sockets (Linux /proc)', () => {
  let server: ApiTestServer;

  beforeAll(async () => {
    server = await startApiServer();
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it('decodes the kernel’s addresses', () => {
    expect(decodeAddress('0100007F:2CAB')).toEqual({ address: '127.0.0.1', port: 11435 });
    expect(decodeAddress('00000000000000000000000001000000:2CAB')).toEqual({ address: '::1', port: 11435 });
    expect(decodeAddress('00000000:0050')).toEqual({ address: '0.0.0.0', port: 80 });
    expect(decodeAddress('00000000000000000000000000000000:0050')).toEqual({ address: '::', port: 80 });
  });

  it('after start, this process listens only on loopback, and on the API’s port', async () => {
    const sockets = await listeningSockets();
    const onPort = sockets.filter((socket) => socket.port === server.port);
    expect(onPort.map((socket) => socket.address)).toContain('127.0.0.1');
    if (server.addresses.some((address) => address.includes('[::1]'))) expect(onPort.map((socket) => socket.address)).toContain('::1');
    expect(onPort.length).toBe(server.addresses.length);
    for (const socket of sockets) expect(['127.0.0.1', '::1'], `listening on ${socket.address}:${socket.port}`).toContain(socket.address);
  });

  it('after stop, nothing listens on the port', async () => {
    await server.core.api.controller.close();
    expect((await listeningSockets()).filter((socket) => socket.port === server.port)).toEqual([]);
  });
});
