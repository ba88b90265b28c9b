import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { presetSpec, writeGguf } from '../../../../e2e/fixtures/gguf/writer.ts';
import type { CompletionParams, Delta } from '../../../common/runtime/protocol.ts';
import { resolvePolicy } from '../policy/merge.ts';
import { openDatabase, type Database } from '../storage/sqlite.ts';
import { createEngine, type RuntimeEngine } from './engine.ts';
import { forkLauncher } from './launcher.ts';
import { lockedEngine } from './locked-engine.ts';
import { checkModelFile } from './model-check.ts';
import { sqliteQuarantine } from './quarantine.ts';
import { createTurns, laneEngine, rememberLoads } from './turns.ts';

// engine.complete, the local API's stateless completions, end to end: the real inference
// process and node-llama-cpp on the writer's tiny model. The model is random, so what the
// tests check is what holds whatever it says: a grammar's reply parses and follows its
// schema, a forced tool call's arguments fit the tool, a stop text ends the reply.

let dir: string;
let modelFile: string;
let otherFile: string;
let db: Database;
let engine: RuntimeEngine;
const extra: RuntimeEngine[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-complete-'));
  modelFile = path.join(dir, 'tiny-chat.gguf');
  // quietEnd: the model never ends its turn by itself, so replies last until maxTokens, a stop text or a grammar's end.
  await writeGguf(modelFile, { ...presetSpec('tiny', 'Q8_0', 11), contextLength: 4096, quietEnd: true });
  otherFile = path.join(dir, 'other-chat.gguf');
  await writeGguf(otherFile, { ...presetSpec('tiny', 'Q8_0', 12), contextLength: 4096, quietEnd: true });
  db = openDatabase(dir);
  engine = createEngine({ launcher: forkLauncher(), validate: checkModelFile, quarantine: sqliteQuarantine(db), onState: () => undefined });
  await engine.start();
  await engine.load(modelFile, { gpuLayers: 0, contextSize: 2048, threads: 1 });
}, 120_000);

afterEach(async () => {
  await Promise.all(extra.splice(0).map((other) => other.stop()));
});

afterAll(async () => {
  await engine?.stop();
  if (db?.isOpen) db.close();
  await rm(dir, { recursive: true, force: true });
});

const SAMPLING = { temperature: 0, topP: 1, topK: 0, minP: 0, repeatPenalty: 1, maxTokens: 16, seed: 1 };

const request = (overrides: Partial<CompletionParams>): CompletionParams => ({
  messages: [{ role: 'user', content: 'Hello there' }],
  prompt: null,
  sampling: SAMPLING,
  stop: [],
  format: null,
  tools: [],
  toolChoice: 'auto',
  ...overrides,
});

async function complete(params: CompletionParams, signal?: AbortSignal) {
  const deltas: Delta[] = [];
  const outcome = await engine.complete(params, (delta) => deltas.push(delta), signal);
  return { outcome, deltas, streamed: deltas.map((delta) => delta.text).join('') };
}

// Every value is bounded, so a random model reaches the end of the JSON well before maxTokens.
// (A string's maxLength is counted by llama.cpp in code points of the bytes it generates; this
// model emits stray bytes that JavaScript decodes as U+FFFD, so its strings' lengths are not checked.)
const WEATHER = {
  type: 'object',
  properties: {
    city: { type: 'string', maxLength: 12 },
    date: { type: 'string', format: 'date' },
    unit: { enum: ['celsius', 'fahrenheit'] },
    days: { type: 'array', items: { type: 'boolean' }, maxItems: 3 },
  },
  required: ['city', 'unit'],
  additionalProperties: false,
};

/** What the WEATHER schema allows, checked by hand. */
function fitsWeather(value: unknown): boolean {
  const object = value as Record<string, unknown>;
  return (
    typeof object === 'object' &&
    object !== null &&
    Object.keys(object).every((key) => ['city', 'date', 'unit', 'days'].includes(key)) &&
    typeof object.city === 'string' &&
    (object.date === undefined || (typeof object.date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(object.date))) &&
    (object.unit === 'celsius' || object.unit === 'fahrenheit') &&
    (object.days === undefined || (Array.isArray(object.days) && object.days.length <= 3 && object.days.every((day) => typeof day === 'boolean')))
  );
}

