import { LlamaChat, LlamaCompletion, type LlamaChatResponseChunk } from 'node-llama-cpp';
import type { CompletionOutcome, CompletionParams, Delta, GenerateStats } from '../common/runtime/protocol.ts';
import { decodePhase, type LoadedChat } from './chat-model.ts';
import { chatFunctions, forcedCalls, forcedGrammar, forcedInstruction, forcedTools, formatGrammar, withSystemText } from './completion-form.ts';
import { toCompletionHistory } from './completion-history.ts';
import { deltaBatcher } from './deltas.ts';
import type { RuntimeLog } from './log.ts';
import { RuntimeError } from './runtime-error.ts';

// Stateless completions for the local API: each request brings its whole conversation (or a
// raw prompt) and nothing of it is kept. They run on the loaded model's one sequence, like
// chat; node-llama-cpp reuses the longest token prefix the sequence holds, so a client that
// resends a growing conversation evaluates only what is new, and the app's next chat turn
// re-evaluates from where the two differ (its session history is untouched).
//
// The reply's form (completion-form.ts):
// - `format` builds a grammar (any JSON, or a JSON schema via grammar-schema.ts), so the
//   reply follows it by construction.
// - tools with toolChoice `auto` use node-llama-cpp's function calling (the chat wrapper's
//   own syntax); the model decides, and its calls come back as toolCalls.
// - toolChoice `required` or `{ name }` forces a call: the tools are described in a system
//   message and the reply is generated under a grammar: the tool's arguments schema for one
//   tool, or `{"name": <const>, "arguments": <that tool's schema>}` as a oneOf over the tools
//   for several (the model picks the tool in the same pass). The arguments are not streamed
//   as text; they arrive in the outcome.

type Sampling = CompletionParams['sampling'];

function samplingOptions(sampling: Sampling) {
  return {
    maxTokens: sampling.maxTokens,
    temperature: sampling.temperature,
    topP: sampling.topP,
    topK: sampling.topK,
    minP: sampling.minP,
    repeatPenalty: { penalty: sampling.repeatPenalty },
    ...(sampling.seed === null ? {} : { seed: sampling.seed }),
  };
}

type StopReason = 'eogToken' | 'stopGenerationTrigger' | 'customStopTrigger' | 'functionCalls' | 'maxTokens' | 'abort';

function finishOf(stopReason: StopReason): CompletionOutcome['finishReason'] {
  switch (stopReason) {
    case 'maxTokens':
      return 'length';
    case 'abort':
      return 'aborted';
    case 'functionCalls':
      return 'tool_calls';
    default:
      return 'stop';
  }
}

function statsStopReason(stopReason: StopReason): GenerateStats['stopReason'] {
  switch (stopReason) {
    case 'eogToken':
    case 'stopGenerationTrigger':
      return 'eos';
    case 'maxTokens':
      return 'maxTokens';
    case 'abort':
      return 'aborted';
    default:
      return 'other';
  }
}

function completionFailure(error: unknown): RuntimeError {
  if (error instanceof RuntimeError) return error;
  const details = error instanceof Error ? error.message : String(error);
  if (/compress chat history|context size is too small|too long|exceeds the context/i.test(details)) {
    return new RuntimeError({
      code: 'bad_request',
      message: 'The messages do not fit in the model’s context. Shorten them, or load the model with a larger context.',
      details,
    });
  }
  return new RuntimeError({ code: 'internal', message: 'The completion could not be generated.', details });
}

/**
 * The deltas as sent, counted. node-llama-cpp decodes a few tokens it never shows (the end of
 * the turn, a piece held back as the possible start of a stop text, a grammar's last token);
 * `settle` sends their count as a last empty delta, so the deltas' tokens add up to the
 * stats' (an API client that sums the stream's usage gets the engine's figure).
 */
function countedDeltas(onDelta: (delta: Delta) => void) {
  let sent = 0;
  return {
    onDelta(delta: Delta) {
      sent += delta.tokens;
      onDelta(delta);
    },
    settle(tokens: number) {
      if (tokens > sent) onDelta({ text: '', reasoning: '', tokens: tokens - sent });
      sent = Math.max(sent, tokens);
    },
  };
}

