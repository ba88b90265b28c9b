// A benchmark script, whole on purpose: one run pairs Soberana's chat path with a bare
// node-llama-cpp script round by round, and the pairing, the rounds and the report are
// read together. It is not part of the app.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { planGguf, presetSpec, writeGguf, type PresetName } from '../../e2e/fixtures/gguf/writer.ts';
import type { StreamFrame } from '../../electron/common/api.ts';
import { stream } from '../../electron/common/contract/define.ts';
import { GenerateStats } from '../../electron/common/runtime/protocol.ts';
import { createMemoryPair } from '../../electron/main/ipc/memory-transport.ts';
import { createRouter } from '../../electron/main/ipc/router.ts';
import { createEngine, type ChatRequest, type RuntimeEngine } from '../../electron/main/services/inference/engine.ts';
import { pump } from '../../electron/main/services/inference/handlers.ts';
import { forkLauncher } from '../../electron/main/services/inference/launcher.ts';
import { checkModelFile } from '../../electron/main/services/inference/model-check.ts';
import { report } from './report.ts';

/*
 * Chat speed through Soberana's whole path against a bare node-llama-cpp script, side by
 * side in one run, on models the project's GGUF writer makes with the shapes of real
 * 0.5B and 1B models (Q8_0; `quietEnd`, so every reply runs to maxTokens).
 *
 * Soberana's path: the engine (in this process, as in the main process) sends the request
 * to the real inference process (child_process.fork, as under the CLI and the harness),
 * whose deltas come back to the engine, go through the real router and the in-memory
 * transport (values structured-cloned both ways, as over IPC) to a client that counts
 * them. The endpoint is a bench-only stream over `engine.chat`, shaped like the app's.
 * The bare script is a separate process with node-llama-cpp alone: getLlama, loadModel,
 * createContext, LlamaChatSession.prompt, with the same context size, sampling and
 * thread count. Both run on the CPU (gpuLayers 0): the thread figures are about the CPU.
 * Contenders take turns, never at the same time, and each figure is the median of the
 * rounds. On a busy host, give more rounds (`--rounds 9`).
 *
 * - decode tokens/s = tokens after the first one ÷ time from the first token to the end,
 *   timed where the tokens arrive (the client; the bare script's onToken).
 * - Soberana's automatic threads: prompts are evaluated with `threads.ts`'s count and
 *   replies decoded with the count its first reply measured as fastest (see
 *   electron/runtime/decode-threads.ts). The warm-up reply does that measuring.
 * - decode_ratio: Soberana ÷ bare at the thread count Soberana decodes with, per round, the
 *   two runs back to back (in alternating order) so both see the same load; the median over
 *   the rounds, with `decode_ratio_min`, `decode_ratio_max` and `decode_ratio_spread` (max −
 *   min). `decode_ratio_of_medians` is the older figure (median ÷ median), which a load that
 *   changes between the two contenders' runs moves more.
 * - engine_decode_ratio: the same pairing with the inference process's own decode rate (its
 *   stats) in place of the client's: the runtime's share of decode_ratio.
 * - delivery_ratio: per round, the client's decode rate ÷ the inference process's own: the
 *   share of the way from the inference process to the client (engine, router, transport).
 * - auto_vs_best_ratio: Soberana ÷ the best bare figure over every thread count from 1 to
 *   the number of CPUs.
 * - rendered_ratio: tokens the model decoded (the inference process's token meter) ÷
 *   tokens the client received (the deltas' `tokens`), over all of Soberana's decode runs.
 * - ttft_turn2_ratio: a conversation with a ~2,000-token history; turn 1 evaluates all of
 *   it, turn 2 is a follow-up in the same conversation. Time to first token as the
 *   client sees it. Each round uses a different system prompt, so nothing is reused
 *   from an earlier round.
 *
 * Figures are prefixed by model (`0_5b_`, `1b_`; names cannot hold a dot); the unprefixed
 * headline figures are the worst of the models.
 *
 *   npm run bench:chat -- [--models 0.5b,1b] [--rounds 5] [--ttft-rounds 2] [--tokens 96] [--history 2000] [--cache DIR]
 *
 * `--cache DIR` keeps the written models between runs; by default they go to a temporary
 * folder that is removed at the end.
 */

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: '0.5b,1b' },
    rounds: { type: 'string', default: '5' },
    'ttft-rounds': { type: 'string', default: '2' },
    tokens: { type: 'string', default: '96' },
    history: { type: 'string', default: '2000' },
    cache: { type: 'string' },
    'bare-worker': { type: 'string' },
  },
});

