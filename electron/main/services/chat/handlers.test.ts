import { readFile, realpath, rm, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openTestGate, type TestGate } from '../../../test-support/test-gate.ts';
import { afterEach, beforeAll, afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { presetSpec, writeGguf } from '../../../../e2e/fixtures/gguf/writer.ts';
import {
  contract,
  type ChatEvent,
  type ChatMessage,
  type ChatThread,
  type Conversation,
  type RuntimeModel,
  type RuntimeState,
} from '../../../common/contract/index.ts';
import { AppError, type AppErrorData, type Result } from '../../../common/result.ts';
import type { Hardware, LoadOptions } from '../../../common/runtime/protocol.ts';
import { NO_PICKER, type FilePicker } from '../files.ts';
import { importModel, scanModels, setDefault } from '../models/index.ts';
import { DEFAULT_SETTINGS } from '../settings.ts';
import { openDatabase, type Database } from '../storage/sqlite.ts';
import { createChatHandlers, type ChatEngine, type ChatRequest, type ChatResult } from './handlers.ts';

// The chat handlers with their inputs, outputs and events parsed by the contract's schemas,
// as the router does in development, over a real database, with a STAND-IN ENGINE that replays scripted deltas:
// these tests pin the storage and streaming semantics without a model. The same flows
// against the real inference process are in handlers.engine.test.ts.

const HARDWARE: Hardware = { backend: 'cpu', gpuNames: [], vramTotal: 0, vramFree: 0, ramTotal: 8e9, ramFree: 4e9, cpuCores: 2, llamaCppRelease: 'test' };

interface Script {
  readonly deltas?: readonly string[];
  readonly reasoning?: readonly string[];
  readonly stopReason?: ChatResult['stats']['stopReason'];
  readonly trimmedTurns?: number;
  readonly defaultTemplate?: boolean;
  /** Throw this after the deltas. */
  readonly fail?: AppError;
  readonly delayMs?: number;
}

/** Stand-in for the engine: records loads and chat requests, and answers from a script. */
function standInEngine() {
  let model: RuntimeModel | null = null;
  const loads: { path: string; options: LoadOptions; name: string | undefined }[] = [];
  const requests: ChatRequest[] = [];
  const scripts: Script[] = [];
  const engine: ChatEngine = {
    state: (): RuntimeState => ({ status: 'ready', hardware: HARDWARE, model, loadProgress: null, memoryBytes: null, lastCrash: null, restarts: 0 }),
    hardware: async () => HARDWARE,
    async load(filePath, options, _onProgress, _signal, displayName) {
      loads.push({ path: filePath, options, name: displayName });
      model = {
        name: displayName ?? 'file',
        path: await realpath(filePath),
        sizeBytes: 1,
        contextSize: options.contextSize === 'auto' ? 512 : options.contextSize,
        gpuLayers: 0,
        threads: options.threads,
      };
      return model;
    },
    async chat(request, onDelta, signal) {
      requests.push(request);
      const script = scripts.shift() ?? {};
      const deltas = script.deltas ?? ['Hello', ' there'];
      let stopReason = script.stopReason ?? 'eos';
      let tokens = 0;
      for (const [index, text] of deltas.entries()) {
        if (signal?.aborted) {
          stopReason = 'aborted';
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, script.delayMs ?? 2));
        tokens += 1;
        onDelta({ text, reasoning: script.reasoning?.[index] ?? '', tokens: 1 });
      }
      if (script.fail !== undefined) throw script.fail;
      return {
        stats: { tokens, promptTokens: 7, ms: 100, firstTokenMs: 5, tokensPerSecond: 20, stopReason },
        trimmedTurns: script.trimmedTurns ?? 0,
        defaultTemplate: script.defaultTemplate ?? false,
      };
    },
  };
  return { engine, loads, requests, scripts, unload: () => (model = null) };
}

const CALLER = { origin: 'app://soberana', isMainFrame: true };

