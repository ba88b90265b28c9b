import { create } from 'zustand';
import type { ApiStatus, ApiTokenCreate, ApiTokenCreated, ApiTokenInfo } from '../../../electron/common/contract/api.ts';
import type { Collection } from '../../../electron/common/contract/knowledge.ts';
import type { AppErrorData, Result } from '../../../electron/common/result.ts';
import { call, on } from '../api/client.ts';

// The Local API card's state: whether the server listens (kept live by `api.changed`), the
// tokens, and the collections a new token may be limited to. The plain token of a new one
// is handed to the dialog that shows it, never kept here.

interface LocalApiStore {
  readonly status: ApiStatus | null;
  readonly tokens: readonly ApiTokenInfo[] | null;
  readonly collections: readonly Pick<Collection, 'id' | 'name'>[];
  /** Why the status or the tokens could not be read. */
  readonly error: AppErrorData | null;
  /** Why the last revoke failed, with the token's id. */
  readonly revokeError: { readonly id: string; readonly error: AppErrorData } | null;
  load(): Promise<void>;
  loadCollections(): Promise<void>;
  createToken(request: ApiTokenCreate): Promise<Result<ApiTokenCreated>>;
  revoke(id: string): Promise<void>;
}

export const useLocalApi = create<LocalApiStore>()((set, get) => ({
  status: null,
  tokens: null,
  collections: [],
  error: null,
  revokeError: null,
  async load() {
    const [status, tokens] = await Promise.all([call('api.status', {}), call('api.tokens', {})]);
    set({
      ...(status.ok ? { status: status.value } : {}),
      ...(tokens.ok ? { tokens: tokens.value.tokens } : {}),
      error: !status.ok ? status.error : !tokens.ok ? tokens.error : null,
    });
  },
  async loadCollections() {
    const result = await call('knowledge.collections', {});
    if (result.ok) set({ collections: result.value.collections.map(({ id, name }) => ({ id, name })) });
  },
  async createToken(request) {
    const result = await call('api.createToken', request);
    if (result.ok) set({ tokens: [result.value.info, ...(get().tokens ?? []).filter((token) => token.id !== result.value.info.id)] });
    return result;
  },
  async revoke(id) {
    const result = await call('api.revokeToken', { id });
    if (!result.ok) {
      set({ revokeError: { id, error: result.error } });
      return;
    }
    set({ revokeError: null, tokens: (get().tokens ?? []).map((token) => (token.id === id ? result.value : token)) });
  },
}));

/** Keeps the status live while the card is shown: the server starts, stops or fails on its own. */
export function followApiChanges(): () => void {
  return on('api.changed', (status) => useLocalApi.setState({ status }));
}
