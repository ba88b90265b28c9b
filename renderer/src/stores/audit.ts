import { create } from 'zustand';
import type { AuditCheck, AuditEntry, AuditPage } from '../../../electron/common/contract/audit.ts';
import type { AppErrorData } from '../../../electron/common/result.ts';
import { call } from '../api/client.ts';
import { createPagedList } from './paged.ts';

/** Records per page; the table is a virtual list, so a page is only what one fetch brings. */
export const AUDIT_PAGE_SIZE = 100;

export interface AuditFilterState {
  readonly type: string;
  readonly from: string;
  readonly to: string;
}

interface AuditStore {
  /** The first page's answer for the filter: the level, the problem, the event types (its records are in `records`). */
  readonly page: AuditPage | null;
  readonly filter: AuditFilterState;
  /** The records loaded so far, newest first, a page at a time (keyset by seq). */
  readonly records: readonly AuditEntry[];
  readonly total: number;
  readonly hasMore: boolean;
  readonly loading: boolean;
  readonly check: AuditCheck | null;
  readonly checking: boolean;
  readonly error: AppErrorData | null;
  readonly exported: string | null;
  /**
   * Why the log is not recording when the policy wants it to (null: it records, or the level
   * is off). The app shell shows it everywhere, since every audited action is refused meanwhile.
   */
  readonly problem: string | null;
  refresh(): Promise<void>;
  /** Asks the services whether the log records now, without loading a page of records. */
  checkHealth(): Promise<void>;
  setFilter(patch: Partial<AuditStore['filter']>): void;
  loadMore(): void;
  /** Leaving the screen: only the first page stays loaded. */
  trim(): void;
  verify(): Promise<void>;
  exportLog(): Promise<void>;
}

export const useAudit = create<AuditStore>()((set, get) => {
  const list = createPagedList<AuditEntry, AuditFilterState>({
    filter: { type: '', from: '', to: '' },
    idOf: (entry) => String(entry.seq),
    fetchPage: async (filter, cursor) => {
      const result = await call('audit.list', {
        ...(filter.type === '' ? {} : { type: filter.type }),
        ...(filter.from === '' ? {} : { from: filter.from }),
        ...(filter.to === '' ? {} : { to: filter.to }),
        ...(cursor === null ? {} : { cursor }),
        limit: AUDIT_PAGE_SIZE,
      });
      if (!result.ok) {
        set({ error: result.error });
        return result;
      }
      // Every page says whether the log records; the first also gives the level and the types.
      set({ problem: result.value.problem, error: null, ...(cursor === null ? { page: result.value } : {}) });
      return { ok: true, value: { rows: result.value.records, nextCursor: result.value.nextCursor, total: result.value.total } };
    },
  });
  list.subscribe((state) => set({ records: state.rows, total: state.total, hasMore: state.nextCursor !== null, loading: state.loading }));

  return {
    page: null,
    filter: { type: '', from: '', to: '' },
    records: [],
    total: 0,
    hasMore: false,
    loading: false,
    check: null,
    checking: false,
    error: null,
    exported: null,
    problem: null,

    refresh: () => list.reset(get().filter),

    async checkHealth() {
      // audit.list carries the trail's problem; one record is the cheapest page it serves.
      const result = await call('audit.list', { limit: 1 });
      if (result.ok) set({ problem: result.value.problem });
    },

    setFilter(patch) {
      const filter = { ...get().filter, ...patch };
      set({ filter });
      void list.reset(filter);
    },

    loadMore: () => void list.loadMore(),
    trim: () => list.trim(),

    async verify() {
      set({ checking: true, check: null });
      const result = await call('audit.verify', {});
      set({ checking: false });
      if (result.ok) set({ check: result.value, error: null });
      else set({ error: result.error });
    },

    async exportLog() {
      const { filter } = get();
      const result = await call('audit.export', { ...(filter.from === '' ? {} : { from: filter.from }), ...(filter.to === '' ? {} : { to: filter.to }) });
      if (!result.ok) set({ error: result.error });
      else set({ exported: result.value.path });
      await get().refresh();
    },
  };
});
