import type { AppErrorData, Result } from '../../../electron/common/result.ts';

// A list that the service hands out a page at a time (keyset cursor), for any screen whose
// list can grow to tens of thousands of rows. Framework-free and pure apart from the fetch it
// is given: a zustand store or a React hook subscribes to it. Each reset starts a new
// generation; an answer that belongs to an older generation (the filter changed while it was
// in flight) is dropped, so a slow first page of "a" never lands under the filter "ab".

export interface Page<Row> {
  readonly rows: readonly Row[];
  /** Null on the last page. */
  readonly nextCursor: string | null;
  /** Rows matching the filter, over all pages. */
  readonly total: number;
}

export interface PagedState<Row, Filter> {
  readonly filter: Filter;
  readonly rows: readonly Row[];
  readonly nextCursor: string | null;
  readonly total: number;
  /** A page is being fetched. */
  readonly loading: boolean;
  /** The first page has arrived for this filter (until then, `total` means nothing). */
  readonly loaded: boolean;
  readonly error: AppErrorData | null;
}

export interface PagedListOptions<Row, Filter> {
  readonly filter: Filter;
  readonly fetchPage: (filter: Filter, cursor: string | null) => Promise<Result<Page<Row>>>;
  readonly idOf: (row: Row) => string;
}

export interface PagedList<Row, Filter> {
  getState(): PagedState<Row, Filter>;
  subscribe(listener: (state: PagedState<Row, Filter>) => void): () => void;
  /** Starts again from the first page with this filter; resolves when that page is in (or was superseded). */
  reset(filter: Filter): Promise<void>;
  /** Fetches the next page, unless one is in flight or there is none. */
  loadMore(): Promise<void>;
  /** Fetches the first page again with the same filter and keeps only it: new rows show, and nothing past page one is refetched. */
  refreshFirst(): Promise<void>;
  /** After an error, asks again for the page that failed. */
  retry(): Promise<void>;
  /** Drops a row the user removed and counts one fewer, without asking the service again. */
  removeLocal(id: string): void;
  /** Puts a changed row in place of the one with its id (no-op when it is not loaded). */
  replaceRow(row: Row): void;
  /**
   * Keeps only the first page (and the cursor after it), for a screen that is left: its list
   * opens at the top again anyway, and thousands of loaded rows would stay in memory for
   * nothing while the user works elsewhere.
   */
  trim(): void;
}

export function initialPagedState<Row, Filter>(filter: Filter): PagedState<Row, Filter> {
  return { filter, rows: [], nextCursor: null, total: 0, loading: false, loaded: false, error: null };
}

/**
 * Appends a page, leaving out rows already loaded (a row can move across a page boundary
 * between fetches). `seen` holds the ids of `rows` and gains the fresh ones: the list keeps
 * it between pages, because building it again from 20,000 loaded rows on every page cost a
 * frame while scrolling.
 */
export function appendPage<Row>(
  rows: readonly Row[],
  page: readonly Row[],
  idOf: (row: Row) => string,
  seen: Set<string> = new Set(rows.map(idOf)),
): readonly Row[] {
  const fresh = page.filter((row) => !seen.has(idOf(row)));
  for (const row of fresh) seen.add(idOf(row));
  return fresh.length === 0 ? rows : [...rows, ...fresh];
}

export function createPagedList<Row, Filter>(options: PagedListOptions<Row, Filter>): PagedList<Row, Filter> {
  let state: PagedState<Row, Filter> = initialPagedState(options.filter);
  // The ids of state.rows, kept in step with them (see appendPage).
  let seen = new Set<string>();
  // Where the first page ended: how many of the loaded rows are its, and the cursor after it (for trim).
  let first = { count: 0, cursor: null as string | null };
  let generation = 0;
  // The fetch in flight for the current generation, if any: loadMore and refreshFirst never overlap it.
  let inFlight: Promise<void> | null = null;
  const listeners = new Set<(state: PagedState<Row, Filter>) => void>();

  const set = (next: Partial<PagedState<Row, Filter>>) => {
    state = { ...state, ...next };
    for (const listener of listeners) listener(state);
  };

  const fetchInto = (mode: 'first' | 'more'): Promise<void> => {
    const mine = generation;
    const cursor = mode === 'more' ? state.nextCursor : null;
    set({ loading: true });
    const run = options.fetchPage(state.filter, cursor).then((result) => {
      if (mine !== generation) return;
      inFlight = null;
      if (!result.ok) {
        set({ loading: false, error: result.error });
        return;
      }
      const page = result.value;
      if (mode === 'first') {
        seen = new Set(page.rows.map(options.idOf));
        first = { count: page.rows.length, cursor: page.nextCursor };
      }
      set({
        rows: mode === 'more' ? appendPage(state.rows, page.rows, options.idOf, seen) : page.rows,
        nextCursor: page.nextCursor,
        total: page.total,
        loading: false,
        loaded: true,
        error: null,
      });
    });
    inFlight = run;
    return run;
  };

  return {
    getState: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    reset(filter) {
      generation += 1;
      inFlight = null;
      state = initialPagedState(filter);
      seen = new Set();
      return fetchInto('first');
    },
    async loadMore() {
      if (inFlight !== null) return inFlight;
      if (!state.loaded || state.nextCursor === null || state.error !== null) return;
      return fetchInto('more');
    },
    async refreshFirst() {
      // Wait for a page in flight: its rows would otherwise land after (and on top of) the fresh first page.
      const mine = generation;
      if (inFlight !== null) await inFlight;
      if (mine !== generation) return;
      return fetchInto('first');
    },
    async retry() {
      if (inFlight !== null || state.error === null) return;
      return fetchInto(state.loaded ? 'more' : 'first');
    },
    removeLocal(id) {
      const rows = state.rows.filter((row) => options.idOf(row) !== id);
      if (rows.length === state.rows.length) return;
      if (state.rows.slice(0, first.count).some((row) => options.idOf(row) === id)) first = { ...first, count: first.count - 1 };
      seen.delete(id);
      set({ rows, total: Math.max(0, state.total - 1) });
    },
    trim() {
      if (!state.loaded || state.rows.length <= first.count) return;
      // A page still on its way belongs to the rows being dropped.
      generation += 1;
      inFlight = null;
      const rows = state.rows.slice(0, first.count);
      seen = new Set(rows.map(options.idOf));
      set({ rows, nextCursor: first.cursor, loading: false });
    },
    replaceRow(row) {
      const id = options.idOf(row);
      const index = state.rows.findIndex((candidate) => options.idOf(candidate) === id);
      if (index < 0) return;
      const rows = [...state.rows];
      rows[index] = row;
      set({ rows });
    },
  };
}
