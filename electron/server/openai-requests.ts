import type { CompletionMessage, ToolSpec } from '../common/runtime/protocol.ts';
import type { ApiCompletionRequest, ApiSearchRequest } from '../main/services/api/types.ts';
import { RequestError } from './errors.ts';
import { asObject, onlyNeutral, optArray, optBoolean, optInteger, optNumber, optString, reqString, stopList, stringList, type Json } from './fields.ts';

// OpenAI request bodies → the service's requests. Shape only: which values are allowed for a
// token, and what the policy's locks make of them, is the service's business. Fields that
// would change the answer and that we cannot honour (n > 1, logprobs, images) are refused with
// a 400 naming them, rather than silently ignored.

export const MAX_MESSAGES = 10_000;
const MAX_TOOLS = 128;
const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export interface StreamOptions {
  readonly stream: boolean;
  /** `stream_options.include_usage`: a last chunk with the token counts. */
  readonly includeUsage: boolean;
}

export interface OpenAiChatRequest extends StreamOptions {
  readonly request: ApiCompletionRequest;
}

function sampling(body: Json): ApiCompletionRequest['sampling'] {
  const temperature = optNumber(body, 'temperature', 0, 2);
  const topP = optNumber(body, 'top_p', 0, 1);
  if (topP === 0) throw new RequestError("'top_p' must be greater than 0.", 'top_p');
  const maxTokens = optInteger(body, 'max_completion_tokens', 1, 1_000_000) ?? optInteger(body, 'max_tokens', 1, 1_000_000);
  const seed = optInteger(body, 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  // llama.cpp's server takes these too; scripts written for it keep working.
  const topK = optInteger(body, 'top_k', 0, 1_000_000);
  const minP = optNumber(body, 'min_p', 0, 1);
  const repeatPenalty = optNumber(body, 'repeat_penalty', 1, 2);
  return {
    ...(temperature === undefined ? {} : { temperature }),
    ...(topP === undefined ? {} : { topP }),
    ...(maxTokens === undefined ? {} : { maxTokens }),
    ...(seed === undefined ? {} : { seed }),
    ...(topK === undefined ? {} : { topK }),
    ...(minP === undefined ? {} : { minP }),
    ...(repeatPenalty === undefined ? {} : { repeatPenalty }),
  };
}

/** Refuses the fields that ask for what a local single-answer model does not do. */
function refuseUnsupported(body: Json): void {
  onlyNeutral(body, 'n', [1], 'one answer per request.');
  onlyNeutral(body, 'logprobs', [false], 'log probabilities are not returned.');
  onlyNeutral(body, 'top_logprobs', [0], 'log probabilities are not returned.');
  onlyNeutral(body, 'echo', [false], 'the prompt is not echoed.');
  onlyNeutral(body, 'best_of', [1], 'one answer per request.');
  onlyNeutral(body, 'suffix', [''], 'fill-in-the-middle is not supported.');
  onlyNeutral(body, 'frequency_penalty', [0], "use 'repeat_penalty' (1 to 2).");
  onlyNeutral(body, 'presence_penalty', [0], "use 'repeat_penalty' (1 to 2).");
  onlyNeutral(body, 'audio', [], 'audio is not supported.');
  const bias = body['logit_bias'];
  if (bias !== undefined && bias !== null && (typeof bias !== 'object' || Object.keys(bias).length > 0)) {
    throw new RequestError("'logit_bias' is not supported.", 'logit_bias');
  }
  const modalities = body['modalities'];
  if (modalities !== undefined && modalities !== null && JSON.stringify(modalities) !== '["text"]') {
    throw new RequestError("'modalities' is not supported: text only.", 'modalities');
  }
}

function streamOptions(body: Json): StreamOptions {
  const stream = optBoolean(body, 'stream') ?? false;
  const options = body['stream_options'] === undefined || body['stream_options'] === null ? {} : asObject(body['stream_options'], 'stream_options');
  return { stream, includeUsage: optBoolean(options, 'include_usage', 'stream_options.include_usage') ?? false };
}

/** Message content: a string, or text parts (images and audio are not supported). */
function contentText(value: unknown, param: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) throw new RequestError(`'${param}' must be a string or a list of text parts.`, param);
  return value
    .map((part, index) => {
      const item = asObject(part, `${param}[${index}]`);
      if (item['type'] !== 'text' || typeof item['text'] !== 'string') {
        throw new RequestError(`'${param}[${index}]': only text parts are supported (no images, audio or files).`, `${param}[${index}]`);
      }
      return item['text'];
    })
    .join('\n');
}

