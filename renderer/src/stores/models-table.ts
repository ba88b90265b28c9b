import { create } from 'zustand';
import type { ModelEntry, ModelSort } from '../../../electron/common/contract/models.ts';
import type { AppErrorData } from '../../../electron/common/result.ts';
import { call } from '../api/client.ts';
import { createPagedList } from './paged.ts';

// The Models screen's table: filtered by name and sorted by the service (models.list with a
// limit), a page at a time, so a library of hundreds of models renders a screenful. The
// whole library (pickers, details) stays in the models store, fed by models.changed.

export interface ModelsTableFilter {
  readonly query: string;
  readonly sort: ModelSort;
  readonly descending: boolean;
}

interface ModelsTableStore {
  readonly rows: readonly ModelEntry[];
  readonly total: number;
  readonly hasMore: boolean;
  readonly loading: boolean;
  readonly loaded: boolean;
  readonly error: AppErrorData | null;
  readonly filter: ModelsTableFilter;
  /** The first page for the current filter. */
  refresh(): Promise<void>;
  loadMore(): void;
  /** Leaving the screen: only the first page stays loaded. */
  trim(): void;
  setQuery(query: string): void;
  /** The same column again flips the direction; another starts ascending. */
  sortBy(sort: ModelSort): void;
  removeLocal(id: string): void;
  /** The library changed (models.changed): rows follow without a refetch, unless a model was added. */
  follow(before: readonly ModelEntry[], after: readonly ModelEntry[]): void;
}

const PAGE = 100;
const INITIAL: ModelsTableFilter = { query: '', sort: 'name', descending: false };

/** Pure: whether the library gained a model (the table must fetch it in its place) between two lists. */
export function gainedModel(before: readonly ModelEntry[], after: readonly ModelEntry[]): boolean {
  const known = new Set(before.map((model) => model.id));
  return after.some((model) => !known.has(model.id));
}

export function createModelsTableStore() {
  return create<ModelsTableStore>()((set, get) => {
    const list = createPagedList<ModelEntry, ModelsTableFilter>({
      filter: INITIAL,
      idOf: (model) => model.id,
      fetchPage: async ({ query, sort, descending }, cursor) => {
        const text = query.trim();
        const result = await call('models.list', {
          sort,
          descending,
          limit: PAGE,
          ...(text === '' ? {} : { query: text }),
          ...(cursor === null ? {} : { cursor }),
        });
        return result.ok ? { ok: true, value: { rows: result.value.models, nextCursor: result.value.nextCursor, total: result.value.total } } : result;
      },
    });
    list.subscribe((page) =>
      set({ rows: page.rows, total: page.total, hasMore: page.nextCursor !== null, loading: page.loading, loaded: page.loaded, error: page.error }),
    );
    let queryTimer: ReturnType<typeof setTimeout> | null = null;

    return {
      rows: [],
      total: 0,
      hasMore: false,
      loading: false,
      loaded: false,
      error: null,
      filter: INITIAL,
      refresh: () => list.reset(get().filter),
      loadMore: () => void list.loadMore(),
      trim: () => list.trim(),
      setQuery(query) {
        // Shown at once in the field; asked of the service once typing pauses.
        set({ filter: { ...get().filter, query } });
        if (queryTimer !== null) clearTimeout(queryTimer);
        queryTimer = setTimeout(() => void list.reset(get().filter), 150);
      },
      sortBy(sort) {
        const current = get().filter;
        const filter = { ...current, sort, descending: current.sort === sort ? !current.descending : false };
        set({ filter });
        void list.reset(filter);
      },
      removeLocal: (id) => list.removeLocal(id),
      follow(before, after) {
        if (!list.getState().loaded) return;
        if (gainedModel(before, after)) {
          void list.refreshFirst();
          return;
        }
        const byId = new Map(after.map((model) => [model.id, model]));
        for (const row of list.getState().rows) {
          const now = byId.get(row.id);
          if (now === undefined) list.removeLocal(row.id);
          else if (now !== row) list.replaceRow(now);
        }
      },
    };
  });
}

export const useModelsTable = createModelsTableStore();
