import { describe, expect, it } from 'vitest';
import { absoluteFolder, commonParts, folderTree, relativeFolder, rootOf } from './folders.ts';

describe('folders', () => {
  it('find the common root on POSIX and Windows paths, never splitting a name', () => {
    expect(rootOf(commonParts(['/archive/2023', '/archive/2023 old', '/archive/2023/q1'], '/'), '/')).toBe('/archive');
    expect(rootOf(commonParts(['/a', '/b'], '/'), '/')).toBe('/');
    expect(rootOf(commonParts(['C:\\Users\\ana\\docs', 'C:\\Users\\ana\\docs\\x'], '\\'), '\\')).toBe('C:\\Users\\ana\\docs');
    expect(rootOf(commonParts(['C:\\a', 'D:\\b'], '\\'), '\\')).toBeNull();
    expect(rootOf(commonParts(['C:\\a', 'C:\\b'], '\\'), '\\')).toBe('C:\\');
    expect(rootOf(commonParts([], '/'), '/')).toBeNull();
  });

  it('map folders to and from paths relative to the root', () => {
    const root = commonParts(['/archive/a', '/archive/b'], '/');
    expect(relativeFolder('/archive/a/b', root, '/')).toBe('a/b');
    expect(relativeFolder('/archive', root, '/')).toBe('');
    expect(absoluteFolder('a/b', root, '/')).toBe('/archive/a/b');
    expect(absoluteFolder('', root, '/')).toBeNull();
    expect(absoluteFolder('x', commonParts(['C:\\a', 'C:\\b'], '\\'), '\\')).toBe('C:\\x');
    expect(absoluteFolder('x', [''], '/')).toBe('/x');
  });

  it('build the tree depth first, siblings by name, with counts including every folder below', () => {
    const tree = folderTree(
      [
        { folder: '/r/b', status: 'indexed', count: 2 },
        { folder: '/r/a/z', status: 'failed', count: 1 },
        { folder: '/r/a', status: 'queued', count: 3 },
        { folder: '/r/a', status: 'embedded', count: 1 },
        { folder: '/r/a 2', status: 'skipped', count: 4 },
        { folder: '/r/a/y/deep', status: 'indexed', count: 5 },
      ],
      '/',
    );
    expect(tree.root).toBe('/r');
    expect(tree.folders).toEqual([
      { path: '', name: '', depth: 0, counts: { indexed: 7, pending: 4, failed: 1, skipped: 4 } },
      { path: 'a', name: 'a', depth: 1, counts: { indexed: 5, pending: 4, failed: 1, skipped: 0 } },
      { path: 'a/y', name: 'y', depth: 2, counts: { indexed: 5, pending: 0, failed: 0, skipped: 0 } },
      { path: 'a/y/deep', name: 'deep', depth: 3, counts: { indexed: 5, pending: 0, failed: 0, skipped: 0 } },
      { path: 'a/z', name: 'z', depth: 2, counts: { indexed: 0, pending: 0, failed: 1, skipped: 0 } },
      { path: 'a 2', name: 'a 2', depth: 1, counts: { indexed: 0, pending: 0, failed: 0, skipped: 4 } },
      { path: 'b', name: 'b', depth: 1, counts: { indexed: 2, pending: 0, failed: 0, skipped: 0 } },
    ]);
  });

  it('give an empty collection its root alone', () => {
    expect(folderTree([], '/')).toEqual({ root: null, folders: [{ path: '', name: '', depth: 0, counts: { indexed: 0, pending: 0, failed: 0, skipped: 0 } }] });
  });
});
