import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gv } from '../../../../e2e/fixtures/gguf/encode.ts';
import { presetSpec, writeGguf } from '../../../../e2e/fixtures/gguf/writer.ts';
import type { ApiScope } from '../../../common/contract/index.ts';
import type { CallContext } from '../../../common/handlers.ts';
import { AppError, type Result } from '../../../common/result.ts';
import { createCore, type Core } from '../core.ts';
import { importModel, libraryDirFor, scanModels } from '../models/index.ts';
import { DEFAULT_SETTINGS } from '../settings.ts';
import { MAX_IN_FLIGHT } from './service.ts';
import type { ApiCompletionRequest, ApiPrincipal, ApiRequestInfo } from './types.ts';

// The local API's service on the real core: SQLite, the audit log, the policy, the inference
// process and node-llama-cpp on the writer's generated models. What the HTTP server relies on:
// tokens and scopes, the model list, completions (streamed deltas, the app's sampling settings,
// the per-token limit, PII, collections and their sources), embeddings, search, and the audit
// record of every request, refused or served.

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };
const MAX_TOKENS = 8;

let dir: string;
let models: { chat: string; embedder: string };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-api-service-'));
  // The tiny chat model never stops by itself (quietEnd): every answer lasts maxTokens. The embedder is the same
  // architecture with a pooling type, which makes node-llama-cpp and the library treat it as an embedding model.
  models = { chat: path.join(dir, 'tiny-chat.gguf'), embedder: path.join(dir, 'tiny-embedder.gguf') };
  await writeGguf(models.chat, { ...presetSpec('tiny', 'Q8_0', 11), name: 'tiny-chat', contextLength: 4096, quietEnd: true });
  await writeGguf(models.embedder, {
    ...presetSpec('tiny', 'Q8_0', 12),
    name: 'tiny-embedder',
    contextLength: 256,
    extraMetadata: [['llama.pooling_type', gv.u32(1)]],
  });
}, 120_000);

const testContext = (): CallContext => ({ caller: { origin: 'test', isMainFrame: true }, signal: new AbortController().signal });

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new AppError(result.error.code, result.error.message, result.error.details);
  return result.value;
}

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function open(name: string, policy: object, withModels: boolean): Promise<Core> {
  const dataDir = path.join(dir, name);
  const policyFile = path.join(dir, `${name}-policy.json`);
  await writeFile(policyFile, JSON.stringify({ version: 1, ...policy }));
  const core = await createCore({ dataDir, host: HOST, policyFile });
  unwrap(
    await core.handlers['settings.update'](
      {
        runtime: { ...DEFAULT_SETTINGS.runtime, threads: 1, contextSize: 4096, sampling: { ...DEFAULT_SETTINGS.runtime.sampling, maxTokens: MAX_TOKENS } },
      },
      testContext(),
    ),
  );
  if (withModels) {
    for (const file of [models.chat, models.embedder]) {
      const { candidates } = await scanModels(file);
      await importModel(core.storage, libraryDirFor(dataDir), candidates[0]!, { mode: 'reference' });
    }
    await core.runtime.start();
  }
  return core;
}

const info = (endpoint = 'POST /v1/chat/completions'): ApiRequestInfo => ({ endpoint, requestBytes: 123 });
const never = () => new AbortController().signal;

const request = (over: Partial<ApiCompletionRequest> = {}): ApiCompletionRequest => ({
  model: 'tiny-chat',
  messages: [{ role: 'user', content: 'Hello there' }],
  prompt: null,
  sampling: {},
  stop: [],
  format: null,
  tools: [],
  toolChoice: 'auto',
  collections: [],
  ...over,
});

function principalOf(core: Core, scopes: ApiScope[], collections: string[] | null = null, name = `t ${scopes.join(' ')}`): ApiPrincipal {
  const made = core.api.tokens.create({ name, scopes, expiresAt: null, collections });
  return core.api.service.authenticate(made.token, scopes[0]!, info());
}

async function refusalOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('not refused');
}

const records = (core: Core, type: string) =>
  core.audit
    .log!.list({ limit: 10_000 })
    .filter((record) => record.type === type)
    .map((record) => record.data as Record<string, unknown>);

