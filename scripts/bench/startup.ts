// A benchmark script, whole on purpose: the start-up rounds, the idle memory and the report
// are read together. It is not part of the app.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { planGguf, presetSpec, writeGguf, type PresetName } from '../../e2e/fixtures/gguf/writer.ts';
import type { StreamFrame } from '../../electron/common/api.ts';
import { contract } from '../../electron/common/contract/index.ts';
import type { CallContext } from '../../electron/common/handlers.ts';
import { AppError, type Result } from '../../electron/common/result.ts';
import { createMemoryPair } from '../../electron/main/ipc/memory-transport.ts';
import { createRouter } from '../../electron/main/ipc/router.ts';
import { createCore, type Core } from '../../electron/main/services/core.ts';
import { importModel, libraryDirFor, scanModels } from '../../electron/main/services/models/index.ts';
import { DEFAULT_SETTINGS } from '../../electron/main/services/settings.ts';
import { report } from './report.ts';

/*
 * Start-up and idle cost of the services, as the app's main process starts them.
 *
 * Each round starts the real core (createCore, as electron/main/index.ts does) over a data
 * folder that already holds a chat model (a 0.5B shape from the project's GGUF writer,
 * Q8_0, imported by reference before the rounds), serves it through the real router and
 * the in-memory transport (values structured-cloned, as over IPC; outputs not re-validated,
 * as in the packaged app), and starts the inference process without waiting for it, as
 * main does. Then, as a renderer would, through the transport:
 *
 * - first_call_ms: from createCore's call to the first answered contract call (`app.info`).
 * - first_token_ms: from createCore's call to the first token of a reply, through
 *   `models.load` (the chat model) then `chat.create` and `chat.send`: what a user waits
 *   for when the app starts and they ask at once. `load_ms` and `reply_first_token_ms`
 *   are its two last parts (from the load's request to the end of the load; from
 *   `chat.send` to the first token).
 * - core_ms: createCore alone (policy, database, audit, settings, stores, recovery).
 *
 * Figures are medians over the rounds (`--rounds`), with min and max for the two headline
 * times. The rounds run in this one process, so module loading, which the app pays once
 * before createCore, is not counted (`module_load_ms` is this script's own import time).
 *
 * Idle memory, on a fresh core after the rounds: resident set size (Linux /proc VmRSS) of
 * this process, which plays main (the services, the parse worker threads, the router),
 * and of the inference process, each after the process has been idle for `--settle-ms`:
 *
 * - 0 models: the inference process started, nothing loaded.
 * - 1 model: the chat model loaded and one reply given.
 * - 2 models: then an embedding model in use as well (texts embedded through the engine,
 *   as document ingestion and search do; the engine keeps it loaded beside the chat model).
 *   By default the GloVe fixture (../shared/fixtures/gguf/glove-100d-bert.gguf), or
 *   `--embedding FILE`.
 *
 *   npm run bench:startup -- [--rounds 5] [--model 0.5b] [--embedding FILE] [--settle-ms 2000] [--cache DIR]
 *
 * `--cache DIR` keeps the written model between runs (the same names as bench:chat's, so
 * both can share one folder).
 */

const importedAt = performance.now();

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    model: { type: 'string', default: '0.5b' },
    embedding: { type: 'string' },
    'settle-ms': { type: 'string', default: '2000' },
    cache: { type: 'string' },
  },
});

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DEFAULT_EMBEDDING = path.resolve(ROOT, '../shared/fixtures/gguf/glove-100d-bert.gguf');
const CONTEXT_SIZE = 4096;
const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };
const ORIGIN = 'app://soberana';
const PROMPT = 'Write a long story about a lighthouse keeper and the ships she guides home.';
const EMBED_TEXTS = Array.from({ length: 32 }, (_, index) => `Paragraph ${index + 1}: the quarterly report on warehouse costs and supplier contracts.`);

const ctx = (): CallContext => ({ caller: { origin: 'cli', isMainFrame: true }, signal: new AbortController().signal });

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new AppError(result.error.code, result.error.message, result.error.details);
  return result.value;
}