/** Token counts and timings of one completion, from the sequence's token meter (as chat measures them). */
function meterFor(loaded: LoadedChat) {
  const started = performance.now();
  const meter = loaded.sequence.tokenMeter;
  const before = meter.getState();
  let firstTokenMs: number | null = null;
  let evaluatedTokens: number | null = null;
  let promptTokens: number | null = null;
  return {
    firstToken() {
      if (firstTokenMs !== null) return;
      firstTokenMs = performance.now() - started;
      const used = meter.diff(before);
      // The last prompt token is evaluated with logits, so the meter counts it as output.
      evaluatedTokens = used.usedInputTokens + 1;
      promptTokens = Math.max(0, loaded.sequence.nextTokenIndex - Math.max(0, used.usedOutputTokens - 1));
    },
    /** `promptTokens` for a reply stopped before its first token: by default, what was evaluated. */
    stats(stopReason: GenerateStats['stopReason'], fallbackPromptTokens?: () => number): GenerateStats {
      const ms = performance.now() - started;
      const used = meter.diff(before);
      const decodeMs = firstTokenMs === null ? ms : ms - firstTokenMs;
      const tokens = used.usedOutputTokens;
      return {
        tokens,
        promptTokens: promptTokens ?? fallbackPromptTokens?.() ?? used.usedInputTokens,
        ms,
        firstTokenMs,
        tokensPerSecond: tokens > 1 && decodeMs > 0 ? ((tokens - 1) * 1000) / decodeMs : 0,
        stopReason,
        evaluatedTokens: evaluatedTokens ?? used.usedInputTokens,
      };
    },
  };
}

async function completeMessages(
  loaded: LoadedChat,
  params: CompletionParams & { messages: NonNullable<CompletionParams['messages']> },
  signal: AbortSignal,
  onDelta: (delta: Delta) => void,
  log: RuntimeLog,
): Promise<CompletionOutcome> {
  const forced = forcedTools(params);
  const useFunctions = forced === null && params.toolChoice !== 'none' && params.tools.length > 0;
  if (useFunctions && params.format !== null) {
    throw new RuntimeError({
      code: 'bad_request',
      message: 'A response format cannot be combined with tools the model may call (tool choice "auto"): set the tool choice to "none", "required" or a tool.',
    });
  }
  const grammar = forced !== null ? await forcedGrammar(loaded, forced) : await formatGrammar(loaded, params.format);
  const functions = useFunctions ? chatFunctions(params.tools) : undefined;
  const converted = toCompletionHistory(params.messages);
  const history = forced === null ? converted : withSystemText(converted, forcedInstruction(forced));

  const chat = new LlamaChat({ contextSequence: loaded.sequence, chatWrapper: loaded.wrapper, autoDisposeSequence: false });
  const stream = countedDeltas(onDelta);
  const batcher = deltaBatcher(stream.onDelta);
  const phase = decodePhase(loaded, log);
  const meter = meterFor(loaded);
  const onResponseChunk = (chunk: LlamaChatResponseChunk) => {
    meter.firstToken();
    phase.tokens(chunk.tokens.length);
    // A forced call's arguments are not the reply's text: they come back as a tool call; only their tokens stream.
    batcher.add(forced === null ? chunk.text : '', chunk.type === 'segment' && chunk.segmentType === 'thought', chunk.tokens.length);
  };
  try {
    let stopReason: StopReason;
    let text = '';
    let calls: CompletionOutcome['toolCalls'] = [];
    try {
      const common = {
        ...samplingOptions(params.sampling),
        // Stop texts end the reply's text; a forced call's JSON is written whole.
        ...(params.stop.length === 0 || forced !== null ? {} : { customStopTriggers: params.stop }),
        signal,
        stopOnAbortSignal: true,
        onResponseChunk,
      };
      const response = await chat.generateResponse(
        history,
        functions === undefined ? { ...common, ...(grammar === undefined ? {} : { grammar }) } : { ...common, functions, documentFunctionParams: true },
      );
      stopReason = response.metadata.stopReason;
      // A prefill (the request ending with assistant text) is continued, and not repeated in the response.
      text = response.response;
      calls = (response.functionCalls ?? []).map((call) => ({ name: call.functionName, arguments: JSON.stringify(call.params ?? {}) }));
    } catch (error) {
      // Stopped before the first token: there is no partial reply.
      if (signal.aborted) stopReason = 'abort';
      else throw completionFailure(error);
    }
    batcher.close();
    let finishReason = calls.length > 0 ? 'tool_calls' : finishOf(stopReason);
    if (forced !== null) {
      const parsed = stopReason === 'abort' || stopReason === 'maxTokens' ? null : forcedCalls(forced, text);
      calls = parsed ?? [];
      finishReason = parsed === null ? (stopReason === 'abort' ? 'aborted' : 'length') : 'tool_calls';
      text = '';
    }
    const stats = meter.stats(statsStopReason(stopReason));
    stream.settle(stats.tokens);
    return { stats, text, toolCalls: calls, finishReason };
  } finally {
    batcher.close();
    phase.end();
    chat.dispose({ disposeSequence: false });
  }
}

