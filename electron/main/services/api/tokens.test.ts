import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ApiStatus } from '../../../common/contract/index.ts';
import type { CallContext } from '../../../common/handlers.ts';
import { AppError, type Result } from '../../../common/result.ts';
import { createCore, type Core } from '../core.ts';
import { createApiTokens, TokenRefusal } from './tokens.ts';

// API tokens on the real core and its SQLite database: made once and shown once, stored as a
// hash, checked on every request (missing, wrong, revoked, expired, scope), narrowed by the
// policy, and every change on the audit record by the token's name, never the token.

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };
const ctx = (): CallContext => ({ caller: { origin: 'test', isMainFrame: true }, signal: new AbortController().signal });

let dir: string;
const cores: Core[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-api-tokens-'));
});
afterEach(async () => {
  await Promise.all(cores.splice(0).map((core) => core.close()));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new AppError(result.error.code, result.error.message, result.error.details);
  return result.value;
}

async function open(dataDir: string, policy: object = { version: 1 }): Promise<Core> {
  const policyFile = path.join(dataDir + '-policy.json');
  await writeFile(policyFile, JSON.stringify(policy));
  const core = await createCore({ dataDir, host: HOST, policyFile });
  cores.push(core);
  return core;
}

/** A handler's outcome as the router returns it: a thrown AppError is a failed Result. */
async function settle<T>(call: () => Result<T> | Promise<Result<T>>): Promise<Result<T>> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof AppError) return { ok: false, error: error.toData() };
    throw error;
  }
}

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return { code: error.code, message: error.message, name: error instanceof TokenRefusal ? error.tokenName : undefined };
    throw error;
  }
  throw new Error('not refused');
};

const auditRecords = (core: Core) => core.audit.log!.list({ limit: 10_000 });

