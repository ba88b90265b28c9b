import type { CompletionMessage } from '../common/runtime/protocol.ts';
import type { ApiCompletionRequest, ApiCompletionResult, ApiEmbedResult, ApiModel } from '../main/services/api/types.ts';
import { RequestError } from './errors.ts';
import { asObject, optArray, optBoolean, optInteger, optNumber, optString, reqString, stopList, type Json } from './fields.ts';

// Ollama's request and response shapes (/api/chat, /api/generate, /api/embed, /api/tags), so
// scripts written for Ollama keep working. Ollama streams by default; its durations are in
// nanoseconds; its tool-call arguments are objects, not JSON text.

export interface OllamaCompletion {
  readonly stream: boolean;
  readonly request: ApiCompletionRequest;
}

/** Ollama names carry a tag; `name:latest` is `name`. */
export function modelName(name: string): string {
  return name.endsWith(':latest') ? name.slice(0, -':latest'.length) : name;
}

function refuseImages(body: Json, param: string): void {
  const images = body['images'];
  if (Array.isArray(images) && images.length > 0) throw new RequestError(`'${param}': images are not supported.`, param);
}

function options(body: Json): { sampling: ApiCompletionRequest['sampling']; stop: string[] } {
  const raw = body['options'];
  const opts = raw === undefined || raw === null ? {} : asObject(raw, 'options');
  const temperature = optNumber(opts, 'temperature', 0, 2, 'options.temperature');
  const topP = optNumber(opts, 'top_p', 0, 1, 'options.top_p');
  const topK = optInteger(opts, 'top_k', 0, 1_000_000, 'options.top_k');
  const minP = optNumber(opts, 'min_p', 0, 1, 'options.min_p');
  const repeatPenalty = optNumber(opts, 'repeat_penalty', 1, 2, 'options.repeat_penalty');
  // Ollama's -1 (no limit) and -2 (fill the context) both mean: the app's own limit.
  const numPredict = optInteger(opts, 'num_predict', -2, 1_000_000, 'options.num_predict');
  const seed = optInteger(opts, 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'options.seed');
  return {
    sampling: {
      ...(temperature === undefined ? {} : { temperature }),
      ...(topP === undefined || topP === 0 ? {} : { topP }),
      ...(topK === undefined ? {} : { topK }),
      ...(minP === undefined ? {} : { minP }),
      ...(repeatPenalty === undefined ? {} : { repeatPenalty }),
      ...(numPredict === undefined || numPredict <= 0 ? {} : { maxTokens: numPredict }),
      ...(seed === undefined ? {} : { seed }),
    },
    stop: stopList(opts['stop'], 'options.stop'),
  };
}

function format(body: Json): ApiCompletionRequest['format'] {
  const value = body['format'];
  if (value === undefined || value === null || value === '') return null;
  if (value === 'json') return { kind: 'json' };
  if (typeof value === 'object' && !Array.isArray(value)) return { kind: 'schema', schema: value as Record<string, unknown> };
  throw new RequestError('\'format\' must be "json" or a JSON schema object.', 'format');
}

function tools(body: Json): ApiCompletionRequest['tools'] {
  return (optArray(body, 'tools', 128) ?? []).map((entry, index) => {
    const fn = asObject(asObject(entry, `tools[${index}]`)['function'], `tools[${index}].function`);
    const name = reqString(fn, 'name', `tools[${index}].function.name`);
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name))
      throw new RequestError(`'tools[${index}].function.name' must be 1 to 64 letters, digits, '_' or '-'.`, `tools[${index}].function.name`);
    const parameters = fn['parameters'];
    return {
      name,
      description: optString(fn, 'description', `tools[${index}].function.description`) ?? '',
      parameters: parameters === undefined || parameters === null ? null : asObject(parameters, `tools[${index}].function.parameters`),
    };
  });
}

function messages(value: unknown): CompletionMessage[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 10_000)
    throw new RequestError("'messages' must be a list of 1 to 10000 messages.", 'messages');
  return value.map((entry, index): CompletionMessage => {
    const param = `messages[${index}]`;
    const message = asObject(entry, param);
    refuseImages(message, `${param}.images`);
    const content = optString(message, 'content', `${param}.content`) ?? '';
    const role = message['role'];
    if (role === 'system' || role === 'user') return { role, content };
    if (role === 'tool') return { role: 'tool', content };
    if (role !== 'assistant') throw new RequestError(`'${param}.role' must be system, user, assistant or tool.`, `${param}.role`);
    const calls = optArray(message, 'tool_calls', 64, `${param}.tool_calls`);
    if (calls === undefined) return { role: 'assistant', content };
    return {
      role: 'assistant',
      content,
      toolCalls: calls.map((call, i) => {
        const fn = asObject(asObject(call, `${param}.tool_calls[${i}]`)['function'], `${param}.tool_calls[${i}].function`);
        const args = fn['arguments'];
        return {
          id: `call_${i}`,
          name: reqString(fn, 'name', `${param}.tool_calls[${i}].function.name`),
          arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
        };
      }),
    };
  });
}