async function completePrompt(
  loaded: LoadedChat,
  params: CompletionParams & { prompt: string },
  signal: AbortSignal,
  onDelta: (delta: Delta) => void,
  log: RuntimeLog,
): Promise<CompletionOutcome> {
  if (params.tools.length > 0 && params.toolChoice !== 'none')
    throw new RuntimeError({ code: 'bad_request', message: 'Tools need messages (a chat), not a raw prompt.' });
  if (params.prompt === '') throw new RuntimeError({ code: 'bad_request', message: 'The prompt is empty.' });
  const grammar = await formatGrammar(loaded, params.format);
  const completion = new LlamaCompletion({ contextSequence: loaded.sequence, autoDisposeSequence: false });
  const stream = countedDeltas(onDelta);
  const batcher = deltaBatcher(stream.onDelta);
  const phase = decodePhase(loaded, log);
  const meter = meterFor(loaded);
  let heldTokens = 0;
  try {
    let stopReason: StopReason;
    let text = '';
    try {
      const response = await completion.generateCompletionWithMeta(params.prompt, {
        ...samplingOptions(params.sampling),
        ...(params.stop.length === 0 ? {} : { customStopTriggers: params.stop }),
        ...(grammar === undefined ? {} : { grammar }),
        signal,
        stopOnAbortSignal: true,
        onToken: (tokens) => {
          meter.firstToken();
          phase.tokens(tokens.length);
          heldTokens += tokens.length;
        },
        // Text comes after its tokens (later still when it may be the start of a stop text); each delta carries the tokens up to its text.
        onTextChunk: (chunk) => {
          batcher.add(chunk, false, heldTokens);
          heldTokens = 0;
        },
      });
      stopReason = response.metadata.stopReason;
      text = response.response;
    } catch (error) {
      if (signal.aborted) stopReason = 'abort';
      else throw completionFailure(error);
    }
    batcher.close();
    const stats = meter.stats(statsStopReason(stopReason), () => loaded.model.tokenize(params.prompt).length);
    stream.settle(stats.tokens);
    return { stats, text, toolCalls: [], finishReason: finishOf(stopReason) };
  } finally {
    batcher.close();
    phase.end();
    completion.dispose({ disposeSequence: false });
  }
}

/** One stateless completion. The caller allows one reply at a time. */
export function completeOnce(
  loaded: LoadedChat,
  params: CompletionParams,
  signal: AbortSignal,
  onDelta: (delta: Delta) => void,
  log: RuntimeLog,
): Promise<CompletionOutcome> {
  if ((params.messages === null) === (params.prompt === null))
    return Promise.reject(new RuntimeError({ code: 'bad_request', message: 'A completion needs either messages or a prompt, not both.' }));
  if (params.messages !== null) return completeMessages(loaded, { ...params, messages: params.messages }, signal, onDelta, log);
  return completePrompt(loaded, { ...params, prompt: params.prompt! }, signal, onDelta, log);
}
