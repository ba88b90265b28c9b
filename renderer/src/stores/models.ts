import { create } from 'zustand';
import type { FitEstimate, ImportCandidate, ImportEvent, ImportMode, ModelEntry, ModelLoadSettings } from '../../../electron/common/contract/models.ts';
import type { AppErrorData } from '../../../electron/common/result.ts';
import { call, on, stream } from '../api/client.ts';
import { useModelsTable } from './models-table.ts';

export type FitState =
  { readonly state: 'loading' } | { readonly state: 'ok'; readonly fit: FitEstimate } | { readonly state: 'error'; readonly error: AppErrorData };
type Progress = Omit<Extract<ImportEvent, { type: 'progress' }>, 'type'>;

export type ImportJob =
  | { readonly phase: 'waiting' }
  | { readonly phase: 'running'; readonly progress: Progress | null }
  | { readonly phase: 'done'; readonly modelId: string }
  | { readonly phase: 'failed'; readonly error: AppErrorData }
  | { readonly phase: 'cancelled' };

export interface PickedCandidate extends ImportCandidate {
  readonly mode: ImportMode;
  readonly selected: boolean;
}

export type Busy = 'loading' | 'verifying' | 'removing';

interface ModelsStore {
  readonly models: readonly ModelEntry[];
  readonly listed: boolean;
  readonly listError: AppErrorData | null;
  readonly selectedId: string | null;
  readonly fits: Readonly<Record<string, FitState>>;
  readonly errors: Readonly<Record<string, AppErrorData>>;
  readonly busy: Readonly<Record<string, Busy>>;
  readonly progress: Readonly<Record<string, number>>;
  readonly importOpen: boolean;
  readonly candidates: readonly PickedCandidate[];
  readonly scanProblems: readonly { path: string; message: string }[];
  readonly scanError: AppErrorData | null;
  readonly jobs: Readonly<Record<string, ImportJob>>;
  refresh(): Promise<void>;
  select(id: string | null): void;
  fitFor(id: string): Promise<void>;
  load(id: string): Promise<void>;
  unload(): Promise<void>;
  rename(id: string, name: string): Promise<boolean>;
  remove(id: string): Promise<void>;
  verify(id: string): Promise<void>;
  setDefault(id: string, role: 'chat' | 'embedding'): Promise<void>;
  setLoadSettings(id: string, settings: ModelLoadSettings | null): Promise<boolean>;
  openImport(open: boolean): void;
  /** Scans picked files, a picked folder, or one drop (its token from `files.dropped`). */
  scan(source: 'files' | 'folder' | { readonly dropToken: string }): Promise<void>;
  setCandidate(token: string, patch: Partial<Pick<PickedCandidate, 'mode' | 'selected'>>): void;
  startImport(): Promise<void>;
  cancelImport(token: string): void;
}

const controllers = new Map<string, AbortController>();

function without<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}

