import { describe, expect, it } from 'vitest';
import type { Result } from '../../../electron/common/result.ts';
import { appendPage, createPagedList, type Page } from './paged.ts';

interface Row {
  readonly id: string;
  readonly name: string;
}

// A real keyset-paged source over an array: the cursor is the last id handed out, and the
// filter is a name prefix, as the service's SQL does it. Answers wait until released, so a
// test decides the order in which answers arrive.
function source(count: number) {
  let rows: Row[] = Array.from({ length: count }, (_, index) => ({ id: String(index).padStart(6, '0'), name: `doc-${index}` }));
  const calls: { filter: string; cursor: string | null }[] = [];
  const pending: (() => void)[] = [];
  let hold = false;
  const fetchPage = (filter: string, cursor: string | null): Promise<Result<Page<Row>>> => {
    calls.push({ filter, cursor });
    const answer = (): Result<Page<Row>> => {
      const matching = rows.filter((row) => row.name.startsWith(filter));
      const after = cursor === null ? matching : matching.filter((row) => row.id > cursor);
      const page = after.slice(0, 10);
      const last = page.at(-1);
      return { ok: true, value: { rows: page, nextCursor: after.length > 10 && last !== undefined ? last.id : null, total: matching.length } };
    };
    if (!hold) return Promise.resolve(answer());
    return new Promise((resolve) => pending.push(() => resolve(answer())));
  };
  return {
    fetchPage,
    calls,
    holdAnswers(on: boolean) {
      hold = on;
    },
    /** Releases held answers in the given order (indexes into those held). */
    release(order: readonly number[]) {
      const taken = pending.splice(0, pending.length);
      for (const index of order) taken[index]!();
    },
    remove(id: string) {
      rows = rows.filter((row) => row.id !== id);
    },
    add(row: Row) {
      rows = [row, ...rows];
    },
  };
}

