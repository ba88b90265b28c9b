import { create } from 'zustand';
import type { ChatEvent, ChatMessage, ConversationSettings, ConversationSummary } from '../../../electron/common/contract/chat.ts';
import type { KnowledgeSettings } from '../../../electron/common/contract/knowledge.ts';
import type { AppErrorData } from '../../../electron/common/result.ts';
import { call, on, stream } from '../api/client.ts';
import { applyChatEvent, syncThreadWithList, type ChatStreamEvent } from './chat/reducer.ts';
import { EMPTY_LIST_PAGE, type ChatView } from './chat/selectors.ts';
import { createPagedList } from './paged.ts';

export type { Notice, Streaming } from './chat/reducer.ts';

export interface ChatScreenStore extends ChatView {
  /** The list's first page again (new activity shows at the top); a changed search starts over. */
  refreshList(): Promise<void>;
  /** The next page of the list (the virtual list asks near its end). */
  loadMoreConversations(): void;
  /** Leaving the screen: only the first page of conversations stays loaded. */
  trimConversations(): void;
  /** A `chat.changed` from the main process: refreshes the list unless this window already applied the change. */
  changed(conversationId: string | null): void;
  search(query: string): void;
  open(id: string | null): Promise<void>;
  create(): Promise<void>;
  setDraft(text: string): void;
  send(): Promise<void>;
  stop(): void;
  regenerate(messageId: string): Promise<void>;
  continueAnswer(messageId: string): Promise<void>;
  startEdit(messageId: string | null): void;
  sendEdit(messageId: string, content: string): Promise<void>;
  switchBranch(messageId: string): Promise<void>;
  rename(id: string, title: string): Promise<void>;
  togglePin(id: string, pinned: boolean): Promise<void>;
  remove(id: string): Promise<void>;
  restore(): Promise<void>;
  saveSettings(settings: ConversationSettings): Promise<boolean>;
  setModel(modelId: string | null): Promise<void>;
  exportAs(format: 'markdown' | 'json'): Promise<void>;
  /** Saves an answer's signed evidence dossier where the user chooses (docs/dossier.md). */
  exportEvidence(messageId: string): Promise<void>;
  setKnowledge(knowledge: KnowledgeSettings): Promise<void>;
  showSources(messageId: string | null): void;
}

/** Conversations per page of the list. */
const PAGE = 100;

/**
 * One store instance. Its timers and the running stream's controller live in this closure,
 * not in module variables, so that each instance (a test's, the app's) owns its own.
 */
