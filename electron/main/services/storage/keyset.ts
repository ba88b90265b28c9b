import { AppError } from '../../../common/result.ts';

// Keyset cursors for the paged lists (issue 15). A page ends at its last row; the cursor holds
// that row's sort key, and the next page is every row after it in the same order. Unlike an
// offset, a row deleted or added between two pages neither repeats nor skips another row.
//
// The cursor is opaque to callers: base64url of a small JSON array, tagged with the list it
// belongs to, so a cursor from one list (or one sort order) is refused by another instead of
// silently starting somewhere odd.

export type KeyValue = string | number;

/** The cursor that resumes after a row whose sort key is `key`, in list `list`. */
export function encodeCursor(list: string, key: readonly KeyValue[]): string {
  return Buffer.from(JSON.stringify([list, ...key]), 'utf8').toString('base64url');
}

/**
 * The sort key a cursor holds, checked against what the list expects: `shape` gives each
 * value's type. Anything else (edited, truncated, from another list) is a bad_request with a
 * sentence the user can act on.
 */
export function decodeCursor(list: string, cursor: string, shape: readonly ('string' | 'number')[]): KeyValue[] {
  const refuse = (why: string) =>
    new AppError('bad_request', 'That list position is not valid any more; reload the list from the start.', `cursor for ${list}: ${why}`);
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refuse('not a cursor');
  }
  if (!Array.isArray(parsed) || parsed[0] !== list) throw refuse('from another list or sort order');
  const key = parsed.slice(1) as unknown[];
  if (key.length !== shape.length) throw refuse('wrong length');
  key.forEach((value, index) => {
    const ok = shape[index] === 'number' ? typeof value === 'number' && Number.isFinite(value) : typeof value === 'string';
    if (!ok) throw refuse(`value ${index + 1} is not a ${shape[index]}`);
  });
  return key as KeyValue[];
}

/** Page sizes: the lists' default and the contract's maximum. */
export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 500;

/**
 * Splits rows fetched with LIMIT page + 1 into the page and the next cursor (null when
 * there is no further row), so "is there more" costs no second query.
 */
export function pageOf<Row>(
  rows: readonly Row[],
  page: number,
  list: string,
  keyOf: (row: Row) => readonly KeyValue[],
): { rows: Row[]; nextCursor: string | null } {
  if (rows.length <= page) return { rows: [...rows], nextCursor: null };
  const shown = rows.slice(0, page);
  return { rows: shown, nextCursor: encodeCursor(list, keyOf(shown.at(-1)!)) };
}
