import { create } from 'zustand';
import type { Collection, DocumentEntry, DocumentView, IngestProgress, Passage, SearchResult } from '../../../electron/common/contract/knowledge.ts';
import type { AppErrorData } from '../../../electron/common/result.ts';
import { call, on } from '../api/client.ts';

/** What the document viewer has open: a document, and the passage to show in it. */
export interface ViewerTarget {
  readonly documentId: string;
  readonly chunkId: string | null;
  readonly page: number | null;
  readonly highlight: string | null;
}

interface DocumentsScreenStore {
  readonly collections: readonly Collection[];
  readonly listed: boolean;
  readonly notices: readonly string[];
  readonly selectedId: string | null;
  readonly documents: readonly DocumentEntry[];
  readonly progress: IngestProgress | null;
  readonly error: AppErrorData | null;
  readonly query: string;
  /** Search within one document; null searches the whole collection. */
  readonly documentFilter: string | null;
  readonly results: SearchResult | null;
  readonly searching: boolean;
  readonly viewer: { readonly target: ViewerTarget; readonly view: DocumentView | null; readonly error: AppErrorData | null } | null;
  refresh(): Promise<void>;
  select(id: string | null): Promise<void>;
  refreshDocuments(): Promise<void>;
  createCollection(name: string, embeddingModelId: string | null | undefined): Promise<boolean>;
  rename(id: string, name: string): Promise<boolean>;
  setEmbeddingModel(id: string, embeddingModelId: string | null): Promise<void>;
  removeCollection(id: string): Promise<void>;
  /** Adds picked files, a picked folder (optionally watched), or one drop (its token from `files.dropped`). */
  add(source: 'files' | 'folder' | { readonly dropToken: string }, watch?: boolean): Promise<void>;
  removeDocument(id: string): Promise<void>;
  unwatch(id: string): Promise<void>;
  cancel(): Promise<void>;
  setQuery(query: string): void;
  setDocumentFilter(documentId: string | null): void;
  search(): Promise<void>;
  openViewer(target: ViewerTarget): Promise<void>;
  closeViewer(): void;
  dismissError(): void;
}

export const useKnowledge = create<DocumentsScreenStore>()((set, get) => ({
  collections: [],
  listed: false,
  notices: [],
  selectedId: null,
  documents: [],
  progress: null,
  error: null,
  query: '',
  documentFilter: null,
  results: null,
  searching: false,
  viewer: null,

  async refresh() {
    const result = await call('knowledge.collections', {});
    if (!result.ok) {
      set({ error: result.error, listed: true });
      return;
    }
    const { collections, notices } = result.value;
    const selectedId = get().selectedId;
    const keep = selectedId !== null && collections.some((collection) => collection.id === selectedId);
    set({ collections, notices, listed: true, selectedId: keep ? selectedId : (collections[0]?.id ?? null) });
    if (!keep) set({ results: null });
    await get().refreshDocuments();
  },

  async select(id) {
    set({ selectedId: id, documents: [], results: null, error: null, documentFilter: null });
    await get().refreshDocuments();
  },

  async refreshDocuments() {
    const id = get().selectedId;
    if (id === null) return;
    const result = await call('knowledge.documents', { collectionId: id });
    if (get().selectedId !== id) return;
    if (result.ok) set({ documents: result.value.documents });
    else set({ error: result.error });
  },

  async createCollection(name, embeddingModelId) {
    const result = await call('knowledge.createCollection', embeddingModelId === undefined ? { name } : { name, embeddingModelId });
    if (!result.ok) {
      set({ error: result.error });
      return false;
    }
    set({ selectedId: result.value.id, error: null });
    await get().refresh();
    return true;
  },

  async rename(id, name) {
    const result = await call('knowledge.updateCollection', { id, name });
    if (!result.ok) set({ error: result.error });
    await get().refresh();
    return result.ok;
  },

  async setEmbeddingModel(id, embeddingModelId) {
    const result = await call('knowledge.updateCollection', { id, embeddingModelId });
    if (!result.ok) set({ error: result.error });
    await get().refresh();
  },

  async removeCollection(id) {
    const result = await call('knowledge.deleteCollection', { id });
    if (!result.ok) set({ error: result.error });
    if (get().selectedId === id) set({ selectedId: null });
    await get().refresh();
  },

  async add(source, watch) {
    const collectionId = get().selectedId;
    if (collectionId === null) return;
    const input = typeof source === 'string' ? { collectionId, source } : { collectionId, source: 'dropped' as const, dropToken: source.dropToken };
    const result = await call('knowledge.add', watch === undefined ? input : { ...input, watch });
    if (!result.ok) set({ error: result.error });
    else if (result.value.unsupported.length > 0) {
      set({
        error: {
          code: 'bad_request',
          message: `Not a supported document: ${result.value.unsupported.slice(0, 5).join(', ')}${result.value.unsupported.length > 5 ? '…' : ''}`,
        },
      });
    } else set({ error: null });
    await get().refresh();
  },

  async removeDocument(id) {
    const result = await call('knowledge.removeDocument', { id });
    if (!result.ok) set({ error: result.error });
    await get().refresh();
  },

  async unwatch(id) {
    const result = await call('knowledge.unwatch', { id });
    if (!result.ok) set({ error: result.error });
    await get().refresh();
  },

  async cancel() {
    await call('knowledge.cancel', {});
  },

  setQuery(query) {
    set({ query });
  },

  setDocumentFilter(documentFilter) {
    set({ documentFilter });
    if (get().query.trim() !== '') void get().search();
  },

  async search() {
    const collectionId = get().selectedId;
    const query = get().query.trim();
    if (collectionId === null || query === '') {
      set({ results: null });
      return;
    }
    set({ searching: true });
    const documentId = get().documentFilter;
    const result = await call('knowledge.search', {
      query,
      collectionIds: [collectionId],
      limit: 20,
      ...(documentId === null ? {} : { documentIds: [documentId] }),
    });
    set({ searching: false });
    if (result.ok) set({ results: result.value, error: null });
    else set({ error: result.error });
  },

  async openViewer(target) {
    const current = get().viewer;
    if (current !== null && current.view?.documentId === target.documentId) {
      set({ viewer: { ...current, target } });
      return;
    }
    set({ viewer: { target, view: null, error: null } });
    const result = await call('knowledge.view', { documentId: target.documentId });
    if (get().viewer?.target !== target) return;
    set({ viewer: result.ok ? { target, view: result.value, error: null } : { target, view: null, error: result.error } });
  },

  closeViewer() {
    set({ viewer: null });
  },

  dismissError() {
    set({ error: null });
  },
}));

/** The viewer's target for a passage: its document, page and words to mark. */
export const targetOf = (passage: Passage): ViewerTarget => ({
  documentId: passage.documentId,
  chunkId: passage.chunkId,
  page: passage.page,
  highlight: passage.text,
});

export function followKnowledgeChanges(): () => void {
  // Per subscription, not per module: each follower coalesces its own bursts.
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;
  const offChanged = on('knowledge.changed', () => {
    // Ingestion changes documents many times a second; one refresh per burst is enough.
    if (refreshTimer !== null) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      void useKnowledge.getState().refresh();
    }, 250);
  });
  const offProgress = on('knowledge.ingestProgress', (progress) => useKnowledge.setState({ progress }));
  void call('knowledge.progress', {}).then((result) => {
    if (result.ok) useKnowledge.setState({ progress: result.value });
  });
  return () => {
    if (refreshTimer !== null) clearTimeout(refreshTimer);
    offChanged();
    offProgress();
  };
}
