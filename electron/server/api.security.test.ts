import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installEgressGuard } from '../guard/egress.ts';
import { startApiServer, testContext, unwrap, type ApiTestServer } from '../test-support/api-server.ts';
import { createHttpApi } from './http-api.ts';

// The local API's defences over a real core (tokens in SQLite, the audit log, the policy) and
// the real server on loopback: each refusal, its status and shape, and its audit record. The
// egress guard is installed as in main, so the server listens and the clients connect under it.

installEgressGuard({ process: 'main' });

const ORIGIN = 'http://localhost:5173';
let server: ApiTestServer;

beforeAll(async () => {
  // Short header and request limits, so the slow-loris case ends in seconds.
  server = await startApiServer({ allowedOrigins: [ORIGIN], server: { headersTimeoutMs: 1500, requestTimeoutMs: 4000 } });
}, 60_000);

afterAll(async () => {
  await server?.close();
});

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

function request(options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: server.port, method: options.method ?? 'GET', path: options.path, headers: options.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const json = (answer: Answer) => JSON.parse(answer.body) as Record<string, unknown>;

/** Sends raw bytes and reads until the server closes the connection. */
function raw(send: (socket: net.Socket) => void, timeoutMs = 30_000): Promise<{ text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect({ host: '127.0.0.1', port: server.port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the server kept the connection open'));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('utf8'), ms: Date.now() - started });
    });
    socket.on('connect', () => send(socket));
  });
}

async function refusals(): Promise<{ endpoint: string; status: number; reason: string; token: string | null }[]> {
  const page = unwrap(await server.core.handlers['audit.list']({ type: 'api.refused', limit: 500 }, testContext()));
  return page.records.map((record) => record.data as { endpoint: string; status: number; reason: string; token: string | null });
}