describe('API tokens', () => {
  it('are shown once and stored as a hash; a valid token with the scope is its principal, anything else is refused', async () => {
    const core = await open(path.join(dir, 'basic'));
    const h = core.handlers;
    const created = unwrap(await h['api.createToken']({ name: 'Notebook', scopes: ['embeddings', 'chat', 'chat'], expiresAt: null }, ctx()));
    expect(created.token).toMatch(/^sob_[A-Za-z0-9_-]{43}$/);
    expect(created.info).toMatchObject({
      name: 'Notebook',
      scopes: ['chat', 'embeddings'],
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
      collections: null,
    });
    expect(created.token.startsWith(created.info.prefix)).toBe(true);
    expect(created.info.prefix.length).toBeLessThan(12);
    expect(created.info).not.toHaveProperty('tokenHash');

    // Only the hash is in the database: no column of any row holds the token.
    const row = core.storage.prepare('SELECT * FROM api_tokens').get() as Record<string, unknown>;
    expect(row.token_hash).toBe(createHash('sha256').update(created.token).digest('hex'));
    expect(Object.values(row).some((value) => typeof value === 'string' && value.includes(created.token.slice(4)))).toBe(false);
    expect(unwrap(await h['api.tokens']({}, ctx())).tokens).toEqual([created.info]);

    const tokens = core.api.tokens;
    expect(tokens.verify(created.token, 'chat')).toEqual({ tokenId: created.info.id, name: 'Notebook', scopes: ['chat', 'embeddings'], collections: null });
    expect(refusal(() => tokens.verify(null, 'chat'))).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/no API token/), name: null });
    expect(refusal(() => tokens.verify('sob_' + 'A'.repeat(43), 'chat'))).toMatchObject({ code: 'unauthorized', name: null });
    expect(refusal(() => tokens.verify('x'.repeat(5000), 'chat'))).toMatchObject({ code: 'unauthorized' });
    expect(refusal(() => tokens.verify(created.token, 'knowledge'))).toMatchObject({
      code: 'forbidden',
      message: 'This API token does not have the "knowledge" scope.',
      name: 'Notebook',
    });

    const revoked = unwrap(await h['api.revokeToken']({ id: created.info.id }, ctx()));
    expect(revoked.revokedAt).not.toBeNull();
    expect(refusal(() => tokens.verify(created.token, 'chat'))).toMatchObject({
      code: 'unauthorized',
      message: 'This API token was revoked.',
      name: 'Notebook',
    });
    // Revoking again changes nothing; an unknown id is not found.
    expect(unwrap(await h['api.revokeToken']({ id: created.info.id }, ctx()))).toEqual(revoked);
    expect(await settle(() => h['api.revokeToken']({ id: 'nope' }, ctx()))).toMatchObject({ ok: false, error: { code: 'not_found' } });

    // The audit log names the token, never holds it.
    const changes = auditRecords(core).filter((record) => record.type === 'change');
    expect(changes.map((record) => record.data)).toEqual(
      expect.arrayContaining([
        { action: 'api.tokens.create', target: 'Notebook' },
        { action: 'api.tokens.revoke', target: 'Notebook' },
      ]),
    );
    expect(JSON.stringify(auditRecords(core))).not.toContain(created.token.slice(4));
  });

  it('refuse an expiry in the past and unknown collections; expire; note their last use at most once a minute', async () => {
    const core = await open(path.join(dir, 'clock'));
    let clock = new Date('2030-01-01T00:00:00Z');
    const tokens = createApiTokens({
      db: core.storage,
      gate: core.context.gate,
      policy: () => core.governance.policy,
      collectionExists: (id) => core.knowledge.collections().some((collection) => collection.id === id),
      now: () => clock,
    });
    expect(refusal(() => tokens.create({ name: 'Old', scopes: ['chat'], expiresAt: '2029-12-31T00:00:00Z' }))).toMatchObject({ code: 'bad_request' });
    expect(refusal(() => tokens.create({ name: 'Lost', scopes: ['knowledge'], expiresAt: null, collections: ['missing'] }))).toMatchObject({
      code: 'not_found',
    });
    const collection = unwrap(await core.handlers['knowledge.createCollection']({ name: 'Policies', embeddingModelId: null }, ctx()));
    const created = tokens.create({ name: 'Month', scopes: ['knowledge'], expiresAt: '2030-01-31T00:00:00+01:00', collections: [collection.id] });
    expect(created.info).toMatchObject({ expiresAt: '2030-01-30T23:00:00.000Z', collections: [collection.id] });

    const lastUsed = () => tokens.list()[0]!.lastUsedAt;
    expect(tokens.verify(created.token, 'knowledge').collections).toEqual([collection.id]);
    expect(lastUsed()).toBe('2030-01-01T00:00:00.000Z');
    clock = new Date('2030-01-01T00:00:59Z');
    tokens.verify(created.token, 'knowledge');
    expect(lastUsed()).toBe('2030-01-01T00:00:00.000Z');
    clock = new Date('2030-01-01T00:01:00Z');
    tokens.verify(created.token, 'knowledge');
    expect(lastUsed()).toBe('2030-01-01T00:01:00.000Z');

    clock = new Date('2030-01-30T23:00:00Z');
    expect(refusal(() => tokens.verify(created.token, 'knowledge'))).toMatchObject({
      code: 'unauthorized',
      message: 'This API token expired on 2030-01-30.',
      name: 'Month',
    });
  });

  it('follow the policy: its scopes narrow tokens made before it, and where the API is not allowed none can be made', async () => {
    const dataDir = path.join(dir, 'policy');
    let core = await open(dataDir);
    const made = unwrap(await core.handlers['api.createToken']({ name: 'Both', scopes: ['chat', 'embeddings'], expiresAt: null }, ctx()));
    await core.close();

    core = await open(dataDir, { version: 1, api: { scopes: ['embeddings', 'models:read'] } });
    expect(unwrap(await core.handlers['api.status']({}, ctx()))).toMatchObject({ state: 'off', allowedScopes: ['embeddings', 'models:read'] });
    expect(core.api.tokens.verify(made.token, 'embeddings').scopes).toEqual(['embeddings']);
    expect(refusal(() => core.api.tokens.verify(made.token, 'chat'))).toMatchObject({
      code: 'forbidden',
      message: 'This machine\'s policy does not let API tokens use the "chat" scope.',
    });
    expect(await settle(() => core.handlers['api.createToken']({ name: 'Chat', scopes: ['chat'], expiresAt: null }, ctx()))).toMatchObject({
      ok: false,
      error: { code: 'forbidden', message: expect.stringMatching(/does not let API tokens use "chat".*embeddings, models:read/) },
    });
    await core.close();

    core = await open(dataDir, { version: 1, api: { allowed: false } });
    const status: ApiStatus = unwrap(await core.handlers['api.status']({}, ctx()));
    expect(status).toMatchObject({ state: 'forbidden', addresses: [], problem: expect.stringMatching(/policy does not allow the local API/) });
    expect(await settle(() => core.handlers['api.createToken']({ name: 'No', scopes: ['chat'], expiresAt: null }, ctx()))).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    expect(
      auditRecords(core)
        .filter((record) => record.type === 'action.refused')
        .map((record) => record.data),
    ).toContainEqual({
      action: 'api.tokens.create',
      reason: expect.stringMatching(/^forbidden: .*local API/),
    });
    // Listing and revoking still work: a policy that forbids the API must not keep its tokens alive.
    expect(unwrap(await core.handlers['api.tokens']({}, ctx())).tokens).toHaveLength(1);
    expect(unwrap(await core.handlers['api.revokeToken']({ id: made.info.id }, ctx())).revokedAt).not.toBeNull();
  });

  it('report the API unavailable in a process with no server, even when the settings turn it on', async () => {
    const core = await open(path.join(dir, 'no-server'));
    const seen: ApiStatus[] = [];
    core.bus.on('api.changed', (status) => seen.push(status));
    unwrap(await core.handlers['settings.update']({ api: { enabled: true, port: 11_499, allowedOrigins: [] } }, ctx()));
    const status = await core.api.controller.apply();
    expect(status).toMatchObject({ state: 'off', unavailable: true, port: 11_499, addresses: [], problem: expect.stringMatching(/soberana serve/) });
    expect(auditRecords(core).some((record) => record.type === 'api.started')).toBe(false);
  });
});
