import { create } from 'zustand';
import type { AuditCheck, AuditPage } from '../../../electron/common/contract/audit.ts';
import type { AppErrorData } from '../../../electron/common/result.ts';
import { call } from '../api/client.ts';

export const AUDIT_PAGE_SIZE = 50;

interface AuditStore {
  readonly page: AuditPage | null;
  readonly filter: { readonly type: string; readonly from: string; readonly to: string };
  readonly offset: number;
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
  setOffset(offset: number): void;
  verify(): Promise<void>;
  exportLog(): Promise<void>;
}

export const useAudit = create<AuditStore>()((set, get) => ({
  page: null,
  filter: { type: '', from: '', to: '' },
  offset: 0,
  check: null,
  checking: false,
  error: null,
  exported: null,
  problem: null,

  async refresh() {
    const { filter, offset } = get();
    const result = await call('audit.list', {
      ...(filter.type === '' ? {} : { type: filter.type }),
      ...(filter.from === '' ? {} : { from: filter.from }),
      ...(filter.to === '' ? {} : { to: filter.to }),
      limit: AUDIT_PAGE_SIZE,
      offset,
    });
    if (result.ok) set({ page: result.value, problem: result.value.problem, error: null });
    else set({ error: result.error });
  },

  async checkHealth() {
    // audit.list carries the trail's problem; one record is the cheapest page it serves.
    const result = await call('audit.list', { limit: 1 });
    if (result.ok) set({ problem: result.value.problem });
  },

  setFilter(patch) {
    set({ filter: { ...get().filter, ...patch }, offset: 0 });
    void get().refresh();
  },

  setOffset(offset) {
    set({ offset: Math.max(0, offset) });
    void get().refresh();
  },

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
}));
