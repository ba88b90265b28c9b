import { useSyncExternalStore } from 'react';
import type { PagedList, PagedState } from './paged.ts';

/** A paged list's state in a component, re-rendering as pages arrive (for lists kept outside a zustand store). */
export function usePaged<Row, Filter>(list: PagedList<Row, Filter>): PagedState<Row, Filter> {
  return useSyncExternalStore(list.subscribe, list.getState);
}
