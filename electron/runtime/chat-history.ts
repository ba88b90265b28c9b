import { LlamaText, type ChatHistoryItem, type LlamaModel } from 'node-llama-cpp';
import type { ChatParams } from '../common/runtime/protocol.ts';

// The client's chat history as node-llama-cpp's, and what the two have in common. Pure
// functions over history items.

type ChatTurnParam = ChatParams['history'][number];

export function toChatHistory(systemPrompt: string, turns: readonly ChatTurnParam[]): ChatHistoryItem[] {
  const items: ChatHistoryItem[] = systemPrompt === '' ? [] : [{ type: 'system', text: systemPrompt }];
  for (const turn of turns) items.push(turn.role === 'user' ? { type: 'user', text: turn.content } : { type: 'model', response: [turn.content] });
  return items;
}

/**
 * What the client can know of a history item. Clients store answers without their
 * reasoning segments, so segments are left out when deciding whether a request
 * continues the session's own history.
 */
function visibleText(item: ChatHistoryItem): string {
  switch (item.type) {
    case 'system':
      return `system\u0000${typeof item.text === 'string' ? item.text : LlamaText.fromJSON(item.text).toString()}`;
    case 'user':
      return `user\u0000${item.text}`;
    case 'model':
      return `model\u0000${item.response.filter((part): part is string => typeof part === 'string').join('')}`;
  }
}

/** Like visibleText, but a shortened reasoning segment counts as a change too. */
function fullText(item: ChatHistoryItem): string {
  if (item.type !== 'model') return visibleText(item);
  const parts = item.response.map((part) =>
    typeof part === 'string'
      ? part
      : part.type === 'segment'
        ? part.text === ''
          ? ''
          : `\u0000${part.segmentType}\u0000${part.text}\u0000`
        : `\u0000call\u0000${part.name}`,
  );
  return `model\u0000${parts.join('')}`;
}

export function sameVisibleHistory(a: readonly ChatHistoryItem[], b: readonly ChatHistoryItem[]): boolean {
  return a.length === b.length && a.every((item, index) => visibleText(item) === visibleText(b[index]!));
}

/**
 * How many turns of the full history did not reach the model intact: node-llama-cpp's
 * context shift erases the oldest turns (keeping the first system message) and may cut
 * the oldest surviving one, and the context window it evaluated is what is left. The
 * window's turns line up with the end of the full history; everything before the first
 * turn that matches, counting from the end, was dropped or cut.
 */
export function countTrimmedTurns(history: readonly ChatHistoryItem[], contextWindow: readonly ChatHistoryItem[] | null): number {
  if (contextWindow === null) return 0;
  const turns = history.filter((item) => item.type !== 'system');
  const kept = contextWindow.filter((item) => item.type !== 'system');
  let intact = 0;
  while (intact < kept.length && intact < turns.length && fullText(kept[kept.length - 1 - intact]!) === fullText(turns[turns.length - 1 - intact]!))
    intact += 1;
  return turns.length - intact;
}

/** Whether a GGUF lacks a chat template, so node-llama-cpp had to pick a wrapper by itself. */
export function lacksChatTemplate(model: LlamaModel): boolean {
  const template = model.fileInfo.metadata?.tokenizer?.chat_template;
  return typeof template !== 'string' || template.trim() === '';
}