function median(list: readonly number[]): number {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resident set size of a process in MB, from /proc (Linux). */
function rssMb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmRSS for process ${pid}`);
  return Math.round(Number(match[1]) / 1024);
}

async function cachedModel(dir: string, preset: PresetName): Promise<string> {
  const spec = { ...presetSpec(preset, 'Q8_0', 11), quietEnd: true };
  const file = path.join(dir, `chat-${preset}-q8_0.gguf`);
  const done = `${file}.complete`;
  if (existsSync(done) && existsSync(file) && statSync(file).size === planGguf(spec).totalSize) return file;
  await writeGguf(file, spec);
  writeFileSync(done, '');
  return file;
}

/** The app's side of the transport: the router over the core's handlers, and a client calling through it. */
function serveCore(core: Core) {
  const router = createRouter(contract, core.handlers, { trustedOrigins: [ORIGIN], validateOutputs: false });
  const pair = createMemoryPair({ origin: ORIGIN, isMainFrame: true });
  pair.transport.listen(router);
  const call = async <T>(name: string, input: unknown): Promise<T> => unwrap((await pair.bridge.call(name, input)) as Result<T>);
  /** Runs a stream to its end; `onEvent` sees each event. */
  const stream = (name: string, input: unknown, onEvent: (event: unknown) => void = () => undefined) =>
    new Promise<void>((resolve, reject) => {
      pair.bridge.stream(name, input, (frame: StreamFrame<unknown>) => {
        if (frame.type === 'event') onEvent(frame.event);
        else if (frame.type === 'end') resolve();
        else reject(new Error(`${name}: ${frame.error.code}: ${frame.error.message}`));
      });
    });
  return { call, stream };
}

/** A reply to the prompt in a new conversation; resolves with when its first token arrived. */
async function firstReply(client: ReturnType<typeof serveCore>, modelId: string): Promise<number> {
  const conversation = await client.call<{ id: string }>('chat.create', { modelId });
  let firstAt = 0;
  await client.stream('chat.send', { conversationId: conversation.id, content: PROMPT }, (event) => {
    const delta = event as { type: string; text?: string };
    if (firstAt === 0 && delta.type === 'delta' && (delta.text ?? '') !== '') firstAt = performance.now();
  });
  if (firstAt === 0) throw new Error('the reply had no token');
  return firstAt;
}

interface Round {
  readonly coreMs: number;
  readonly firstCallMs: number;
  readonly loadMs: number;
  readonly replyFirstTokenMs: number;
  readonly firstTokenMs: number;
}

async function startRound(dataDir: string, modelId: string): Promise<Round> {
  const started = performance.now();
  const core = await createCore({ dataDir, host: HOST });
  try {
    const coreAt = performance.now();
    const client = serveCore(core);
    // As main does: the inference process starts in the background while the window loads.
    core.runtime.start().catch((error: unknown) => console.error('The inference process could not start:', error));
    await client.call('app.info', {});
    const firstCallAt = performance.now();
    await client.stream('models.load', { id: modelId });
    const loadedAt = performance.now();
    const firstTokenAt = await firstReply(client, modelId);
    return {
      coreMs: coreAt - started,
      firstCallMs: firstCallAt - started,
      loadMs: loadedAt - firstCallAt,
      replyFirstTokenMs: firstTokenAt - loadedAt,
      firstTokenMs: firstTokenAt - started,
    };
  } finally {
    await core.close();
  }
}

/** Resident memory of main (this process) and of the inference process, after `settleMs` idle. */
async function idleMemory(core: Core, settleMs: number): Promise<{ main: number; inference: number }> {
  await sleep(settleMs);
  const pid = core.runtime.pid();
  if (pid === null) throw new Error('the inference process is not running');
  return { main: rssMb(process.pid), inference: rssMb(pid) };
}

async function main(): Promise<void> {
  const rounds = Number(values.rounds);
  const settleMs = Number(values['settle-ms']);
  const preset = values.model as PresetName;
  if (!['0.5b', '1b', '3b', '8b'].includes(preset)) throw new Error(`--model takes 0.5b, 1b, 3b or 8b: ${preset}`);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a whole number of at least 1');
  if (!Number.isInteger(settleMs) || settleMs < 0) throw new Error('--settle-ms takes a whole number of milliseconds');
  const embeddingPath = path.resolve(values.embedding ?? DEFAULT_EMBEDDING);
  if (!existsSync(embeddingPath)) throw new Error(`no embedding model at ${embeddingPath} (--embedding FILE)`);

  const modelDir = values.cache ?? (await mkdtemp(path.join(os.tmpdir(), 'soberana-bench-startup-')));
  await mkdir(modelDir, { recursive: true });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'soberana-bench-startup-data-'));
  try {
    const modelPath = await cachedModel(modelDir, preset);

    // The installed app: the chat model in the library, replies kept short (the first token is what counts).
    const setup = await createCore({ dataDir, host: HOST });
    let modelId: string;
    try {
      const { candidates } = await scanModels(modelPath);
      modelId = (await importModel(setup.storage, libraryDirFor(dataDir), candidates[0]!, { mode: 'reference' })).id;
      const sampling = { ...DEFAULT_SETTINGS.runtime.sampling, maxTokens: 8 };
      unwrap(await setup.handlers['settings.update']({ runtime: { ...DEFAULT_SETTINGS.runtime, contextSize: CONTEXT_SIZE, sampling } }, ctx()));
    } finally {
      await setup.close();
    }

    // One untimed start first: the page cache then holds the model and the database for every timed round alike.
    await startRound(dataDir, modelId);
    const results: Round[] = [];
    for (let round = 0; round < rounds; round += 1) results.push(await startRound(dataDir, modelId));

    const core = await createCore({ dataDir, host: HOST });
    let memory: Record<string, number>;
    try {
      const client = serveCore(core);
      await core.runtime.start();
      const none = await idleMemory(core, settleMs);
      await client.stream('models.load', { id: modelId });
      await firstReply(client, modelId);
      const one = await idleMemory(core, settleMs);
      const embedded = await core.runtime.embed(embeddingPath, EMBED_TEXTS, os.availableParallelism());
      if (embedded.vectors.length !== EMBED_TEXTS.length) throw new Error('the embedding model returned another number of vectors');
      if (core.runtime.state().model === null) throw new Error('the chat model was unloaded by the embedding');
      const two = await idleMemory(core, settleMs);
      memory = {
        idle_main_rss_mb_0: none.main,
        idle_inference_rss_mb_0: none.inference,
        idle_main_rss_mb_1: one.main,
        idle_inference_rss_mb_1: one.inference,
        idle_main_rss_mb_2: two.main,
        idle_inference_rss_mb_2: two.inference,
      };
    } finally {
      await core.close();
    }

    const of = (key: keyof Round) => results.map((result) => result[key]);
    const ms = (value: number) => Math.round(value);
    report('startup', {
      first_call_ms: ms(median(of('firstCallMs'))),
      first_call_ms_min: ms(Math.min(...of('firstCallMs'))),
      first_call_ms_max: ms(Math.max(...of('firstCallMs'))),
      first_token_ms: ms(median(of('firstTokenMs'))),
      first_token_ms_min: ms(Math.min(...of('firstTokenMs'))),
      first_token_ms_max: ms(Math.max(...of('firstTokenMs'))),
      core_ms: ms(median(of('coreMs'))),
      load_ms: ms(median(of('loadMs'))),
      reply_first_token_ms: ms(median(of('replyFirstTokenMs'))),
      ...memory,
      model_mb: Math.round(statSync(modelPath).size / 2 ** 20),
      embedding_model_mb: Math.round(statSync(embeddingPath).size / 2 ** 20),
      module_load_ms: ms(importedAt),
      rounds,
      settle_ms: settleMs,
      cpus: os.availableParallelism(),
    });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
    if (values.cache === undefined) await rm(modelDir, { recursive: true, force: true });
  }
}

await main();
