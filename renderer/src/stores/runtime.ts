import { create } from 'zustand';
import type { GenerateStats, PickedFile, RuntimeModel, RuntimeState } from '../../../electron/common/contract/schemas.ts';
import type { AppErrorData } from '../../../electron/common/result.ts';
import { call, on, stream } from '../api/client.ts';

export type LoadPhase =
  | { readonly phase: 'idle' }
  | { readonly phase: 'loading'; readonly progress: number }
  | { readonly phase: 'loaded'; readonly model: RuntimeModel }
  | { readonly phase: 'failed'; readonly error: AppErrorData };

export type GenerationPhase =
  | { readonly phase: 'idle' }
  | { readonly phase: 'running'; readonly text: string; readonly tokens: number; readonly startedAt: number; readonly firstTokenAt: number | null }
  | { readonly phase: 'done'; readonly text: string; readonly stats: GenerateStats }
  | { readonly phase: 'failed'; readonly text: string; readonly error: AppErrorData };

interface RuntimeStore {
  readonly runtime: RuntimeState | null;
  readonly picked: PickedFile | null;
  readonly pickError: AppErrorData | null;
  readonly load: LoadPhase;
  readonly generation: GenerationPhase;
  /** The test panel's prompt, kept here so it survives switching sections. */
  readonly prompt: string;
  setPrompt(prompt: string): void;
  refresh(): Promise<void>;
  pick(): Promise<void>;
  loadPicked(): Promise<void>;
  cancelLoad(): void;
  unload(): Promise<void>;
  generate(prompt: string): Promise<void>;
  stop(): void;
}

/** Pure: tokens per second so far, counted from the first token, as the runtime does. */
export function liveTokensPerSecond(tokens: number, firstTokenAt: number | null, now: number): number {
  if (firstTokenAt === null || tokens < 2 || now <= firstTokenAt) return 0;
  return ((tokens - 1) * 1000) / (now - firstTokenAt);
}

export const useRuntime = create<RuntimeStore>()((set, get) => {
  let loadController: AbortController | null = null;
  let generateController: AbortController | null = null;
  return {
    runtime: null,
    picked: null,
    pickError: null,
    load: { phase: 'idle' },
    generation: { phase: 'idle' },
    prompt: '',

    setPrompt: (prompt) => set({ prompt }),

    async refresh() {
      const result = await call('runtime.state', {});
      if (result.ok) set({ runtime: result.value });
    },

    async pick() {
      const result = await call('files.pickModel', {});
      if (!result.ok) set({ pickError: result.error });
      else if (!result.value.canceled) set({ picked: result.value.file, pickError: null, load: { phase: 'idle' } });
    },

    async loadPicked() {
      const picked = get().picked;
      if (picked === null) return;
      loadController?.abort();
      const controller = (loadController = new AbortController());
      set({ load: { phase: 'loading', progress: 0 } });
      const result = await stream(
        'runtime.load',
        { fileToken: picked.token },
        (event) => set({ load: event.type === 'progress' ? { phase: 'loading', progress: event.progress } : { phase: 'loaded', model: event.model } }),
        controller.signal,
      );
      if (loadController === controller) loadController = null;
      if (!result.ok) set({ load: result.error.code === 'cancelled' ? { phase: 'idle' } : { phase: 'failed', error: result.error } });
    },

    cancelLoad() {
      loadController?.abort();
    },

    async unload() {
      const result = await call('runtime.unload', {});
      if (result.ok) set({ runtime: result.value, load: { phase: 'idle' } });
    },

    async generate(prompt) {
      generateController?.abort();
      const controller = (generateController = new AbortController());
      set({ generation: { phase: 'running', text: '', tokens: 0, startedAt: performance.now(), firstTokenAt: null } });
      let final: GenerateStats | null = null;
      const result = await stream(
        'runtime.generate',
        { prompt },
        (event) => {
          const current = get().generation;
          if (event.type === 'done') {
            final = event.stats;
            return;
          }
          if (current.phase !== 'running') return;
          set({
            generation: {
              ...current,
              text: current.text + event.text,
              tokens: current.tokens + event.tokens,
              firstTokenAt: current.firstTokenAt ?? performance.now(),
            },
          });
        },
        controller.signal,
      );
      if (generateController === controller) generateController = null;
      const text = (() => {
        const current = get().generation;
        return current.phase === 'idle' ? '' : current.text;
      })();
      if (result.ok && final !== null) set({ generation: { phase: 'done', text, stats: final } });
      else if (!result.ok && result.error.code === 'cancelled') {
        const current = get().generation;
        const tokens = current.phase === 'running' ? current.tokens : 0;
        set({
          generation: {
            phase: 'done',
            text,
            stats: { tokens, promptTokens: 0, ms: 0, firstTokenMs: null, tokensPerSecond: 0, stopReason: 'aborted' },
          },
        });
      } else if (!result.ok) set({ generation: { phase: 'failed', text, error: result.error } });
    },

    stop() {
      generateController?.abort();
    },
  };
});

export function followRuntimeChanges(): () => void {
  return on('runtime.stateChanged', (runtime) => useRuntime.setState({ runtime }));
}
