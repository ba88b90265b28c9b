import type { SettingsPatch } from '../../../common/contract/schemas.ts';
import type { SettingsStore } from '../settings.ts';
import type { Emit } from './events.ts';
import type { Gate } from './gate.ts';

/** The settings store as every caller sees it: locked keys already enforced by the store, each change gated and recorded. */
export function governSettings(store: SettingsStore, gate: Gate, emit: Emit): SettingsStore {
  return {
    get: () => store.get(),
    async update(patch: SettingsPatch) {
      gate.check('settings.update');
      const next = await store.update(patch);
      for (const [key, value] of Object.entries(patch)) emit({ type: 'setting.changed', data: { key, value: value as never } });
      return next;
    },
  };
}