export const useModels = create<ModelsStore>()((set, get) => {
  const fail = (id: string, error: AppErrorData) => set({ errors: { ...get().errors, [id]: error } });
  const clear = (id: string) => set({ errors: without(get().errors, id) });
  const setBusy = (id: string, busy: Busy | null) => set({ busy: busy === null ? without(get().busy, id) : { ...get().busy, [id]: busy } });

  return {
    models: [],
    listed: false,
    listError: null,
    selectedId: null,
    fits: {},
    errors: {},
    busy: {},
    progress: {},
    importOpen: false,
    candidates: [],
    scanProblems: [],
    scanError: null,
    jobs: {},

    async refresh() {
      const result = await call('models.list', {});
      if (result.ok) set({ models: result.value.models, listed: true, listError: null });
      else set({ listError: result.error, listed: true });
    },

    select: (id) => set({ selectedId: id }),

    async fitFor(id) {
      set({ fits: { ...get().fits, [id]: { state: 'loading' } } });
      const result = await call('models.fit', { id });
      set({ fits: { ...get().fits, [id]: result.ok ? { state: 'ok', fit: result.value } : { state: 'error', error: result.error } } });
    },

    async load(id) {
      clear(id);
      setBusy(id, 'loading');
      set({ progress: { ...get().progress, [id]: 0 } });
      const result = await stream('models.load', { id }, (event) => {
        if (event.type === 'progress') set({ progress: { ...get().progress, [id]: event.progress } });
      });
      setBusy(id, null);
      set({ progress: without(get().progress, id) });
      if (!result.ok) fail(id, result.error);
    },

    async unload() {
      await call('runtime.unload', {});
    },

    async rename(id, name) {
      clear(id);
      const result = await call('models.rename', { id, name });
      if (!result.ok) fail(id, result.error);
      return result.ok;
    },

    async remove(id) {
      clear(id);
      setBusy(id, 'removing');
      const result = await call('models.remove', { id });
      setBusy(id, null);
      if (!result.ok) fail(id, result.error);
      else {
        // Out of the table at once, one fewer in its count; nothing else is fetched again.
        useModelsTable.getState().removeLocal(id);
        if (get().selectedId === id) set({ selectedId: null });
      }
    },

    async verify(id) {
      clear(id);
      setBusy(id, 'verifying');
      set({ progress: { ...get().progress, [id]: 0 } });
      const result = await stream('models.verify', { id }, (event) => {
        if (event.type === 'progress') set({ progress: { ...get().progress, [id]: event.bytesTotal === 0 ? 1 : event.bytesDone / event.bytesTotal } });
      });
      setBusy(id, null);
      set({ progress: without(get().progress, id) });
      if (!result.ok) fail(id, result.error);
    },

    async setDefault(id, role) {
      clear(id);
      const result = await call('models.setDefault', { id, role });
      if (!result.ok) fail(id, result.error);
    },

    async setLoadSettings(id, settings) {
      clear(id);
      const result = await call('models.setLoadSettings', { id, settings });
      if (!result.ok) fail(id, result.error);
      else set({ fits: without(get().fits, id) });
      return result.ok;
    },

    openImport: (open) =>
      set(
        open
          ? { importOpen: true }
          : { importOpen: false, candidates: get().candidates.filter((candidate) => get().jobs[candidate.token]?.phase === 'running') },
      ),

    async scan(source) {
      set({ scanError: null });
      const result = await call('models.scan', typeof source === 'string' ? { source } : { source: 'dropped', dropToken: source.dropToken });
      if (!result.ok) {
        set({ scanError: result.error });
        return;
      }
      if (result.value.canceled) return;
      const known = new Set(get().candidates.map((candidate) => candidate.token));
      const added = result.value.candidates
        .filter((candidate) => !known.has(candidate.token))
        .map((candidate) => ({ ...candidate, mode: 'copy' as const, selected: true }));
      set({ candidates: [...get().candidates, ...added], scanProblems: result.value.problems });
    },

    setCandidate(token, patch) {
      set({ candidates: get().candidates.map((candidate) => (candidate.token === token ? { ...candidate, ...patch } : candidate)) });
    },

    async startImport() {
      const queue = get().candidates.filter(
        (candidate) =>
          candidate.selected &&
          (get().jobs[candidate.token] === undefined || get().jobs[candidate.token]?.phase === 'failed' || get().jobs[candidate.token]?.phase === 'cancelled'),
      );
      set({ jobs: { ...get().jobs, ...Object.fromEntries(queue.map((candidate) => [candidate.token, { phase: 'waiting' } as ImportJob])) } });
      // One at a time: several large copies at once only fight over the same disk.
      for (const candidate of queue) {
        if (get().jobs[candidate.token]?.phase !== 'waiting') continue;
        const controller = new AbortController();
        controllers.set(candidate.token, controller);
        const setJob = (job: ImportJob) => set({ jobs: { ...get().jobs, [candidate.token]: job } });
        setJob({ phase: 'running', progress: null });
        let modelId = '';
        const result = await stream(
          'models.import',
          { candidateToken: candidate.token, mode: candidate.mode },
          (event) => {
            if (event.type === 'progress') setJob({ phase: 'running', progress: event });
            else modelId = event.model.id;
          },
          controller.signal,
        );
        controllers.delete(candidate.token);
        if (result.ok) setJob({ phase: 'done', modelId });
        else setJob(result.error.code === 'cancelled' ? { phase: 'cancelled' } : { phase: 'failed', error: result.error });
      }
    },

    cancelImport(token) {
      const controller = controllers.get(token);
      if (controller !== undefined) controller.abort();
      else if (get().jobs[token]?.phase === 'waiting') set({ jobs: { ...get().jobs, [token]: { phase: 'cancelled' } } });
    },
  };
});

export function followModelChanges(): () => void {
  return on('models.changed', ({ models }) => {
    const before = useModels.getState().models;
    useModels.setState({ models, listed: true });
    useModelsTable.getState().follow(before, models);
  });
}
