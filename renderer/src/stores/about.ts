import { create } from 'zustand';
import type { AppInfo, DiagnosticCheckId, DiagnosticEvent } from '../../../electron/common/contract/schemas.ts';
import type { AppErrorData } from '../../../electron/common/result.ts';
import { call, stream } from '../api/client.ts';

type CheckEvent = Extract<DiagnosticEvent, { type: 'check' }>;
type Summary = Omit<Extract<DiagnosticEvent, { type: 'done' }>, 'type'>;

export type RunState =
  | { readonly phase: 'idle' }
  | { readonly phase: 'running'; readonly total: number; readonly checks: readonly CheckEvent[] }
  | { readonly phase: 'done'; readonly checks: readonly CheckEvent[]; readonly summary: Summary }
  | { readonly phase: 'cancelled'; readonly checks: readonly CheckEvent[] }
  | { readonly phase: 'failed'; readonly checks: readonly CheckEvent[]; readonly error: AppErrorData };

interface AboutState {
  readonly info: AppInfo | null;
  readonly infoError: AppErrorData | null;
  readonly run: RunState;
  loadInfo(): Promise<void>;
  runChecks(): Promise<void>;
  cancelChecks(): void;
}

/** Pure: folds one diagnostics event into the run state. */
export function reduceRun(state: RunState, event: DiagnosticEvent): RunState {
  const checks = state.phase === 'idle' ? [] : state.checks;
  switch (event.type) {
    case 'started':
      return { phase: 'running', total: event.total, checks: [] };
    case 'check':
      return state.phase === 'running' ? { ...state, checks: [...checks, event] } : state;
    case 'done':
      return { phase: 'done', checks, summary: { passed: event.passed, warned: event.warned, failed: event.failed } };
  }
}

export const useAbout = create<AboutState>()((set, get) => {
  let controller: AbortController | null = null;
  return {
    info: null,
    infoError: null,
    run: { phase: 'idle' },
    async loadInfo() {
      const result = await call('app.info', {});
      set(result.ok ? { info: result.value, infoError: null } : { infoError: result.error });
    },
    async runChecks() {
      controller?.abort();
      const own = (controller = new AbortController());
      set({ run: { phase: 'running', total: 0, checks: [] } });
      const result = await stream('diagnostics.run', {}, (event) => set({ run: reduceRun(get().run, event) }), own.signal);
      if (controller !== own) return; // a newer run took over
      controller = null;
      if (!result.ok) {
        const checks = get().run.phase === 'idle' ? [] : (get().run as { checks: readonly CheckEvent[] }).checks;
        set({ run: result.error.code === 'cancelled' ? { phase: 'cancelled', checks } : { phase: 'failed', checks, error: result.error } });
      }
    },
    cancelChecks() {
      controller?.abort();
    },
  };
});

export type { CheckEvent, DiagnosticCheckId };