const idOf = (row: Row) => row.id;
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('paged list', () => {
  it('loads the first page, then each next page with the cursor, and stops at the last', async () => {
    const data = source(25);
    const list = createPagedList({ filter: '', fetchPage: data.fetchPage, idOf });
    await list.reset('');
    expect(list.getState()).toMatchObject({ loaded: true, loading: false, total: 25, nextCursor: '000009' });
    expect(list.getState().rows).toHaveLength(10);
    await list.loadMore();
    await list.loadMore();
    expect(list.getState().rows.map(idOf)).toEqual(Array.from({ length: 25 }, (_, index) => String(index).padStart(6, '0')));
    expect(list.getState().nextCursor).toBeNull();
    await list.loadMore();
    expect(data.calls.map((call) => call.cursor)).toEqual([null, '000009', '000019']);
  });

  it('asks for one page at a time however often loadMore is called while one is in flight', async () => {
    const data = source(40);
    const list = createPagedList({ filter: '', fetchPage: data.fetchPage, idOf });
    await list.reset('');
    data.holdAnswers(true);
    const many = [list.loadMore(), list.loadMore(), list.loadMore()];
    expect(list.getState().loading).toBe(true);
    data.release([0]);
    await Promise.all(many);
    expect(data.calls).toHaveLength(2);
    expect(list.getState().rows).toHaveLength(20);
  });

  it('drops an answer for a filter that was replaced while it was in flight', async () => {
    const data = source(200);
    const list = createPagedList({ filter: '', fetchPage: data.fetchPage, idOf });
    data.holdAnswers(true);
    const first = list.reset('doc-1');
    const second = list.reset('doc-19');
    // The newer answer arrives first, the stale one after it: the stale one must not land.
    data.release([1, 0]);
    await Promise.all([first, second]);
    const state = list.getState();
    expect(state.filter).toBe('doc-19');
    expect(state.total).toBe(11);
    expect(state.rows.every((row) => row.name.startsWith('doc-19'))).toBe(true);
  });

  it('a page of more rows that arrives after a reset does not append to the new filter', async () => {
    const data = source(50);
    const list = createPagedList({ filter: '', fetchPage: data.fetchPage, idOf });
    await list.reset('');
    data.holdAnswers(true);
    const more = list.loadMore();
    const reset = list.reset('doc-4');
    data.release([0, 1]);
    await Promise.all([more, reset]);
    expect(list.getState().rows.map((row) => row.name)).toEqual(['doc-4', ...Array.from({ length: 9 }, (_, index) => `doc-4${index}`)]);
    expect(list.getState().total).toBe(11);
  });

  it('removes a row locally and counts one fewer, without fetching', async () => {
    const data = source(30);
    const list = createPagedList({ filter: '', fetchPage: data.fetchPage, idOf });
    await list.reset('');
    await list.loadMore();
    const calls = data.calls.length;
    list.removeLocal('000004');
    expect(list.getState().rows).toHaveLength(19);
    expect(list.getState().rows.some((row) => row.id === '000004')).toBe(false);
    expect(list.getState().total).toBe(29);
    list.removeLocal('not-there');
    expect(list.getState().total).toBe(29);
    expect(data.calls.length).toBe(calls);
  });

  it('replaces a loaded row in place', async () => {
    const data = source(12);
    const list = createPagedList({ filter: '', fetchPage: data.fetchPage, idOf });
    await list.reset('');
    list.replaceRow({ id: '000003', name: 'renamed' });
    list.replaceRow({ id: 'absent', name: 'ignored' });
    expect(list.getState().rows[3]).toEqual({ id: '000003', name: 'renamed' });
    expect(list.getState().rows).toHaveLength(10);
  });

  it('refreshFirst fetches only the first page again and shows what changed', async () => {
    const data = source(35);
    const list = createPagedList({ filter: '', fetchPage: data.fetchPage, idOf });
    await list.reset('');
    await list.loadMore();
    await list.loadMore();
    data.add({ id: '/new', name: 'doc-new' });
    const before = data.calls.length;
    await list.refreshFirst();
    expect(data.calls.length).toBe(before + 1);
    expect(data.calls.at(-1)?.cursor).toBeNull();
    expect(list.getState().rows[0]?.id).toBe('/new');
    expect(list.getState().total).toBe(36);
    expect(list.getState().rows).toHaveLength(10);
  });

  it('keeps the error and asks again only on retry', async () => {
    let fail = true;
    const data = source(15);
    const fetchPage = (filter: string, cursor: string | null): Promise<Result<Page<Row>>> =>
      fail ? Promise.resolve({ ok: false, error: { code: 'unavailable', message: 'down' } }) : data.fetchPage(filter, cursor);
    const list = createPagedList({ filter: '', fetchPage, idOf });
    await list.reset('');
    expect(list.getState()).toMatchObject({ loaded: false, loading: false, error: { message: 'down' } });
    await list.loadMore();
    fail = false;
    await list.retry();
    expect(list.getState()).toMatchObject({ loaded: true, error: null, total: 15 });
  });

  it('tells subscribers about each change until they unsubscribe', async () => {
    const data = source(5);
    const list = createPagedList({ filter: '', fetchPage: data.fetchPage, idOf });
    const seen: boolean[] = [];
    const off = list.subscribe((state) => seen.push(state.loading));
    await list.reset('');
    off();
    list.removeLocal('000000');
    await flush();
    expect(seen).toEqual([true, false]);
  });

  it('trim keeps the first page and its cursor, and the next page follows on from it', async () => {
    const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, index) => String(from + index).padStart(6, '0'));
    const data = source(35);
    const list = createPagedList({ filter: '', fetchPage: data.fetchPage, idOf });
    await list.reset('');
    await list.loadMore();
    await list.loadMore();
    expect(list.getState().rows).toHaveLength(30);
    list.trim();
    expect(list.getState().rows.map(idOf)).toEqual(ids(0, 10));
    expect(list.getState()).toMatchObject({ nextCursor: '000009', total: 35, loading: false });
    await list.loadMore();
    expect(list.getState().rows.map(idOf)).toEqual(ids(0, 20));
  });

  it('trim after a row of the first page was removed keeps the rest of that page, with no row twice', async () => {
    const data = source(30);
    const list = createPagedList({ filter: '', fetchPage: data.fetchPage, idOf });
    await list.reset('');
    await list.loadMore();
    data.remove('000003');
    list.removeLocal('000003');
    list.trim();
    expect(list.getState().rows).toHaveLength(9);
    await list.loadMore();
    await list.loadMore();
    const loaded = list.getState().rows.map(idOf);
    expect(new Set(loaded).size).toBe(loaded.length);
    expect(loaded).toHaveLength(29);
    expect(loaded).not.toContain('000003');
  });

  it('a page in flight when the list is trimmed is dropped', async () => {
    const data = source(40);
    const list = createPagedList({ filter: '', fetchPage: data.fetchPage, idOf });
    await list.reset('');
    await list.loadMore();
    data.holdAnswers(true);
    const late = list.loadMore();
    list.trim();
    data.release([0]);
    await late;
    await flush();
    expect(list.getState().rows).toHaveLength(10);
    expect(list.getState().loading).toBe(false);
  });

  it('appendPage leaves out rows already loaded', () => {
    const a = { id: 'a', name: 'a' };
    const b = { id: 'b', name: 'b' };
    const c = { id: 'c', name: 'c' };
    expect(appendPage([a, b], [b, c], idOf)).toEqual([a, b, c]);
    const rows = [a];
    expect(appendPage(rows, [a], idOf)).toBe(rows);
  });

  it('appendPage keeps the ids it was given in step with the rows, page after page', () => {
    const row = (id: string) => ({ id, name: id });
    const seen = new Set(['a']);
    const once = appendPage([row('a')], [row('b'), row('a')], idOf, seen);
    expect(once.map(idOf)).toEqual(['a', 'b']);
    expect([...seen].sort()).toEqual(['a', 'b']);
    const twice = appendPage(once, [row('b'), row('c')], idOf, seen);
    expect(twice.map(idOf)).toEqual(['a', 'b', 'c']);
    expect([...seen].sort()).toEqual(['a', 'b', 'c']);
  });
});
