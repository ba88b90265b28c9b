import { describe, expect, it } from 'vitest';
import type { ApiCompletionResult } from '../main/services/api/types.ts';
import { declaredTooLarge, parseJson } from './body.ts';
import { flavorOf, openaiErrorBody, RequestError, toHttpError } from './errors.ts';
import { AppError } from '../common/result.ts';
import * as ollama from './ollama.ts';
import { parseChatRequest, parseCompletionRequest, parseEmbedRequest, parseSearchRequest } from './openai-requests.ts';
import { base64Vector, chatClosingChunks, chatCompletionBody, embeddingsBody } from './openai-responses.ts';
import { matchRoute } from './routes.ts';

const result = (over: Partial<ApiCompletionResult> = {}): ApiCompletionResult => ({
  model: 'tiny',
  text: 'Hello',
  toolCalls: [],
  finishReason: 'stop',
  sources: [],
  stats: { tokens: 3, promptTokens: 7, ms: 50, firstTokenMs: 10, tokensPerSecond: 60, stopReason: 'eos' },
  ...over,
});

function paramOf(run: () => unknown): string | null {
  try {
    run();
  } catch (error) {
    if (error instanceof RequestError) return error.param;
    throw error;
  }
  throw new Error('expected a RequestError');
}

describe('OpenAI requests', () => {
  it('maps a chat request with sampling, stop, a schema, tools and collections', () => {
    const parsed = parseChatRequest({
      model: 'tiny',
      messages: [
        { role: 'developer', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'a' },
            { type: 'text', text: 'b' },
          ],
        },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"x":1}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: '42' },
      ],
      temperature: 0.2,
      top_p: 0.9,
      max_completion_tokens: 20,
      max_tokens: 99,
      seed: 7,
      stop: 'END',
      stream: true,
      stream_options: { include_usage: true },
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      collections: ['col1'],
      n: 1,
      frequency_penalty: 0,
    });
    expect(parsed.stream).toBe(true);
    expect(parsed.includeUsage).toBe(true);
    expect(parsed.request.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'a\nb' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'f', arguments: '{"x":1}' }] },
      { role: 'tool', content: '42', toolCallId: 'c1' },
    ]);
    expect(parsed.request.sampling).toEqual({ temperature: 0.2, topP: 0.9, maxTokens: 20, seed: 7 });
    expect(parsed.request.stop).toEqual(['END']);
    expect(parsed.request.format).toEqual({ kind: 'schema', schema: { type: 'object' } });
    expect(parsed.request.tools).toEqual([{ name: 'f', description: '', parameters: { type: 'object' } }]);
    expect(parsed.request.toolChoice).toEqual({ name: 'f' });
    expect(parsed.request.collections).toEqual(['col1']);
  });

  it('names the field at fault, and refuses what it cannot honour instead of ignoring it', () => {
    const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    expect(paramOf(() => parseChatRequest({ messages: base.messages }))).toBe('model');
    expect(paramOf(() => parseChatRequest({ ...base, temperature: 3 }))).toBe('temperature');
    expect(paramOf(() => parseChatRequest({ ...base, n: 2 }))).toBe('n');
    expect(paramOf(() => parseChatRequest({ ...base, logprobs: true }))).toBe('logprobs');
    expect(paramOf(() => parseChatRequest({ ...base, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }))).toBe(
      'messages[0].content[0]',
    );
    expect(
      paramOf(() =>
        parseChatRequest({ ...base, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function', function: { name: 'g' } } }),
      ),
    ).toBe('tool_choice');
    expect(paramOf(() => parseChatRequest({ ...base, response_format: { type: 'xml' } }))).toBe('response_format.type');
    expect(paramOf(() => parseChatRequest({ ...base, stop: Array.from({ length: 17 }, () => 'x') }))).toBe('stop');
    expect(paramOf(() => parseChatRequest([]))).toBeNull();
  });

  it('defaults: not streamed, no tools means no tool choice, json_object is any JSON', () => {
    const parsed = parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_object' } });
    expect(parsed.stream).toBe(false);
    expect(parsed.request.toolChoice).toBe('none');
    expect(parsed.request.format).toEqual({ kind: 'json' });
    expect(parsed.request.sampling).toEqual({});
  });

  it('maps completions, embeddings and knowledge search', () => {
    expect(parseCompletionRequest({ model: 'm', prompt: ['Once'] }).request).toMatchObject({ prompt: 'Once', messages: null });
    expect(paramOf(() => parseCompletionRequest({ model: 'm', prompt: ['a', 'b'] }))).toBe('prompt');
    expect(parseEmbedRequest({ model: 'e', input: 'x' })).toEqual({ model: 'e', input: ['x'], encoding: 'float' });
    expect(parseEmbedRequest({ model: 'e', input: ['x', 'y'], encoding_format: 'base64' }).encoding).toBe('base64');
    expect(paramOf(() => parseEmbedRequest({ model: 'e', input: [[1, 2]] }))).toBe('input');
    expect(parseSearchRequest({ collection: 'c', query: 'q' })).toEqual({ collection: 'c', query: 'q', k: 8 });
    expect(paramOf(() => parseSearchRequest({ collection: 'c', query: 'q', k: 1000 }))).toBe('k');
  });
});

