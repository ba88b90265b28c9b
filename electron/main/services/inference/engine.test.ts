import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { presetSpec, writeGguf } from '../../../../e2e/fixtures/gguf/writer.ts';
import type { RuntimeState } from '../../../common/contract/schemas.ts';
import type { GenerateParams } from '../../../common/runtime/protocol.ts';
import { openDatabase, type Database } from '../storage/sqlite.ts';
import { createEngine, type ChatRequest, type ChatTurn, type RuntimeEngine } from './engine.ts';
import { forkLauncher, type RuntimeLauncher } from './launcher.ts';
import { checkModelFile } from './model-check.ts';
import { sqliteQuarantine } from './quarantine.ts';

// The real inference process (child_process.fork of electron/runtime/index.ts) running
// the real node-llama-cpp on models this test writes. Crashes are real SIGKILLs.

let dir: string;
let model: string;
let untemplated: string;
/** The quarantine test leaves `model` quarantined in the shared database; chat tests use their own copy. */
let chatModel: string;
let db: Database;
const engines: RuntimeEngine[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-engine-'));
  model = path.join(dir, 'tiny.gguf');
  // quietEnd: replies run to maxTokens, so streaming can be stopped or killed midway.
  await writeGguf(model, { ...presetSpec('tiny', 'Q8_0', 7), quietEnd: true });
  chatModel = path.join(dir, 'chat.gguf');
  await writeGguf(chatModel, { ...presetSpec('tiny', 'Q8_0', 7), quietEnd: true });
  untemplated = path.join(dir, 'untemplated.gguf');
  await writeGguf(untemplated, { ...presetSpec('tiny', 'Q8_0', 7), quietEnd: true, chatTemplate: '' });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
  if (db?.isOpen) db.close();
});

const OPTIONS = { gpuLayers: 0, contextSize: 512, threads: 1 } as const;
const params = (maxTokens: number): GenerateParams => ({
  prompt: 'Hello there',
  temperature: 0.7,
  topP: 0.9,
  topK: 40,
  repeatPenalty: 1.1,
  maxTokens,
  seed: 3,
});

function makeEngine(launcher: RuntimeLauncher = forkLauncher()) {
  const states: { at: number; state: RuntimeState }[] = [];
  db = openDatabase(dir);
  const engine = createEngine({
    launcher,
    validate: checkModelFile,
    quarantine: sqliteQuarantine(db),
    onState: (state) => states.push({ at: performance.now(), state }),
    backoffMs: () => 50,
  });
  engines.push(engine);
  return { engine, states };
}