function toolCalls(value: unknown, param: string): NonNullable<CompletionMessage['toolCalls']> {
  const list = value;
  if (!Array.isArray(list) || list.length > 64) throw new RequestError(`'${param}' must be a list of up to 64 tool calls.`, param);
  return list.map((entry, index) => {
    const call = asObject(entry, `${param}[${index}]`);
    const fn = asObject(call['function'], `${param}[${index}].function`);
    const name = reqString(fn, 'name', `${param}[${index}].function.name`);
    const args = optString(fn, 'arguments', `${param}[${index}].function.arguments`) ?? '{}';
    return { id: optString(call, 'id', `${param}[${index}].id`) ?? `call_${index}`, name, arguments: args };
  });
}

export function chatMessages(value: unknown): CompletionMessage[] {
  if (!Array.isArray(value) || value.length === 0) throw new RequestError("'messages' must be a non-empty list.", 'messages');
  if (value.length > MAX_MESSAGES) throw new RequestError(`'messages' may have at most ${MAX_MESSAGES} items.`, 'messages');
  return value.map((entry, index): CompletionMessage => {
    const param = `messages[${index}]`;
    const message = asObject(entry, param);
    const role = message['role'];
    const content = contentText(message['content'], `${param}.content`);
    switch (role) {
      case 'system':
      case 'developer':
        return { role: 'system', content };
      case 'user':
        return { role: 'user', content };
      case 'assistant': {
        const calls = message['tool_calls'];
        return calls === undefined || calls === null
          ? { role: 'assistant', content }
          : { role: 'assistant', content, toolCalls: toolCalls(calls, `${param}.tool_calls`) };
      }
      case 'tool': {
        const id = optString(message, 'tool_call_id', `${param}.tool_call_id`);
        return id === undefined ? { role: 'tool', content } : { role: 'tool', content, toolCallId: id };
      }
      default:
        throw new RequestError(`'${param}.role' must be system, developer, user, assistant or tool.`, `${param}.role`);
    }
  });
}

function tools(body: Json): ToolSpec[] {
  const list = optArray(body, 'tools', MAX_TOOLS) ?? [];
  return list.map((entry, index) => {
    const param = `tools[${index}]`;
    const tool = asObject(entry, param);
    if (tool['type'] !== 'function') throw new RequestError(`'${param}.type' must be 'function'.`, `${param}.type`);
    const fn = asObject(tool['function'], `${param}.function`);
    const name = reqString(fn, 'name', `${param}.function.name`);
    if (!TOOL_NAME.test(name)) throw new RequestError(`'${param}.function.name' must be 1 to 64 letters, digits, '_' or '-'.`, `${param}.function.name`);
    const parameters = fn['parameters'];
    return {
      name,
      description: optString(fn, 'description', `${param}.function.description`) ?? '',
      parameters: parameters === undefined || parameters === null ? null : asObject(parameters, `${param}.function.parameters`),
    };
  });
}