describe('the local API service with the real engine', () => {
  it(
    'authenticates, lists models, answers in turns with the app’s settings, limits a token’s requests, embeds, and records each request',
    { timeout: 300_000 },
    async () => {
      const core = await open('main', { audit: { level: 'full' } }, true);
      try {
        const service = core.api.service;
        // Refusals before any work: each one on the record, by token name when the token was known.
        expect(() => service.authenticate(null, 'chat', info())).toThrow(expect.objectContaining({ code: 'unauthorized' }));
        expect(() => service.authenticate('sob_wrong', 'chat', info())).toThrow(expect.objectContaining({ code: 'unauthorized' }));
        const reader = core.api.tokens.create({ name: 'Reader', scopes: ['models:read'], expiresAt: null });
        expect(() => service.authenticate(reader.token, 'chat', info())).toThrow(expect.objectContaining({ code: 'forbidden' }));
        service.refused(info('GET /v1/models'), 421, 'The Host header does not name this server.');
        expect(records(core, 'api.refused')).toEqual([
          { token: null, endpoint: 'POST /v1/chat/completions', status: 401, reason: expect.stringMatching(/no API token/) },
          { token: null, endpoint: 'POST /v1/chat/completions', status: 401, reason: 'This API token is not valid.' },
          { token: 'Reader', endpoint: 'POST /v1/chat/completions', status: 403, reason: 'This API token does not have the "chat" scope.' },
          { token: null, endpoint: 'GET /v1/models', status: 421, reason: 'The Host header does not name this server.' },
        ]);

        const listed = service.models(service.authenticate(reader.token, 'models:read', info('GET /v1/models')));
        expect(listed.map((model) => [model.id, model.kind])).toEqual([
          ['tiny-chat', 'chat'],
          ['tiny-embedder', 'embedding'],
        ]);
        expect(listed[0]).toMatchObject({
          name: 'tiny-chat',
          family: 'llama',
          quantization: expect.any(String),
          sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        });

        // A chat completion: the model loads on demand, deltas stream the reply, the app's maxTokens applies.
        const chat = principalOf(core, ['chat', 'embeddings'], null, 'Notebook');
        let streamed = '';
        const answer = await service.complete(chat, request(), info(), (text) => (streamed += text), never());
        expect(answer).toMatchObject({ model: 'tiny-chat', sources: [], finishReason: 'length', stats: { tokens: MAX_TOKENS } });
        expect(streamed).toBe(answer.text);
        expect(core.runtime.state().model?.name).toBe('tiny-chat');
        // The request's own values win: a raw prompt, 3 tokens, by the library's default model ('').
        const raw = await service.complete(
          chat,
          request({ model: '', messages: null, prompt: 'Once upon a time', sampling: { maxTokens: 3, seed: 7 } }),
          info('POST /v1/completions'),
          () => undefined,
          never(),
        );
        expect(raw.stats.tokens).toBe(3);
        await expect(refusalOf(service.complete(chat, request({ sampling: { temperature: 9 } }), info(), () => undefined, never()))).resolves.toMatchObject({
          code: 'bad_request',
        });
        await expect(refusalOf(service.complete(chat, request({ model: 'tiny-embedder' }), info(), () => undefined, never()))).resolves.toMatchObject({
          code: 'bad_request',
        });
        await expect(refusalOf(service.complete(chat, request({ model: 'nope' }), info(), () => undefined, never()))).resolves.toMatchObject({
          code: 'not_found',
        });

        const served = records(core, 'api.request');
        expect(served[0]).toMatchObject({
          token: 'Notebook',
          endpoint: 'POST /v1/chat/completions',
          status: 200,
          modelSha256: listed[0]!.sha256,
          requestBytes: 123,
          completionTokens: MAX_TOKENS,
          promptTokens: expect.any(Number),
          prompt: 'user: Hello there',
          response: answer.text,
        });
        expect(served.slice(2).map((record) => record.status)).toEqual([400, 400, 404]);

        // One token, more requests at once than it may have: the extra one is refused with 429 and recorded; the others are answered.
        const runs = Array.from({ length: MAX_IN_FLIGHT + 1 }, () =>
          service.complete(chat, request({ sampling: { maxTokens: 2 } }), info(), () => undefined, never()),
        );
        const settled = await Promise.allSettled(runs);
        expect(settled.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(MAX_IN_FLIGHT);
        const rejected = settled.filter((outcome) => outcome.status === 'rejected');
        expect(rejected.map((outcome) => (outcome.reason as AppError).code)).toEqual(['too_many_requests']);
        expect(records(core, 'api.refused').at(-1)).toMatchObject({ token: 'Notebook', status: 429 });
        // A caller that gives up while waiting for its turn leaves the queue.
        const stop = new AbortController();
        const long = service.complete(chat, request({ sampling: { maxTokens: 40 } }), info(), () => undefined, never());
        const waiting = service.complete(chat, request(), info(), () => undefined, stop.signal);
        stop.abort();
        await expect(refusalOf(waiting)).resolves.toMatchObject({ code: 'cancelled' });
        await long;

        // A client that goes away mid-reply: the reply stops, and the record says 499 with what was written.
        const cut = new AbortController();
        const partial = await service.complete(chat, request({ sampling: { maxTokens: 400 } }), info(), () => cut.abort(), cut.signal);
        expect(partial.finishReason).toBe('aborted');
        expect(partial.stats.tokens).toBeLessThan(400);
        expect(records(core, 'api.request').at(-1)).toMatchObject({ status: 499, response: partial.text });

        // Embeddings: one vector per text, the model's tokens counted.
        const vectors = await service.embed(chat, { model: '', input: ['first text', 'a second one'] }, info('POST /v1/embeddings'), never());
        expect(vectors.model).toBe('tiny-embedder');
        expect(vectors.vectors).toHaveLength(2);
        expect(vectors.vectors[0]!.length).toBeGreaterThan(0);
        expect(vectors.promptTokens).toBeGreaterThan(0);
        expect(records(core, 'api.request').at(-1)).toMatchObject({ endpoint: 'POST /v1/embeddings', status: 200, modelSha256: listed[1]!.sha256 });
        await expect(refusalOf(service.embed(chat, { model: 'tiny-chat', input: ['x'] }, info(), never()))).resolves.toMatchObject({ code: 'bad_request' });
        expect(core.audit.log!.verify().ok).toBe(true);
      } finally {
        await core.close();
      }
    },
  );

  it('answers from the collections a token may use, returns their passages as sources, and searches them', { timeout: 300_000 }, async () => {
    const core = await open('knowledge', {}, true);
    try {
      const service = core.api.service;
      const h = core.handlers;
      const leave = unwrap(await h['knowledge.createCollection']({ name: 'Leave', embeddingModelId: null }, testContext()));
      const other = unwrap(await h['knowledge.createCollection']({ name: 'Other', embeddingModelId: null }, testContext()));
      const note = path.join(dir, 'leave.md');
      await writeFile(note, '# Annual leave\n\nStaff have 27 days of annual leave each year, plus public holidays.\n');
      await core.knowledge.addPaths(leave.id, [note]);
      await core.knowledge.idle();

      const limited = principalOf(core, ['chat', 'knowledge'], [leave.id], 'Leave bot');
      const answer = await service.complete(
        limited,
        request({ messages: [{ role: 'user', content: 'How many days of annual leave?' }], collections: [leave.id] }),
        info(),
        () => undefined,
        never(),
      );
      expect(answer.sources).toEqual([
        expect.objectContaining({ documentName: 'leave.md', collectionId: leave.id, page: null, text: expect.stringContaining('27 days') }),
      ]);
      expect(records(core, 'api.request').at(-1)).toMatchObject({ token: 'Leave bot', status: 200, collections: [leave.id] });

      await expect(refusalOf(service.complete(limited, request({ collections: [other.id] }), info(), () => undefined, never()))).resolves.toMatchObject({
        code: 'forbidden',
      });
      const chatOnly = principalOf(core, ['chat'], null, 'Chat only');
      await expect(refusalOf(service.complete(chatOnly, request({ collections: [leave.id] }), info(), () => undefined, never()))).resolves.toMatchObject({
        code: 'forbidden',
        message: expect.stringMatching(/"knowledge" scope/),
      });

      const found = await service.search(limited, { collection: leave.id, query: 'annual leave', k: 3 }, info('POST /v1/knowledge/search'), never());
      expect(found[0]).toMatchObject({ documentName: 'leave.md', collectionId: leave.id, score: expect.any(Number), text: expect.stringContaining('27 days') });
      await expect(refusalOf(service.search(limited, { collection: other.id, query: 'leave', k: 3 }, info(), never()))).resolves.toMatchObject({
        code: 'forbidden',
      });
      await expect(refusalOf(service.search(limited, { collection: leave.id, query: 'leave', k: 0 }, info(), never()))).resolves.toMatchObject({
        code: 'bad_request',
      });
    } finally {
      await core.close();
    }
  });

  it('applies the prompts PII rule to every message: block refuses the request, redact sends placeholders', { timeout: 300_000 }, async () => {
    const blocking = await open('pii-block', { pii: { prompts: 'block' } }, false);
    try {
      const chat = principalOf(blocking, ['chat']);
      const refused = await refusalOf(
        blocking.api.service.complete(
          chat,
          request({
            model: '',
            messages: [
              { role: 'system', content: 'Write to ana.lopez@example.com' },
              { role: 'user', content: 'Hi' },
            ],
          }),
          info(),
          () => undefined,
          never(),
        ),
      );
      expect(refused.code).toBe('forbidden');
      expect(records(blocking, 'api.request').at(-1)).toMatchObject({ status: 403 });
      expect(JSON.stringify(blocking.audit.log!.list({ limit: 1000 }))).not.toContain('ana.lopez');
    } finally {
      await blocking.close();
    }
    const redacting = await open('pii-redact', { pii: { prompts: 'redact' }, audit: { level: 'full' } }, true);
    try {
      const chat = principalOf(redacting, ['chat']);
      await redacting.api.service.complete(
        chat,
        request({ messages: [{ role: 'user', content: 'Mail ana.lopez@example.com please' }] }),
        info(),
        () => undefined,
        never(),
      );
      const record = records(redacting, 'api.request').at(-1)!;
      expect(record.prompt).toBe('user: Mail [EMAIL] please');
      expect(records(redacting, 'pii.found')).toContainEqual({ kind: 'email', action: 'redact', context: 'prompts', count: 1 });
    } finally {
      await redacting.close();
    }
  });
});