async function waitFor(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > timeoutMs) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the runtime engine', () => {
  it('starts the process, reports hardware and memory, loads, and streams tokens', async () => {
    const { engine, states } = makeEngine();
    await engine.start();
    expect(engine.state()).toMatchObject({ status: 'idle', hardware: { backend: expect.stringMatching(/cpu|cuda|vulkan|metal/) } });
    expect(engine.state().memoryBytes).toBeGreaterThan(1_000_000);

    const progress: number[] = [];
    const loaded = await engine.load(model, OPTIONS, (value) => progress.push(value));
    expect(loaded).toMatchObject({ name: 'soberana-tiny-q8_0', contextSize: 512, gpuLayers: 0, threads: 1 });
    expect(progress.at(-1)).toBe(1);
    expect(states.map(({ state }) => state.status)).toContain('loading');
    expect(engine.state().status).toBe('ready');

    let text = '';
    let deltas = 0;
    const stats = await engine.generate(params(40), (delta) => {
      text += delta.text;
      deltas += 1;
    });
    // node-llama-cpp may hold back a few tokens that could start a stop trigger.
    expect(stats.tokens).toBeGreaterThan(30);
    expect(stats.tokens).toBeLessThanOrEqual(40);
    expect(stats.stopReason).toBe('maxTokens');
    expect(stats.tokensPerSecond).toBeGreaterThan(0);
    expect(text.length).toBeGreaterThan(0);
    expect(deltas).toBeGreaterThan(0);
  });

  it('computes embeddings in batches, one vector per text, of the model’s embedding length', async () => {
    const { engine } = makeEngine();
    await engine.start();
    const { vectors, dimensions } = await engine.embed(model, ['first text', 'second text', 'third'], 1);
    expect(dimensions).toBe(64);
    expect(vectors).toHaveLength(3);
    for (const vector of vectors) {
      expect(vector).toHaveLength(64);
      expect(vector.every(Number.isFinite)).toBe(true);
    }
    expect(vectors[0]).not.toEqual(vectors[1]);
  });

  it('estimates the fit with node-llama-cpp’s insights, after the GGUF check', async () => {
    const { engine } = makeEngine();
    await engine.start();
    const fit = await engine.fit(model);
    expect(fit.totalLayers).toBeGreaterThan(0);
    expect(fit.contextSize).toBeGreaterThan(0);
    expect(fit.ramBytes).toBeGreaterThan(0);
    expect(fit.fits).toBe(true);
    expect(fit.speedClass).toBe('fast');
    if (engine.state().hardware?.backend === 'cpu') expect(fit.placement).toBe('cpu');
    const bogus = path.join(dir, 'fit-bogus.gguf');
    await writeFile(bogus, 'nothing like a model');
    await expect(engine.fit(bogus)).rejects.toMatchObject({ code: 'rejected_file' });
  });

  it('refuses a file the GGUF check rejects before the process sees it', async () => {
    const { engine, states } = makeEngine();
    await engine.start();
    const bogus = path.join(dir, 'not-a-model.gguf');
    await writeFile(bogus, 'PK\u0003\u0004 this is a zip, not a model');
    await expect(engine.load(bogus, OPTIONS)).rejects.toMatchObject({ code: 'rejected_file', message: expect.stringContaining('not a GGUF model') });
    await expect(engine.load(path.join(dir, 'missing.gguf'), OPTIONS)).rejects.toMatchObject({ code: 'not_found' });
    expect(states.some(({ state }) => state.status === 'loading')).toBe(false);
  });

  it('stops a generation when its signal aborts', async () => {
    const { engine } = makeEngine();
    await engine.start();
    await engine.load(model, OPTIONS);
    const controller = new AbortController();
    let tokens = 0;
    const done = engine.generate(
      params(100_000),
      (delta) => {
        tokens += delta.tokens;
        if (tokens > 20) controller.abort();
      },
      controller.signal,
    );
    const stats = await done;
    expect(stats.stopReason).toBe('aborted');
    expect(stats.tokens).toBeLessThan(100_000);
    expect(engine.state().status).toBe('ready');
  });

  it('survives kill -9 during streaming: reports it within 2 s, restarts, reloads, and the next request works', async () => {
    const { engine, states } = makeEngine();
    await engine.start();
    await engine.load(model, OPTIONS);
    const firstPid = engine.pid();
    let streamed = 0;
    const running = engine.generate(params(1_000_000), (delta) => (streamed += delta.tokens));
    await waitFor(() => streamed > 10);
    const killedAt = performance.now();
    process.kill(firstPid!, 'SIGKILL');
    await expect(running).rejects.toMatchObject({ code: 'runtime_crashed', message: expect.stringContaining('killed (SIGKILL)') });
    const crashed = states.find(({ state, at }) => at >= killedAt && state.status === 'crashed');
    expect(crashed).toBeDefined();
    expect(crashed!.at - killedAt).toBeLessThan(2_000);
    expect(crashed!.state.lastCrash).toMatchObject({ during: 'generate' });

    const stats = await engine.generate(params(10), () => undefined);
    expect(stats.tokens).toBeGreaterThan(0);
    expect(engine.pid()).not.toBe(firstPid);
    expect(engine.state()).toMatchObject({ status: 'ready', restarts: 1, model: { name: 'soberana-tiny-q8_0' } });
  });

  it('quarantines a file that kills the loader three times in a row, and remembers it', async () => {
    // A real load, slowed down so the test can kill the real process in the middle of it.
    const { engine, states } = makeEngine(forkLauncher(undefined, { ...process.env, SOBERANA_TEST_LOAD_DELAY_MS: '400' }));
    await engine.start();
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      await waitFor(() => engine.state().status === 'idle');
      const loading = engine.load(model, OPTIONS);
      await waitFor(() => engine.state().status === 'loading');
      process.kill(engine.pid()!, 'SIGKILL');
      const error = await loading.catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'runtime_crashed' });
      expect((error as Error).message).toMatch(attempt < 3 ? new RegExp(`${attempt} of 3`) : /quarantined/);
    }
    expect(states.filter(({ state }) => state.status === 'crashed').every(({ state }) => state.lastCrash?.during === 'load')).toBe(true);
    await waitFor(() => engine.state().status === 'idle');
    await expect(engine.load(model, OPTIONS)).rejects.toMatchObject({ code: 'quarantined', message: expect.stringContaining('3 times in a row') });
    await engine.stop();
    db.close();

    // A fresh engine over the same database refuses it too.
    const again = makeEngine();
    await again.engine.start();
    await expect(again.engine.load(model, OPTIONS)).rejects.toMatchObject({ code: 'quarantined' });
  });

  it('ignores malformed messages from the process', async () => {
    const real = forkLauncher();
    const noisy: RuntimeLauncher = () => {
      const child = real();
      return {
        ...child,
        pid: child.pid,
        onMessage: (listener) => {
          listener({ type: 'result', id: 'x', result: 'nonsense' });
          listener('garbage');
          child.onMessage(listener);
        },
      };
    };
    const { engine } = makeEngine(noisy);
    await engine.start();
    expect(engine.state().status).toBe('idle');
    expect((await engine.hardware()).cpuCores).toBeGreaterThan(0);
  });
});

