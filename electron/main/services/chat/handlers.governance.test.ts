import { mkdtemp, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openTestGate, type TestGate } from '../../../test-support/test-gate.ts';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { presetSpec, writeGguf } from '../../../../e2e/fixtures/gguf/writer.ts';
import type { ChatEvent, ChatThread, Conversation, Passage, RuntimeModel, RuntimeState } from '../../../common/contract/index.ts';
import type { CallContext } from '../../../common/handlers.ts';
import { AppError, type Result } from '../../../common/result.ts';
import type { Hardware, LoadOptions } from '../../../common/runtime/protocol.ts';
import { NO_PICKER } from '../files.ts';
import { importModel, scanModels, setDefault } from '../models/index.ts';
import { applyPiiPolicy } from '../pii/index.ts';
import { resolvePolicy } from '../policy/merge.ts';
import type { EffectivePolicy } from '../policy/schema.ts';
import { lockedEngine } from '../inference/locked-engine.ts';
import { DEFAULT_SETTINGS } from '../settings.ts';
import { openDatabase, type Database } from '../storage/sqlite.ts';
import { createChatHandlers, type ChatEngine, type ChatKnowledge, type ChatRequest } from './handlers.ts';

// Issue 12, findings 4 and 5, through the real chat handlers and the engine wrapper core.ts
// puts in front of the inference process, over a real database. The engine behind the
// wrapper is a stand-in that records what it was given: what the model would have seen.

const HARDWARE: Hardware = { backend: 'cpu', gpuNames: [], vramTotal: 0, vramFree: 0, ramTotal: 8e9, ramFree: 4e9, cpuCores: 2, llamaCppRelease: 'test' };
const EMAIL = 'ana.garcia@example.com';
const IBAN = 'ES91 2100 0418 4502 0005 1332';
/** A policy file that fixes nothing. */
const NO_LOCKS = resolvePolicy({ version: 1 });

function recordingEngine() {
  let model: RuntimeModel | null = null;
  const loads: LoadOptions[] = [];
  const requests: ChatRequest[] = [];
  const engine: ChatEngine = {
    state: (): RuntimeState => ({ status: 'ready', hardware: HARDWARE, model, loadProgress: null, memoryBytes: null, lastCrash: null, restarts: 0 }),
    hardware: async () => HARDWARE,
    async load(filePath, options, _onProgress, _signal, displayName) {
      loads.push(options);
      model = {
        name: displayName ?? 'file',
        path: await realpath(filePath),
        sizeBytes: 1,
        contextSize: options.contextSize === 'auto' ? 4096 : options.contextSize,
        gpuLayers: 0,
        threads: options.threads,
      };
      return model;
    },
    async chat(request, onDelta) {
      requests.push(request);
      onDelta({ text: 'Fine.', reasoning: '', tokens: 1 });
      return {
        stats: { tokens: 1, promptTokens: 7, ms: 10, firstTokenMs: 5, tokensPerSecond: 100, stopReason: 'eos' },
        trimmedTurns: 0,
        defaultTemplate: false,
      };
    },
  };
  return { engine, loads, requests };
}

let dir: string;
let modelFile: string;
let db: Database;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-chat-governance-'));
  modelFile = path.join(dir, 'tiny-chat.gguf');
  await writeGguf(modelFile, presetSpec('tiny', 'Q8_0', 5));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let governed: TestGate;

beforeEach(async () => {
  const dataDir = await mkdtemp(path.join(dir, 'data-'));
  db = openDatabase(dataDir);
  governed = await openTestGate(db, dataDir);
  const { candidates } = await scanModels(modelFile);
  setDefault(db, (await importModel(db, path.join(dir, 'models'), candidates[0]!, { mode: 'reference' })).id, 'chat');
});

afterEach(() => {
  if (db.isOpen) db.close();
});

const ctx = (): CallContext => ({ caller: { origin: 'test', isMainFrame: true }, signal: new AbortController().signal });

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new AppError(result.error.code, result.error.message, result.error.details);
  return result.value;
}

