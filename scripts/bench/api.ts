// A benchmark script, whole on purpose: one run pairs the app's own chat path with the
// local API's streaming path round by round, then loads the API with clients at once, and
// the pairing, the rounds and the report are read together. It is not part of the app.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { planGguf, presetSpec, writeGguf, type PresetName } from '../../e2e/fixtures/gguf/writer.ts';
import type { ChatEvent } from '../../electron/common/contract/index.ts';
import type { CallContext } from '../../electron/common/handlers.ts';
import { AppError, type Result } from '../../electron/common/result.ts';
import type { ApiCompletionResult, ApiService } from '../../electron/main/services/api/types.ts';
import { MAX_IN_FLIGHT } from '../../electron/main/services/api/service.ts';
import { createCore, type Core } from '../../electron/main/services/core.ts';
import { importModel, libraryDirFor, scanModels } from '../../electron/main/services/models/index.ts';
import { DEFAULT_SETTINGS } from '../../electron/main/services/settings.ts';
import { createHttpApi } from '../../electron/server/http-api.ts';
import { report } from './report.ts';

/*
 * The local API's streaming speed against the app's own chat path, on one core, one model
 * and the same settings, in one run; then 8 API clients at once beside one chat in the app.
 *
 * The model is one the project's GGUF writer makes with the shape of a real 0.5B model
 * (Q8_0, `quietEnd`, so every reply runs to maxTokens and both paths decode the same number
 * of tokens). The core is the real one (createCore, as the CLI and the harness build it) with
 * the real inference process and the real HTTP server (electron/server/) on loopback.
 *
 * - The app's path: `chat.send` on a new conversation, read straight from the handler's
 *   stream, as the IPC router reads it.
 * - The API's path: `POST /v1/chat/completions` with `stream: true` and
 *   `stream_options: { include_usage: true }` over a plain node:http client (no SDK parsing
 *   in the measured path), the same user message, no system prompt (a new conversation has
 *   none) and no sampling fields, so both take the app's settings.
 * - decode tokens/s, for both: (tokens the engine reported − 1) ÷ (time from the first
 *   piece of text to the last), timed where they arrive. The first piece is the first
 *   token (the inference process sends it alone, at once); `quietEnd` makes the engine's
 *   count maxTokens on both paths.
 * - api_decode_ratio: median over rounds of API ÷ app. Rounds interleave the two, in
 *   alternating order, so drift in the machine's speed falls on both.
 * - api_engine_ratio: the same ratio with the inference process's own decode rates (its
 *   stats), before any delivery: it tells a slower runtime op (`complete` against chat's
 *   session) from a slower way to the client. Not a target; a diagnosis.
 * - api_delivery_ratio: what each path delivers of what its engine decoded (received rate ÷
 *   decoded rate), API ÷ app, per round: the HTTP server's own share of the ratio, which the
 *   machine's load barely moves (on a busy machine the decode rates swing by more than the
 *   3% the target allows, and the rounds' median takes the swing in api_decode_ratio).
 * - api_tokens_lost: for every API reply, the tokens the engine produced minus the tokens
 *   that reached the client. The bench sees what the engine produced by wrapping the
 *   ApiService it hands the server (the text and the token count of each result); when the
 *   text received over SSE is that text and the usage chunk carries that count, nothing was
 *   lost; otherwise the received text is counted with the model's tokenizer.
 * - concurrent_ok: 8 clients, each with its own token (a script each), send at the same
 *   moment; `answered/clients`. Once one is being answered and the other 7 wait their turn
 *   (`concurrent_queued`), the app asks too: `concurrent_app_rank` is its place among the
 *   nine first tokens, `concurrent_app_wait_ms` its wait, `concurrent_max_wait_ms` the
 *   longest wait of a client. The app and each token have a lane, and the app's lane takes
 *   every other turn while it has work (services/inference/turns.ts): with eight lanes of
 *   one request each ahead of it, the app comes 2nd, after the reply running, not 9th.
 * - busy_token_app_rank: the same with one token sending as many requests as it may have in
 *   flight (4): the app comes 2nd too, not 5th as first come, first served would have it.
 *
 *   npm run bench:api -- [--model 0.5b] [--rounds 9] [--tokens 128] [--clients 8] [--concurrent-tokens 32] [--threads auto|N] [--cache DIR]
 *
 * `--cache DIR` keeps the written model between runs; by default it goes to a temporary
 * folder that is removed at the end.
 */

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: '0.5b' },
    rounds: { type: 'string', default: '9' },
    tokens: { type: 'string', default: '128' },
    clients: { type: 'string', default: '8' },
    'concurrent-tokens': { type: 'string', default: '32' },
    threads: { type: 'string', default: 'auto' },
    port: { type: 'string', default: '0' },
    cache: { type: 'string' },
  },
});

