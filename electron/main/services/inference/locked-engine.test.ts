import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openTestGate } from '../../../test-support/test-gate.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { presetSpec, writeGguf } from '../../../../e2e/fixtures/gguf/writer.ts';
import type { ChatEvent, Conversation, LoadEvent, GenerateEvent, ChatPreset } from '../../../common/contract/index.ts';
import type { CallContext } from '../../../common/handlers.ts';
import { AppError, type Result } from '../../../common/result.ts';
import type { GenerateParams, LoadOptions } from '../../../common/runtime/protocol.ts';
import { createChatHandlers } from '../chat/handlers.ts';
import { createFileTokens, NO_PICKER } from '../files.ts';
import { loadLibraryModel } from '../models-handlers.ts';
import { importModel, scanModels, setDefault, setLoadSettings } from '../models/index.ts';
import { resolvePolicy } from '../policy/merge.ts';
import { DEFAULT_SETTINGS } from '../settings.ts';
import { openDatabase, type Database } from '../storage/sqlite.ts';
import { createEngine, type ChatRequest, type RuntimeEngine } from './engine.ts';
import { createRuntimeHandlers } from './handlers.ts';
import { forkLauncher } from './launcher.ts';
import { lockedEngine, redactChatRequest, screenGeneratePrompt } from './locked-engine.ts';
import { checkModelFile } from './model-check.ts';
import { sqliteQuarantine } from './quarantine.ts';

const EMAIL = 'ana.garcia@example.com';
const IBAN = 'ES91 2100 0418 4502 0005 1332';

describe('redactChatRequest', () => {
  const request: ChatRequest = {
    conversationId: 'c',
    systemPrompt: `Reply to ${EMAIL}.`,
    history: [
      { role: 'user', content: `My IBAN is ${IBAN}` },
      { role: 'assistant', content: `Noted, ${EMAIL}.` },
    ],
    prompt: 'And now?',
    sampling: { temperature: 0.7, topP: 0.9, topK: 40, minP: 0.05, repeatPenalty: 1.1, maxTokens: 8, seed: null },
  };

  it('redact and block replace personal data in the system prompt, every turn and the prompt', () => {
    for (const mode of ['redact', 'block'] as const) {
      const out = redactChatRequest({ ...request, prompt: `Passage: write to ${EMAIL}` }, mode);
      expect(out.systemPrompt).toBe('Reply to [EMAIL].');
      expect(out.history).toEqual([
        { role: 'user', content: 'My IBAN is [IBAN]' },
        { role: 'assistant', content: 'Noted, [EMAIL].' },
      ]);
      expect(out.prompt).toBe('Passage: write to [EMAIL]');
      // Twice is once: the same history reaches the model the same way every turn.
      expect(redactChatRequest(out, mode)).toEqual(out);
    }
  });

  it('off and warn send the request as it is', () => {
    expect(redactChatRequest(request, 'off')).toBe(request);
    expect(redactChatRequest(request, 'warn')).toBe(request);
  });
});

describe('screenGeneratePrompt', () => {
  it('redacts under redact, refuses under block, passes otherwise', () => {
    expect(screenGeneratePrompt(`Mail ${EMAIL}`, 'redact')).toBe('Mail [EMAIL]');
    expect(() => screenGeneratePrompt(`Mail ${EMAIL}`, 'block')).toThrow(expect.objectContaining({ code: 'forbidden' }));
    expect(screenGeneratePrompt('Hello', 'block')).toBe('Hello');
    expect(screenGeneratePrompt(`Mail ${EMAIL}`, 'warn')).toBe(`Mail ${EMAIL}`);
  });
});

