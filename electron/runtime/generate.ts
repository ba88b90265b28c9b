import { LlamaChatSession } from 'node-llama-cpp';
import type { Delta, GenerateParams, GenerateStats } from '../common/runtime/protocol.ts';
import { decodePhase, type LoadedChat } from './chat-model.ts';
import { DELTA_INTERVAL_MS } from './deltas.ts';
import type { RuntimeLog } from './log.ts';

/** A one-off prompt, outside any conversation. The caller allows one reply at a time. */
export async function generateOnce(
  loaded: LoadedChat,
  params: GenerateParams,
  signal: AbortSignal,
  onDelta: (delta: Delta) => void,
  log: RuntimeLog,
): Promise<GenerateStats> {
  // The one sequence the chat sessions share; a one-off prompt reuses whatever prefix it can.
  const session = new LlamaChatSession({ contextSequence: loaded.sequence, chatWrapper: loaded.wrapper, autoDisposeSequence: false });
  const phase = decodePhase(loaded, log);
  let pending = '';
  let pendingTokens = 0;
  let tokens = 0;
  let firstTokenMs: number | null = null;
  const started = performance.now();
  const flush = () => {
    if (pending === '' && pendingTokens === 0) return;
    onDelta({ text: pending, reasoning: '', tokens: pendingTokens });
    pending = '';
    pendingTokens = 0;
  };
  const timer = setInterval(flush, DELTA_INTERVAL_MS);
  try {
    const promptTokens = loaded.model.tokenize(params.prompt).length;
    const response = await session.promptWithMeta(params.prompt, {
      maxTokens: params.maxTokens,
      temperature: params.temperature,
      topP: params.topP,
      topK: params.topK,
      repeatPenalty: { penalty: params.repeatPenalty },
      ...(params.seed === undefined ? {} : { seed: params.seed }),
      signal,
      stopOnAbortSignal: true,
      onToken: (chunk) => {
        tokens += chunk.length;
        pendingTokens += chunk.length;
        firstTokenMs ??= performance.now() - started;
        phase.tokens(chunk.length);
      },
      onTextChunk: (text) => {
        pending += text;
      },
    });
    flush();
    const ms = performance.now() - started;
    const decodeMs = firstTokenMs === null ? ms : ms - firstTokenMs;
    const stopReason =
      response.stopReason === 'eogToken' ? 'eos' : response.stopReason === 'maxTokens' ? 'maxTokens' : response.stopReason === 'abort' ? 'aborted' : 'other';
    return {
      tokens,
      promptTokens,
      ms,
      firstTokenMs,
      tokensPerSecond: tokens > 1 && decodeMs > 0 ? ((tokens - 1) * 1000) / decodeMs : 0,
      stopReason,
    };
  } finally {
    clearInterval(timer);
    phase.end();
    session.dispose({ disposeSequence: false });
  }
}
