import { create } from 'zustand';
import type { PolicyInfo } from '../../../electron/common/contract/policy.ts';
import { call } from '../api/client.ts';

interface PolicyStore {
  readonly policy: PolicyInfo | null;
  refresh(): Promise<void>;
}

export const usePolicy = create<PolicyStore>()((set) => ({
  policy: null,
  async refresh() {
    const result = await call('policy.get', {});
    if (result.ok) set({ policy: result.value });
  },
}));

/** Why the policy fixes this setting (dotted path, e.g. `runtime.threads`), or null when it does not. */
export function useLock(path: string): string | null {
  return usePolicy((state) => state.policy?.locked.find((lock) => lock.path === path || path.startsWith(`${lock.path}.`))?.reason ?? null);
}
