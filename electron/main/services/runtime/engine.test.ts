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
import { createEngine, type RuntimeEngine } from './engine.ts';
import { forkLauncher, type RuntimeLauncher } from './launcher.ts';
import { checkModelFile } from './model-check.ts';
import { sqliteQuarantine } from './quarantine.ts';

// The real inference process (child_process.fork of electron/runtime/index.ts) running
// the real node-llama-cpp on models this test writes. Crashes are real SIGKILLs.

let dir: string;
let model: string;
let db: Database;
const engines: RuntimeEngine[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-engine-'));
  model = path.join(dir, 'tiny.gguf');
  // quietEnd: replies run to maxTokens, so streaming can be stopped or killed midway.
  await writeGguf(model, { ...presetSpec('tiny', 'Q8_0', 7), quietEnd: true });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
  if (db?.isOpen) db.close();
});

const OPTIONS = { gpuLayers: 0, contextSize: 512, threads: 1 } as const;
const params = (maxTokens: number): GenerateParams => ({ prompt: 'Hello there', temperature: 0.7, topP: 0.9, topK: 40, repeatPenalty: 1.1, maxTokens, seed: 3 });

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
    const stats = await engine.generate(params(40), (chunk) => {
      text += chunk;
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
    const done = engine.generate(params(100_000), (_text, count) => {
      tokens += count;
      if (tokens > 20) controller.abort();
    }, controller.signal);
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
    const running = engine.generate(params(1_000_000), (_text, count) => (streamed += count));
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

const THIRD_PARTY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../../shared/fixtures/gguf/llama-2-tiny-random.gguf');

describe('compatibility with a GGUF written by another project', () => {
  it.skipIf(!existsSync(THIRD_PARTY))('validates, loads and generates from ../shared/fixtures/gguf/llama-2-tiny-random.gguf (skipped where ../shared is absent)', async () => {
    const { engine } = makeEngine();
    await engine.start();
    const loaded = await engine.load(THIRD_PARTY, OPTIONS);
    expect(loaded).toMatchObject({ name: 'LLaMA v2', contextSize: 512 });
    let text = '';
    const stats = await engine.generate(params(16), (chunk) => (text += chunk));
    expect(stats.tokens).toBeGreaterThan(0);
    expect(text.length).toBeGreaterThan(0);
  });
});
