import type { MarkingScheme, Passage, RuntimeSettings } from '../../../common/contract/index.ts';
import { highest, markingText } from '../../../common/markings.ts';
import { assertNotSeparated, collectionMarkings } from '../knowledge/markings.ts';
import type { Database } from '../storage/sqlite.ts';
import { ChatSampling } from '../../../common/contract/chat.ts';
import { AppError } from '../../../common/result.ts';
import type { CompletionMessage, CompletionOutcome, CompletionParams } from '../../../common/runtime/protocol.ts';
import { groundedPrompt, sourcesBudget } from '../knowledge/retrieval/grounding.ts';
import type { PiiPolicyResult } from '../pii/index.ts';
import type { ApiCompletionRequest, ApiPrincipal, ApiSource } from './types.ts';

// The steps of an API completion that hold a rule, as pure functions over what they need:
// the sampling (the app's settings under the request's values), the prompts' PII screening,
// which collections a token may answer from, and how their passages reach the model.

/** A request's sampling over the app's: what the request leaves out takes the app's setting; min-p 0.05 and a new seed each time, as chat's defaults. */
export function samplingFor(request: ApiCompletionRequest['sampling'], settings: RuntimeSettings): CompletionParams['sampling'] {
  const merged = { ...settings.sampling, minP: 0.05, seed: null, ...request };
  const parsed = ChatSampling.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError('bad_request', `The sampling value "${issue?.path.join('.') ?? '?'}" is out of range: ${issue?.message ?? 'invalid'}.`);
  }
  return parsed.data;
}

type Screen = (text: string) => PiiPolicyResult;

/** One text as the model may see it under the prompts' PII rule; `block` refuses the whole request. */
function screened(screen: Screen, text: string): string {
  if (text === '') return text;
  const result = screen(text);
  if (result.blocked)
    throw new AppError(
      'forbidden',
      result.reason ?? "This request contains personal data, and this machine's policy does not let personal data reach the model.",
    );
  return result.text;
}

/** Every message's text and the raw prompt, screened as the chat screens a question: what the model will see. */
export function screenRequest(
  screen: Screen,
  request: Pick<ApiCompletionRequest, 'messages' | 'prompt'>,
): { messages: CompletionMessage[] | null; prompt: string | null } {
  return {
    messages: request.messages === null ? null : request.messages.map((message) => ({ ...message, content: screened(screen, message.content) })),
    prompt: request.prompt === null ? null : screened(screen, request.prompt),
  };
}

/** The collections a request may answer from: the `knowledge` scope, and the token's own list when it has one. */
export function checkCollections(principal: ApiPrincipal, collections: readonly string[]): string[] {
  const unique = [...new Set(collections)];
  if (unique.length === 0) return unique;
  if (!principal.scopes.includes('knowledge'))
    throw new AppError('forbidden', 'Answering from collections needs the "knowledge" scope, which this API token does not have.');
  const refused = principal.collections === null ? [] : unique.filter((id) => !principal.collections!.includes(id));
  if (refused.length > 0) throw new AppError('forbidden', 'This API token may not use that collection.', refused.join(', '));
  return unique;
}

/** The question to retrieve for: the last user message, or the raw prompt. */
export function questionOf(request: { messages: readonly CompletionMessage[] | null; prompt: string | null }): string {
  const last = request.messages?.findLast((message) => message.role === 'user');
  return (last?.content ?? request.prompt ?? '').trim();
}

/** The passages put where chat puts them: quoted into the question (groundedPrompt), the question's own words kept after them. */
export function grounded(
  request: { messages: CompletionMessage[] | null; prompt: string | null },
  passages: readonly Passage[],
): { messages: CompletionMessage[] | null; prompt: string | null } {
  if (passages.length === 0) return request;
  if (request.messages === null) return { messages: null, prompt: groundedPrompt(request.prompt ?? '', passages, false) };
  const index = request.messages.findLastIndex((message) => message.role === 'user');
  if (index < 0) return request;
  const messages = request.messages.map((message, i) => (i === index ? { ...message, content: groundedPrompt(message.content, passages, false) } : message));
  return { messages, prompt: null };
}

export const sourceOf = (passage: Passage): ApiSource => ({
  documentId: passage.documentId,
  documentName: passage.documentName,
  collectionId: passage.collectionId,
  page: passage.page,
  score: passage.score,
  text: passage.text,
  ...(passage.marking === undefined || passage.marking === null ? {} : { marking: markingText(passage.marking) }),
});

/** A request is a conversation of its own: its collections may not mix compartments the policy keeps apart. */
export function assertCollectionsNotSeparated(db: Database, scheme: MarkingScheme | null, collectionIds: readonly string[]): void {
  if (scheme === null || scheme.separated.length === 0) return;
  const markings = collectionMarkings(db);
  assertNotSeparated(
    scheme,
    collectionIds.map((id) => markings.get(id) ?? null),
    'This request',
  );
}

/** The highest marking of the passages served, for the audit record; refused when they mix separated compartments. Null without markings or passages. */
export function passagesMarking(scheme: MarkingScheme | null, passages: readonly Passage[]): string | null {
  if (scheme === null || passages.length === 0) return null;
  const markings = passages.map((passage) => passage.marking ?? null);
  assertNotSeparated(scheme, markings, 'The passages found for this request');
  return markingText(highest(scheme, markings));
}

/** The retrieval budget: what chat gives sources, for the loaded model's context (or a 2,048-token one). */
export const retrievalBudget = (contextSize: number | null): number => sourcesBudget(contextSize);

/** The request's text as one string for the audit record (kept only at the `full` level). */
export function promptText(request: { messages: readonly CompletionMessage[] | null; prompt: string | null }): string {
  if (request.messages === null) return request.prompt ?? '';
  return request.messages.map((message) => `${message.role}: ${message.content}`).join('\n\n');
}

/** The reply's text and tool calls as one string for the audit record. */
export function responseText(outcome: CompletionOutcome): string {
  const calls = outcome.toolCalls.map((call) => `${call.name}(${call.arguments})`);
  return [outcome.text, ...calls].filter((part) => part !== '').join('\n');
}