const SAMPLING: ChatRequest['sampling'] = { temperature: 0.7, topP: 0.9, topK: 40, minP: 0.05, repeatPenalty: 1.1, maxTokens: 24, seed: 5 };

/** A conversation of `pairs` question-and-answer pairs; the tiny model's byte vocabulary makes ~1 token a character. */
function historyOf(pairs: number, tag = ''): ChatTurn[] {
  const turns: ChatTurn[] = [];
  for (let index = 0; index < pairs; index += 1) {
    turns.push({ role: 'user', content: `${tag}Question ${index}: how is it going?` }, { role: 'assistant', content: `Answer ${index}: fine, thanks.` });
  }
  return turns;
}

async function collect(engine: RuntimeEngine, request: ChatRequest, signal?: AbortSignal) {
  let text = '';
  let reasoning = '';
  let received = 0;
  let deltas = 0;
  const result = await engine.chat(
    request,
    (delta) => {
      text += delta.text;
      reasoning += delta.reasoning;
      received += delta.tokens;
      deltas += 1;
    },
    signal,
  );
  return { result, text, reasoning, received, deltas };
}

describe('chat', () => {
  it('answers and streams, counting every token it decoded', async () => {
    const { engine } = makeEngine();
    await engine.start();
    await expect(engine.chat({ conversationId: 'c', systemPrompt: '', history: [], prompt: 'Hi', sampling: SAMPLING }, () => undefined)).rejects.toMatchObject({
      code: 'no_model',
    });
    await engine.load(chatModel, OPTIONS);
    const { result, text, reasoning, received, deltas } = await collect(engine, {
      conversationId: 'c',
      systemPrompt: 'You are brief.',
      history: [],
      prompt: 'Hello there',
      sampling: { ...SAMPLING, maxTokens: 40 },
    });
    expect(result).toMatchObject({ trimmedTurns: 0, defaultTemplate: false, stats: { stopReason: 'maxTokens' } });
    expect(result.stats.tokens).toBe(40);
    // node-llama-cpp holds back a token that could begin the end-of-turn marker, and drops it when maxTokens cuts the reply there.
    expect(received).toBeLessThanOrEqual(result.stats.tokens);
    expect(received).toBeGreaterThanOrEqual(result.stats.tokens - 2);
    expect(result.stats.firstTokenMs).toBeGreaterThan(0);
    expect(result.stats.evaluatedTokens).toBe(result.stats.promptTokens);
    expect(text.length).toBeGreaterThan(0);
    expect(reasoning).toBe('');
    expect(deltas).toBeGreaterThan(0);
    expect(engine.state().status).toBe('ready');
  });

  it('reuses the KV cache: a follow-up evaluates only the new prompt, and comes back sooner', async () => {
    const { engine } = makeEngine();
    await engine.start();
    await engine.load(chatModel, OPTIONS);
    const first: ChatRequest = { conversationId: 'reuse', systemPrompt: 'You are brief.', history: historyOf(6), prompt: 'And today?', sampling: SAMPLING };
    const turn1 = await collect(engine, first);
    expect(turn1.result.trimmedTurns).toBe(0);
    expect(turn1.result.stats.promptTokens).toBeGreaterThan(200);
    expect(turn1.result.stats.evaluatedTokens).toBeGreaterThan(0.9 * turn1.result.stats.promptTokens);

    const followUp: ChatRequest = {
      ...first,
      history: [...first.history, { role: 'user', content: 'And today?' }, { role: 'assistant', content: turn1.text }],
      prompt: 'Thanks.',
    };
    const turn2 = await collect(engine, followUp);
    expect(turn2.result.stats.promptTokens).toBeGreaterThan(turn1.result.stats.promptTokens);
    expect(turn2.result.stats.evaluatedTokens).toBeLessThan(0.2 * turn2.result.stats.promptTokens);
    expect(turn2.result.stats.firstTokenMs!).toBeLessThan(turn1.result.stats.firstTokenMs!);

    // The cache holds one conversation at a time (one sequence; see electron/runtime/chat-session.ts): another one in
    // between takes it, and going back evaluates again from where the two differ.
    const other = await collect(engine, {
      conversationId: 'other',
      systemPrompt: 'Another assistant.',
      history: historyOf(2, 'x'),
      prompt: 'Hi',
      sampling: SAMPLING,
    });
    expect(other.result.stats.tokens).toBeGreaterThan(0);
    const back = await collect(engine, {
      ...followUp,
      history: [...followUp.history, { role: 'user', content: 'Thanks.' }, { role: 'assistant', content: turn2.text }],
      prompt: 'Bye.',
    });
    expect(back.result.stats.tokens).toBeGreaterThan(0);
    expect(back.result.stats.evaluatedTokens).toBeGreaterThan(0.8 * back.result.stats.promptTokens);

    // A history the session did not produce (an edited earlier message) is evaluated from where it differs.
    const edited = await collect(engine, { ...first, history: [{ role: 'user', content: 'Edited first question?' }, ...first.history.slice(1)] });
    expect(edited.result.stats.evaluatedTokens).toBeGreaterThan(0.8 * edited.result.stats.promptTokens);
  });

  it('stops when its signal aborts, and the conversation goes on', async () => {
    const { engine } = makeEngine();
    await engine.start();
    await engine.load(chatModel, OPTIONS);
    const controller = new AbortController();
    let streamed = 0;
    const request: ChatRequest = {
      conversationId: 'stop',
      systemPrompt: '',
      history: [],
      prompt: 'Tell me everything',
      sampling: { ...SAMPLING, maxTokens: 100_000 },
    };
    const result = await engine.chat(
      request,
      (delta) => {
        streamed += delta.tokens;
        if (streamed > 20) controller.abort();
      },
      controller.signal,
    );
    expect(result.stats.stopReason).toBe('aborted');
    expect(result.stats.tokens).toBeLessThan(1_000);
    expect(engine.state().status).toBe('ready');

    const early = new AbortController();
    early.abort();
    const never = await engine.chat({ ...request, conversationId: 'stop-early' }, () => undefined, early.signal);
    expect(never.stats.stopReason).toBe('aborted');

    const next = await collect(engine, { ...request, sampling: SAMPLING });
    expect(next.result.stats.stopReason).toBe('maxTokens');
  });

  it('continues a truncated answer from where it stopped', async () => {
    const { engine } = makeEngine();
    await engine.start();
    await engine.load(chatModel, OPTIONS);
    const request: ChatRequest = {
      conversationId: 'more',
      systemPrompt: 'You are brief.',
      history: historyOf(2),
      prompt: 'Go on',
      sampling: { ...SAMPLING, maxTokens: 16 },
    };
    const cut = await collect(engine, request);
    expect(cut.result.stats.stopReason).toBe('maxTokens');
    const history: ChatTurn[] = [...request.history, { role: 'user', content: 'Go on' }, { role: 'assistant', content: cut.text }];
    const more = await collect(engine, { ...request, history, prompt: null });
    expect(more.result.stats.tokens).toBeGreaterThan(0);
    expect(more.text.length).toBeGreaterThan(0);
    // The truncated answer is the start of the reply, not sent again to the client.
    expect(more.text.startsWith(cut.text)).toBe(false);
    // The history and most of the truncated answer came from the cache.
    expect(more.result.stats.evaluatedTokens).toBeLessThan(0.5 * more.result.stats.promptTokens);

    await expect(engine.chat({ ...request, history: historyOf(1).slice(0, 1), prompt: null }, () => undefined)).rejects.toMatchObject({ code: 'bad_request' });
  });

  it('fits an overlong conversation into a small context, dropping the oldest turns, and says how many', async () => {
    const { engine } = makeEngine();
    await engine.start();
    await engine.load(chatModel, { ...OPTIONS, contextSize: 256 });
    const history = historyOf(12);
    const { result, text } = await collect(engine, { conversationId: 'long', systemPrompt: 'You are brief.', history, prompt: 'Summary?', sampling: SAMPLING });
    expect(result.trimmedTurns).toBeGreaterThan(0);
    expect(result.trimmedTurns).toBeLessThanOrEqual(history.length);
    expect(result.stats.promptTokens).toBeLessThan(256);
    expect(text.length).toBeGreaterThan(0);

    const short = await collect(engine, { conversationId: 'short', systemPrompt: 'You are brief.', history: historyOf(1), prompt: 'Hi', sampling: SAMPLING });
    expect(short.result.trimmedTurns).toBe(0);

    await expect(
      engine.chat({ conversationId: 'huge', systemPrompt: 'x'.repeat(600), history: [], prompt: 'Hi', sampling: SAMPLING }, () => undefined),
    ).rejects.toMatchObject({ code: 'bad_request' });
  });

  it('says when the GGUF has no chat template and a default was used', async () => {
    const { engine } = makeEngine();
    await engine.start();
    await engine.load(untemplated, OPTIONS);
    const { result, text } = await collect(engine, {
      conversationId: 'plain',
      systemPrompt: 'You are brief.',
      history: historyOf(1),
      prompt: 'Hello',
      sampling: SAMPLING,
    });
    expect(result.defaultTemplate).toBe(true);
    expect(text.length).toBeGreaterThan(0);
  });

  it('survives kill -9 during a chat: runtime_crashed, restart, reload, and the next chat works', async () => {
    const { engine, states } = makeEngine();
    await engine.start();
    await engine.load(chatModel, OPTIONS);
    const firstPid = engine.pid();
    let streamed = 0;
    const request: ChatRequest = {
      conversationId: 'crash',
      systemPrompt: '',
      history: historyOf(1),
      prompt: 'Talk',
      sampling: { ...SAMPLING, maxTokens: 1_000_000 },
    };
    const running = engine.chat(request, (delta) => (streamed += delta.tokens));
    await waitFor(() => streamed > 10);
    process.kill(firstPid!, 'SIGKILL');
    await expect(running).rejects.toMatchObject({ code: 'runtime_crashed', message: expect.stringContaining('killed (SIGKILL)') });
    expect(states.find(({ state }) => state.status === 'crashed')?.state.lastCrash).toMatchObject({ during: 'generate' });

    const { result } = await collect(engine, { ...request, sampling: SAMPLING });
    expect(result.stats.tokens).toBeGreaterThan(0);
    expect(engine.pid()).not.toBe(firstPid);
    expect(engine.state()).toMatchObject({ status: 'ready', restarts: 1 });
  });
});

const THIRD_PARTY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../../shared/fixtures/gguf/llama-2-tiny-random.gguf');

describe('compatibility with a GGUF written by another project', () => {
  it.skipIf(!existsSync(THIRD_PARTY))(
    'validates, loads and generates from ../shared/fixtures/gguf/llama-2-tiny-random.gguf (skipped where ../shared is absent)',
    async () => {
      const { engine } = makeEngine();
      await engine.start();
      const loaded = await engine.load(THIRD_PARTY, OPTIONS);
      expect(loaded).toMatchObject({ name: 'LLaMA v2', contextSize: 512 });
      let text = '';
      const stats = await engine.generate(params(16), (delta) => (text += delta.text));
      expect(stats.tokens).toBeGreaterThan(0);
      expect(text.length).toBeGreaterThan(0);
    },
  );
});