const CONTEXT_SIZE = 4096;
const SAMPLING = { temperature: 0.7, topP: 0.9, topK: 40, minP: 0.05, repeatPenalty: 1.1, seed: 7 } as const;
const DECODE_PROMPT = 'Write a long story about a lighthouse keeper and the ships she guides home.';

interface DecodeRun {
  readonly tokens: number;
  readonly firstMs: number;
  readonly decodeTokS: number;
}

/** Decode speed as the receiver sees it: what arrived after the first token, over the time since. */
function decodeRate(firstAt: number, firstTokens: number, endAt: number, tokens: number): number {
  const ms = endAt - firstAt;
  return ms > 0 && tokens > firstTokens ? ((tokens - firstTokens) * 1000) / ms : 0;
}

// ---------------------------------------------------------------------------------------
// The bare node-llama-cpp script, in its own process.

const BareRequest = z.object({ threads: z.number().int().positive(), maxTokens: z.number().int().positive(), prompt: z.string() });

async function bareWorker(modelPath: string): Promise<void> {
  const { getLlama, LlamaChatSession, LlamaLogLevel, resolveChatWrapper } = await import('node-llama-cpp');
  const llama = await getLlama({ build: 'never', skipDownload: true, gpu: false, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
  const chatWrapper = resolveChatWrapper(model);
  let current: { threads: number; context: Awaited<ReturnType<typeof model.createContext>> } | null = null;
  process.on('message', (raw) => {
    void (async () => {
      const request = BareRequest.parse(raw);
      if (current?.threads !== request.threads) {
        await current?.context.dispose();
        current = { threads: request.threads, context: await model.createContext({ contextSize: CONTEXT_SIZE, threads: request.threads }) };
      }
      const sequence = current.context.getSequence();
      const session = new LlamaChatSession({ contextSequence: sequence, chatWrapper });
      session.setChatHistory([]);
      const started = performance.now();
      let firstAt = 0;
      let firstTokens = 0;
      let tokens = 0;
      await session.prompt(request.prompt, {
        maxTokens: request.maxTokens,
        ...SAMPLING,
        repeatPenalty: { penalty: SAMPLING.repeatPenalty },
        onToken: (chunk) => {
          tokens += chunk.length;
          if (firstAt === 0) {
            firstAt = performance.now();
            firstTokens = tokens;
          }
        },
      });
      const endAt = performance.now();
      session.dispose();
      sequence.dispose();
      const run: DecodeRun = { tokens, firstMs: firstAt - started, decodeTokS: decodeRate(firstAt, firstTokens, endAt, tokens) };
      process.send?.(run);
    })().catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  });
  process.send?.({ ready: true });
}

interface BareScript {
  decode(threads: number, maxTokens: number): Promise<DecodeRun>;
  close(): Promise<void>;
}

async function startBare(modelPath: string): Promise<BareScript> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--bare-worker', modelPath], {
    execArgv: [],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = () =>
    new Promise<unknown>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`The bare script exited (${code ?? 'signal'}).`));
      child.once('exit', onExit);
      child.once('message', (message) => {
        child.off('exit', onExit);
        resolve(message);
      });
    });
  await next();
  return {
    async decode(threads, maxTokens) {
      const reply = next();
      child.send({ threads, maxTokens, prompt: DECODE_PROMPT });
      return (await reply) as DecodeRun;
    },
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------
// Soberana's path: engine → inference process → engine → router → memory transport → client.

const BenchEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('delta'), text: z.string(), reasoning: z.string(), tokens: z.number().int().nonnegative() }),
  z.object({ type: z.literal('done'), stats: GenerateStats, trimmedTurns: z.number().int(), defaultTemplate: z.boolean() }),
]);
type BenchEvent = z.infer<typeof BenchEvent>;
const turn = z.object({ role: z.enum(['user', 'assistant']), content: z.string() });
const benchContract = {
  'bench.chat': stream({
    input: z.object({
      conversationId: z.string(),
      systemPrompt: z.string(),
      history: z.array(turn),
      prompt: z.string().nullable(),
      sampling: z.object({
        temperature: z.number(),
        topP: z.number(),
        topK: z.number(),
        minP: z.number(),
        repeatPenalty: z.number(),
        maxTokens: z.number(),
        seed: z.number().nullable(),
      }),
    }),
    event: BenchEvent,
  }),
};

