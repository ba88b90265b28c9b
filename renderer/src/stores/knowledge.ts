import { create } from 'zustand';
import type {
  Collection,
  DocumentEntry,
  DocumentFolders,
  DocumentSort,
  DocumentStatusGroup,
  DocumentView,
  IngestProgress,
  OcrLanguage,
  Passage,
  SearchResult,
} from '../../../electron/common/contract/knowledge.ts';
import type { AppErrorData } from '../../../electron/common/result.ts';
import { call, on } from '../api/client.ts';
import { countsOf, createDocumentsList, DOCUMENTS_PAGE, fetchFolders, noFilter, sortBy, type DocumentsFilter } from './documents-list.ts';
import type { PagedState } from './paged.ts';

/** Passages a search returns; the results list is virtualized, so more than a screenful costs nothing. */
const SEARCH_LIMIT = 50;

/** What the document viewer has open: a document, and the passage to show in it. */
export interface ViewerTarget {
  readonly documentId: string;
  readonly chunkId: string | null;
  readonly page: number | null;
  readonly highlight: string | null;
}

/** The one document a search is narrowed to. */
export interface SearchScope {
  readonly id: string;
  readonly name: string;
}

/** How long typing may pause before the table asks the service for the names that match. */
const TYPING_MS = 200;

interface DocumentsScreenStore {
  readonly collections: readonly Collection[];
  readonly listed: boolean;
  readonly notices: readonly string[];
  readonly selectedId: string | null;
  /** The loaded pages of the selected collection's documents, with their filter. */
  readonly documents: PagedState<DocumentEntry, DocumentsFilter>;
  /** What the name field shows; the table's filter follows it after a pause in typing. */
  readonly nameQuery: string;
  readonly folders: DocumentFolders | null;
  readonly progress: IngestProgress | null;
  /**
   * Files the last add skipped: those Soberana cannot read, listed as skipped in the collection
   * (new since the add, from its folder counts), and files given that are not documents. The
   * ingest report counts only the files it queued, so the panel adds these to its summary.
   */
  readonly skippedByAdd: number;
  readonly error: AppErrorData | null;
  readonly query: string;
  /** Search within one document; null searches the whole collection. */
  readonly scope: SearchScope | null;
  readonly results: SearchResult | null;
  readonly searching: boolean;
  readonly viewer: { readonly target: ViewerTarget; readonly view: DocumentView | null; readonly error: AppErrorData | null } | null;
  refresh(): Promise<void>;
  select(id: string | null): Promise<void>;
  /** The collections' and folders' counts again, leaving the loaded rows alone. */
  refreshCounts(): Promise<void>;
  /** The first page again (new and changed documents), dropping the pages past it. */
  refreshFirstPage(): Promise<void>;
  loadMore(): void;
  /** Leaving the screen: only the first page of documents stays loaded. */
  trim(): void;
  setNameQuery(text: string): void;
  setFolder(folder: string): void;
  setStatus(status: DocumentStatusGroup | null): void;
  setSort(sort: DocumentSort): void;
  retryFailed(): Promise<void>;
  createCollection(name: string, embeddingModelId: string | null | undefined): Promise<boolean>;
  rename(id: string, name: string): Promise<boolean>;
  setEmbeddingModel(id: string, embeddingModelId: string | null): Promise<void>;
  /** The languages the collection's scans are read in from now on. */
  setOcrLanguages(id: string, ocrLanguages: readonly OcrLanguage[]): Promise<void>;
  removeCollection(id: string): Promise<void>;
  /** Adds picked files, a picked folder (optionally watched), or one drop (its token from `files.dropped`). */
  add(source: 'files' | 'folder' | { readonly dropToken: string }, watch?: boolean): Promise<void>;
  removeDocument(id: string): Promise<void>;
  unwatch(id: string): Promise<void>;
  cancel(): Promise<void>;
  setQuery(query: string): void;
  setScope(scope: SearchScope | null): void;
  search(): Promise<void>;
  clearResults(): void;
  openViewer(target: ViewerTarget): Promise<void>;
  closeViewer(): void;
  dismissError(): void;
}