export function createChatStore() {
  return create<ChatScreenStore>()((set, get) => {
    let controller: AbortController | null = null;
    let searchTimer: ReturnType<typeof setTimeout> | null = null;
    // The list a page at a time; it drops answers to older requests (a slow one must not undo a newer one).
    const list = createPagedList<ConversationSummary, { query: string }>({
      filter: { query: '' },
      idOf: (conversation) => conversation.id,
      fetchPage: async ({ query }, cursor) => {
        const result = await call('chat.list', { ...(query === '' ? {} : { query }), ...(cursor === null ? {} : { cursor }), limit: PAGE });
        return result.ok ? { ok: true, value: { rows: result.value.conversations, nextCursor: result.value.nextCursor, total: result.value.total } } : result;
      },
    });
    list.subscribe((page) =>
      set((state) => ({
        conversations: page.rows,
        listPage: { total: page.total, hasMore: page.nextCursor !== null, loading: page.loading },
        thread: syncThreadWithList(state.thread, page.rows),
      })),
    );
    // Conversations this window deleted itself: their `chat.changed` needs no refetch, the row is already gone.
    const removedHere = new Set<string>();

    const reloadThread = async () => {
      const id = get().selectedId;
      if (id === null) return;
      const result = await call('chat.get', { id });
      if (result.ok && get().selectedId === id) set({ thread: result.value });
    };

    const dispatch = (event: ChatStreamEvent) => set((state) => applyChatEvent(state, event));

    /**
     * Runs one answer stream and folds its events into the store. A `done` carries the saved
     * answer and is applied as it is; the list follows from the `chat.changed` that the main
     * process sends when it saves. Only a stream that ends without `done` (stopped, failed)
     * fetches the thread, since the partial answer was saved out of sight.
     */
    const runStream = async (
      conversationId: string,
      start: (onEvent: (event: ChatEvent) => void, signal: AbortSignal) => Promise<{ ok: boolean; error?: AppErrorData }>,
    ) => {
      controller?.abort();
      const own = (controller = new AbortController());
      let done = false;
      dispatch({ type: 'begin', conversationId });
      const result = await start((event) => {
        if (event.type === 'done') done = true;
        dispatch(event);
      }, own.signal);
      if (controller === own) controller = null;
      if (!result.ok && result.error !== undefined) dispatch({ type: 'error', error: result.error });
      else if (get().streaming !== null) set({ streaming: null });
      if (done) return;
      await reloadThread();
      void get().refreshList();
    };

    return {
      conversations: [],
      listPage: EMPTY_LIST_PAGE,
      query: '',
      selectedId: null,
      thread: null,
      streaming: null,
      notices: [],
      error: null,
      drafts: {},
      editing: null,
      undo: null,
      announcement: '',
      sourcesFor: null,

      async refreshList() {
        const query = get().query.trim();
        if (!list.getState().loaded || list.getState().filter.query !== query) await list.reset({ query });
        else await list.refreshFirst();
      },

      loadMoreConversations() {
        void list.loadMore();
      },

      trimConversations() {
        list.trim();
      },

      changed(conversationId) {
        if (conversationId !== null && removedHere.delete(conversationId)) return;
        void get().refreshList();
      },

      search(query) {
        set({ query });
        if (searchTimer !== null) clearTimeout(searchTimer);
        searchTimer = setTimeout(() => void get().refreshList(), 150);
      },

      async open(id) {
        set({ selectedId: id, thread: null, editing: null, notices: [], error: null, sourcesFor: null });
        if (id !== null) await reloadThread();
      },

      async create() {
        const result = await call('chat.create', {});
        if (!result.ok) {
          set({ error: result.error });
          return;
        }
        await get().refreshList();
        await get().open(result.value.id);
      },

      setDraft(text) {
        const id = get().selectedId ?? '';
        set({ drafts: { ...get().drafts, [id]: text } });
      },

      async send() {
        const id = get().selectedId;
        if (id === null || get().streaming !== null) return;
        const content = (get().drafts[id] ?? '').trim();
        if (content === '') return;
        set({ drafts: { ...get().drafts, [id]: '' } });
        await runStream(id, (onEvent, signal) => stream('chat.send', { conversationId: id, content }, onEvent, signal));
      },

      stop() {
        controller?.abort();
      },

      async regenerate(messageId) {
        const id = get().selectedId;
        if (id === null) return;
        await runStream(id, (onEvent, signal) => stream('chat.regenerate', { messageId }, onEvent, signal));
      },

      async continueAnswer(messageId) {
        const id = get().selectedId;
        if (id === null) return;
        await runStream(id, (onEvent, signal) => stream('chat.continue', { messageId }, onEvent, signal));
      },

      startEdit: (messageId) => set({ editing: messageId }),

      async sendEdit(messageId, content) {
        const id = get().selectedId;
        const message = get().thread?.messages.find((candidate) => candidate.id === messageId);
        if (id === null || message === undefined) return;
        set({ editing: null });
        await runStream(id, (onEvent, signal) => stream('chat.send', { conversationId: id, content, parentId: message.parentId }, onEvent, signal));
      },

      async switchBranch(messageId) {
        const result = await call('chat.switchBranch', { messageId });
        if (result.ok) set({ thread: result.value });
        else set({ error: result.error });
      },

      async rename(id, title) {
        const result = await call('chat.update', { id, title });
        if (!result.ok) set({ error: result.error });
        await get().refreshList();
        await reloadThread();
      },

      async togglePin(id, pinned) {
        const result = await call('chat.update', { id, pinned });
        if (!result.ok) set({ error: result.error });
        await get().refreshList();
      },

      async remove(id) {
        const title = get().conversations.find((conversation) => conversation.id === id)?.title ?? '';
        // Marked before the call: the main process's chat.changed may arrive before its answer.
        removedHere.add(id);
        const result = await call('chat.delete', { id });
        if (!result.ok) {
          removedHere.delete(id);
          set({ error: result.error });
          return;
        }
        set({ undo: { token: result.value.undoToken, title, until: Date.now() + result.value.undoSeconds * 1000 } });
        if (get().selectedId === id) await get().open(null);
        // Gone from the loaded rows and one fewer in the count; the other rows are not fetched again.
        list.removeLocal(id);
        setTimeout(() => {
          if (get().undo?.token === result.value.undoToken) set({ undo: null });
        }, result.value.undoSeconds * 1000);
      },

      async restore() {
        const undo = get().undo;
        if (undo === null) return;
        set({ undo: null });
        const result = await call('chat.restore', { undoToken: undo.token });
        if (!result.ok) set({ error: result.error });
        await get().refreshList();
        if (result.ok) await get().open(result.value.id);
      },

      async saveSettings(settings) {
        const id = get().selectedId;
        if (id === null) return false;
        const result = await call('chat.update', { id, settings });
        if (!result.ok) set({ error: result.error });
        await reloadThread();
        return result.ok;
      },

      async setModel(modelId) {
        const id = get().selectedId;
        if (id === null) return;
        const result = await call('chat.update', { id, modelId });
        if (!result.ok) set({ error: result.error });
        await reloadThread();
      },

      async setKnowledge(knowledge) {
        const id = get().selectedId;
        if (id === null) return;
        // Shown at once: the checkbox must not flicker back while the change is saved.
        const thread = get().thread;
        if (thread !== null && thread.conversation.id === id) set({ thread: { ...thread, conversation: { ...thread.conversation, knowledge } } });
        const result = await call('chat.update', { id, knowledge });
        if (!result.ok) set({ error: result.error });
        else await reloadThread();
      },

      showSources(messageId) {
        set({ sourcesFor: messageId });
      },

      async exportAs(format) {
        const id = get().selectedId;
        if (id === null) return;
        const result = await call('chat.export', { id, format });
        if (!result.ok) set({ error: result.error });
      },

      async exportEvidence(messageId) {
        const result = await call('chat.exportEvidence', { messageId });
        if (!result.ok) set({ error: result.error });
      },
    };
  });
}

export const useChat = createChatStore();

export function followChatChanges(): () => void {
  return on('chat.changed', ({ conversationId }) => useChat.getState().changed(conversationId));
}

export type { ChatMessage };