describe('OpenAI responses', () => {
  it('a non-streamed chat with tool calls: null content, call ids, finish reason and usage', () => {
    const body = chatCompletionBody('id', 1, result({ text: '', toolCalls: [{ name: 'f', arguments: '{}' }], finishReason: 'tool_calls' }), false) as {
      choices: { message: { content: unknown; tool_calls: { id: string; function: unknown }[] }; finish_reason: string }[];
      usage: unknown;
    };
    expect(body.choices[0]!.message.content).toBeNull();
    expect(body.choices[0]!.message.tool_calls[0]!.id).toMatch(/^call-/);
    expect(body.choices[0]!.message.tool_calls[0]!.function).toEqual({ name: 'f', arguments: '{}' });
    expect(body.choices[0]!.finish_reason).toBe('tool_calls');
    expect(body.usage).toEqual({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
  });

  it('closing chunks carry the finish reason, the sources when asked, and usage last', () => {
    const sources = [{ documentId: 'd', documentName: 'Doc', collectionId: 'c', page: 2, score: 0.5, text: 't' }];
    const chunks = chatClosingChunks('id', 1, result({ finishReason: 'length', sources }), true, true) as Record<string, unknown>[];
    expect(chunks).toHaveLength(2);
    expect(chunks[0]).toMatchObject({
      choices: [{ finish_reason: 'length' }],
      sources: [{ document_id: 'd', document_name: 'Doc', collection_id: 'c', page: 2 }],
    });
    expect(chunks[1]).toMatchObject({ choices: [], usage: { total_tokens: 10 } });
  });

  it('base64 embeddings are little-endian float32, as the SDK decodes them', () => {
    const encoded = base64Vector([1, -0.5]);
    const bytes = Buffer.from(encoded, 'base64');
    expect([bytes.readFloatLE(0), bytes.readFloatLE(4)]).toEqual([1, -0.5]);
    expect(embeddingsBody({ model: 'e', vectors: [[0.25]], promptTokens: 2 }, 'float')).toMatchObject({
      data: [{ index: 0, embedding: [0.25] }],
      usage: { prompt_tokens: 2 },
    });
  });
});

describe('Ollama', () => {
  it('streams by default, reads options, strips :latest, and makes tool-call arguments JSON text', () => {
    const parsed = ollama.parseChat({
      model: 'tiny:latest',
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: '', tool_calls: [{ function: { name: 'f', arguments: { x: 1 } } }] },
      ],
      options: { temperature: 0.1, num_predict: -1, top_k: 5, stop: ['\n'] },
      format: 'json',
    });
    expect(parsed.stream).toBe(true);
    expect(parsed.request.model).toBe('tiny');
    expect(parsed.request.sampling).toEqual({ temperature: 0.1, topK: 5 });
    expect(parsed.request.stop).toEqual(['\n']);
    expect(parsed.request.format).toEqual({ kind: 'json' });
    expect(parsed.request.messages?.[1]).toEqual({ role: 'assistant', content: '', toolCalls: [{ id: 'call_0', name: 'f', arguments: '{"x":1}' }] });
  });

  it('generate goes through the chat template unless raw, and an empty prompt is a load call', () => {
    expect(ollama.parseGenerate({ model: 'm', prompt: 'p', system: 's' }).request.messages).toEqual([
      { role: 'system', content: 's' },
      { role: 'user', content: 'p' },
    ]);
    expect(ollama.parseGenerate({ model: 'm', prompt: 'p', raw: true }).request).toMatchObject({ messages: null, prompt: 'p' });
    expect(ollama.parseGenerate({ model: 'm' }).empty).toBe(true);
    expect(paramOf(() => ollama.parseGenerate({ model: 'm', prompt: 'p', images: ['aGk='] }))).toBe('images');
  });

  it('answers in nanoseconds with tool-call arguments as objects', () => {
    const done = ollama.chatDone(result({ toolCalls: [{ name: 'f', arguments: '{"a":2}' }], finishReason: 'tool_calls' }), 'Hello');
    expect(done).toMatchObject({
      done: true,
      done_reason: 'stop',
      eval_count: 3,
      prompt_eval_count: 7,
      total_duration: 50_000_000,
      message: { content: 'Hello', tool_calls: [{ function: { name: 'f', arguments: { a: 2 } } }] },
    });
  });
});

