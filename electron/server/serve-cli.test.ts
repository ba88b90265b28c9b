import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore } from '../main/services/core.ts';
import { CLI_ENTRY } from '../test-support/run-cli.ts';

// `soberana serve`, the built CLI in its own process as a user runs it: it prints where it
// listens, answers a token made in the same data folder, and stops cleanly on SIGTERM.

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };

let dir: string;
let token: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-serve-'));
  const core = await createCore({ dataDir: dir, host: HOST });
  try {
    token = core.api.tokens.create({ name: 'serve test', scopes: ['models:read'], expiresAt: null }).token;
  } finally {
    await core.close();
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A port free a moment ago (the server must take a fixed one from --port). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function get(port: number, pathname: string, bearer: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathname, headers: { Authorization: `Bearer ${bearer}` }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; output so far:\n${seen}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString('utf8');
      const line = seen.split('\n').find((candidate) => pattern.test(candidate));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve(line);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`soberana serve exited (${code}) before listening:\n${seen}`));
    });
  });
}

describe('soberana serve', () => {
  it('listens on loopback at --port, answers a valid token, and exits 0 on SIGTERM', { timeout: 90_000 }, async () => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.SOBERANA_DATA_DIR;
    delete env.SOBERANA_POLICY_FILE;
    const child = spawn(process.execPath, ['--no-warnings', CLI_ENTRY, 'serve', '--port', String(port), '--data-dir', dir], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const line = await waitForLine(child, /listens on/, 60_000);
      expect(line).toContain(`http://127.0.0.1:${port}`);
      const models = await get(port, '/v1/models', token);
      expect(models.status).toBe(200);
      expect(JSON.parse(models.body)).toEqual({ object: 'list', data: [] });
      expect((await get(port, '/v1/models', 'sob_wrong')).status).toBe(401);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await expect(get(port, '/v1/models', token)).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('does not listen when the machine policy forbids the API (exit 1, with the reason)', { timeout: 90_000 }, async () => {
    const policy = path.join(dir, 'no-api.json');
    await writeFile(policy, JSON.stringify({ version: 1, api: { allowed: false } }));
    const port = await freePort();
    const child = spawn(process.execPath, ['--no-warnings', CLI_ENTRY, 'serve', '--port', String(port), '--data-dir', dir], {
      env: { ...process.env, SOBERANA_POLICY_FILE: policy },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    expect(code).toBe(1);
    expect(stderr).toMatch(/policy does not allow the local API/);
    await expect(get(port, '/v1/models', token)).rejects.toThrow();
  });

  it('refuses a port outside 1024–65535 as bad usage', async () => {
    const child = spawn(process.execPath, ['--no-warnings', CLI_ENTRY, 'serve', '--port', '80', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    expect(code).toBe(2);
  });
});