const tokensOf = (deltas: readonly Delta[]) => deltas.reduce((sum, delta) => sum + delta.tokens, 0);

describe('engine.complete with the real inference process', () => {
  it('streams a chat reply and reports it, with the token counts', { timeout: 120_000 }, async () => {
    const { outcome, deltas, streamed } = await complete(
      request({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hi' },
        ],
      }),
    );
    expect(outcome.finishReason).toBe('length');
    expect(outcome.text.length).toBeGreaterThan(0);
    expect(streamed).toBe(outcome.text);
    expect(outcome.toolCalls).toEqual([]);
    expect(outcome.stats.tokens).toBe(16);
    expect(outcome.stats.promptTokens).toBeGreaterThan(3);
    // Tokens decoded but never shown come as a last empty delta: the stream accounts for every token.
    expect(tokensOf(deltas)).toBe(16);
  });

  it('a JSON-schema reply parses and follows the schema', { timeout: 120_000 }, async () => {
    const { outcome, streamed } = await complete(
      request({ format: { kind: 'schema', schema: WEATHER }, sampling: { ...SAMPLING, maxTokens: 400, temperature: 0.8 } }),
    );
    expect(outcome.finishReason).toBe('stop');
    expect(streamed).toBe(outcome.text);
    expect(fitsWeather(JSON.parse(outcome.text))).toBe(true);
  });

  it('a JSON reply is held to JSON by a grammar', { timeout: 120_000 }, async () => {
    // Any JSON object may nest without end, and this random model does until maxTokens; what is written is JSON's start.
    const { outcome } = await complete(request({ format: { kind: 'json' }, sampling: { ...SAMPLING, maxTokens: 40 } }));
    const free = await complete(request({ sampling: { ...SAMPLING, maxTokens: 40 } }));
    expect(free.outcome.text.trimStart().startsWith('{')).toBe(false);
    expect(outcome.text.trimStart().startsWith('{')).toBe(true);
  });

  it('refuses a schema the grammar cannot enforce, naming the keyword', { timeout: 60_000 }, async () => {
    const schema = { type: 'object', properties: { n: { type: 'integer', minimum: 3 } } };
    await expect(complete(request({ format: { kind: 'schema', schema } }))).rejects.toMatchObject({
      code: 'bad_request',
      message: expect.stringContaining('"minimum" at #/properties/n'),
    });
  });

  it('forces a named tool call: its arguments parse and fit the tool’s schema, nothing is streamed as text', { timeout: 120_000 }, async () => {
    const tools = [
      { name: 'get_weather', description: 'The weather in a city.', parameters: WEATHER },
      { name: 'get_time', description: 'The time.', parameters: null },
    ];
    const { outcome, streamed } = await complete(
      // A stop text that every JSON object holds: it ends a reply's text, never a forced call's JSON.
      request({ tools, toolChoice: { name: 'get_weather' }, stop: ['"'], sampling: { ...SAMPLING, maxTokens: 400, temperature: 0.8 } }),
    );
    expect(outcome.finishReason).toBe('tool_calls');
    expect(outcome.text).toBe('');
    expect(streamed).toBe('');
    expect(outcome.toolCalls).toHaveLength(1);
    expect(outcome.toolCalls[0]!.name).toBe('get_weather');
    expect(fitsWeather(JSON.parse(outcome.toolCalls[0]!.arguments))).toBe(true);
  });

  it('required picks one of the tools, with arguments that fit that tool', { timeout: 120_000 }, async () => {
    const tools = [
      { name: 'get_weather', description: 'The weather in a city.', parameters: WEATHER },
      { name: 'set_alarm', description: 'An alarm.', parameters: { type: 'object', properties: { on: { type: 'boolean' } } } },
    ];
    for (const seed of [1, 2, 3]) {
      const { outcome } = await complete(request({ tools, toolChoice: 'required', sampling: { ...SAMPLING, maxTokens: 400, temperature: 1, seed } }));
      expect(outcome.finishReason).toBe('tool_calls');
      const [call] = outcome.toolCalls;
      expect(['get_weather', 'set_alarm']).toContain(call?.name);
      const args = JSON.parse(call!.arguments) as Record<string, unknown>;
      if (call!.name === 'get_weather') expect(fitsWeather(args)).toBe(true);
      else expect(Object.keys(args).length === 1 && typeof args.on === 'boolean').toBe(true);
    }
  });

  it('refuses a forced call of a tool the request does not list, and a format with tools the model may call', { timeout: 60_000 }, async () => {
    await expect(complete(request({ tools: [], toolChoice: 'required' }))).rejects.toMatchObject({ code: 'bad_request' });
    await expect(complete(request({ tools: [{ name: 'a', description: '', parameters: null }], toolChoice: { name: 'b' } }))).rejects.toMatchObject({
      code: 'bad_request',
      message: expect.stringContaining('"b"'),
    });
    // node-llama-cpp holds a reply to a grammar or to its function calling, not both.
    await expect(
      complete(request({ tools: [{ name: 'a', description: '', parameters: null }], toolChoice: 'auto', format: { kind: 'json' } })),
    ).rejects.toMatchObject({ code: 'bad_request', message: expect.stringContaining('response format') });
    await expect(
      complete(request({ messages: null, prompt: 'Hi', tools: [{ name: 'a', description: '', parameters: null }], toolChoice: 'required' })),
    ).rejects.toMatchObject({ code: 'bad_request' });
    // A malformed request is refused before the inference process, naming the field.
    await expect(complete(request({ tools: [{ name: 'not a name', description: '', parameters: null }] }))).rejects.toMatchObject({
      code: 'bad_request',
      message: expect.stringContaining('tools.0.name'),
    });
    // The engine is free again after each refusal.
    expect((await complete(request({ sampling: { ...SAMPLING, maxTokens: 2 } }))).outcome.stats.tokens).toBe(2);
  });

  it('takes a conversation with tool calls and their results, and tools the model may call', { timeout: 120_000 }, async () => {
    const { outcome } = await complete(
      request({
        messages: [
          { role: 'system', content: 'You can look up the weather.' },
          { role: 'user', content: 'Weather in Madrid?' },
          { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Madrid","unit":"celsius"}' }] },
          { role: 'tool', content: '{"temperature": 21}', toolCallId: 'call_1' },
        ],
        tools: [{ name: 'get_weather', description: 'The weather in a city.', parameters: WEATHER }],
        toolChoice: 'auto',
      }),
    );
    // A random model rarely calls a tool by itself; the reply is text or a call, either way well formed.
    expect(['length', 'tool_calls', 'stop']).toContain(outcome.finishReason);
    for (const call of outcome.toolCalls) expect(() => JSON.parse(call.arguments) as unknown).not.toThrow();
    expect(outcome.stats.tokens).toBeGreaterThan(0);
  });

  it('a stop text ends the reply, and is not part of it', { timeout: 120_000 }, async () => {
    const free = await complete(request({ sampling: { ...SAMPLING, maxTokens: 40 } }));
    // Greedy decoding says the same again; stop at a word from past the start of the free reply.
    const text = free.outcome.text;
    const word = /[A-Za-z]{2,}/g;
    word.lastIndex = 4;
    const stop = word.exec(text)?.[0];
    if (stop === undefined) throw new Error(`no word to stop at in ${JSON.stringify(text)}`);
    const stopped = await complete(request({ stop: [stop, 'never-appears'], sampling: { ...SAMPLING, maxTokens: 40 } }));
    expect(stopped.outcome.finishReason).toBe('stop');
    expect(stopped.outcome.text).toBe(text.slice(0, text.indexOf(stop)));
    expect(stopped.streamed).toBe(stopped.outcome.text);
  });

  it('continues a raw prompt as it is, without the chat template', { timeout: 120_000 }, async () => {
    const { outcome, streamed, deltas } = await complete(request({ messages: null, prompt: 'Once upon a time' }));
    expect(outcome.finishReason).toBe('length');
    expect(outcome.text.length).toBeGreaterThan(0);
    expect(streamed).toBe(outcome.text);
    expect(outcome.stats.tokens).toBe(16);
    expect(tokensOf(deltas)).toBe(16);
    const json = await complete(
      request({ messages: null, prompt: 'Data:', format: { kind: 'schema', schema: WEATHER }, sampling: { ...SAMPLING, maxTokens: 400 } }),
    );
    expect(fitsWeather(JSON.parse(json.outcome.text))).toBe(true);
  });

  it('stops when the signal aborts, keeping what was written', { timeout: 120_000 }, async () => {
    const controller = new AbortController();
    const deltas: Delta[] = [];
    const outcome = await engine.complete(
      request({ sampling: { ...SAMPLING, maxTokens: 2000 } }),
      (delta) => {
        deltas.push(delta);
        controller.abort();
      },
      controller.signal,
    );
    expect(outcome.finishReason).toBe('aborted');
    expect(outcome.stats.tokens).toBeLessThan(2000);
  });

  it('under the policy: locked sampling is forced, prompts with personal data are redacted or refused', { timeout: 120_000 }, async () => {
    const seen: CompletionParams[] = [];
    const recording: RuntimeEngine = {
      ...engine,
      complete(params, onDelta, signal) {
        seen.push(params);
        return engine.complete(params, onDelta, signal);
      },
    };
    const policy = (prompts: 'redact' | 'block') =>
      resolvePolicy({ version: 1, pii: { prompts }, settings: { runtime: { sampling: { temperature: 0, maxTokens: 4 } } } });
    const redacting = lockedEngine(recording, policy('redact'));
    const outcome = await redacting.complete(
      request({
        messages: [
          { role: 'system', content: 'Write to ana.garcia@example.com' },
          { role: 'user', content: 'My IBAN is ES91 2100 0418 4502 0005 1332' },
        ],
        sampling: { ...SAMPLING, temperature: 1.5, maxTokens: 40, topP: 0.5 },
      }),
      () => undefined,
    );
    expect(outcome.stats.tokens).toBe(4);
    expect(seen[0]!.sampling).toEqual({ ...SAMPLING, temperature: 0, maxTokens: 4, topP: 0.5 });
    expect(seen[0]!.messages!.map((message) => message.content)).toEqual(['Write to [EMAIL]', 'My IBAN is [IBAN]']);
    await redacting.complete(request({ messages: null, prompt: 'Mail ana.garcia@example.com' }), () => undefined);
    expect(seen[1]!.prompt).toBe('Mail [EMAIL]');

    const blocking = lockedEngine(recording, policy('block'));
    await expect(blocking.complete(request({ messages: [{ role: 'user', content: 'Mail ana.garcia@example.com' }] }), () => undefined)).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(blocking.complete(request({ messages: null, prompt: 'Mail ana.garcia@example.com' }), () => undefined)).rejects.toMatchObject({
      code: 'forbidden',
    });
    expect(seen).toHaveLength(2);
  });
});

