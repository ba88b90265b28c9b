import { create } from 'zustand';
import type { Settings, SettingsPatch } from '../../../electron/common/contract/schemas.ts';
import type { AppErrorData } from '../../../electron/common/result.ts';
import { call, on } from '../api/client.ts';

interface SettingsState {
  readonly settings: Settings | null;
  readonly error: AppErrorData | null;
  load(): Promise<void>;
  update(patch: SettingsPatch): Promise<void>;
}

export const useSettings = create<SettingsState>()((set, get) => ({
  settings: null,
  error: null,
  async load() {
    const result = await call('settings.get', {});
    set(result.ok ? { settings: result.value, error: null } : { error: result.error });
  },
  async update(patch) {
    const previous = get().settings;
    // Optimistic: the control moves at once, and moves back if saving fails.
    if (previous !== null) set({ settings: { ...previous, ...patch } as Settings });
    const result = await call('settings.update', patch);
    set(result.ok ? { settings: result.value, error: null } : { settings: previous, error: result.error });
  },
}));

/** Keeps every window in step when settings change anywhere. Returns the unsubscribe function. */
export function followSettingsChanges(): () => void {
  return on('settings.changed', (settings) => useSettings.setState({ settings }));
}
