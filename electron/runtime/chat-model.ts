import { basename } from 'node:path';
import type { ChatWrapper, Llama, LlamaContext, LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import type { LoadedModelInfo } from '../common/runtime/protocol.ts';
import type { DecodeThreadTuner } from './decode-threads.ts';
import type { RuntimeLog } from './log.ts';

/** The chat model as loaded: one context with one sequence, which chat sessions and one-off prompts share. */
export interface LoadedChat {
  llama: Llama;
  /** The instance's thread cap outside decoding; prompts are evaluated with the load's full count. */
  baseMaxThreads: number;
  /** Picks the decode thread count; null decodes with the load's count. */
  tuner: DecodeThreadTuner | null;
  model: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
  /** Resolved once: parsing a Jinja template for every new session costs a noticeable part of a second. */
  wrapper: ChatWrapper;
  info: LoadedModelInfo;
  defaultTemplate: boolean;
}

/**
 * Decoding may use fewer threads than prompt evaluation (see decode-threads.ts). The
 * context's thread count is fixed when it is created, so the switch goes through the
 * instance's thread cap (`Llama.maxThreads`), which node-llama-cpp applies to every batch.
 */
export function decodePhase(loaded: LoadedChat, log: RuntimeLog) {
  const { llama: instance, tuner, baseMaxThreads } = loaded;
  instance.maxThreads = baseMaxThreads;
  let decoding = false;
  return {
    tokens(count: number) {
      if (tuner === null) return;
      const now = performance.now();
      if (!decoding) {
        decoding = true;
        instance.maxThreads = tuner.begin(now);
        return;
      }
      const before = tuner.choice?.threads ?? null;
      instance.maxThreads = tuner.advance(count, now);
      const choice = tuner.choice;
      if (choice !== null && choice.threads !== before) {
        const timings = [...choice.msPerToken].map(([threads, ms]) => `${threads}: ${ms.toFixed(1)} ms`).join(', ');
        // The first choice is news; later changes follow the machine's load and would be noise in the log.
        log(
          before === null ? 'info' : 'debug',
          `Decoding ${basename(loaded.info.path)} with ${choice.threads} thread(s), the fastest measured (median per token: ${timings}).`,
        );
      }
    },
    end() {
      tuner?.end();
      instance.maxThreads = baseMaxThreads;
    },
  };
}
