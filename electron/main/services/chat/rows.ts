import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  ChatSampling,
  type ConversationSettings,
  MessageStats,
  type ChatMessage,
  type Conversation,
  type ConversationSummary,
} from '../../../common/contract/chat.ts';
import { KnowledgeSettings, Passage, PinnedDocument } from '../../../common/contract/knowledge.ts';
import { Marking } from '../../../common/contract/markings.ts';

// The chat tables' rows as SQLite returns them, their column lists, and their conversion to
// what the contract sends (summaries, conversations, messages): pure functions the
// conversation, message and preset stores share.

export const DEFAULT_TITLE = 'New conversation';
const TITLE_CHARS = 60;
const PREVIEW_CHARS = 140;

export type MessageStatus = 'complete' | 'interrupted' | 'streaming';

/** A message row as stored; `ChatMessage` is what the renderer gets. */
export interface StoredMessage {
  readonly id: string;
  readonly conversationId: string;
  readonly parentId: string | null;
  readonly role: 'user' | 'assistant';
  readonly content: string;
  readonly reasoning: string | null;
  readonly status: MessageStatus;
  readonly modelName: string | null;
  readonly stats: MessageStats | null;
  readonly createdAt: string;
  readonly sources: readonly Passage[];
  /** Empty when the conversation pinned nothing. */
  readonly pinned: readonly PinnedDocument[];
  /** An answer's classification marking; null without markings (or for a question). */
  readonly marking: Marking | null;
}

export const newId = (): string => randomBytes(8).toString('hex');

export interface ConversationRow {
  id: string;
  title: string;
  title_auto: number;
  pinned: number;
  model_id: string | null;
  system_prompt: string;
  sampling: string;
  context_size: number | null;
  knowledge: string | null;
  marking: string | null;
  created_at: string;
  updated_at: string;
  preview: string | null;
}

export interface MessageRow {
  id: string;
  conversation_id: string;
  parent_id: string | null;
  role: 'user' | 'assistant';
  content: string;
  reasoning: string | null;
  status: MessageStatus;
  model_name: string | null;
  stats: string | null;
  sources: string | null;
  pinned: string | null;
  marking: string | null;
  created_at: string;
}

export const CONVERSATION_COLUMNS =
  'id, title, title_auto, pinned, model_id, system_prompt, sampling, context_size, knowledge, marking, created_at, updated_at';
export const MESSAGE_COLUMNS = 'id, conversation_id, parent_id, role, content, reasoning, status, model_name, stats, sources, pinned, marking, created_at';
export const PREVIEW = `(SELECT substr(content, 1, ${PREVIEW_CHARS * 2}) FROM messages m WHERE m.conversation_id = c.id ORDER BY m.n DESC LIMIT 1) AS preview`;

/** Used only when a stored value cannot be read (a file edited by hand, a value a later version refuses). */
const FALLBACK_SAMPLING: ChatSampling = { temperature: 0.7, topP: 0.9, topK: 40, minP: 0.05, repeatPenalty: 1.1, maxTokens: 512, seed: null };

export const contextColumn = (contextSize: ConversationSettings['contextSize']): number | null => (contextSize === 'auto' ? null : contextSize);

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function toSummary(row: ConversationRow): ConversationSummary {
  return {
    id: row.id,
    title: row.title,
    pinned: row.pinned === 1,
    modelId: row.model_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    preview: previewOf(row.preview ?? ''),
    // Absent rather than null when unmarked, so a conversation reads as before where no policy defines markings.
    ...markingField(row.marking),
  };
}

export function toConversation(row: ConversationRow): Conversation {
  const sampling = ChatSampling.safeParse(parseJson(row.sampling));
  return {
    ...toSummary(row),
    settings: {
      systemPrompt: row.system_prompt,
      sampling: sampling.success ? sampling.data : FALLBACK_SAMPLING,
      contextSize: row.context_size === null || row.context_size < 256 ? 'auto' : row.context_size,
    },
    knowledge: knowledgeOf(row.knowledge),
  };
}

export function toStored(row: MessageRow): StoredMessage {
  const stats = row.stats === null ? null : MessageStats.safeParse(parseJson(row.stats));
  return {
    id: row.id,
    conversationId: row.conversation_id,
    parentId: row.parent_id,
    role: row.role,
    content: row.content,
    reasoning: row.reasoning,
    status: row.status,
    modelName: row.model_name,
    stats: stats?.success === true ? stats.data : null,
    createdAt: row.created_at,
    sources: sourcesOf(row.sources),
    pinned: pinnedOf(row.pinned),
    marking: markingOf(row.marking),
  };
}

export function chatMessage(message: StoredMessage, siblingIndex: number, siblingIds: readonly string[]): ChatMessage {
  return {
    id: message.id,
    parentId: message.parentId,
    role: message.role,
    content: message.content,
    reasoning: message.reasoning,
    // A row still streaming is shown as interrupted: if its writer is alive, `done` replaces it soon.
    status: message.status === 'complete' ? 'complete' : 'interrupted',
    createdAt: message.createdAt,
    modelName: message.modelName,
    stats: message.stats,
    sources: [...message.sources],
    ...(message.pinned.length === 0 ? {} : { pinned: [...message.pinned] }),
    ...(message.marking === null ? {} : { marking: { level: message.marking.level, compartments: [...message.marking.compartments] } }),
    siblingIndex: Math.max(1, siblingIndex),
    siblingCount: Math.max(1, siblingIds.length),
    siblingIds: [...siblingIds],
  };
}

/** The words of a search, or null for no search at all. FTS5 syntax is never passed through: each word is quoted. */
export function searchWords(query: string | undefined): string[] | null {
  if (query === undefined || query.trim() === '') return null;
  return query.match(/[\p{L}\p{N}_]+/gu) ?? [];
}

export function titleFrom(content: string): string {
  const flat = content.replace(/\s+/g, ' ').trim();
  if (flat.length <= TITLE_CHARS) return flat === '' ? DEFAULT_TITLE : flat;
  const cut = flat.slice(0, TITLE_CHARS);
  const space = cut.lastIndexOf(' ');
  return `${(space > TITLE_CHARS / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

function previewOf(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= PREVIEW_CHARS ? flat : `${flat.slice(0, PREVIEW_CHARS - 1).trimEnd()}…`;
}

const NO_KNOWLEDGE: KnowledgeSettings = { collectionIds: [], documentsOnly: false };

function knowledgeOf(json: string | null): KnowledgeSettings {
  if (json === null) return NO_KNOWLEDGE;
  const parsed = KnowledgeSettings.safeParse(parseJson(json));
  return parsed.success ? parsed.data : NO_KNOWLEDGE;
}

function sourcesOf(json: string | null): Passage[] {
  if (json === null) return [];
  const parsed = z.array(Passage).safeParse(parseJson(json));
  return parsed.success ? parsed.data : [];
}

/** A stored marking; null when none or unreadable. */
export function markingOf(json: string | null): Marking | null {
  if (json === null) return null;
  const parsed = Marking.safeParse(parseJson(json));
  return parsed.success ? parsed.data : null;
}

function markingField(json: string | null): { marking?: Marking } {
  const marking = markingOf(json);
  return marking === null ? {} : { marking };
}

function pinnedOf(json: string | null): PinnedDocument[] {
  if (json === null) return [];
  const parsed = z.array(PinnedDocument).safeParse(parseJson(json));
  return parsed.success ? parsed.data : [];
}