const list = createDocumentsList();
let typingTimer: ReturnType<typeof setTimeout> | null = null;

export const useKnowledge = create<DocumentsScreenStore>()((set, get) => {
  list.subscribe((documents) => set({ documents }));

  /** Starts the table again from its first page with a changed filter. */
  const filterBy = (change: Partial<DocumentsFilter>): Promise<void> => {
    if (typingTimer !== null) clearTimeout(typingTimer);
    typingTimer = null;
    return list.reset({ ...list.getState().filter, ...change });
  };

  const loadFolders = async (collectionId: string) => {
    const result = await fetchFolders(collectionId);
    if (get().selectedId !== collectionId) return;
    if (result.ok) set({ folders: result.value });
    else set({ error: result.error });
  };

  const loadCollections = async (): Promise<boolean> => {
    const result = await call('knowledge.collections', {});
    if (!result.ok) {
      set({ error: result.error, listed: true });
      return false;
    }
    const { collections, notices } = result.value;
    set({ collections, notices, listed: true });
    return true;
  };

  return {
    collections: [],
    listed: false,
    notices: [],
    selectedId: null,
    documents: list.getState(),
    nameQuery: '',
    folders: null,
    progress: null,
    skippedByAdd: 0,
    error: null,
    query: '',
    scope: null,
    results: null,
    searching: false,
    viewer: null,

    async refresh() {
      if (!(await loadCollections())) return;
      const { collections, selectedId } = get();
      const keep = selectedId !== null && collections.some((collection) => collection.id === selectedId);
      const next = keep ? selectedId : (collections[0]?.id ?? null);
      // The rows are loaded once per collection; counts and events keep them current after that.
      if (next !== selectedId || list.getState().filter.collectionId !== next) await get().select(next);
      else if (next !== null) await loadFolders(next);
    },

    async select(id) {
      set({ selectedId: id, results: null, error: null, scope: null, nameQuery: '', folders: null });
      const rows = filterBy(noFilter(id));
      if (id !== null) await Promise.all([loadFolders(id), rows]);
    },

    async refreshCounts() {
      const id = get().selectedId;
      await Promise.all([loadCollections(), id === null ? null : loadFolders(id)]);
    },

    async refreshFirstPage() {
      await list.refreshFirst();
    },

    loadMore() {
      void list.loadMore();
    },

    trim() {
      list.trim();
    },

    setNameQuery(nameQuery) {
      // A document chosen for search stays chosen only while its name is what the field shows.
      const scope = get().scope;
      set({ nameQuery, ...(scope !== null && scope.name !== nameQuery ? { scope: null } : {}) });
      if (typingTimer !== null) clearTimeout(typingTimer);
      typingTimer = setTimeout(() => {
        typingTimer = null;
        if (list.getState().filter.query !== nameQuery) void list.reset({ ...list.getState().filter, query: nameQuery });
      }, TYPING_MS);
    },

    setFolder(folder) {
      void filterBy({ folder });
    },

    setStatus(status) {
      void filterBy({ status });
    },

    setSort(sort) {
      void filterBy(sortBy(list.getState().filter, sort));
    },

    async retryFailed() {
      const collectionId = get().selectedId;
      if (collectionId === null) return;
      const folder = list.getState().filter.folder;
      const result = await call('knowledge.retryFailed', folder === '' ? { collectionId } : { collectionId, folder });
      if (!result.ok) set({ error: result.error });
      await get().refreshCounts();
      await list.refreshFirst();
    },

    async createCollection(name, embeddingModelId) {
      const result = await call('knowledge.createCollection', embeddingModelId === undefined ? { name } : { name, embeddingModelId });
      if (!result.ok) {
        set({ error: result.error });
        return false;
      }
      set({ error: null });
      await loadCollections();
      await get().select(result.value.id);
      return true;
    },

    async rename(id, name) {
      const result = await call('knowledge.updateCollection', { id, name });
      if (!result.ok) set({ error: result.error });
      await loadCollections();
      return result.ok;
    },

    async setEmbeddingModel(id, embeddingModelId) {
      const result = await call('knowledge.updateCollection', { id, embeddingModelId });
      if (!result.ok) set({ error: result.error });
      await loadCollections();
    },

    async setOcrLanguages(id, ocrLanguages) {
      const result = await call('knowledge.updateCollection', { id, ocrLanguages: [...ocrLanguages] });
      if (!result.ok) set({ error: result.error });
      await loadCollections();
    },

    async removeCollection(id) {
      const result = await call('knowledge.deleteCollection', { id });
      if (!result.ok) set({ error: result.error });
      await get().refresh();
    },

    async add(source, watch) {
      const collectionId = get().selectedId;
      if (collectionId === null) return;
      const input = typeof source === 'string' ? { collectionId, source } : { collectionId, source: 'dropped' as const, dropToken: source.dropToken };
      const skippedBefore = countsOf(get().folders, '')?.skipped ?? 0;
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
      await get().refreshCounts();
      if (result.ok) set({ skippedByAdd: Math.max(0, (countsOf(get().folders, '')?.skipped ?? 0) - skippedBefore) + result.value.unsupported.length });
      await list.refreshFirst();
    },

    async removeDocument(id) {
      const result = await call('knowledge.removeDocument', { id });
      if (!result.ok) {
        set({ error: result.error });
        return;
      }
      // The row goes and the counts are asked again; the pages already loaded stay as they are.
      list.removeLocal(id);
      if (get().scope?.id === id) set({ scope: null });
      if (get().viewer?.target.documentId === id) set({ viewer: null });
      await get().refreshCounts();
    },

    async unwatch(id) {
      const result = await call('knowledge.unwatch', { id });
      if (!result.ok) set({ error: result.error });
      await loadCollections();
    },

    async cancel() {
      await call('knowledge.cancel', {});
    },

    setQuery(query) {
      set({ query });
    },

    setScope(scope) {
      set({ scope, ...(scope === null ? {} : { nameQuery: scope.name }) });
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
      const scope = get().scope;
      const result = await call('knowledge.search', {
        query,
        collectionIds: [collectionId],
        limit: SEARCH_LIMIT,
        ...(scope === null ? {} : { documentIds: [scope.id] }),
      });
      set({ searching: false });
      if (result.ok) set({ results: result.value, error: null });
      else set({ error: result.error });
    },

    clearResults() {
      set({ results: null, query: '' });
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
  };
});

/** The viewer's target for a passage: its document, page and words to mark. */
export const targetOf = (passage: Passage): ViewerTarget => ({
  documentId: passage.documentId,
  chunkId: passage.chunkId,
  page: passage.page,
  highlight: passage.text,
});

/** Ingestion changes documents many times a second: counts follow within a quarter second, rows within a second. */
const COUNTS_MS = 250;
const ROWS_MS = 1000;

export function followKnowledgeChanges(): () => void {
  // Per subscription, not per module: each follower coalesces its own bursts.
  let countsTimer: ReturnType<typeof setTimeout> | null = null;
  let rowsTimer: ReturnType<typeof setTimeout> | null = null;
  const offChanged = on('knowledge.changed', () => {
    countsTimer ??= setTimeout(() => {
      countsTimer = null;
      const store = useKnowledge.getState();
      // Before the first listing, a change means the collections themselves (refresh picks one).
      void (store.listed ? store.refreshCounts() : store.refresh());
    }, COUNTS_MS);
    rowsTimer ??= setTimeout(() => {
      rowsTimer = null;
      // Only the first page is asked again, and only while the user has not scrolled past it:
      // new rows show at the top, and a reader deep in the list is not thrown back to it.
      const { documents } = useKnowledge.getState();
      if (documents.loaded && documents.rows.length <= DOCUMENTS_PAGE) void useKnowledge.getState().refreshFirstPage();
    }, ROWS_MS);
  });
  const offProgress = on('knowledge.ingestProgress', (progress) => useKnowledge.setState({ progress }));
  void call('knowledge.progress', {}).then((result) => {
    if (result.ok) useKnowledge.setState({ progress: result.value });
  });
  return () => {
    if (countsTimer !== null) clearTimeout(countsTimer);
    if (rowsTimer !== null) clearTimeout(rowsTimer);
    offChanged();
    offProgress();
  };
}
