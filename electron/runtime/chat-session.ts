import { LlamaChatSession, type LlamaChatResponseChunk } from 'node-llama-cpp';
import type { ChatOutcome, ChatParams, Delta, GenerateStats } from '../common/runtime/protocol.ts';
import { countTrimmedTurns, sameVisibleHistory, toChatHistory } from './chat-history.ts';
import { decodePhase, type LoadedChat } from './chat-model.ts';
import { deltaBatcher } from './deltas.ts';
import type { RuntimeLog } from './log.ts';
import { RuntimeError } from './runtime-error.ts';

// Chat and the KV cache. The context has a single sequence: every extra sequence
// costs a whole context's worth of KV memory, which the fit estimate did not budget
// for. Recent conversations each keep a LlamaChatSession on that one sequence (a small
// LRU). A session remembers its chat history and where the last evaluation left the
// context window, and node-llama-cpp reuses the longest common token prefix between
// what the sequence holds and what it must evaluate next. So a follow-up in the
// conversation that ran last evaluates only the new prompt; going back to another
// conversation re-evaluates from where the two diverge (usually just after the
// system prompt).

/** Conversations whose session (history and context-window state) is kept. */
export const CHAT_SESSIONS = 4;

/** Sessions by conversation, least recently used first. */
export type ChatSessions = Map<string, LlamaChatSession>;

/** A stop generation trigger is the end-of-turn marker written out as text: the model ended its turn too. */
const STOP_REASONS: Readonly<Record<string, GenerateStats['stopReason']>> = {
  eogToken: 'eos',
  stopGenerationTrigger: 'eos',
  maxTokens: 'maxTokens',
  abort: 'aborted',
};

function chatFailure(error: unknown): RuntimeError {
  if (error instanceof RuntimeError) return error;
  const details = error instanceof Error ? error.message : String(error);
  // node-llama-cpp's words when even the system prompt and the new message alone overflow the context.
  if (/compress chat history|context size is too small/i.test(details)) {
    return new RuntimeError({
      code: 'bad_request',
      message: 'The system prompt and the message do not fit in the model’s context. Shorten them, or load the model with a larger context.',
      details,
    });
  }
  return new RuntimeError({ code: 'internal', message: 'The reply could not be generated.', details });
}

/** Lets go of every session; the sequence they share stays with the model. */
export function disposeSessions(sessions: ChatSessions): void {
  for (const session of sessions.values()) session.dispose({ disposeSequence: false });
  sessions.clear();
}