describe('lockedEngine (stand-in engine)', () => {
  it('forces a locked thread count on embedding, counting and ranking calls, and the locks on fit estimates', async () => {
    const calls: unknown[][] = [];
    const hardware = { backend: 'cpu', gpuNames: [], vramTotal: 0, vramFree: 0, ramTotal: 1, ramFree: 1, cpuCores: 6, llamaCppRelease: 'test' };
    const stand = {
      state: () => ({ status: 'idle' as const, hardware, model: null, loadProgress: null, memoryBytes: null, lastCrash: null, restarts: 0 }),
      hardware: async () => hardware,
      load: async () => {
        throw new Error('unused');
      },
      embed: async (...args: unknown[]) => (calls.push(['embed', ...args]), { vectors: [], truncated: [] }),
      countTokens: async (...args: unknown[]) => (calls.push(['countTokens', ...args]), [1]),
      rank: async (...args: unknown[]) => (calls.push(['rank', ...args]), [0.5]),
      fit: async (...args: unknown[]) => (
        calls.push(['fit', ...args]),
        { placement: 'cpu' as const, gpuLayers: 0, contextSize: 1, fits: true, ramBytes: 1, vramBytes: 0 }
      ),
    } as unknown as RuntimeEngine;
    const one = lockedEngine(stand, resolvePolicy({ version: 1, settings: { runtime: { threads: 1, contextSize: 1024, gpuLayers: 0 } } }));
    await one.embed('m.gguf', ['a'], 4);
    await one.countTokens('m.gguf', ['a'], 4);
    await one.rank('m.gguf', 'q', ['a'], 4);
    await one.fit('m.gguf', { contextSize: 8192, gpuLayers: 33 });
    expect(calls).toEqual([
      ['embed', 'm.gguf', ['a'], 1],
      ['countTokens', 'm.gguf', ['a'], 1],
      ['rank', 'm.gguf', 'q', ['a'], 1],
      ['fit', 'm.gguf', { contextSize: 1024, gpuLayers: 0 }],
    ]);
    calls.length = 0;
    // 'auto' threads: the machine's automatic count, whatever the caller asked for.
    await lockedEngine(stand, () => resolvePolicy({ version: 1, settings: { runtime: { threads: 'auto' } } })).embed('m.gguf', ['a'], 2);
    expect(calls).toEqual([['embed', 'm.gguf', ['a'], 6]]);
  });
});

// Finding 5 of issue 12, end to end: every path that carries its own sampling, token or
// context values (conversation settings, a preset, runtime.load's and runtime.generate's
// overrides, a model's load settings) ends with the locked values in the real inference
// process. The chat handlers are built WITHOUT the policy, as core.ts wires them before this
// change, so the stored values are the bypass and the engine wrapper alone must hold.

const POLICY = resolvePolicy({
  version: 1,
  settings: { runtime: { contextSize: 512, threads: 1, sampling: { temperature: 0, maxTokens: 4 } } },
});

let dir: string;
let modelFile: string;
let db: Database;
const engines: RuntimeEngine[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-locked-engine-'));
  modelFile = path.join(dir, 'tiny-chat.gguf');
  // quietEnd: answers run to maxTokens, so the token count shows which limit was used.
  await writeGguf(modelFile, { ...presetSpec('tiny', 'Q8_0', 13), contextLength: 4096, quietEnd: true });
});

afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
  if (db?.isOpen) db.close();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ctx = (): CallContext => ({ caller: { origin: 'test', isMainFrame: true }, signal: new AbortController().signal });

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new AppError(result.error.code, result.error.message, result.error.details);
  return result.value;
}

