import type { ChatEvent, ChatMessage, ChatThread, ConversationSummary } from '../../../../electron/common/contract/chat.ts';
import type { Passage, PinnedDocument } from '../../../../electron/common/contract/knowledge.ts';
import type { AppErrorData } from '../../../../electron/common/result.ts';

// How an answer stream changes the chat store, as pure functions of (state, event), so
// that the rules can be tested without a window, a store or a main process. The store
// only feeds events in and decides what to fetch afterwards.

/** The answer being written. Kept apart from `thread`, so that only it re-renders per delta. */
export interface Streaming {
  readonly conversationId: string;
  readonly messageId: string | null;
  readonly parentId: string | null;
  readonly text: string;
  readonly reasoning: string;
  readonly sources: readonly Passage[];
  /** The conversation's pinned documents as this answer uses them, once the service has said. */
  readonly pinned?: readonly PinnedDocument[];
}

export interface Notice {
  readonly kind: Extract<ChatEvent, { type: 'notice' }>['kind'];
  readonly detail: string;
}

/** The part of the chat store a stream changes. */
export interface ChatStreamState {
  readonly conversations: readonly ConversationSummary[];
  readonly thread: ChatThread | null;
  readonly streaming: Streaming | null;
  readonly notices: readonly Notice[];
  readonly error: AppErrorData | null;
  readonly announcement: string;
  readonly sourcesFor: string | null;
}

/**
 * What the store feeds the reducer: the contract's stream events, plus the stream's own
 * start and its failure (a cancel is not one: the partial answer is kept).
 */
export type ChatStreamEvent =
  { readonly type: 'begin'; readonly conversationId: string } | ChatEvent | { readonly type: 'error'; readonly error: AppErrorData };

export function applyChatEvent<S extends ChatStreamState>(state: S, event: ChatStreamEvent): S {
  const current = state.streaming;
  switch (event.type) {
    case 'begin':
      return {
        ...state,
        streaming: { conversationId: event.conversationId, messageId: null, parentId: null, text: '', reasoning: '', sources: [] },
        notices: [],
        error: null,
        sourcesFor: null,
      };
    case 'user':
      return current === null ? state : { ...state, thread: placeMessage(state.thread, current.conversationId, event.message) };
    case 'started':
      return current === null ? state : { ...state, streaming: { ...current, messageId: event.messageId, parentId: event.parentId } };
    case 'delta':
      return current === null
        ? state
        : { ...state, streaming: { ...current, text: current.text + event.text, reasoning: current.reasoning + event.reasoning } };
    case 'pinned':
      return current === null ? state : { ...state, streaming: { ...current, pinned: event.documents } };
    case 'sources':
      return current === null ? state : { ...state, streaming: { ...current, sources: event.sources } };
    case 'notice':
      return { ...state, notices: [...state.notices, { kind: event.kind, detail: event.detail }] };
    case 'done': {
      // The saved answer replaces the streamed text in one step, so it never blinks out between the two.
      const conversationId = current?.conversationId ?? state.thread?.conversation.id ?? null;
      return {
        ...state,
        streaming: null,
        thread: conversationId === null ? state.thread : placeMessage(state.thread, conversationId, event.message),
        conversations: conversationId === null ? state.conversations : touchSummary(state.conversations, conversationId, event.message),
        announcement: `Answer complete: ${event.message.content.slice(0, 200)}`,
      };
    }
    case 'error':
      return { ...state, streaming: null, error: event.error.code === 'cancelled' ? state.error : event.error };
  }
}

/**
 * Puts a saved message on the shown path right after its parent: whatever followed the
 * parent belonged to the branch this message replaces (an edit, a regenerate) or is this
 * message itself (a continue).
 */
export function placeMessage(thread: ChatThread | null, conversationId: string, message: ChatMessage): ChatThread | null {
  if (thread === null || thread.conversation.id !== conversationId) return thread;
  const path = thread.messages;
  const parentIndex = message.parentId === null ? -1 : path.findIndex((candidate) => candidate.id === message.parentId);
  return { ...thread, messages: [...path.slice(0, parentIndex + 1), message] };
}

/**
 * The list entry as the answer left it, until the list is fetched again: its preview is
 * the answer's start and it moves up with its new activity (pinned ones stay first).
 */
export function touchSummary(conversations: readonly ConversationSummary[], conversationId: string, message: ChatMessage): readonly ConversationSummary[] {
  const index = conversations.findIndex((conversation) => conversation.id === conversationId);
  if (index === -1) return conversations;
  const before = conversations[index]!;
  const updatedAt = message.createdAt > before.updatedAt ? message.createdAt : before.updatedAt;
  const touched: ConversationSummary = { ...before, updatedAt, preview: message.content.slice(0, PREVIEW_CHARS) };
  const others = conversations.filter((conversation) => conversation.id !== conversationId);
  // Sorted like the list endpoint: pinned first, then the latest activity.
  const at = others.findIndex((conversation) => (conversation.pinned === touched.pinned ? conversation.updatedAt < touched.updatedAt : touched.pinned));
  return at === -1 ? [...others, touched] : [...others.slice(0, at), touched, ...others.slice(at)];
}

/**
 * The selected conversation's header follows the fetched list (a title given by the first
 * message, say, or the marking an answer raised it to).
 */
export function syncThreadWithList(thread: ChatThread | null, conversations: readonly ConversationSummary[]): ChatThread | null {
  if (thread === null) return thread;
  const summary = conversations.find((conversation) => conversation.id === thread.conversation.id);
  if (summary === undefined) return thread;
  const { title, pinned, updatedAt, preview } = summary;
  const marking = summary.marking ?? null;
  const before = thread.conversation;
  const sameMarking = JSON.stringify(before.marking ?? null) === JSON.stringify(marking);
  if (before.title === title && before.pinned === pinned && before.updatedAt === updatedAt && before.preview === preview && sameMarking) return thread;
  return { ...thread, conversation: { ...before, title, pinned, updatedAt, preview, marking } };
}

/** Roughly what the list endpoint shows; the next fetch of the list brings the exact text. */
const PREVIEW_CHARS = 120;
