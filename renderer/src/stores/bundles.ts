import { create } from 'zustand';
import type { BundleInstallEvent, BundleReport, InstalledBundleEntry, TrustInfo } from '../../../electron/common/contract/bundles.ts';
import type { AppErrorData } from '../../../electron/common/result.ts';
import { call, on, stream } from '../api/client.ts';

type Progress = Extract<BundleInstallEvent, { type: 'progress' }>;

export type InstallState =
  | { readonly phase: 'report' }
  | { readonly phase: 'installing'; readonly progress: Progress | null }
  | { readonly phase: 'done'; readonly bundle: InstalledBundleEntry }
  | { readonly phase: 'rejected'; readonly report: BundleReport }
  | { readonly phase: 'failed'; readonly error: AppErrorData };

interface BundlesStore {
  readonly bundles: readonly InstalledBundleEntry[];
  readonly trust: TrustInfo | null;
  readonly listed: boolean;
  readonly error: AppErrorData | null;
  readonly checking: boolean;
  /** The picked bundle's verification report, while its dialog is open. */
  readonly report: BundleReport | null;
  readonly install: InstallState | null;
  refresh(): Promise<void>;
  pick(source: 'file' | 'folder'): Promise<void>;
  startInstall(): Promise<void>;
  cancelInstall(): void;
  close(): void;
  uninstall(id: string): Promise<void>;
}

export const useBundles = create<BundlesStore>()((set, get) => {
  let controller: AbortController | null = null;
  return {
    bundles: [],
    trust: null,
    listed: false,
    error: null,
    checking: false,
    report: null,
    install: null,

    async refresh() {
      const result = await call('bundles.list', {});
      if (result.ok) set({ bundles: result.value.bundles, trust: result.value.trust, listed: true });
      else set({ error: result.error, listed: true });
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
      const result = await call('bundles.uninstall', { id });
      if (!result.ok) set({ error: result.error });
      await get().refresh();
    },
  };
});

export function followBundleChanges(): () => void {
  return on('bundles.changed', () => void useBundles.getState().refresh());
}
