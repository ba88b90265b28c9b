import { describe, expect, it } from 'vitest';
import type { DocumentFolder } from '../../../electron/common/contract/knowledge.ts';
import { countsOf, hasChildren, noFilter, parentOf, queryOf, sortBy, totalOf, visibleFolders, zeroCounts } from './documents-list.ts';

const folder = (path: string, indexed = 1): DocumentFolder => ({
  path,
  name: path.split('/').at(-1) ?? '',
  depth: path === '' ? 0 : path.split('/').length,
  counts: { ...zeroCounts, indexed },
});

// Depth first, as the service lists them.
const tree = [folder('', 6), folder('a', 3), folder('a/x', 1), folder('a/x/deep', 1), folder('a/y'), folder('b', 2), folder('b/z')];

describe('documents list', () => {
  it('sends only the parts of the filter that are set', () => {
    expect(queryOf({ ...noFilter('c1'), collectionId: 'c1' }, null, 100)).toEqual({ collectionId: 'c1', sort: 'name', descending: false, limit: 100 });
    expect(queryOf({ collectionId: 'c1', query: '  report ', folder: 'a/x', status: 'failed', sort: 'size', descending: true }, 'k', 20)).toEqual({
      collectionId: 'c1',
      query: 'report',
      folder: 'a/x',
      status: 'failed',
      sort: 'size',
      descending: true,
      cursor: 'k',
      limit: 20,
    });
  });

  it('a header clicked twice flips the order; another header starts ascending', () => {
    const byName = noFilter('c1');
    expect(sortBy(byName, 'name')).toMatchObject({ sort: 'name', descending: true });
    expect(sortBy(sortBy(byName, 'name'), 'name')).toMatchObject({ sort: 'name', descending: false });
    expect(sortBy({ ...byName, descending: true }, 'size')).toMatchObject({ sort: 'size', descending: false });
  });

  it('shows a folder only while every folder above it is open', () => {
    expect(visibleFolders(tree, new Set([''])).map((entry) => entry.path)).toEqual(['', 'a', 'b']);
    expect(visibleFolders(tree, new Set(['', 'a'])).map((entry) => entry.path)).toEqual(['', 'a', 'a/x', 'a/y', 'b']);
    expect(visibleFolders(tree, new Set(['', 'a', 'a/x', 'b'])).map((entry) => entry.path)).toEqual(['', 'a', 'a/x', 'a/x/deep', 'a/y', 'b', 'b/z']);
    // A closed folder hides what is inside it even when those are marked open.
    expect(visibleFolders(tree, new Set(['', 'a/x'])).map((entry) => entry.path)).toEqual(['', 'a', 'b']);
    expect(visibleFolders(tree, new Set())).toHaveLength(1);
  });

  it('knows a folder’s parent and whether it has folders inside', () => {
    expect(parentOf('')).toBeNull();
    expect(parentOf('a')).toBe('');
    expect(parentOf('a/x/deep')).toBe('a/x');
    expect(hasChildren(tree, 1)).toBe(true);
    expect(hasChildren(tree, 4)).toBe(false);
    expect(hasChildren(tree, 6)).toBe(false);
  });

  it('counts the chosen folder', () => {
    const folders = { root: '/data', folders: tree };
    expect(countsOf(folders, 'a')?.indexed).toBe(3);
    expect(countsOf(folders, 'missing')).toBeNull();
    expect(countsOf(null, '')).toBeNull();
    expect(totalOf({ indexed: 1, pending: 2, failed: 3, skipped: 4 })).toBe(10);
  });
});