export function parseChat(raw: unknown): OllamaCompletion {
  const body = asObject(raw, null);
  const { sampling, stop } = options(body);
  const toolList = tools(body);
  return {
    stream: optBoolean(body, 'stream') ?? true,
    request: {
      model: modelName(reqString(body, 'model')),
      messages: messages(body['messages']),
      prompt: null,
      sampling,
      stop,
      format: format(body),
      tools: toolList,
      toolChoice: toolList.length === 0 ? 'none' : 'auto',
      collections: [],
    },
  };
}

/** `/api/generate`: through the chat template (with `system`) unless `raw`. An empty prompt is Ollama's "load the model" call. */
export function parseGenerate(raw: unknown): OllamaCompletion & { readonly empty: boolean } {
  const body = asObject(raw, null);
  refuseImages(body, 'images');
  if ((optString(body, 'template') ?? '') !== '') throw new RequestError("'template' is not supported: the model's own chat template is used.", 'template');
  if ((optString(body, 'suffix') ?? '') !== '') throw new RequestError("'suffix' is not supported.", 'suffix');
  const { sampling, stop } = options(body);
  const prompt = optString(body, 'prompt') ?? '';
  const system = optString(body, 'system');
  const isRaw = optBoolean(body, 'raw') ?? false;
  const chat: CompletionMessage[] = [
    ...(system === undefined || system === '' ? [] : [{ role: 'system' as const, content: system }]),
    { role: 'user', content: prompt },
  ];
  return {
    stream: optBoolean(body, 'stream') ?? true,
    empty: prompt === '',
    request: {
      model: modelName(reqString(body, 'model')),
      messages: isRaw ? null : chat,
      prompt: isRaw ? prompt : null,
      sampling,
      stop,
      format: format(body),
      tools: [],
      toolChoice: 'none',
      collections: [],
    },
  };
}

export function parseEmbed(raw: unknown, legacy: boolean): { model: string; input: string[] } {
  const body = asObject(raw, null);
  const model = modelName(reqString(body, 'model'));
  if (legacy) return { model, input: [reqString(body, 'prompt')] };
  const input = body['input'];
  const list = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(list) || list.length === 0 || list.length > 4096 || list.some((item) => typeof item !== 'string')) {
    throw new RequestError("'input' must be a string or a list of 1 to 4096 strings.", 'input');
  }
  return { model, input: list as string[] };
}

const ns = (ms: number): number => Math.round(ms * 1_000_000);

function timings(result: ApiCompletionResult): Record<string, number> {
  const first = result.stats.firstTokenMs ?? result.stats.ms;
  return {
    total_duration: ns(result.stats.ms),
    load_duration: 0,
    prompt_eval_count: result.stats.promptTokens,
    prompt_eval_duration: ns(first),
    eval_count: result.stats.tokens,
    eval_duration: ns(Math.max(0, result.stats.ms - first)),
  };
}

function doneReason(result: ApiCompletionResult): string {
  return result.finishReason === 'length' ? 'length' : 'stop';
}

function toolCalls(result: ApiCompletionResult): { function: { name: string; arguments: unknown } }[] {
  return result.toolCalls.map((call) => {
    let args: unknown;
    try {
      args = JSON.parse(call.arguments);
    } catch {
      args = call.arguments;
    }
    return { function: { name: call.name, arguments: args } };
  });
}

export function chatDelta(model: string, text: string): Record<string, unknown> {
  return { model, created_at: new Date().toISOString(), message: { role: 'assistant', content: text }, done: false };
}

/** The last line of a streamed chat, or the whole reply when not streamed (`content` = the full text). */
export function chatDone(result: ApiCompletionResult, content: string): Record<string, unknown> {
  const calls = toolCalls(result);
  return {
    model: result.model,
    created_at: new Date().toISOString(),
    message: { role: 'assistant', content, ...(calls.length === 0 ? {} : { tool_calls: calls }) },
    done: true,
    done_reason: doneReason(result),
    ...timings(result),
  };
}

export function generateDelta(model: string, text: string): Record<string, unknown> {
  return { model, created_at: new Date().toISOString(), response: text, done: false };
}

export function generateDone(result: ApiCompletionResult, response: string): Record<string, unknown> {
  return { model: result.model, created_at: new Date().toISOString(), response, done: true, done_reason: doneReason(result), ...timings(result) };
}

/** Ollama's answer to a generate call with no prompt: the model is known, nothing is generated. */
export function generateLoaded(model: string): Record<string, unknown> {
  return { model, created_at: new Date().toISOString(), response: '', done: true, done_reason: 'load' };
}

export function embedBody(result: ApiEmbedResult, legacy: boolean): Record<string, unknown> {
  if (legacy) return { embedding: result.vectors[0] ?? [] };
  return { model: result.model, embeddings: result.vectors, total_duration: 0, load_duration: 0, prompt_eval_count: result.promptTokens };
}

export function tagsBody(models: readonly ApiModel[]): Record<string, unknown> {
  return {
    models: models.map((model) => ({
      name: model.id,
      model: model.id,
      modified_at: model.addedAt,
      size: model.sizeBytes,
      digest: model.sha256,
      details: {
        parent_model: '',
        format: 'gguf',
        family: model.family ?? '',
        families: model.family === null ? null : [model.family],
        parameter_size: model.parameterSize ?? '',
        quantization_level: model.quantization ?? '',
      },
    })),
  };
}