/** One reply in a conversation, on its kept session when there is one. The caller allows one reply at a time. */
export async function chatTurn(
  loaded: LoadedChat,
  sessions: ChatSessions,
  params: ChatParams,
  signal: AbortSignal,
  onDelta: (delta: Delta) => void,
  log: RuntimeLog,
): Promise<ChatOutcome> {
  const started = performance.now();
  const batcher = deltaBatcher(onDelta);
  const phase = decodePhase(loaded, log);
  const meter = loaded.sequence.tokenMeter;
  const meterBefore = meter.getState();
  let firstTokenMs: number | null = null;
  let evaluatedTokens: number | null = null;
  let promptTokens: number | null = null;
  try {
    let session = sessions.get(params.conversationId);
    if (session === undefined || session.disposed) {
      session = new LlamaChatSession({ contextSequence: loaded.sequence, chatWrapper: loaded.wrapper, autoDisposeSequence: false });
      // The constructor adds node-llama-cpp's default system prompt; the request's history replaces it below.
      session.setChatHistory([]);
    }
    sessions.delete(params.conversationId);
    sessions.set(params.conversationId, session);
    for (const [id, old] of sessions) {
      if (sessions.size <= CHAT_SESSIONS) break;
      old.dispose({ disposeSequence: false });
      sessions.delete(id);
    }

    const requested = toChatHistory(params.systemPrompt, params.history);
    const current = session.getChatHistory();
    let prompt: string;
    let responsePrefix: string | undefined;
    let priorTurns: number;
    if (params.prompt === null) {
      // Continue: answer the last user turn again, with the truncated answer forced as
      // the start of the reply (node-llama-cpp's responsePrefix). Its tokens are mostly
      // still in the sequence from when it was generated, so only the tail is evaluated.
      const last = params.history.at(-1);
      const user = params.history.at(-2);
      if (last?.role !== 'assistant' || user?.role !== 'user') {
        throw new RuntimeError({ code: 'bad_request', message: 'There is no answer to continue: the history must end with a question and its answer.' });
      }
      const base = sameVisibleHistory(current, requested) ? current.slice(0, -2) : requested.slice(0, -2);
      session.setChatHistory(base);
      prompt = user.content;
      responsePrefix = last.content === '' ? undefined : last.content;
      priorTurns = params.history.length - 2;
    } else {
      // A follow-up to what this session last answered keeps the session as it is, with its
      // reasoning segments and its last context window, so only the new prompt is evaluated.
      if (!sameVisibleHistory(current, requested)) session.setChatHistory(requested);
      prompt = params.prompt;
      priorTurns = params.history.length;
    }

    let prefixPending = responsePrefix !== undefined;
    const onResponseChunk = (chunk: LlamaChatResponseChunk) => {
      if (prefixPending && chunk.type === undefined && chunk.text === responsePrefix) {
        // The forced prefix is echoed back first; the client has it already.
        prefixPending = false;
        return;
      }
      if (firstTokenMs === null) {
        firstTokenMs = performance.now() - started;
        const used = meter.diff(meterBefore);
        // The last prompt token is evaluated with logits, so the meter counts it as output.
        evaluatedTokens = used.usedInputTokens + 1;
        promptTokens = Math.max(0, loaded.sequence.nextTokenIndex - Math.max(0, used.usedOutputTokens - 1));
      }
      phase.tokens(chunk.tokens.length);
      batcher.add(chunk.text, chunk.type === 'segment' && chunk.segmentType === 'thought', chunk.tokens.length);
    };

    let stopReason: GenerateStats['stopReason'];
    try {
      const response = await session.promptWithMeta(prompt, {
        maxTokens: params.sampling.maxTokens,
        temperature: params.sampling.temperature,
        topP: params.sampling.topP,
        topK: params.sampling.topK,
        minP: params.sampling.minP,
        repeatPenalty: { penalty: params.sampling.repeatPenalty },
        ...(params.sampling.seed === null ? {} : { seed: params.sampling.seed }),
        ...(responsePrefix === undefined ? {} : { responsePrefix }),
        signal,
        stopOnAbortSignal: true,
        onResponseChunk,
      });
      stopReason = STOP_REASONS[response.stopReason] ?? 'other';
    } catch (error) {
      // Stopped before the first token: there is no partial answer, and the session keeps its history.
      if (signal.aborted) stopReason = 'aborted';
      else throw chatFailure(error);
    }
    batcher.close();
    const ms = performance.now() - started;
    const used = meter.diff(meterBefore);
    const decodeMs = firstTokenMs === null ? ms : ms - firstTokenMs;
    // Every token the model produced took decoding time, shown or not; so the meter, not the chunks, counts them.
    const tokens = used.usedOutputTokens;
    const stats: GenerateStats = {
      tokens,
      promptTokens: promptTokens ?? loaded.model.tokenize(prompt).length,
      ms,
      firstTokenMs,
      tokensPerSecond: tokens > 1 && decodeMs > 0 ? ((tokens - 1) * 1000) / decodeMs : 0,
      stopReason,
      evaluatedTokens: evaluatedTokens ?? used.usedInputTokens,
    };
    const trimmed =
      stopReason === 'aborted' && firstTokenMs === null ? 0 : countTrimmedTurns(session.getChatHistory(), session.getLastEvaluationContextWindow());
    return { stats, trimmedTurns: Math.min(priorTurns, trimmed), defaultTemplate: loaded.defaultTemplate };
  } finally {
    batcher.close();
    phase.end();
  }
}
