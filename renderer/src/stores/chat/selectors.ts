import type { ChatMessage, ChatThread, ConversationSummary } from '../../../../electron/common/contract/chat.ts';
import type { Passage, PinnedDocument } from '../../../../electron/common/contract/knowledge.ts';
import type { AppErrorData } from '../../../../electron/common/result.ts';
import type { Notice, Streaming } from './reducer.ts';

// Named reads of the chat store, used by components as `useChat(chatSelectors.x)`. Each
// returns a value already in the state, or a constant, never a fresh object: a selector that
// built a new array on every call would re-render its component for every change of the store.

/** The chat screen's state: what the selectors read; the store adds its actions. */
export interface ChatView {
  /** The conversations loaded so far (a page at a time, issue 15), in the list's order. */
  readonly conversations: readonly ConversationSummary[];
  /** The list's paging: how many match over all pages, whether more can be fetched, and a fetch in flight. */
  readonly listPage: ListPage;
  readonly query: string;
  readonly selectedId: string | null;
  readonly thread: ChatThread | null;
  readonly streaming: Streaming | null;
  readonly notices: readonly Notice[];
  readonly error: AppErrorData | null;
  /** Drafts by conversation id, so switching conversations never loses typing. */
  readonly drafts: Readonly<Record<string, string>>;
  /** The user message being edited (its id), if any. */
  readonly editing: string | null;
  readonly undo: { readonly token: string; readonly title: string; readonly until: number } | null;
  readonly announcement: string;
  /** The answer whose sources the panel shows; null: the latest answer with sources. */
  readonly sourcesFor: string | null;
}

export interface ListPage {
  readonly total: number;
  readonly hasMore: boolean;
  readonly loading: boolean;
}

export const EMPTY_LIST_PAGE: ListPage = { total: 0, hasMore: false, loading: false };

const NO_SOURCES: readonly Passage[] = [];
const NO_PINNED: readonly PinnedDocument[] = [];

const conversations = (state: ChatView) => state.conversations;
const listPage = (state: ChatView) => state.listPage;
const query = (state: ChatView) => state.query;
const selectedId = (state: ChatView) => state.selectedId;
/** The thread shown: the selected conversation and its active path of messages. */
const thread = (state: ChatView) => state.thread;
const messages = (state: ChatView): readonly ChatMessage[] | null => state.thread?.messages ?? null;
const conversationSettings = (state: ChatView) => state.thread?.conversation.settings ?? null;
/** The answer being written, or null. */
const streaming = (state: ChatView) => state.streaming;
const isStreaming = (state: ChatView) => state.streaming !== null;
/** Changes with every delta: what the message list scrolls along with (-1 when nothing streams). */
const streamingLength = (state: ChatView) => state.streaming?.text.length ?? -1;
const notices = (state: ChatView) => state.notices;
const error = (state: ChatView) => state.error;
const undo = (state: ChatView) => state.undo;
const announcement = (state: ChatView) => state.announcement;
const sourcesFor = (state: ChatView) => state.sourcesFor;
/** The draft of the selected conversation (or of "no conversation"). */
const draft = (state: ChatView) => state.drafts[state.selectedId ?? ''] ?? '';
const isEditing = (messageId: string) => (state: ChatView) => state.editing === messageId;

/**
 * The passages the sources panel shows: those of the answer picked with "Sources", else
 * those of the answer being written once it has some, else those of the latest answer that has any.
 */
const shownSources = (state: ChatView): readonly Passage[] => {
  const path = state.thread?.messages ?? [];
  if (state.sourcesFor !== null) return path.find((message) => message.id === state.sourcesFor)?.sources ?? NO_SOURCES;
  const streamed = state.streaming?.sources ?? null;
  if (streamed !== null && streamed.length > 0) return streamed;
  return path.findLast((message) => message.role === 'assistant' && message.sources.length > 0)?.sources ?? NO_SOURCES;
};

/** The pinned documents the sources panel shows, picked like `shownSources`: the chosen answer's, the one being written, or the latest. */
const shownPinned = (state: ChatView): readonly PinnedDocument[] => {
  const path = state.thread?.messages ?? [];
  if (state.sourcesFor !== null) return path.find((message) => message.id === state.sourcesFor)?.pinned ?? NO_PINNED;
  const streamed = state.streaming?.pinned;
  if (streamed !== undefined && streamed.length > 0) return streamed;
  return path.findLast((message) => message.role === 'assistant' && (message.pinned?.length ?? 0) > 0)?.pinned ?? NO_PINNED;
};

export const chatSelectors = {
  conversations,
  listPage,
  query,
  selectedId,
  thread,
  messages,
  conversationSettings,
  streaming,
  isStreaming,
  streamingLength,
  notices,
  error,
  undo,
  announcement,
  sourcesFor,
  draft,
  isEditing,
  shownSources,
  shownPinned,
};
