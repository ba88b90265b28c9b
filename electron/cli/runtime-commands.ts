import { AppError } from '../common/result.ts';
import { createCore, type Core } from '../main/services/core.ts';
import { loadOptionsFrom } from '../main/services/inference/load-options.ts';
import { intOption, numberOption, type Command } from './command.ts';
import { EXIT } from './exit-codes.ts';

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };

async function withCore<T>(dataDir: string, run: (core: Core) => Promise<T>): Promise<T> {
  const core = await createCore({ dataDir, host: HOST, log: (level, message) => level === 'error' && process.stderr.write(`[runtime] ${message}\n`) });
  try {
    await core.runtime.start();
    return await run(core);
  } finally {
    await core.close();
  }
}

const GiB = 1024 ** 3;
const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;

export const runtimeInfo: Command = {
  summary: 'Show the backend, GPU, memory and threads the inference process sees',
  help: `Usage: soberana runtime info [--data-dir DIR] [--json]

Starts the inference process and reports what it detected: the backend (CPU, CUDA,
Vulkan or Metal) and where its binaries came from (built in, or a runtime pack and its
bundle, with a note for each pack set aside and why), GPUs and their memory, system memory, and the thread count that
"auto" means on this machine.`,
  async run({ dataDir, output }) {
    return withCore(dataDir, async (core) => {
      const hardware = await core.runtime.hardware();
      const settings = core.handlers['settings.get'];
      const current = await settings({}, { caller: { origin: 'cli', isMainFrame: true }, signal: new AbortController().signal });
      const threadsSetting = current.ok ? current.value.runtime.threads : 'auto';
      const threads = threadsSetting === 'auto' ? hardware.cpuCores : threadsSetting;
      if (output.json) {
        output.out(JSON.stringify({ ...hardware, threads, threadsSetting }, null, 2));
      } else {
        output.out(
          [
            `backend   ${hardware.backend}`,
            `binaries  ${hardware.backendSource?.kind === 'pack' ? `runtime pack ${hardware.backendSource.bundleId} v${hardware.backendSource.bundleVersion} (${hardware.backendSource.package})` : 'built in'}${hardware.bindingPath ? `\n          ${hardware.bindingPath}` : ''}`,
            ...(hardware.backendNotices ?? []).map((notice) => `note      ${notice}`),
            `gpu       ${hardware.gpuNames.length === 0 ? 'none found' : hardware.gpuNames.join(', ')}`,
            `vram      ${hardware.vramTotal === 0 ? '-' : `${gib(hardware.vramFree)} free of ${gib(hardware.vramTotal)}`}`,
            `ram       ${gib(hardware.ramFree)} free of ${gib(hardware.ramTotal)}`,
            `threads   ${threads}${threadsSetting === 'auto' ? ' (auto: performance cores the process may use; decoding is measured)' : ' (set in settings)'}`,
            `llama.cpp ${hardware.llamaCppRelease}`,
          ].join('\n'),
        );
      }
      return EXIT.ok;
    });
  },
};

export const generate: Command = {
  summary: 'Stream a reply from a GGUF model to stdout',
  help: `Usage: soberana generate --model <file> [options] "prompt"

Checks the file, loads it in the inference process and streams the reply to stdout.
Timing goes to stderr. Defaults come from the app's runtime settings.

Options:
  --model FILE         The GGUF model (required)
  --max-tokens N       Longest reply, in tokens
  --temperature T      0 to 2
  --threads N          CPU threads
  --context N          Context size in tokens
  --gpu-layers N       Layers on the GPU
  --seed N             Seed for repeatable sampling

Exit codes: 0 ok, 1 the model was refused or failed, 2 bad usage, 3 internal error.`,
  options: {
    model: { type: 'string' },
    'max-tokens': { type: 'string' },
    temperature: { type: 'string' },
    threads: { type: 'string' },
    context: { type: 'string' },
    'gpu-layers': { type: 'string' },
    seed: { type: 'string' },
  },
  positionals: { min: 1, max: 1 },
  async run({ dataDir, output, values, positionals, signal }) {
    const model = values.model;
    if (typeof model !== 'string' || model === '') {
      output.err('--model is required.');
      return EXIT.usage;
    }
    const maxTokens = intOption(values['max-tokens'], 'max-tokens', 1, 32_768);
    const temperature = numberOption(values.temperature, 'temperature', 0, 2);
    const threads = intOption(values.threads, 'threads', 1, 256);
    const contextSize = intOption(values.context, 'context', 64, 1_048_576);
    const gpuLayers = intOption(values['gpu-layers'], 'gpu-layers', 0, 1000);
    const seed = intOption(values.seed, 'seed', 0, 2 ** 31 - 1);
    const prompt = positionals[0]!;

    return withCore(dataDir, async (core) => {
      const ctx = { caller: { origin: 'cli', isMainFrame: true }, signal };
      const current = await core.handlers['settings.get']({}, ctx);
      if (!current.ok) throw new AppError(current.error.code, current.error.message);
      const runtime = { ...current.value.runtime, ...(threads === undefined ? {} : { threads }) };
      const hardware = await core.runtime.hardware();
      const options = loadOptionsFrom(runtime, hardware.cpuCores, {
        ...(contextSize === undefined ? {} : { contextSize }),
        ...(gpuLayers === undefined ? {} : { gpuLayers }),
      });
      const loadStarted = performance.now();
      try {
        await core.runtime.load(model, options, undefined, signal);
      } catch (error) {
        if (error instanceof AppError) {
          if (output.json) output.out(JSON.stringify({ error: error.toData() }, null, 2));
          else output.err(`${error.message}${error.details === undefined ? '' : `\n  ${error.details}`}`);
          return EXIT.problem;
        }
        throw error;
      }
      const loadMs = performance.now() - loadStarted;
      let text = '';
      const stats = await core.runtime.generate(
        {
          prompt,
          ...runtime.sampling,
          ...(maxTokens === undefined ? {} : { maxTokens }),
          ...(temperature === undefined ? {} : { temperature }),
          ...(seed === undefined ? {} : { seed }),
        },
        (delta) => {
          text += delta.text;
          if (!output.json) process.stdout.write(delta.text);
        },
        signal,
      );
      if (output.json) output.out(JSON.stringify({ text, loadMs, ...stats }, null, 2));
      else {
        process.stdout.write('\n');
        output.err(
          `load_ms=${Math.round(loadMs)} first_token_ms=${stats.firstTokenMs === null ? '-' : Math.round(stats.firstTokenMs)} tokens=${stats.tokens} tokens_per_s=${stats.tokensPerSecond.toFixed(1)} stop=${stats.stopReason}`,
        );
      }
      return EXIT.ok;
    });
  },
};
