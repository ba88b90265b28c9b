import {
  LlamaChat,
  LlamaCompletion,
  type ChatHistoryItem,
  type ChatModelFunctions,
  type GbnfJsonSchema,
  type LlamaChatResponseChunk,
  type Llama,
  type LlamaGrammar,
} from 'node-llama-cpp';
import { grammarSchema, toolArgumentsSchema, UnsupportedSchemaError } from '../common/runtime/grammar-schema.ts';
import type { CompletionOutcome, CompletionParams, Delta, GenerateStats, ToolSpec } from '../common/runtime/protocol.ts';
import { decodePhase, type LoadedChat } from './chat-model.ts';
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
// The reply's form:
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

function badSchema(error: unknown, where: string): RuntimeError {
  const message = error instanceof Error ? error.message : String(error);
  return new RuntimeError({ code: 'bad_request', message: `${where}: ${message}` });
}

async function schemaGrammar(loaded: LoadedChat, schema: Record<string, unknown>, where: string): Promise<LlamaGrammar> {
  try {
    // The schema was checked by grammar-schema.ts; node-llama-cpp's type is its literal shape, known only at run time here.
    return await loaded.llama.createGrammarForJsonSchema(schema as Parameters<Llama['createGrammarForJsonSchema']>[0]);
  } catch (error) {
    throw badSchema(error, where);
  }
}

async function formatGrammar(loaded: LoadedChat, format: CompletionParams['format']): Promise<LlamaGrammar | undefined> {
  if (format === null) return undefined;
  if (format.kind === 'json') return loaded.llama.getGrammarFor('json');
  let schema: Record<string, unknown>;
  try {
    schema = grammarSchema(format.schema);
  } catch (error) {
    if (error instanceof UnsupportedSchemaError) throw badSchema(error, 'The response format');
    throw error;
  }
  return schemaGrammar(loaded, schema, 'The response format');
}

function toolSchema(tool: ToolSpec): Record<string, unknown> {
  try {
    return toolArgumentsSchema(tool.parameters);
  } catch (error) {
    if (error instanceof UnsupportedSchemaError) throw badSchema(error, `The tool "${tool.name}"`);
    throw error;
  }
}

/** Tools as node-llama-cpp's function definitions, without handlers: a call ends the reply and comes back to the client. */
function chatFunctions(tools: readonly ToolSpec[]): ChatModelFunctions {
  return Object.fromEntries(
    tools.map((tool) => [
      tool.name,
      {
        ...(tool.description === '' ? {} : { description: tool.description }),
        ...(tool.parameters === null ? {} : { params: toolSchema(tool) as GbnfJsonSchema }),
      },
    ]),
  );
}

/** The tools a forced call may pick from; an unknown name is the client's mistake. */
function forcedTools(params: CompletionParams): readonly ToolSpec[] | null {
  const choice = params.toolChoice;
  if (choice === 'auto' || choice === 'none') return null;
  if (params.tools.length === 0) throw new RuntimeError({ code: 'bad_request', message: 'A tool call was required, but the request lists no tools.' });
  if (choice === 'required') return params.tools;
  const tool = params.tools.find(({ name }) => name === choice.name);
  if (tool === undefined) throw new RuntimeError({ code: 'bad_request', message: `The tool "${choice.name}" is not among the request's tools.` });
  return [tool];
}

function forcedInstruction(tools: readonly ToolSpec[]): string {
  const described = tools.map((tool) =>
    [`- ${tool.name}${tool.description === '' ? '' : `: ${tool.description}`}`, `  arguments (JSON schema): ${JSON.stringify(toolSchema(tool))}`].join('\n'),
  );
  return tools.length === 1
    ? `Call the tool "${tools[0]!.name}" now. Reply with its arguments only, as a JSON object.\n${described.join('\n')}`
    : `Call one of these tools now. Reply with only a JSON object {"name": the tool's name, "arguments": its arguments}.\n${described.join('\n')}`;
}

function withSystemText(history: readonly ChatHistoryItem[], text: string): ChatHistoryItem[] {
  const first = history[0];
  if (first?.type === 'system' && typeof first.text === 'string') return [{ type: 'system', text: `${first.text}\n\n${text}` }, ...history.slice(1)];
  return [{ type: 'system', text }, ...history];
}

/** The forced call's reply as tool calls; null when it is not complete JSON (cut by maxTokens, or stopped). */
function forcedCalls(tools: readonly ToolSpec[], text: string): CompletionOutcome['toolCalls'] | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (tools.length === 1) return [{ name: tools[0]!.name, arguments: JSON.stringify(value) }];
  const picked = value as { name?: unknown; arguments?: unknown };
  if (typeof picked.name !== 'string') return null;
  return [{ name: picked.name, arguments: JSON.stringify(picked.arguments ?? {}) }];
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
  const grammar =
    forced !== null
      ? await schemaGrammar(
          loaded,
          forced.length === 1
            ? toolSchema(forced[0]!)
            : {
                oneOf: forced.map((tool) => ({ type: 'object', properties: { name: { const: tool.name }, arguments: toolSchema(tool) } })),
              },
          'The tools',
        )
      : await formatGrammar(loaded, params.format);
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