async function drain(events: AsyncIterable<ChatEvent>): Promise<ChatEvent[]> {
  const seen: ChatEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

/** The chat handlers as core.ts builds them: the engine behind lockedEngine, prompts screened by the same policy. */
function chatWith(policy: EffectivePolicy, options: { knowledge?: ChatKnowledge; handlerPolicy?: boolean } = {}) {
  const recorded = recordingEngine();
  const handlers = createChatHandlers({
    db,
    engine: lockedEngine(recorded.engine, policy),
    picker: NO_PICKER,
    settings: () => ({ ...DEFAULT_SETTINGS.runtime, threads: 1 }),
    changed: () => undefined,
    gate: governed.gate,
    emit: governed.emit,
    screenPrompt: (text) => applyPiiPolicy(text, policy.pii.prompts),
    ...(options.knowledge === undefined ? {} : { knowledge: options.knowledge }),
    ...(options.handlerPolicy === true ? { policy: () => policy } : {}),
  });
  return { handlers, ...recorded };
}

/** The error a handler throws, as the router would catch it (rpc handlers may throw synchronously). */
async function failure(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('the call succeeded');
}

const flat = (request: ChatRequest) => JSON.stringify([request.systemPrompt, request.history, request.prompt]);

describe('PII redact reaches everything the model is sent (finding 4)', () => {
  it('an e-mail address and an IBAN in the first turn do not go back to the model as history', async () => {
    const { handlers, requests } = chatWith(resolvePolicy({ version: 1, pii: { prompts: 'redact' } }));
    const conversation: Conversation = unwrap(await handlers['chat.create']({}, ctx()));
    await drain(handlers['chat.send']({ conversationId: conversation.id, content: `Write to ${EMAIL}, my IBAN is ${IBAN}.` }, ctx()));
    await drain(handlers['chat.send']({ conversationId: conversation.id, content: 'Now make it shorter.' }, ctx()));

    expect(requests).toHaveLength(2);
    const second = requests[1]!;
    expect(flat(second)).not.toContain(EMAIL);
    expect(flat(second)).not.toContain(IBAN);
    expect(second.history[0]).toEqual({ role: 'user', content: 'Write to [EMAIL], my IBAN is [IBAN].' });
    expect(second.prompt).toBe('Now make it shorter.');
    // The user keeps their own words.
    const thread: ChatThread = unwrap(await handlers['chat.get']({ id: conversation.id }, ctx()));
    expect(thread.messages[0]?.content).toBe(`Write to ${EMAIL}, my IBAN is ${IBAN}.`);
  });

  it('passages stored unredacted (ingestion warn) are redacted in the prompt under prompts redact', async () => {
    const passage: Passage = {
      chunkId: 'k1',
      documentId: 'd1',
      documentName: 'contacts.txt',
      collectionId: 'col',
      format: 'txt',
      page: null,
      headingPath: [],
      text: `Payroll questions go to ${EMAIL}; salaries are paid from ${IBAN}.`,
      snippet: 'Payroll questions',
      highlights: [],
      score: 0.9,
      start: 0,
      end: 80,
    };
    const knowledge: ChatKnowledge = { retrieve: async () => ({ passages: [passage], mode: 'hybrid', relevant: true, notice: null }) };
    const { handlers, requests } = chatWith(resolvePolicy({ version: 1, pii: { ingestion: 'warn', prompts: 'redact' } }), { knowledge });
    const conversation: Conversation = unwrap(await handlers['chat.create']({}, ctx()));
    unwrap(await handlers['chat.update']({ id: conversation.id, knowledge: { collectionIds: ['col'], documentsOnly: false } }, ctx()));
    const events = await drain(handlers['chat.send']({ conversationId: conversation.id, content: 'Who answers payroll questions?' }, ctx()));

    expect(events.some((event) => event.type === 'sources')).toBe(true);
    const prompt = requests[0]!.prompt!;
    expect(prompt).toContain('Payroll questions go to [EMAIL]; salaries are paid from [IBAN].');
    expect(prompt).not.toContain(EMAIL);
    expect(prompt).not.toContain(IBAN);
  });

  it('under warn, history goes as written', async () => {
    const { handlers, requests } = chatWith(resolvePolicy({ version: 1, pii: { prompts: 'warn' } }));
    const conversation: Conversation = unwrap(await handlers['chat.create']({}, ctx()));
    await drain(handlers['chat.send']({ conversationId: conversation.id, content: `Write to ${EMAIL}.` }, ctx()));
    await drain(handlers['chat.send']({ conversationId: conversation.id, content: 'Shorter.' }, ctx()));
    expect(requests[1]!.history[0]!.content).toBe(`Write to ${EMAIL}.`);
  });
});

describe('locked values in conversations and presets (finding 5)', () => {
  const LOCKED = resolvePolicy({
    version: 1,
    contact: 'it@example.org',
    settings: { runtime: { contextSize: 2048, sampling: { temperature: 0.1, maxTokens: 128 } } },
  });

  it('with the policy, chat.update and presets.save refuse a locked value with the message settings.update gives', async () => {
    const { handlers } = chatWith(LOCKED, { handlerPolicy: true });
    const conversation: Conversation = unwrap(await handlers['chat.create']({}, ctx()));
    const hot = { ...conversation.settings, sampling: { ...conversation.settings.sampling, temperature: 1.4 } };
    expect(await failure(() => handlers['chat.update']({ id: conversation.id, settings: hot }, ctx()))).toMatchObject({
      code: 'forbidden',
      message: 'runtime.sampling.temperature cannot be changed here. Managed by your organization’s policy. Contact: it@example.org.',
    });
    expect(await failure(() => handlers['presets.save']({ name: 'Hot', settings: { ...conversation.settings, contextSize: 'auto' } }, ctx()))).toMatchObject({
      code: 'forbidden',
      details: 'runtime.contextSize',
    });
    // Unlocked fields, and the locked values themselves, are accepted.
    const calm = {
      ...conversation.settings,
      systemPrompt: 'Be brief.',
      sampling: { ...conversation.settings.sampling, topP: 0.5, temperature: 0.1, maxTokens: 128 },
      contextSize: 2048,
    };
    expect(unwrap(await handlers['chat.update']({ id: conversation.id, settings: calm }, ctx())).settings).toEqual(calm);
    expect(unwrap(await handlers['presets.save']({ name: 'Calm', settings: calm }, ctx())).settings).toEqual(calm);
  });

  it('a conversation stored before the lock is clamped at use, loads the model once, and can still be edited', async () => {
    // Stored without the policy (as core.ts wires chat today, or before the policy arrived).
    const before = chatWith(NO_LOCKS);
    const conversation: Conversation = unwrap(await before.handlers['chat.create']({}, ctx()));
    const stale = { ...conversation.settings, contextSize: 8192, sampling: { ...conversation.settings.sampling, temperature: 1.2, maxTokens: 2000 } };
    unwrap(await before.handlers['chat.update']({ id: conversation.id, settings: stale }, ctx()));

    const { handlers, requests, loads } = chatWith(LOCKED, { handlerPolicy: true });
    await drain(handlers['chat.send']({ conversationId: conversation.id, content: 'One' }, ctx()));
    await drain(handlers['chat.send']({ conversationId: conversation.id, content: 'Two' }, ctx()));
    expect(requests.map((request) => request.sampling)).toEqual([
      { ...stale.sampling, temperature: 0.1, maxTokens: 128 },
      { ...stale.sampling, temperature: 0.1, maxTokens: 128 },
    ]);
    expect(loads).toHaveLength(1);
    expect(loads[0]).toMatchObject({ contextSize: 2048 });
    // Its stale values, carried unchanged, do not stop the user renaming its system prompt.
    unwrap(await handlers['chat.update']({ id: conversation.id, settings: { ...stale, systemPrompt: 'Be brief.' } }, ctx()));
  });
});
