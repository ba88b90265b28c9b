import { randomBytes } from 'node:crypto';
import type { ApiCompletionResult, ApiEmbedResult, ApiModel, ApiSource } from '../main/services/api/types.ts';

// The service's results → OpenAI response bodies and stream chunks. Pure apart from the ids.

export function responseId(prefix: 'chatcmpl' | 'cmpl' | 'call'): string {
  return `${prefix}-${randomBytes(12).toString('base64url')}`;
}

export const unixSeconds = (date: Date = new Date()): number => Math.floor(date.getTime() / 1000);

/** OpenAI's finish reasons; an aborted reply (the client left) is never sent, but reads as `stop`. */
export function finishReason(result: Pick<ApiCompletionResult, 'finishReason'>): 'stop' | 'length' | 'tool_calls' {
  return result.finishReason === 'aborted' ? 'stop' : result.finishReason;
}

export function usage(result: Pick<ApiCompletionResult, 'stats'>): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  return { prompt_tokens: result.stats.promptTokens, completion_tokens: result.stats.tokens, total_tokens: result.stats.promptTokens + result.stats.tokens };
}

/** Passages an answer drew on (our extension: present when the request named `collections`). */
export function sourcesBody(
  sources: readonly ApiSource[],
): { document_id: string; document_name: string; collection_id: string; page: number | null; score: number; text: string; marking?: string }[] {
  return sources.map((source) => ({
    document_id: source.documentId,
    document_name: source.documentName,
    collection_id: source.collectionId,
    page: source.page,
    score: source.score,
    text: source.text,
    // Only under a policy that defines markings: the passage's classification, e.g. "RESTRICTED // FINANCE".
    ...(source.marking === undefined ? {} : { marking: source.marking }),
  }));
}

export function toolCallsBody(
  result: Pick<ApiCompletionResult, 'toolCalls'>,
): { id: string; type: 'function'; function: { name: string; arguments: string } }[] {
  return result.toolCalls.map((call) => ({ id: responseId('call'), type: 'function', function: { name: call.name, arguments: call.arguments } }));
}

export function modelsBody(models: readonly ApiModel[]): { object: 'list'; data: ReturnType<typeof modelBody>[] } {
  return { object: 'list', data: models.map(modelBody) };
}

export function modelBody(model: ApiModel): { id: string; object: 'model'; created: number; owned_by: string } {
  const added = Date.parse(model.addedAt);
  return { id: model.id, object: 'model', created: Number.isNaN(added) ? 0 : unixSeconds(new Date(added)), owned_by: 'soberana' };
}

export function chatCompletionBody(id: string, created: number, result: ApiCompletionResult, withSources: boolean): Record<string, unknown> {
  const calls = toolCallsBody(result);
  const message =
    calls.length === 0
      ? { role: 'assistant', content: result.text, refusal: null }
      : { role: 'assistant', content: result.text.length === 0 ? null : result.text, refusal: null, tool_calls: calls };
  return {
    id,
    object: 'chat.completion',
    created,
    model: result.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(result) }],
    usage: usage(result),
    ...(withSources ? { sources: sourcesBody(result.sources) } : {}),
  };
}

/** One `chat.completion.chunk`; `choices` is empty for the usage chunk. */
export function chatChunk(
  id: string,
  created: number,
  model: string,
  choices: readonly Record<string, unknown>[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { id, object: 'chat.completion.chunk', created, model, choices, ...extra };
}

export function deltaChoice(delta: Record<string, unknown>, finish: string | null = null): Record<string, unknown> {
  return { index: 0, delta, logprobs: null, finish_reason: finish };
}

/** The chunks that end a streamed chat: tool calls (they come whole, at the end), the finish reason, then usage if asked. */
export function chatClosingChunks(
  id: string,
  created: number,
  result: ApiCompletionResult,
  includeUsage: boolean,
  withSources: boolean,
): Record<string, unknown>[] {
  const chunks: Record<string, unknown>[] = [];
  const calls = toolCallsBody(result);
  if (calls.length > 0) {
    chunks.push(chatChunk(id, created, result.model, [deltaChoice({ tool_calls: calls.map((call, index) => ({ index, ...call })) })]));
  }
  chunks.push(chatChunk(id, created, result.model, [deltaChoice({}, finishReason(result))], withSources ? { sources: sourcesBody(result.sources) } : {}));
  if (includeUsage) chunks.push(chatChunk(id, created, result.model, [], { usage: usage(result) }));
  return chunks;
}

export function textCompletionBody(id: string, created: number, result: ApiCompletionResult): Record<string, unknown> {
  return {
    id,
    object: 'text_completion',
    created,
    model: result.model,
    choices: [{ index: 0, text: result.text, logprobs: null, finish_reason: finishReason(result) }],
    usage: usage(result),
  };
}

export function textChunk(id: string, created: number, model: string, text: string, finish: string | null): Record<string, unknown> {
  return { id, object: 'text_completion', created, model, choices: [{ index: 0, text, logprobs: null, finish_reason: finish }] };
}

/** A vector as OpenAI's base64: little-endian float32 bytes, which its SDK decodes by default. */
export function base64Vector(vector: readonly number[]): string {
  const floats = new Float32Array(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}

export function embeddingsBody(result: ApiEmbedResult, encoding: 'float' | 'base64'): Record<string, unknown> {
  return {
    object: 'list',
    data: result.vectors.map((vector, index) => ({ object: 'embedding', index, embedding: encoding === 'base64' ? base64Vector(vector) : vector })),
    model: result.model,
    usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
  };
}

export function searchBody(sources: readonly ApiSource[]): Record<string, unknown> {
  return { object: 'list', data: sourcesBody(sources) };
}