async function drain<E>(events: AsyncIterable<E>): Promise<E[]> {
  const seen: E[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

/** The real engine, with what reaches it recorded: the wrapper under test sits in front of this. */
function recordedRealEngine(database: Database) {
  const real = createEngine({ launcher: forkLauncher(), validate: checkModelFile, quarantine: sqliteQuarantine(database), onState: () => undefined });
  engines.push(real);
  const loads: LoadOptions[] = [];
  const chats: ChatRequest[] = [];
  const generations: GenerateParams[] = [];
  const engine: RuntimeEngine = {
    ...real,
    load(filePath, options, onProgress, signal, displayName) {
      loads.push(options);
      return real.load(filePath, options, onProgress, signal, displayName);
    },
    chat(request, onDelta, signal) {
      chats.push(request);
      return real.chat(request, onDelta, signal);
    },
    generate(params, onDelta, signal) {
      generations.push(params);
      return real.generate(params, onDelta, signal);
    },
  };
  return { real, engine, loads, chats, generations };
}

describe('lockedEngine with the real inference process', () => {
  it('each of the five bypasses of finding 5 ends with the locked values in the engine', { timeout: 180_000 }, async () => {
    const dataDir = await mkdtemp(path.join(dir, 'data-'));
    db = openDatabase(dataDir);
    const { candidates } = await scanModels(modelFile);
    const modelId = setDefault(db, (await importModel(db, path.join(dataDir, 'models'), candidates[0]!, { mode: 'reference' })).id, 'chat').id;
    const recorded = recordedRealEngine(db);
    const engine = lockedEngine(recorded.engine, POLICY);
    await engine.start();
    // The app's settings as if their own lock were bypassed: the wrapper must not rely on them.
    const settings = () => ({ ...DEFAULT_SETTINGS.runtime, threads: 2, contextSize: 2048 as const });
    const { gate, emit } = await openTestGate(db, dataDir);
    const chat = createChatHandlers({ db, engine, picker: NO_PICKER, settings, changed: () => undefined, gate, emit });
    const files = createFileTokens();
    const runtime = createRuntimeHandlers({ engine, files, picker: { ...NO_PICKER, pickModelFile: async () => modelFile }, settings });
    const answer = (events: ChatEvent[]) => {
      const last = events.at(-1);
      if (last?.type !== 'done') throw new Error(`no answer: ${JSON.stringify(last)}`);
      return last.message;
    };

    // 1. chat.update: a conversation's own temperature, maxTokens and context size.
    const conversation: Conversation = unwrap(await chat['chat.create']({}, ctx()));
    const loose = { ...conversation.settings, contextSize: 1024, sampling: { ...conversation.settings.sampling, temperature: 1.5, maxTokens: 40, topP: 0.5 } };
    expect(unwrap(await chat['chat.update']({ id: conversation.id, settings: loose }, ctx())).settings).toEqual(loose); // stored as written
    const first = answer(await drain(chat['chat.send']({ conversationId: conversation.id, content: 'Hello there' }, ctx())));
    expect(recorded.chats.at(-1)!.sampling).toEqual({ ...loose.sampling, temperature: 0, maxTokens: 4 }); // topP is not locked
    expect(first.stats?.tokens).toBe(4);
    expect(recorded.loads.at(-1)).toMatchObject({ contextSize: 512, threads: 1 });
    expect(engine.state().model).toMatchObject({ contextSize: 512, threads: 1 });

    // 2. presets.save, then a conversation made from that preset.
    const preset: ChatPreset = unwrap(
      await chat['presets.save']({ name: 'Loose', settings: { ...loose, sampling: { ...loose.sampling, temperature: 1.9, maxTokens: 60 } } }, ctx()),
    );
    const fromPreset: Conversation = unwrap(await chat['chat.create']({ presetId: preset.id }, ctx()));
    const second = answer(await drain(chat['chat.send']({ conversationId: fromPreset.id, content: 'Hello again' }, ctx())));
    expect(recorded.chats.at(-1)!.sampling).toMatchObject({ temperature: 0, maxTokens: 4 });
    expect(second.stats?.tokens).toBe(4);

    // 3. runtime.load with a one-off context size.
    const picked = await files.pick({ ...NO_PICKER, pickModelFile: async () => modelFile });
    if (picked.canceled) throw new Error('not picked');
    const loaded = (
      await drain<LoadEvent>(runtime['runtime.load']({ fileToken: picked.file.token, contextSize: 2048, gpuLayers: 0 }, ctx()) as AsyncIterable<LoadEvent>)
    ).at(-1);
    expect(loaded).toMatchObject({ type: 'loaded', model: { contextSize: 512, threads: 1 } });
    expect(recorded.loads.at(-1)).toMatchObject({ contextSize: 512, threads: 1, gpuLayers: 0 });

    // 4. runtime.generate with per-call sampling.
    const generated = (
      await drain<GenerateEvent>(
        runtime['runtime.generate']({ prompt: 'Hello there', sampling: { temperature: 1.8, maxTokens: 40 } }, ctx()) as AsyncIterable<GenerateEvent>,
      )
    ).at(-1);
    expect(recorded.generations.at(-1)).toMatchObject({ temperature: 0, maxTokens: 4 });
    if (generated?.type !== 'done') throw new Error('no stats');
    expect(generated.stats.tokens).toBeLessThanOrEqual(4);

    // 5. models.setLoadSettings stores a model's own context size; models.load and chat load with it.
    setLoadSettings(db, modelId, { contextSize: 2048 });
    const viaLibrary = await loadLibraryModel({ db, engine, settings }, modelId);
    expect(viaLibrary).toMatchObject({ contextSize: 512, threads: 1 });
    expect(recorded.loads.at(-1)).toMatchObject({ contextSize: 512, threads: 1 });
  });
});
