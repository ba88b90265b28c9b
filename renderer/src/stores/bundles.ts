import { create } from 'zustand';
import type { BundleInstallEvent, BundleReport, InstalledBundleEntry, TrustInfo } from '../../../electron/common/contract/bundles.ts';
import type { AppErrorData } from '../../../electron/common/result.ts';
import { call, on, stream } from '../api/client.ts';
import { createPagedList } from './paged.ts';

/** Installed bundles per page of the list. */
const PAGE = 100;

type Progress = Extract<BundleInstallEvent, { type: 'progress' }>;

export type InstallState =
  | { readonly phase: 'report' }
  | { readonly phase: 'installing'; readonly progress: Progress | null }
  | { readonly phase: 'done'; readonly bundle: InstalledBundleEntry }
  | { readonly phase: 'rejected'; readonly report: BundleReport }
  | { readonly phase: 'failed'; readonly error: AppErrorData };

interface BundlesStore {
  /** The installed bundles loaded so far, by name, a page at a time. */
  readonly bundles: readonly InstalledBundleEntry[];
  readonly total: number;
  readonly hasMore: boolean;
  readonly loading: boolean;
  readonly trust: TrustInfo | null;
  readonly listed: boolean;
  readonly error: AppErrorData | null;
  readonly checking: boolean;
  /** The picked bundle's verification report, while its dialog is open. */
  readonly report: BundleReport | null;
  readonly install: InstallState | null;
  /** The first page again (an install shows at its place). */
  refresh(): Promise<void>;
  loadMore(): void;
  /** Leaving the screen: only the first page stays loaded. */
  trim(): void;
  /** A `bundles.changed`: refreshes, unless this window already removed that bundle's row. */
  changed(bundleId: string | null): void;
  pick(source: 'file' | 'folder'): Promise<void>;
  startInstall(): Promise<void>;
  cancelInstall(): void;
  close(): void;
  uninstall(id: string): Promise<void>;
}

export const useBundles = create<BundlesStore>()((set, get) => {
  let controller: AbortController | null = null;
  const list = createPagedList<InstalledBundleEntry, null>({
    filter: null,
    idOf: (bundle) => bundle.id,
    fetchPage: async (_filter, cursor) => {
      const result = await call('bundles.list', { limit: PAGE, ...(cursor === null ? {} : { cursor }) });
      if (!result.ok) return result;
      set({ trust: result.value.trust });
      return { ok: true, value: { rows: result.value.bundles, nextCursor: result.value.nextCursor, total: result.value.total } };
    },
  });
  list.subscribe((state) =>
    set({
      bundles: state.rows,
      total: state.total,
      hasMore: state.nextCursor !== null,
      loading: state.loading,
      listed: state.loaded || state.error !== null,
      ...(state.error === null ? {} : { error: state.error }),
    }),
  );
  // Bundles this window uninstalled: their row is already gone, so their bundles.changed fetches nothing.
  const removedHere = new Set<string>();
  return {
    bundles: [],
    total: 0,
    hasMore: false,
    loading: false,
    trust: null,
    listed: false,
    error: null,
    checking: false,
    report: null,
    install: null,

    refresh: () => (list.getState().loaded ? list.refreshFirst() : list.reset(null)),

    loadMore: () => void list.loadMore(),
    trim: () => list.trim(),

    changed(bundleId) {
      if (bundleId !== null && removedHere.delete(bundleId)) return;
      void get().refresh();
    },

    async pick(source) {
      set({ checking: true, error: null });
      const result = await call('bundles.pick', { source });
      set({ checking: false });
      if (!result.ok) set({ error: result.error });
      else if (result.value.report !== null) set({ report: result.value.report, install: { phase: 'report' } });
    },

    async startInstall() {
      const report = get().report;
      if (report === null || !report.ok) return;
      controller?.abort();
      const own = (controller = new AbortController());
      set({ install: { phase: 'installing', progress: null } });
      const result = await stream(
        'bundles.install',
        { token: report.token },
        (event) => {
          if (event.type === 'progress') set({ install: { phase: 'installing', progress: event } });
          else if (event.type === 'done') set({ install: { phase: 'done', bundle: event.bundle } });
          else set({ install: { phase: 'rejected', report: event.report } });
        },
        own.signal,
      );
      if (controller === own) controller = null;
      if (!result.ok) set({ install: { phase: 'failed', error: result.error } });
      await get().refresh();
    },

    cancelInstall() {
      controller?.abort();
    },

    close() {
      controller?.abort();
      set({ report: null, install: null });
    },

    async uninstall(id) {
      // Marked before the call: the main process's bundles.changed may arrive before its answer.
      removedHere.add(id);
      const result = await call('bundles.uninstall', { id });
      if (!result.ok) {
        removedHere.delete(id);
        set({ error: result.error });
        return;
      }
      list.removeLocal(id);
    },
  };
});

export function followBundleChanges(): () => void {
  return on('bundles.changed', ({ bundleId }) => useBundles.getState().changed(bundleId));
}