let dir: string;
let modelFile: string;
let db: Database;
let stand: ReturnType<typeof standInEngine>;
let changes: (string | null)[];
let saved: { name: string; content: string }[];
let pickPath: string | null;
let handlers: Record<string, (input: unknown, ctx: { caller: typeof CALLER; signal: AbortSignal }) => unknown>;
let modelId: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-chat-handlers-'));
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
  const record = await importModel(db, path.join(dataDir, 'models'), candidates[0]!, { mode: 'reference' });
  modelId = setDefault(db, record.id, 'chat').id;
  stand = standInEngine();
  changes = [];
  saved = [];
  pickPath = null;
  const picker: FilePicker = {
    ...NO_PICKER,
    pickOpenFile: async () => pickPath,
    saveFile: async (name, content) => {
      saved.push({ name, content });
      return pickPath;
    },
  };
  handlers = createChatHandlers({
    db,
    engine: stand.engine,
    picker,
    settings: () => ({ ...DEFAULT_SETTINGS.runtime, threads: 1 }),
    changed: (id) => changes.push(id),
    gate: governed.gate,
    emit: governed.emit,
    flushMs: 20,
  }) as unknown as typeof handlers;
});

afterEach(() => {
  if (db.isOpen) db.close();
});

type Endpoint = { input: z.ZodType; output?: z.ZodType; event?: z.ZodType };
const def = (name: string) => (contract as unknown as Record<string, Endpoint>)[name]!;

const errorOf = (error: unknown): AppErrorData => {
  if (error instanceof AppError) return error.toData();
  throw error;
};

async function invoke(name: string, input: unknown): Promise<Result<unknown>> {
  const parsed = def(name).input.safeParse(input);
  if (!parsed.success) return { ok: false, error: { code: 'bad_request', message: 'The request was malformed.', details: parsed.error.message } };
  try {
    const result = (await handlers[name]!(parsed.data, { caller: CALLER, signal: new AbortController().signal })) as Result<unknown>;
    return result.ok ? { ok: true, value: def(name).output!.parse(result.value) } : result;
  } catch (error) {
    return { ok: false, error: errorOf(error) };
  }
}

async function call<T>(name: string, input: unknown): Promise<T> {
  const result = await invoke(name, input);
  if (!result.ok) throw new AppError(result.error.code, result.error.message, result.error.details);
  return result.value as T;
}

async function failure(name: string, input: unknown) {
  const result = await invoke(name, input);
  if (result.ok) throw new Error(`${name} succeeded`);
  return result.error;
}

type End = { type: 'end' } | { type: 'error'; error: AppErrorData };

interface Streamed {
  readonly events: ChatEvent[];
  /** null: the caller stopped listening, so, like the router, no final frame. */
  readonly end: End | null;
}

/** Iterates a stream as the router does: stops at once when the caller aborts. */
async function stream(
  name: string,
  input: unknown,
  signal: AbortSignal = new AbortController().signal,
  onEvent?: (event: ChatEvent) => void,
): Promise<Streamed> {
  const events: ChatEvent[] = [];
  try {
    const iterable = handlers[name]!(def(name).input.parse(input), { caller: CALLER, signal }) as AsyncIterable<unknown>;
    for await (const raw of iterable) {
      if (signal.aborted) return { events, end: null };
      const event = def(name).event!.parse(raw) as ChatEvent;
      events.push(event);
      onEvent?.(event);
    }
    return { events, end: signal.aborted ? null : { type: 'end' } };
  } catch (error) {
    return { events, end: signal.aborted ? null : { type: 'error', error: errorOf(error) } };
  }
}

const done = (streamed: Streamed): ChatMessage => {
  const last = streamed.events.at(-1);
  if (last?.type !== 'done') throw new Error(`no done event: ${JSON.stringify(streamed)}`);
  return last.message;
};

const contents = async (id: string) => (await call<ChatThread>('chat.get', { id })).messages.map((message) => message.content);

