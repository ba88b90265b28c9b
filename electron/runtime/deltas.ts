import type { Delta } from '../common/runtime/protocol.ts';

export const DELTA_INTERVAL_MS = 40; // architecture: deltas batched every 30 to 50 ms

/**
 * Streams what a generation produces as deltas: the first one at once (it is the time to
 * first token the user sees), then whatever gathered every DELTA_INTERVAL_MS, so the
 * main process and the renderer handle a few dozen messages a second, not one per token.
 */
export function deltaBatcher(onDelta: (delta: Delta) => void) {
  let text = '';
  let reasoning = '';
  let tokens = 0;
  let sent = false;
  const flush = () => {
    if (text === '' && reasoning === '' && tokens === 0) return;
    onDelta({ text, reasoning, tokens });
    text = '';
    reasoning = '';
    tokens = 0;
  };
  const timer = setInterval(flush, DELTA_INTERVAL_MS);
  return {
    add(chunkText: string, isReasoning: boolean, chunkTokens: number) {
      if (isReasoning) reasoning += chunkText;
      else text += chunkText;
      tokens += chunkTokens;
      if (!sent) {
        sent = true;
        flush();
      }
    },
    close() {
      clearInterval(timer);
      flush();
    },
  };
}