interface ClientRun {
  readonly firstMs: number;
  readonly received: number;
  readonly text: string;
  readonly decodeTokS: number;
  readonly done: Extract<BenchEvent, { type: 'done' }>;
}

function soberanaClient(engine: RuntimeEngine) {
  const router = createRouter(
    benchContract,
    {
      'bench.chat': (input, { signal }) =>
        pump<BenchEvent>(async (push) => {
          const result = await engine.chat(input, (delta) => push({ type: 'delta', ...delta }), signal);
          return { type: 'done', ...result };
        }),
    },
    // As in the packaged app, where outputs are not re-validated.
    { trustedOrigins: ['app://soberana'], validateOutputs: false },
  );
  const pair = createMemoryPair({ origin: 'app://soberana', isMainFrame: true });
  pair.transport.listen(router);
  return (request: ChatRequest) =>
    new Promise<ClientRun>((resolve, reject) => {
      const started = performance.now();
      let firstAt = 0;
      let firstTokens = 0;
      let received = 0;
      let text = '';
      pair.bridge.stream('bench.chat', request, (frame: StreamFrame<unknown>) => {
        if (frame.type === 'error') reject(new Error(`${frame.error.code}: ${frame.error.message}`));
        if (frame.type !== 'event') return;
        const event = frame.event as BenchEvent;
        if (event.type === 'delta') {
          received += event.tokens;
          text += event.text;
          if (firstAt === 0 && event.tokens > 0) {
            firstAt = performance.now();
            firstTokens = received;
          }
          return;
        }
        const endAt = performance.now();
        resolve({ firstMs: firstAt - started, received, text, decodeTokS: decodeRate(firstAt, firstTokens, endAt, received), done: event });
      });
    });
}

// ---------------------------------------------------------------------------------------