describe('authentication', () => {
  it('refuses a request without a token, in OpenAI’s shape and in Ollama’s', async () => {
    const openai = await request({ path: '/v1/models' });
    expect(openai.status).toBe(401);
    expect(openai.headers['www-authenticate']).toBe('Bearer');
    expect(json(openai)).toMatchObject({ error: { type: 'authentication_error', code: 'unauthorized', message: expect.any(String) } });
    const ollama = await request({ path: '/api/tags' });
    expect(ollama.status).toBe(401);
    expect(typeof json(ollama)['error']).toBe('string');
  });

  it('refuses a wrong token, another scheme, a revoked token and an expired one', async () => {
    const good = server.token(['models:read']);
    expect((await request({ path: '/v1/models', headers: bearer(good.token) })).status).toBe(200);
    expect((await request({ path: '/v1/models', headers: bearer(`${good.token}x`) })).status).toBe(401);
    expect((await request({ path: '/v1/models', headers: { Authorization: `Basic ${Buffer.from(`u:${good.token}`).toString('base64')}` } })).status).toBe(401);

    const revoked = server.token(['models:read'], { name: 'to revoke' });
    server.core.api.tokens.revoke(revoked.info.id);
    expect((await request({ path: '/v1/models', headers: bearer(revoked.token) })).status).toBe(401);

    const expiring = server.token(['models:read'], { name: 'to expire', expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect((await request({ path: '/v1/models', headers: bearer(expiring.token) })).status).toBe(200);
    // As if the hour had passed: the stored expiry moves into the past.
    server.core.storage.prepare('UPDATE api_tokens SET expires_at = ? WHERE id = ?').run(new Date(Date.now() - 1000).toISOString(), expiring.info.id);
    expect((await request({ path: '/v1/models', headers: bearer(expiring.token) })).status).toBe(401);
  });

  it('refuses a token without the scope the endpoint needs (403)', async () => {
    const embeddingsOnly = server.token(['embeddings'], { name: 'embeddings only' });
    const answer = await request({ path: '/v1/models', headers: bearer(embeddingsOnly.token) });
    expect(answer.status).toBe(403);
    expect(json(answer)).toMatchObject({ error: { type: 'permission_error' } });
    const chat = await request({
      method: 'POST',
      path: '/api/chat',
      headers: { ...bearer(embeddingsOnly.token), 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(chat.status).toBe(403);
  });
});

describe('browser defences', () => {
  it('refuses a foreign Host (DNS rebinding) before looking at the token', async () => {
    const token = server.token(['models:read']).token;
    const answer = await request({ path: '/v1/models', headers: { ...bearer(token), Host: `evil.example:${server.port}` } });
    expect(answer.status).toBe(403);
    expect(json(answer)).toMatchObject({ error: { code: 'forbidden_host' } });
    expect((await request({ path: '/v1/models', headers: { ...bearer(token), Host: `127.0.0.1:${server.port + 1}` } })).status).toBe(403);
    expect((await request({ path: '/v1/models', headers: { ...bearer(token), Host: `localhost:${server.port}` } })).status).toBe(200);
  });

  it('refuses a foreign Origin, and serves an allowed one with CORS for it alone', async () => {
    const token = server.token(['models:read']).token;
    const foreign = await request({ path: '/v1/models', headers: { ...bearer(token), Origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    expect(json(foreign)).toMatchObject({ error: { code: 'forbidden_origin' } });

    const allowed = await request({ path: '/v1/models', headers: { ...bearer(token), Origin: ORIGIN } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();
    expect(allowed.headers['set-cookie']).toBeUndefined();

    const preflight = await request({
      method: 'OPTIONS',
      path: '/v1/chat/completions',
      headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(preflight.headers['access-control-allow-headers']).toBe('authorization, content-type');
    const foreignPreflight = await request({
      method: 'OPTIONS',
      path: '/v1/chat/completions',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(foreignPreflight.status).toBe(403);
    expect(foreignPreflight.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('limits', () => {
  it('refuses a body declared over 8 MiB before reading it, and one that grows past it', async () => {
    const token = server.token(['chat']).token;
    const declared = await raw((socket) =>
      socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${9 * 1024 * 1024}\r\n\r\n{`,
      ),
    );
    expect(declared.text).toMatch(/^HTTP\/1\.1 413 /);

    // Chunked, no length announced: counted as it arrives.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: server.port,
          method: 'POST',
          path: '/v1/chat/completions',
          headers: { ...bearer(token), 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
          agent: false,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      const piece = Buffer.alloc(256 * 1024, 0x20);
      let sent = 0;
      const pump = (): void => {
        while (sent < 9 * 1024 * 1024 && !req.destroyed) {
          sent += piece.length;
          if (!req.write(piece)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(chunked).toBe(413);
  });

  it('refuses headers over 16 KiB (431)', async () => {
    const answer = await raw((socket) =>
      socket.write(`GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nX-Padding: ${'a'.repeat(20 * 1024)}\r\n\r\n`),
    );
    expect(answer.text).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('cuts off a slow-loris client that trickles its headers', async () => {
    const answer = await raw((socket) => {
      socket.write(`GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n`);
      const drip = setInterval(() => {
        if (socket.destroyed || !socket.writable) return clearInterval(drip);
        socket.write('X-Slow: a\r\n');
      }, 250);
      socket.once('close', () => clearInterval(drip));
    });
    // The limit is 1.5 s and checked every second; a client that kept dripping would hold on for the test's 30 s.
    expect(answer.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer.ms).toBeLessThan(20_000);
  });

  it('answers unknown paths with 404 and wrong methods with 405, in each API’s shape', async () => {
    const token = server.token(['models:read']).token;
    const missing = await request({ path: '/v1/assistants', headers: bearer(token) });
    expect(missing.status).toBe(404);
    expect(json(missing)).toMatchObject({ error: { type: 'not_found_error' } });
    const wrong = await request({ method: 'DELETE', path: '/api/tags', headers: bearer(token) });
    expect(wrong.status).toBe(405);
    expect(wrong.headers['allow']).toContain('GET');
    expect(typeof json(wrong)['error']).toBe('string');
  });
});

describe('binding', () => {
  it('listens on loopback only and refuses any other address in code', async () => {
    expect(server.addresses[0]).toBe(`http://127.0.0.1:${server.port}`);
    for (const address of server.addresses) expect(address).toMatch(/^http:\/\/(127\.0\.0\.1|\[::1\]):\d+$/);
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'localhost', 'example.com']) {
      const listener = createHttpApi(server.service, { hosts: [host] });
      await expect(listener.start(0, { allowedOrigins: [] })).rejects.toThrow(/only on 127\.0\.0\.1 and ::1/);
    }
  });
});

// This file's refusals stay under the refusal log's budget of a minute (api/refusal-log.ts),
// so each is recorded one by one; api.flood.test.ts covers what happens past it.
describe('the audit log', () => {
  it('records the refusals: tokens, scope, Host, Origin, size, headers and time', async () => {
    const records = await refusals();
    const statuses = new Set(records.map((record) => record.status));
    for (const status of [401, 403, 408, 413, 431]) expect(statuses, `no api.refused with status ${status}`).toContain(status);
    expect(records.some((record) => record.status === 403 && /Host/.test(record.reason))).toBe(true);
    expect(records.some((record) => record.status === 403 && /origin/i.test(record.reason))).toBe(true);
    // The scope refusal names the token it refused.
    expect(records.some((record) => record.status === 403 && record.token === 'embeddings only')).toBe(true);
  });
});