const CONTEXT_SIZE = 4096;
const PROMPT = 'Write a long story about a lighthouse keeper and the ships she guides home.';
const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };

const ctx = (signal: AbortSignal = new AbortController().signal): CallContext => ({ caller: { origin: 'cli', isMainFrame: true }, signal });

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new AppError(result.error.code, result.error.message, result.error.details);
  return result.value;
}

function median(list: readonly number[]): number {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const round2 = (value: number) => Math.round(value * 100) / 100;
const round3 = (value: number) => Math.round(value * 1000) / 1000;

function decodeRate(tokens: number, firstAt: number, lastAt: number): number {
  const ms = lastAt - firstAt;
  return ms > 0 && tokens > 1 ? ((tokens - 1) * 1000) / ms : 0;
}

interface Run {
  readonly ok: boolean;
  readonly status: number;
  /** From the request's start to the first piece of text. */
  readonly waitMs: number;
  readonly decodeTokS: number;
  /** Decode tokens/s as the inference process measured it (its stats): the same figure, before any delivery. */
  readonly engineTokS: number;
  /** The engine's count: the done message's stats, or the API's usage chunk. */
  readonly tokens: number;
  readonly text: string;
  readonly firstAt: number;
  readonly error: string | null;
}

// ---------------------------------------------------------------------------------------
// The app's path.

async function appChat(core: Core, modelId: string, prompt: string): Promise<Run> {
  const conversation = unwrap(await core.handlers['chat.create']({ modelId }, ctx()));
  const started = performance.now();
  let firstAt = 0;
  let lastAt = 0;
  let text = '';
  let tokens = 0;
  let engineTokS = 0;
  let error: string | null = null;
  try {
    for await (const event of core.handlers['chat.send']({ conversationId: conversation.id, content: prompt }, ctx()) as AsyncIterable<ChatEvent>) {
      if (event.type === 'delta' && event.text !== '') {
        const now = performance.now();
        if (firstAt === 0) firstAt = now;
        lastAt = now;
        text += event.text;
      } else if (event.type === 'done') {
        tokens = event.message.stats?.tokens ?? 0;
        engineTokS = event.message.stats?.tokensPerSecond ?? 0;
      }
    }
  } catch (caught) {
    error = caught instanceof Error ? caught.message : String(caught);
  }
  const ok = error === null && tokens > 0 && firstAt > 0;
  return { ok, status: ok ? 200 : 0, waitMs: firstAt - started, decodeTokS: decodeRate(tokens, firstAt, lastAt), engineTokS, tokens, text, firstAt, error };
}

// ---------------------------------------------------------------------------------------
// The API's path: SSE over node:http, parsed by hand so the client adds next to nothing.

function request(port: number, method: string, route: string, token: string, body?: unknown): http.ClientRequest {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const req = http.request({
    host: '127.0.0.1',
    port,
    method,
    path: route,
    agent: false,
    headers: {
      authorization: `Bearer ${token}`,
      ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
    },
  });
  if (payload !== undefined) req.write(payload);
  req.end();
  return req;
}

async function getJson(port: number, route: string, token: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(port, 'GET', route, token);
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${route}: ${res.statusCode} ${body}`))));
    });
  });
}

interface SseChunk {
  choices?: { delta?: { content?: string | null } }[];
  usage?: { completion_tokens?: number } | null;
  error?: { message?: string };
}

function apiChat(port: number, token: string, model: string, prompt: string): Promise<Run> {
  return new Promise((resolve) => {
    const started = performance.now();
    let firstAt = 0;
    let lastAt = 0;
    let text = '';
    let tokens = 0;
    let done = false;
    let status = 0;
    let error: string | null = null;
    const finish = () =>
      resolve({
        ok: error === null && status === 200 && done && tokens > 0 && firstAt > 0,
        status,
        waitMs: firstAt - started,
        decodeTokS: decodeRate(tokens, firstAt, lastAt),
        // Filled in from the engine's own result (see `settle` in main).
        engineTokS: 0,
        tokens,
        text,
        firstAt,
        error,
      });
    const req = request(port, 'POST', '/v1/chat/completions', token, {
      model,
      messages: [{ role: 'user', content: prompt }],
      stream: true,
      stream_options: { include_usage: true },
    });
    req.on('error', (caught) => {
      error = caught.message;
      finish();
    });
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        const now = performance.now();
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          for (const line of event.split('\n')) {
            if (!line.startsWith('data:')) continue;
            const data = line.slice(5).trim();
            if (data === '[DONE]') {
              done = true;
              continue;
            }
            const parsed = JSON.parse(data) as SseChunk;
            if (parsed.error !== undefined) error = parsed.error.message ?? 'error';
            const piece = parsed.choices?.[0]?.delta?.content ?? '';
            if (piece !== '') {
              if (firstAt === 0) firstAt = now;
              lastAt = now;
              text += piece;
            }
            if (typeof parsed.usage?.completion_tokens === 'number') tokens = parsed.usage.completion_tokens;
          }
        }
        if (status !== 200) error = buffer.slice(0, 500);
      });
      res.on('end', finish);
      res.on('error', (caught) => {
        error = caught.message;
        finish();
      });
    });
  });
}

// ---------------------------------------------------------------------------------------

/** What the engine produced for each API request, by token id, in order: the bench's view of the service. */
function observed(service: ApiService, results: Map<string, ApiCompletionResult[]>): ApiService {
  return {
    status: () => service.status(),
    authenticate: (bearer, scope, info) => service.authenticate(bearer, scope, info),
    refused: (info, status, reason, token) => service.refused(info, status, reason, token),
    models: (principal) => service.models(principal),
    served: (principal, request, status, bytes) => service.served(principal, request, status, bytes),
    embed: (principal, input, info, signal) => service.embed(principal, input, info, signal),
    search: (principal, input, info, signal) => service.search(principal, input, info, signal),
    async complete(principal, input, info, onDelta, signal) {
      const result = await service.complete(principal, input, info, onDelta, signal);
      const list = results.get(principal.tokenId) ?? [];
      list.push(result);
      results.set(principal.tokenId, list);
      return result;
    },
  };
}

async function cachedModel(dir: string, preset: PresetName): Promise<string> {
  const spec = { ...presetSpec(preset, 'Q8_0', 11), quietEnd: true };
  const file = path.join(dir, `chat-${preset}-q8_0.gguf`);
  const done = `${file}.complete`;
  if (existsSync(done) && existsSync(file) && statSync(file).size === planGguf(spec).totalSize) return file;
  const started = performance.now();
  await writeGguf(file, spec);
  writeFileSync(done, '');
  console.error(`wrote ${path.basename(file)} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return file;
}

async function waitListening(core: Core): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = unwrap(await core.handlers['api.status']({}, ctx()));
    if (status.state === 'listening') return status.addresses;
    if (status.state === 'failed' || status.state === 'forbidden' || Date.now() > deadline)
      throw new Error(`The API is not listening: ${status.state}${status.problem === null ? '' : ` (${status.problem})`}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Polls `check` until it holds (true) or `ms` pass (false). */
async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = http.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function main(): Promise<void> {
  const preset = values.model as PresetName;
  if (!['tiny', '0.5b', '1b', '3b', '8b'].includes(preset)) throw new Error(`--model takes tiny, 0.5b, 1b, 3b or 8b: ${preset}`);
  const rounds = Number(values.rounds);
  const maxTokens = Number(values.tokens);
  const clients = Number(values.clients);
  const concurrentTokens = Number(values['concurrent-tokens']);
  const threads = values.threads === 'auto' ? 'auto' : Number(values.threads);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a whole number of at least 1');
  if (!Number.isInteger(maxTokens) || maxTokens < 8) throw new Error('--tokens takes a whole number of at least 8');
  if (!Number.isInteger(clients) || clients < 1 || clients > 64) throw new Error('--clients takes 1 to 64');
  if (!Number.isInteger(concurrentTokens) || concurrentTokens < 2) throw new Error('--concurrent-tokens takes a whole number of at least 2');
  if (threads !== 'auto' && (!Number.isInteger(threads) || threads < 1)) throw new Error('--threads takes auto or a whole number');

  const modelDir = values.cache ?? (await mkdtemp(path.join(os.tmpdir(), 'soberana-bench-api-')));
  await mkdir(modelDir, { recursive: true });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'soberana-bench-api-data-'));
  const results = new Map<string, ApiCompletionResult[]>();
  let core: Core | null = null;
  try {
    const modelPath = await cachedModel(modelDir, preset);
    core = await createCore({
      dataDir,
      host: HOST,
      apiServer: (service) => createHttpApi(observed(service, results)),
      log: (level, message) => level === 'error' && process.stderr.write(`[core] ${message}\n`),
    });
    await core.runtime.start();
    const { candidates } = await scanModels(modelPath);
    const record = await importModel(core.storage, libraryDirFor(dataDir), candidates[0]!, { mode: 'reference' });
    const port = Number(values.port) > 0 ? Number(values.port) : await freePort();
    const sampling = { ...DEFAULT_SETTINGS.runtime.sampling, maxTokens };
    unwrap(
      await core.handlers['settings.update'](
        { runtime: { ...DEFAULT_SETTINGS.runtime, threads, contextSize: CONTEXT_SIZE, sampling }, api: { enabled: true, port, allowedOrigins: [] } },
        ctx(),
      ),
    );
    const addresses = await waitListening(core);
    console.error(`API listening on ${addresses.join(', ')}`);

    const newToken = async (name: string) => unwrap(await core!.handlers['api.createToken']({ name, scopes: ['chat', 'models:read'], expiresAt: null }, ctx()));
    const bench = await newToken('bench');
    const listed = (await getJson(port, '/v1/models', bench.token)) as { data: { id: string }[] };
    const apiModel = listed.data[0]?.id;
    if (apiModel === undefined) throw new Error('GET /v1/models listed no model');

    // Lost tokens: the engine's results for `tokenId` against what each run received.
    let lost = 0;
    let apiReplies = 0;
    /** Pairs a run with the engine's result for it: counts what was lost, and takes the engine's own decode rate. */
    const settle = async (tokenId: string, run: Run): Promise<Run> => {
      // A token's requests may finish in another order than the client sent them: match by text first.
      const list = results.get(tokenId) ?? [];
      const index = Math.max(
        0,
        list.findIndex((result) => result.text === run.text),
      );
      const [produced] = list.splice(index, 1);
      if (produced === undefined) throw new Error('the service returned no result for a request the client saw');
      apiReplies += 1;
      if (run.text !== produced.text || run.tokens !== produced.stats.tokens) {
        const [received] = await core!.runtime.countTokens(modelPath, [run.text], 1);
        lost += Math.max(1, produced.stats.tokens - (received ?? 0));
      }
      return { ...run, engineTokS: produced.stats.tokensPerSecond };
    };

    // Warm-up, untimed: the load, the first reply's thread measurement, page cache.
    await appChat(core, record.id, PROMPT);
    await settle(bench.info.id, await apiChat(port, bench.token, apiModel, PROMPT));

    const appRuns: Run[] = [];
    const apiRuns: Run[] = [];
    const ratios: number[] = [];
    const engineRatios: number[] = [];
    const deliveryRatios: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const order = round % 2 === 0 ? (['app', 'api'] as const) : (['api', 'app'] as const);
      let app: Run | null = null;
      let api: Run | null = null;
      for (const which of order) {
        if (which === 'app') app = await appChat(core, record.id, PROMPT);
        else {
          api = await settle(bench.info.id, await apiChat(port, bench.token, apiModel, PROMPT));
        }
      }
      if (!app!.ok) throw new Error(`the app's chat failed: ${app!.error ?? 'no answer'}`);
      if (!api!.ok) throw new Error(`the API's chat failed (${api!.status}): ${api!.error ?? 'no answer'}`);
      appRuns.push(app!);
      apiRuns.push(api!);
      ratios.push(api!.decodeTokS / app!.decodeTokS);
      engineRatios.push(api!.engineTokS / app!.engineTokS);
      deliveryRatios.push(api!.decodeTokS / api!.engineTokS / (app!.decodeTokS / app!.engineTokS));
      console.error(
        `round ${round + 1}: received app ${round2(app!.decodeTokS)} / api ${round2(api!.decodeTokS)} tok/s (ratio ${round3(ratios.at(-1)!)}); ` +
          `decoded app ${round2(app!.engineTokS)} / api ${round2(api!.engineTokS)} tok/s (ratio ${round3(engineRatios.at(-1)!)})`,
      );
    }

    // Requests at once, then, once all but one wait their turn, one chat in the app: where
    // the app's first token comes among them, and how long everyone waited.
    const crowd = async (who: readonly { token: string; info: { id: string } }[]) => {
      const started = performance.now();
      const pending = who.map((created) => apiChat(port, created.token, apiModel, PROMPT));
      const queued = await until(() => core!.turns.waiting() >= who.length - 1, 60_000);
      const appRun = await appChat(core!, record.id, PROMPT);
      const runs = await Promise.all(pending);
      const wall = performance.now() - started;
      for (const [index, run] of runs.entries()) if (run.ok) await settle(who[index]!.info.id, run);
      const firsts = [appRun, ...runs]
        .filter((run) => run.ok)
        .map((run) => run.firstAt)
        .sort((a, b) => a - b);
      const refusals = runs.filter((run) => !run.ok).map((run) => `${run.status} ${run.error ?? ''}`.trim());
      if (refusals.length > 0) console.error(`refused: ${refusals.join(' | ')}`);
      return {
        answered: runs.filter((run) => run.ok).length,
        appOk: appRun.ok,
        appRank: appRun.ok ? firsts.indexOf(appRun.firstAt) + 1 : 0,
        appWaitMs: Math.round(appRun.waitMs),
        maxWaitMs: Math.round(Math.max(...runs.filter((run) => run.ok).map((run) => run.waitMs))),
        queued: queued ? who.length - 1 : 0,
        wallMs: Math.round(wall),
      };
    };
    unwrap(
      await core.handlers['settings.update'](
        { runtime: { ...DEFAULT_SETTINGS.runtime, threads, contextSize: CONTEXT_SIZE, sampling: { ...sampling, maxTokens: concurrentTokens } } },
        ctx(),
      ),
    );
    // 8 scripts, each with its own token.
    const tokens = await Promise.all(Array.from({ length: clients }, (_, index) => newToken(`bench client ${index + 1}`)));
    const many = await crowd(tokens);
    // One script with as many requests as a token may have in flight.
    const busy = await newToken('bench busy');
    const one = await crowd(Array.from({ length: MAX_IN_FLIGHT }, () => busy));

    const app = median(appRuns.map((run) => run.decodeTokS));
    const api = median(apiRuns.map((run) => run.decodeTokS));
    report('api', {
      api_decode_ratio: round3(median(ratios)),
      api_tokens_lost: lost,
      api_engine_ratio: round3(median(engineRatios)),
      api_delivery_ratio: round3(median(deliveryRatios)),
      concurrent_ok: `${many.answered}/${clients}`,
      concurrent_app_ok: many.appOk ? 1 : 0,
      concurrent_app_rank: many.appRank,
      concurrent_app_wait_ms: many.appWaitMs,
      concurrent_max_wait_ms: many.maxWaitMs,
      concurrent_queued: many.queued,
      concurrent_wall_ms: many.wallMs,
      busy_token_ok: `${one.answered}/${MAX_IN_FLIGHT}`,
      busy_token_app_rank: one.appRank,
      busy_token_app_wait_ms: one.appWaitMs,
      busy_token_queued: one.queued,
      api_decode_tok_s: round2(api),
      app_decode_tok_s: round2(app),
      api_engine_decode_tok_s: round2(median(apiRuns.map((run) => run.engineTokS))),
      app_engine_decode_tok_s: round2(median(appRuns.map((run) => run.engineTokS))),
      api_ttft_ms: Math.round(median(apiRuns.map((run) => run.waitMs))),
      app_ttft_ms: Math.round(median(appRuns.map((run) => run.waitMs))),
      api_replies_checked: apiReplies,
      tokens_per_reply: median(apiRuns.map((run) => run.tokens)),
      model: preset,
      threads: String(threads),
      rounds,
      clients,
      context_size: CONTEXT_SIZE,
    });
  } finally {
    await core?.close();
    await rm(dataDir, { recursive: true, force: true });
    if (values.cache === undefined) await rm(modelDir, { recursive: true, force: true });
  }
}

await main();