describe('chat handlers (stand-in engine)', () => {
  it('create a conversation with the default chat model and the app sampling settings', async () => {
    const conversation = await call<Conversation>('chat.create', {});
    expect(conversation).toMatchObject({
      title: 'New conversation',
      modelId,
      settings: { systemPrompt: '', contextSize: 'auto', sampling: { ...DEFAULT_SETTINGS.runtime.sampling, minP: 0.05, seed: null } },
    });
    expect(changes).toEqual([conversation.id]);
    expect(await failure('chat.create', { modelId: 'ffffffffffffffff' })).toMatchObject({ code: 'not_found' });
    expect(await failure('chat.create', { presetId: 'nope' })).toMatchObject({ code: 'not_found' });
  });

  it('send: saves the question, loads the model once, streams user, started, deltas and done, and keeps the thread as history', async () => {
    const { id } = await call<Conversation>('chat.create', {});
    await call('chat.update', {
      id,
      settings: {
        systemPrompt: 'Be brief.',
        sampling: { temperature: 0.2, topP: 0.8, topK: 10, minP: 0.1, repeatPenalty: 1.2, maxTokens: 32, seed: 9 },
        contextSize: 'auto',
      },
    });
    const first = await stream('chat.send', { conversationId: id, content: 'Hi there, model' });
    expect(first.end).toEqual({ type: 'end' });
    expect(first.events.map((event) => event.type)).toEqual(['user', 'started', 'delta', 'delta', 'done']);
    const [user, started] = first.events;
    expect(user).toMatchObject({ type: 'user', message: { role: 'user', content: 'Hi there, model', parentId: null, status: 'complete' } });
    expect(started).toMatchObject({ type: 'started', parentId: user?.type === 'user' ? user.message.id : '' });
    expect(done(first)).toMatchObject({
      role: 'assistant',
      content: 'Hello there',
      status: 'complete',
      modelName: 'tiny-chat',
      stats: { tokens: 2, promptTokens: 7, firstTokenMs: 5 },
    });
    expect(stand.loads).toEqual([{ path: modelFile, options: { gpuLayers: 'auto', contextSize: 'auto', threads: 1 }, name: 'tiny-chat' }]);
    expect(stand.requests[0]).toEqual({
      conversationId: id,
      systemPrompt: 'Be brief.',
      history: [],
      prompt: 'Hi there, model',
      sampling: { temperature: 0.2, topP: 0.8, topK: 10, minP: 0.1, repeatPenalty: 1.2, maxTokens: 32, seed: 9 },
    });
    expect((await call<Conversation>('chat.get', { id }).then((thread) => (thread as unknown as ChatThread).conversation)).title).toBe('Hi there, model');

    stand.scripts.push({ deltas: ['Sure', '.'] });
    const second = await stream('chat.send', { conversationId: id, content: 'And again?' });
    expect(done(second).content).toBe('Sure.');
    expect(stand.loads).toHaveLength(1);
    expect(stand.requests[1]?.history).toEqual([
      { role: 'user', content: 'Hi there, model' },
      { role: 'assistant', content: 'Hello there' },
    ]);
    expect(await contents(id)).toEqual(['Hi there, model', 'Hello there', 'And again?', 'Sure.']);
    expect(changes.filter((change) => change === id).length).toBeGreaterThanOrEqual(5);
  });

  it('fail with no_model, saving nothing, when the conversation has no model and none is loaded', async () => {
    const { id } = await call<Conversation>('chat.create', {});
    await call('chat.update', { id, modelId: null });
    const result = await stream('chat.send', { conversationId: id, content: 'Hello?' });
    expect(result.events).toEqual([]);
    expect(result.end).toMatchObject({ type: 'error', error: { code: 'no_model', message: expect.stringMatching(/No model is loaded/) } });
    expect(await contents(id)).toEqual([]);
    // With a model loaded, a conversation without one uses it.
    await stand.engine.load(modelFile, { gpuLayers: 0, contextSize: 512, threads: 1 }, undefined, undefined, 'loaded by hand');
    expect(done(await stream('chat.send', { conversationId: id, content: 'Hello?' })).modelName).toBe('loaded by hand');
  });

  it('reload the model with the context size a conversation asks for', async () => {
    const { id, settings } = await call<Conversation>('chat.create', {});
    await stream('chat.send', { conversationId: id, content: 'one' });
    await call('chat.update', { id, settings: { ...settings, contextSize: 1024 } });
    await stream('chat.send', { conversationId: id, content: 'two' });
    await stream('chat.send', { conversationId: id, content: 'three' });
    expect(stand.loads.map((load) => load.options.contextSize)).toEqual(['auto', 1024]);
  });

  it('edit makes a branch, regenerate makes a sibling answer, switchBranch moves between them', async () => {
    const { id } = await call<Conversation>('chat.create', {});
    stand.scripts.push({ deltas: ['A1'] }, { deltas: ['A2'] }, { deltas: ['A2 edited'] }, { deltas: ['A2 again'] });
    await stream('chat.send', { conversationId: id, content: 'Q1' });
    const second = await stream('chat.send', { conversationId: id, content: 'Q2' });
    const q2 = second.events[0]?.type === 'user' ? second.events[0].message : null;
    const a1 = q2?.parentId ?? '';

    // Edit Q2: a new user message under the same parent.
    const edited = await stream('chat.send', { conversationId: id, content: 'Q2 edited', parentId: a1 });
    expect(edited.events[0]).toMatchObject({ type: 'user', message: { siblingIndex: 2, siblingCount: 2, parentId: a1 } });
    expect(stand.requests[2]?.history).toEqual([
      { role: 'user', content: 'Q1' },
      { role: 'assistant', content: 'A1' },
    ]);
    expect(await contents(id)).toEqual(['Q1', 'A1', 'Q2 edited', 'A2 edited']);

    const regenerated = await stream('chat.regenerate', { messageId: done(edited).id });
    expect(regenerated.events.map((event) => event.type)).toEqual(['started', 'delta', 'done']);
    expect(done(regenerated)).toMatchObject({ content: 'A2 again', siblingIndex: 2, siblingCount: 2 });
    expect(stand.requests[3]).toMatchObject({ prompt: 'Q2 edited', history: [{ content: 'Q1' }, { content: 'A1' }] });

    const back = await call<ChatThread>('chat.switchBranch', { messageId: q2!.id });
    expect(back.messages.map((message) => message.content)).toEqual(['Q1', 'A1', 'Q2', 'A2']);
    const forth = await call<ChatThread>('chat.switchBranch', { messageId: edited.events[0]?.type === 'user' ? edited.events[0].message.id : '' });
    expect(forth.messages.map((message) => message.content)).toEqual(['Q1', 'A1', 'Q2 edited', 'A2 again']);
    expect(forth.messages[3]).toMatchObject({ siblingIndex: 2, siblingCount: 2 });
  });

  it('stop keeps the partial answer as interrupted, and continue appends to it', async () => {
    const { id } = await call<Conversation>('chat.create', {});
    stand.scripts.push({ deltas: ['one', ' two', ' three', ' four', ' five'], delayMs: 30 });
    const controller = new AbortController();
    const stopped = await stream('chat.send', { conversationId: id, content: 'Count' }, controller.signal, (event) => {
      if (event.type === 'delta' && event.text === ' two') controller.abort();
    });
    // The router stops forwarding at once; the answer is finished in the background.
    expect(stopped.end).toBeNull();
    await expect.poll(async () => (await call<ChatThread>('chat.get', { id })).messages.at(-1)?.status).toBe('interrupted');
    const partial = (await call<ChatThread>('chat.get', { id })).messages.at(-1)!;
    expect(partial.content.startsWith('one two')).toBe(true);
    expect(partial.content.length).toBeLessThan('one two three four five'.length);

    stand.scripts.push({ deltas: [' and the rest'] });
    const continued = await stream('chat.continue', { messageId: partial.id });
    expect(continued.events[0]).toEqual({ type: 'started', messageId: partial.id, parentId: partial.parentId });
    expect(done(continued)).toMatchObject({ id: partial.id, content: `${partial.content} and the rest`, status: 'complete' });
    expect(stand.requests.at(-1)).toMatchObject({
      prompt: null,
      history: [
        { role: 'user', content: 'Count' },
        { role: 'assistant', content: partial.content },
      ],
    });
    expect(await failure('chat.switchBranch', { messageId: 'missing' })).toMatchObject({ code: 'not_found' });
    const again = await stream('chat.continue', { messageId: partial.id });
    expect(again.end).toMatchObject({ type: 'error', error: { code: 'bad_request', message: expect.stringMatching(/complete/) } });
  });

  it('mark an answer cut by the token limit interrupted, and send notices before done', async () => {
    const { id } = await call<Conversation>('chat.create', {});
    stand.scripts.push({ deltas: ['Th', 'ink'], reasoning: ['hmm', ''], stopReason: 'maxTokens', trimmedTurns: 3, defaultTemplate: true });
    const result = await stream('chat.send', { conversationId: id, content: 'Go' });
    expect(result.events.map((event) => event.type)).toEqual(['user', 'started', 'delta', 'delta', 'notice', 'notice', 'done']);
    expect(result.events[2]).toEqual({ type: 'delta', text: 'Th', reasoning: 'hmm' });
    expect(result.events[4]).toMatchObject({ kind: 'contextTrimmed', detail: expect.stringContaining('3 oldest messages') });
    expect(result.events[5]).toMatchObject({ kind: 'defaultTemplate', detail: expect.stringContaining('tiny-chat') });
    expect(done(result)).toMatchObject({ content: 'Think', reasoning: 'hmm', status: 'interrupted' });
  });

  it('keep what arrived when the engine fails, and report its error', async () => {
    const { id } = await call<Conversation>('chat.create', {});
    stand.scripts.push({ deltas: ['half'], fail: new AppError('runtime_crashed', 'The inference process stopped.') });
    const result = await stream('chat.send', { conversationId: id, content: 'Go' });
    expect(result.end).toMatchObject({ type: 'error', error: { code: 'runtime_crashed', message: 'The inference process stopped.' } });
    const last = (await call<ChatThread>('chat.get', { id })).messages.at(-1);
    expect(last).toMatchObject({ role: 'assistant', content: 'half', status: 'interrupted' });
    // Regenerating a user message answers it again.
    const retry = await stream('chat.regenerate', { messageId: last!.parentId });
    expect(done(retry)).toMatchObject({ content: 'Hello there', siblingIndex: 2, siblingCount: 2 });
  });

  it('refuse a second answer while one is being written, and stop it when its conversation is deleted', async () => {
    const { id } = await call<Conversation>('chat.create', {});
    stand.scripts.push({ deltas: Array.from({ length: 50 }, () => 'x'), delayMs: 20 });
    let firstDelta: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (firstDelta = resolve));
    const running = stream('chat.send', { conversationId: id, content: 'Long' }, undefined, (event) => event.type === 'delta' && firstDelta());
    await started;
    const busy = await stream('chat.send', { conversationId: id, content: 'Another' });
    expect(busy.end).toMatchObject({ type: 'error', error: { code: 'busy' } });
    const question = (await call<ChatThread>('chat.get', { id })).messages[0]!;
    expect(await failure('chat.switchBranch', { messageId: question.id })).toMatchObject({ code: 'busy' });
    const { undoToken, undoSeconds } = await call<{ undoToken: string; undoSeconds: number }>('chat.delete', { id });
    expect(undoSeconds).toBe(10);
    const ended = await running;
    expect(done(ended)).toMatchObject({ status: 'interrupted' });
    expect(done(ended).content.length).toBeLessThan(50);
    expect((await call<{ conversations: unknown[] }>('chat.list', {})).conversations).toEqual([]);
    const restored = await call<Conversation>('chat.restore', { undoToken });
    expect(restored.id).toBe(id);
    expect(await contents(id)).toEqual(['Long', done(ended).content]);
    expect(await failure('chat.restore', { undoToken })).toMatchObject({ code: 'not_found' });
  });

  it('list, search, pin and rename', async () => {
    const a = await call<Conversation>('chat.create', { title: 'Garden' });
    const b = await call<Conversation>('chat.create', {});
    stand.scripts.push({ deltas: ['Plant tomatoes in May.'] });
    await stream('chat.send', { conversationId: b.id, content: 'When to plant?' });
    const list = (query?: string) =>
      call<{ conversations: { id: string; title: string; preview: string; pinned: boolean }[] }>('chat.list', query === undefined ? {} : { query }).then(
        (r) => r.conversations,
      );
    expect((await list()).map((c) => c.id)).toEqual([b.id, a.id]);
    await call('chat.update', { id: a.id, pinned: true, title: 'Vegetable garden' });
    expect((await list()).map((c) => [c.title, c.pinned])).toEqual([
      ['Vegetable garden', true],
      ['When to plant?', false],
    ]);
    expect(await list('tomato')).toMatchObject([{ id: b.id, preview: 'Plant tomatoes in May.' }]);
    expect((await list('vegetable')).map((c) => c.id)).toEqual([a.id]);
    expect(await failure('chat.update', { id: a.id, title: '   ' })).toMatchObject({ code: 'bad_request' });
  });

  it('export a conversation as Markdown or JSON through the save dialog', async () => {
    const { id } = await call<Conversation>('chat.create', {});
    await stream('chat.send', { conversationId: id, content: 'Export me' });
    expect(await call('chat.export', { id, format: 'markdown' })).toEqual({ saved: false, path: null });
    pickPath = path.join(dir, 'out.md');
    expect(await call('chat.export', { id, format: 'markdown' })).toEqual({ saved: true, path: pickPath });
    expect(saved[1]).toMatchObject({ name: 'Export me.md', content: expect.stringContaining('## User\n\nExport me') });
    await call('chat.export', { id, format: 'json' });
    const json = JSON.parse(saved[2]!.content) as { format: string; conversation: { id: string }; messages: { content: string }[] };
    expect(json).toMatchObject({ format: 'soberana.conversation', conversation: { id } });
    expect(json.messages.map((m) => m.content)).toEqual(['Export me', 'Hello there']);
  });

  it('presets: save, rename, list, export, import and delete; a conversation can start from one', async () => {
    const settings = {
      systemPrompt: 'You are terse.',
      sampling: { temperature: 0.1, topP: 0.5, topK: 5, minP: 0, repeatPenalty: 1, maxTokens: 100, seed: 1 },
      contextSize: 2048,
    };
    const preset = await call<{ id: string; name: string }>('presets.save', { name: 'Terse', settings });
    const renamed = await call<{ id: string; name: string }>('presets.save', { id: preset.id, name: 'Very terse', settings });
    expect(renamed).toEqual({ id: preset.id, name: 'Very terse', settings });
    expect(await failure('presets.save', { id: 'gone', name: 'x', settings })).toMatchObject({ code: 'not_found' });

    const conversation = await call<Conversation>('chat.create', { presetId: preset.id });
    expect(conversation.settings).toEqual(settings);

    pickPath = path.join(dir, 'terse.json');
    expect(await call('presets.export', { id: preset.id })).toEqual({ saved: true, path: pickPath });
    expect(saved[0]?.name).toBe('Very terse.preset.json');
    await writeFile(pickPath, saved[0]!.content);

    const { imported } = await call<{ imported: { id: string; name: string }[] }>('presets.import', {});
    expect(imported).toEqual([{ id: expect.any(String), name: 'Very terse', settings }]);
    expect(imported[0]!.id).not.toBe(preset.id);
    expect((await call<{ presets: unknown[] }>('presets.list', {})).presets).toHaveLength(2);

    await writeFile(pickPath, JSON.stringify({ name: 'Bad', settings: { ...settings, contextSize: 3 } }));
    expect(await failure('presets.import', {})).toMatchObject({ code: 'bad_request', details: expect.stringContaining('contextSize') });
    pickPath = null;
    expect(await call('presets.import', {})).toEqual({ imported: [] });

    expect(await call('presets.delete', { id: preset.id })).toEqual({ deleted: true });
    expect(await failure('presets.delete', { id: preset.id })).toMatchObject({ code: 'not_found' });
    expect(JSON.parse(await readFile(path.join(dir, 'terse.json'), 'utf8'))).toMatchObject({ name: 'Bad' });
  });
});