function median(list: readonly number[]): number {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const round2 = (value: number) => Math.round(value * 100) / 100;
const round3 = (value: number) => Math.round(value * 1000) / 1000;

const TOPICS = [
  'quarterly revenue',
  'the hiring plan',
  'warehouse costs',
  'the audit findings',
  'supplier contracts',
  'the training budget',
  'customer churn',
  'the data centre move',
];

/** A conversation of about `targetTokens` (the writer’s vocabulary averages ~2.2 characters a token, template included). */
function historyOf(targetTokens: number): ChatRequest['history'] {
  const turns: { role: 'user' | 'assistant'; content: string }[] = [];
  let chars = 0;
  for (let index = 0; chars < targetTokens * 2.2; index += 1) {
    const topic = TOPICS[index % TOPICS.length]!;
    const question = `Question ${index + 1}: what changed in ${topic} since the last review, and what should the team watch next month?`;
    const answer =
      `On ${topic}, figures ${index + 3} and ${index + 7} moved the most: the northern region grew while the southern one stayed flat. ` +
      `The team should watch the monthly totals, the open tickets and the two largest accounts, and report back before the ${index + 10}th.`;
    turns.push({ role: 'user', content: question }, { role: 'assistant', content: answer });
    chars += question.length + answer.length;
  }
  return turns;
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

async function benchModel(modelPath: string, rounds: number, ttftRounds: number, maxTokens: number, historyTokens: number): Promise<Record<string, number>> {
  /** The decode thread count the inference process measured as fastest, from its log. */
  let decodeThreads: number | null = null;
  const engine = createEngine({
    // CPU only, like the bare script: the thread figures are about the CPU.
    launcher: forkLauncher(undefined, { ...process.env, SOBERANA_RUNTIME_GPU: 'off' }),
    validate: checkModelFile,
    quarantine: { reasonFor: () => null, add: () => undefined },
    onState: () => undefined,
    log: (_level, message) => {
      const tuned = /with (\d+) thread\(s\), the fastest measured/.exec(message);
      if (tuned !== null) decodeThreads = Number(tuned[1]);
    },
  });
  const bare = await startBare(modelPath);
  try {
    await engine.start();
    const autoThreads = engine.state().hardware?.cpuCores ?? 1;
    const cpus = os.availableParallelism();
    await engine.load(modelPath, { gpuLayers: 0, contextSize: CONTEXT_SIZE, threads: autoThreads });
    const chat = soberanaClient(engine);
    const sampling = { ...SAMPLING, maxTokens };
    const threadCounts = Array.from({ length: cpus }, (_, index) => index + 1);

    // Warm both up (first-call costs, page cache), untimed. Soberana's first reply after a
    // load also measures which thread count decodes fastest; that is part of its automatic
    // choice, and what every later reply gets.
    await bare.decode(autoThreads, 8);
    for (let reply = 0; reply < 6 && (reply === 0 || decodeThreads === null); reply += 1) {
      await chat({ conversationId: `warm-up-${reply}`, systemPrompt: '', history: [], prompt: DECODE_PROMPT, sampling: { ...sampling, maxTokens: 96 } });
    }

    // "Same threads": Soberana evaluates prompts with the automatic count and decodes with the count it measured.
    const sameThreads = Math.min(decodeThreads ?? autoThreads, cpus);
    const bareRuns = new Map<number, number[]>(threadCounts.map((threads) => [threads, []]));
    const soberanaRuns: number[] = [];
    /** Per round: Soberana ÷ the bare script at the same threads, run one right after the other. */
    const pairedRatios: number[] = [];
    /** Per round: the inference process's own decode rate ÷ the bare script's, before any delivery. */
    const engineRatios: number[] = [];
    /** Per round: what the client received ÷ what the inference process decoded, both as rates. */
    const deliveryRatios: number[] = [];
    let decoded = 0;
    let rendered = 0;
    for (let round = 0; round < rounds; round += 1) {
      // The pair (Soberana and the bare script at its thread count) runs back to back, in
      // alternating order, so a change in the machine's load falls on both alike; the other
      // thread counts (for auto_vs_best) run before the pair in even rounds, after it in odd ones.
      const others = threadCounts.filter((threads) => threads !== sameThreads);
      const pair = round % 2 === 0 ? [sameThreads, 0] : [0, sameThreads];
      const order = round % 2 === 0 ? [...others, ...pair] : [...pair, ...others];
      let bareSame = 0;
      let soberanaRun = 0;
      let engineRun = 0;
      for (const threads of order) {
        if (threads > 0) {
          const rate = (await bare.decode(threads, maxTokens)).decodeTokS;
          bareRuns.get(threads)!.push(rate);
          if (threads === sameThreads) bareSame = rate;
          continue;
        }
        const run = await chat({ conversationId: `decode-${round}`, systemPrompt: '', history: [], prompt: DECODE_PROMPT, sampling });
        soberanaRun = run.decodeTokS;
        soberanaRuns.push(run.decodeTokS);
        decoded += run.done.stats.tokens;
        rendered += run.received;
        if (run.done.stats.tokensPerSecond > 0) deliveryRatios.push(run.decodeTokS / run.done.stats.tokensPerSecond);
        engineRun = run.done.stats.tokensPerSecond;
      }
      if (bareSame > 0) {
        pairedRatios.push(soberanaRun / bareSame);
        engineRatios.push(engineRun / bareSame);
      }
    }

    const turn1: number[] = [];
    const turn2: number[] = [];
    let historyCount = 0;
    let turn2Evaluated = 0;
    for (let round = 0; round < ttftRounds; round += 1) {
      const request: ChatRequest = {
        conversationId: `ttft-${round}`,
        systemPrompt: `You are analyst number ${round + 1} of the planning office. Answer briefly.`,
        history: historyOf(historyTokens),
        prompt: 'Summarise the main risks in one paragraph.',
        sampling: { ...sampling, maxTokens: 16 },
      };
      const first = await chat(request);
      const second = await chat({
        ...request,
        history: [...request.history, { role: 'user', content: request.prompt! }, { role: 'assistant', content: first.text }],
        prompt: 'Which of them matters most?',
      });
      turn1.push(first.firstMs);
      turn2.push(second.firstMs);
      historyCount = first.done.stats.promptTokens;
      turn2Evaluated = second.done.stats.evaluatedTokens ?? -1;
    }

    const bareMedians = new Map([...bareRuns].map(([threads, runs]) => [threads, median(runs)]));
    const [bestThreads, bestBare] = [...bareMedians].reduce((best, entry) => (entry[1] > best[1] ? entry : best));
    const soberana = median(soberanaRuns);
    const bareAtAuto = bareMedians.get(sameThreads)!;
    const figures: Record<string, number> = {
      decode_ratio: round3(median(pairedRatios)),
      decode_ratio_min: round3(Math.min(...pairedRatios)),
      decode_ratio_max: round3(Math.max(...pairedRatios)),
      decode_ratio_spread: round3(Math.max(...pairedRatios) - Math.min(...pairedRatios)),
      decode_ratio_of_medians: round3(soberana / bareAtAuto),
      engine_decode_ratio: round3(median(engineRatios)),
      delivery_ratio: round3(median(deliveryRatios)),
      ttft_turn2_ratio: round3(median(turn2) / median(turn1)),
      rendered_ratio: round3(decoded / rendered),
      auto_vs_best_ratio: round3(soberana / bestBare),
      soberana_decode_tok_s: round2(soberana),
      bare_decode_tok_s: round2(bareAtAuto),
      auto_threads: autoThreads,
      auto_decode_threads: sameThreads,
      cpus,
      best_bare_threads: bestThreads,
      best_bare_decode_tok_s: round2(bestBare),
      ...Object.fromEntries([...bareMedians].map(([threads, rate]) => [`bare_decode_tok_s_t${threads}`, round2(rate)])),
      decoded_tokens: decoded,
      rendered_tokens: rendered,
      history_tokens: historyCount,
      ttft_turn1_ms: Math.round(median(turn1)),
      ttft_turn2_ms: Math.round(median(turn2)),
      turn2_evaluated_tokens: turn2Evaluated,
      max_tokens: maxTokens,
      context_size: CONTEXT_SIZE,
      rounds,
      ttft_rounds: ttftRounds,
    };
    return figures;
  } finally {
    await bare.close();
    await engine.stop();
  }
}

async function main(): Promise<void> {
  const presets = values.models.split(',').map((name) => name.trim()) as PresetName[];
  for (const preset of presets) if (!['0.5b', '1b', '3b', '8b'].includes(preset)) throw new Error(`--models takes 0.5b, 1b, 3b or 8b: ${preset}`);
  const rounds = Number(values.rounds);
  const ttftRounds = Number(values['ttft-rounds']);
  const maxTokens = Number(values.tokens);
  const historyTokens = Number(values.history);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a whole number of at least 1');
  if (!Number.isInteger(ttftRounds) || ttftRounds < 1) throw new Error('--ttft-rounds takes a whole number of at least 1');
  if (!Number.isInteger(maxTokens) || maxTokens < 8) throw new Error('--tokens takes a whole number of at least 8');
  if (!Number.isInteger(historyTokens) || historyTokens < 100 || historyTokens > CONTEXT_SIZE - 512)
    throw new Error(`--history takes 100 to ${CONTEXT_SIZE - 512}`);

  const dir = values.cache ?? (await mkdtemp(path.join(os.tmpdir(), 'soberana-bench-chat-')));
  await mkdir(dir, { recursive: true });
  try {
    const perModel: Record<string, number>[] = [];
    const figures: Record<string, number> = {};
    for (const preset of presets) {
      const modelPath = await cachedModel(dir, preset);
      const result = await benchModel(modelPath, rounds, ttftRounds, maxTokens, historyTokens);
      perModel.push(result);
      // Each model's headline as soon as it is known: a long run on a busy host shows progress.
      console.error(
        `${preset}: decode_ratio=${result.decode_ratio} (${result.decode_ratio_min}–${result.decode_ratio_max}), engine_decode_ratio=${result.engine_decode_ratio}, delivery_ratio=${result.delivery_ratio}`,
      );
      for (const [name, value] of Object.entries(result)) figures[`${preset.replace('.', '_')}_${name}`] = value;
    }
    // The headline is the worst model on each figure.
    const all = (name: string) => perModel.map((result) => result[name]!);
    report('chat', {
      decode_ratio: Math.min(...all('decode_ratio')),
      decode_ratio_spread: Math.max(...all('decode_ratio_spread')),
      ttft_turn2_ratio: Math.max(...all('ttft_turn2_ratio')),
      rendered_ratio: all('rendered_ratio').reduce((far, value) => (Math.abs(value - 1) > Math.abs(far - 1) ? value : far)),
      auto_vs_best_ratio: Math.min(...all('auto_vs_best_ratio')),
      ...figures,
    });
  } finally {
    if (values.cache === undefined) await rm(dir, { recursive: true, force: true });
  }
}

if (values['bare-worker'] !== undefined) await bareWorker(values['bare-worker']);
else await main();
