import { readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/*
 * The bare embedding limit: node-llama-cpp alone, in a process of its own, embedding a given
 * list of texts (the chunks the pipeline produced) with `lanes` contexts of `threads` threads
 * each working through the list side by side, as fast as it can. No IPC, no database, no
 * parsing: what the pipeline would take if embedding were all it did.
 *
 *   node scripts/bench-rag/embed-limit.ts <model.gguf> <texts.json> <lanes> <threads>
 *
 * Prints `seconds=<wall time of the embedding alone>` (model load and context creation excluded).
 */

export interface LimitConfig {
  readonly lanes: number;
  readonly threads: number;
}

/**
 * Runs one configuration in a child process and returns the seconds its embedding took, or
 * Infinity when it was stopped for running past `giveUpAfterMs` (a configuration that slow
 * is not the limit, and waiting it out would stretch the benchmark by minutes).
 */
export function measureEmbedLimit(modelPath: string, textsFile: string, config: LimitConfig, giveUpAfterMs = Infinity): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), modelPath, textsFile, String(config.lanes), String(config.threads)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let gaveUp = false;
    const timer = Number.isFinite(giveUpAfterMs)
      ? setTimeout(() => {
          gaveUp = true;
          child.kill();
        }, giveUpAfterMs)
      : null;
    child.stdout.on('data', (data: Buffer) => (out += data.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (timer !== null) clearTimeout(timer);
      if (gaveUp) return resolve(Infinity);
      const seconds = /seconds=([\d.]+)/.exec(out)?.[1];
      if (code !== 0 || seconds === undefined) reject(new Error(`embed-limit exited ${code}: ${out}`));
      else resolve(Number(seconds));
    });
  });
}

async function main(modelPath: string, textsFile: string, lanes: number, threads: number): Promise<void> {
  const texts = JSON.parse(await readFile(textsFile, 'utf8')) as string[];
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  const llama = await getLlama({ build: 'never', skipDownload: true, gpu: false, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath });
  // The same context the app's runtime makes (electron/runtime/aux-models.ts: training length, capped at 512 here).
  const contextSize = model.trainContextSize > 0 ? Math.min(model.trainContextSize, 512) : 512;
  const contexts = [];
  for (let at = 0; at < lanes; at += 1) contexts.push(await model.createEmbeddingContext({ contextSize, batchSize: contextSize, threads }));
  const added = contexts[0]!.calculateInputLength(model.tokenize('a')) - model.tokenize('a').length;
  const maxTokens = Math.max(1, contextSize - 1 - added);
  const started = performance.now();
  // Tokenizing is part of the work (the runtime does it too); loading is not.
  const inputs = texts.map((text) => model.tokenize(text).slice(0, maxTokens));
  let next = 0;
  let dimensions = 0;
  await Promise.all(
    contexts.map(async (context) => {
      for (let index = next++; index < inputs.length; index = next++) {
        const tokens = inputs[index]!;
        if (tokens.length === 0) continue;
        dimensions = (await context.getEmbeddingFor(tokens)).vector.length;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`seconds=${seconds.toFixed(4)}\ntexts=${texts.length}\ndimensions=${dimensions}\n`);
  for (const context of contexts) await context.dispose();
  await model.dispose();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [modelPath, textsFile, lanes, threads] = process.argv.slice(2);
  await main(modelPath!, textsFile!, Number(lanes ?? 1), Number(lanes === undefined ? 1 : (threads ?? 1)));
}