describe('laneEngine with the real inference process', () => {
  it('an app reply that waited while an API turn loaded another model is written by the model the app had', { timeout: 180_000 }, async () => {
    const shared = rememberLoads(engine);
    const turns = createTurns();
    const app = laneEngine(shared, turns, 'app');
    const mine = await app.load(modelFile, { gpuLayers: 0, contextSize: 1024, threads: 1 });
    let open!: () => void;
    const held = new Promise<void>((resolve) => (open = resolve));
    const order: string[] = [];
    // An API request's turn: it loads the model it was asked for, then completes.
    const api = turns.run('api:1', async () => {
      await held;
      const other = await shared.load(otherFile, { gpuLayers: 0, contextSize: 1024, threads: 1 });
      order.push(`api on ${path.basename(other.path)}`);
      await shared.complete(request({}), () => undefined);
    });
    // The app asks while model A is loaded; its turn comes after the API's.
    const reply = app
      .chat({ conversationId: 'c', systemPrompt: '', history: [], prompt: 'Hello', sampling: { ...SAMPLING, maxTokens: 4 } }, () => undefined)
      .then((result) => {
        order.push(`app on ${path.basename(engine.state().model?.path ?? 'none')}`);
        return result;
      });
    expect(turns.waiting()).toBe(1);
    open();
    await Promise.all([api, reply]);
    expect(order).toEqual(['api on other-chat.gguf', 'app on tiny-chat.gguf']);
    expect(engine.state().model).toMatchObject({ path: mine.path, contextSize: 1024 });
    expect((await reply).stats.tokens).toBe(4);
  });
});