function toolChoice(body: Json, toolNames: readonly string[]): ApiCompletionRequest['toolChoice'] {
  const value = body['tool_choice'];
  if (value === undefined || value === null) return 'auto';
  if (value === 'auto' || value === 'none' || value === 'required') return value;
  const choice = asObject(value, 'tool_choice');
  const name = reqString(asObject(choice['function'], 'tool_choice.function'), 'name', 'tool_choice.function.name');
  if (!toolNames.includes(name)) throw new RequestError(`'tool_choice' names '${name}', which is not in 'tools'.`, 'tool_choice');
  return { name };
}

function responseFormat(body: Json): ApiCompletionRequest['format'] {
  const value = body['response_format'];
  if (value === undefined || value === null) return null;
  const format = asObject(value, 'response_format');
  switch (format['type']) {
    case 'text':
      return null;
    case 'json_object':
      return { kind: 'json' };
    case 'json_schema': {
      const spec = asObject(format['json_schema'], 'response_format.json_schema');
      return { kind: 'schema', schema: asObject(spec['schema'], 'response_format.json_schema.schema') };
    }
    default:
      throw new RequestError("'response_format.type' must be text, json_object or json_schema.", 'response_format.type');
  }
}

export function parseChatRequest(raw: unknown): OpenAiChatRequest {
  const body = asObject(raw, null);
  refuseUnsupported(body);
  const toolList = tools(body);
  return {
    ...streamOptions(body),
    request: {
      model: reqString(body, 'model'),
      messages: chatMessages(body['messages']),
      prompt: null,
      sampling: sampling(body),
      stop: stopList(body['stop'], 'stop'),
      format: responseFormat(body),
      tools: toolList,
      toolChoice:
        toolList.length === 0
          ? 'none'
          : toolChoice(
              body,
              toolList.map((tool) => tool.name),
            ),
      collections: stringList(body['collections'], 'collections', 64),
    },
  };
}

/** `/v1/completions`: one prompt, raw (no chat template). */
export function parseCompletionRequest(raw: unknown): OpenAiChatRequest {
  const body = asObject(raw, null);
  refuseUnsupported(body);
  let prompt = body['prompt'];
  if (Array.isArray(prompt) && prompt.length === 1) prompt = prompt[0];
  if (typeof prompt !== 'string') throw new RequestError("'prompt' must be one string (lists of prompts and token arrays are not supported).", 'prompt');
  return {
    ...streamOptions(body),
    request: {
      model: reqString(body, 'model'),
      messages: null,
      prompt,
      sampling: sampling(body),
      stop: stopList(body['stop'], 'stop'),
      format: responseFormat(body),
      tools: [],
      toolChoice: 'none',
      collections: [],
    },
  };
}

export interface OpenAiEmbedRequest {
  readonly model: string;
  readonly input: string[];
  readonly encoding: 'float' | 'base64';
}

export function parseEmbedRequest(raw: unknown): OpenAiEmbedRequest {
  const body = asObject(raw, null);
  const input = body['input'];
  const list = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(list) || list.length === 0 || list.length > 4096 || list.some((item) => typeof item !== 'string')) {
    throw new RequestError("'input' must be a string or a list of 1 to 4096 strings (token arrays are not supported).", 'input');
  }
  const encoding = optString(body, 'encoding_format') ?? 'float';
  if (encoding !== 'float' && encoding !== 'base64') throw new RequestError("'encoding_format' must be float or base64.", 'encoding_format');
  if (body['dimensions'] !== undefined && body['dimensions'] !== null) {
    throw new RequestError("'dimensions' is not supported: vectors have the model's own size.", 'dimensions');
  }
  return { model: reqString(body, 'model'), input: list as string[], encoding };
}

/** Our extension, `/v1/knowledge/search`: {collection, query, k}. */
export function parseSearchRequest(raw: unknown): ApiSearchRequest {
  const body = asObject(raw, null);
  const query = reqString(body, 'query');
  if (query.trim().length === 0) throw new RequestError("'query' must not be empty.", 'query');
  return { collection: reqString(body, 'collection'), query, k: optInteger(body, 'k', 1, 100) ?? 8 };
}
