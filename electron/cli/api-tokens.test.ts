import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiTokenCreated, ApiTokenInfo } from '../common/contract/index.ts';
import { exportAudit } from '../main/services/audit/index.ts';
import { createCore } from '../main/services/core.ts';
import { openDatabase } from '../main/services/storage/sqlite.ts';
import { runCli, type CliRun } from '../test-support/run-cli.ts';
import { expiryOf } from './api-tokens.ts';
import { UsageError } from './command.ts';

// `soberana api tokens create | list | revoke` through the built CLI, as a user runs it: the
// token printed once works against the service the HTTP server calls, the list never shows
// it, revoking stops it, the policy is obeyed, and each change is on the audit record.

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-cli-api-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cli = (dataDir: string, args: readonly string[], env: Record<string, string> = {}): CliRun => runCli(args, { dataDir, env, timeoutMs: 90_000 });

async function verify(dataDir: string, token: string) {
  const core = await createCore({ dataDir, host: HOST });
  try {
    return core.api.tokens.verify(token, 'chat');
  } finally {
    await core.close();
  }
}

function auditChanges(dataDir: string) {
  const db = openDatabase(dataDir);
  try {
    return [...exportAudit(db)]
      .map((line) => JSON.parse(line) as { kind: string; type: string; data: Record<string, unknown> })
      .filter((line) => line.kind === 'record' && line.type === 'change')
      .map((line) => line.data);
  } finally {
    db.close();
  }
}

describe('soberana api tokens', () => {
  it('creates a token shown once, lists it without the token, and revokes it', { timeout: 240_000 }, async () => {
    const dataDir = path.join(dir, 'data');
    expect(cli(dataDir, ['knowledge', 'create', 'Policies']).status).toBe(0);
    const created = cli(dataDir, [
      'api',
      'tokens',
      'create',
      '--name',
      'Notebook',
      '--scope',
      'chat',
      '--scope',
      'knowledge',
      '--days',
      '30',
      '--collection',
      'Policies',
    ]);
    expect(created.status, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^sob_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/Copy it now: it is not shown again/);

    const listed = cli(dataDir, ['api', 'tokens', 'list', '--json']);
    expect(listed.status, listed.stderr).toBe(0);
    const tokens = JSON.parse(listed.stdout) as ApiTokenInfo[];
    expect(tokens).toEqual([expect.objectContaining({ name: 'Notebook', scopes: ['chat', 'knowledge'], revokedAt: null, collections: [expect.any(String)] })]);
    expect(listed.stdout).not.toContain(token.slice(10));
    const days = (Date.parse(tokens[0]!.expiresAt!) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    const text = cli(dataDir, ['api', 'tokens', 'list']);
    expect(text.stdout).toMatch(/Notebook +active +chat,knowledge +Policies/);

    // The token printed is the one the service accepts.
    await expect(verify(dataDir, token)).resolves.toMatchObject({ name: 'Notebook', scopes: ['chat', 'knowledge'] });

    const revoked = cli(dataDir, ['api', 'tokens', 'revoke', tokens[0]!.id]);
    expect(revoked.status, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(/Revoked API token "Notebook"/);
    await expect(verify(dataDir, token)).rejects.toMatchObject({ code: 'unauthorized' });
    expect(cli(dataDir, ['api', 'tokens', 'list']).stdout).toMatch(/Notebook +revoked/);
    expect(cli(dataDir, ['api', 'tokens', 'revoke', 'nope', '--json'])).toMatchObject({ status: 1, stdout: expect.stringContaining('not_found') });

    expect(auditChanges(dataDir)).toEqual(
      expect.arrayContaining([
        { action: 'api.tokens.create', target: 'Notebook' },
        { action: 'api.tokens.revoke', target: 'Notebook' },
      ]),
    );
  });

  it('refuses bad command lines (exit 2) and what the policy does not allow (exit 1)', { timeout: 240_000 }, async () => {
    const dataDir = path.join(dir, 'refusals');
    expect(cli(dataDir, ['api', 'tokens', 'create', '--scope', 'chat']).status).toBe(2);
    expect(cli(dataDir, ['api', 'tokens', 'create', '--name', 'X']).status).toBe(2);
    expect(cli(dataDir, ['api', 'tokens', 'create', '--name', 'X', '--scope', 'admin']).stderr).toMatch(/"admin" is not a scope/);
    expect(cli(dataDir, ['api', 'tokens', 'create', '--name', 'X', '--scope', 'chat', '--days', '3', '--expires', '2030-01-01']).status).toBe(2);
    expect(cli(dataDir, ['api', 'tokens', 'create', '--name', 'X', '--scope', 'chat', '--collection', 'Nowhere']).status).toBe(2);
    expect(cli(dataDir, ['api', 'tokens', 'list', '--name', 'X']).status).toBe(2);
    expect(cli(dataDir, ['api', 'tokens', 'drop']).status).toBe(2);
    expect(cli(dataDir, ['api', 'tokens', 'create', '--name', 'Old', '--scope', 'chat', '--expires', '2001-01-01', '--json'])).toMatchObject({
      status: 1,
      stdout: expect.stringContaining('bad_request'),
    });

    const policy = path.join(dir, 'no-api.json');
    await writeFile(policy, JSON.stringify({ version: 1, api: { allowed: false } }));
    const refused = cli(dataDir, ['api', 'tokens', 'create', '--name', 'Script', '--scope', 'chat', '--json'], { SOBERANA_POLICY_FILE: policy });
    expect(refused.status).toBe(1);
    expect((JSON.parse(refused.stdout) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/does not allow the local API/),
    });
    const narrow = path.join(dir, 'chat-only.json');
    await writeFile(narrow, JSON.stringify({ version: 1, api: { scopes: ['chat'] } }));
    const made = cli(dataDir, ['api', 'tokens', 'create', '--name', 'Both', '--scope', 'chat,embeddings', '--json'], { SOBERANA_POLICY_FILE: narrow });
    expect(made.status).toBe(1);
    expect(made.stdout).toMatch(/does not let API tokens use \\"embeddings\\"/);
    const ok = cli(dataDir, ['api', 'tokens', 'create', '--name', 'Chat', '--scope', 'chat', '--json'], { SOBERANA_POLICY_FILE: narrow });
    expect(ok.status, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as ApiTokenCreated).info.scopes).toEqual(['chat']);
  });
});

describe('the expiry options', () => {
  const now = new Date('2030-06-01T12:00:00Z');
  it('read a day, a date-time or a number of days, and refuse both or nonsense', () => {
    expect(expiryOf({}, now)).toBeNull();
    expect(expiryOf({ expires: '2031-01-01' }, now)).toBe('2031-01-01T00:00:00.000Z');
    expect(expiryOf({ expires: '2031-01-01T08:00:00+02:00' }, now)).toBe('2031-01-01T06:00:00.000Z');
    expect(expiryOf({ days: '30' }, now)).toBe('2030-07-01T12:00:00.000Z');
    expect(() => expiryOf({ days: '0' }, now)).toThrow(UsageError);
    expect(() => expiryOf({ days: '1.5' }, now)).toThrow(UsageError);
    expect(() => expiryOf({ expires: 'soon' }, now)).toThrow(UsageError);
    expect(() => expiryOf({ expires: '2031-01-01', days: '3' }, now)).toThrow(UsageError);
  });
});