describe('routes, errors and bodies', () => {
  it('matches exact paths, a model id, and tells a wrong method from an unknown path', () => {
    expect(matchRoute('POST', '/v1/chat/completions')).toMatchObject({ kind: 'found', route: { scope: 'chat' } });
    expect(matchRoute('GET', '/v1/models/my%20model')).toMatchObject({ kind: 'found', param: 'my model' });
    expect(matchRoute('GET', '/api/tags')).toMatchObject({ kind: 'found', route: { scope: 'models:read' } });
    expect(matchRoute('GET', '/v1/chat/completions')).toMatchObject({ kind: 'wrong_method' });
    expect(matchRoute('POST', '/v1/nothing')).toEqual({ kind: 'not_found' });
    expect(matchRoute('GET', '/v1/models/a/b')).toEqual({ kind: 'not_found' });
  });

  it('maps service errors to statuses and OpenAI types, and hides unexpected ones', () => {
    expect(toHttpError(new AppError('unauthorized', 'no'))).toMatchObject({ status: 401 });
    expect(toHttpError(new AppError('too_many_requests', 'wait'))).toMatchObject({ status: 429 });
    expect(openaiErrorBody(toHttpError(new AppError('forbidden', 'scope')))).toEqual({
      error: { message: 'scope', type: 'permission_error', param: null, code: 'forbidden' },
    });
    expect(toHttpError(new Error('secret path /home/x'))).toMatchObject({ status: 500, message: expect.not.stringContaining('/home/x') });
    expect(flavorOf('/api/chat')).toBe('ollama');
    expect(flavorOf('/v1/models')).toBe('openai');
  });

  it('refuses a declared length over the limit, and bad JSON', () => {
    expect(declaredTooLarge('9000000', 8 * 1024 * 1024)).toBe(true);
    expect(declaredTooLarge('100', 8 * 1024 * 1024)).toBe(false);
    expect(declaredTooLarge('abc', 100)).toBe(true);
    expect(() => parseJson(Buffer.from('{'))).toThrow(RequestError);
    expect(parseJson(Buffer.alloc(0))).toEqual({});
  });
});
