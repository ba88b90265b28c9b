import path from 'node:path';
import type { DocumentFolder, DocumentFolders, DocumentStatusGroup, StatusCounts } from '../../../common/contract/index.ts';
import type { DocumentStatus } from './store.ts';

// A collection's folders as the Documents screen browses them. Each document stores the
// absolute folder it was added from; the screen sees those folders relative to the
// collection's root (the longest folder they all share), '/'-separated, '' for the root.
// Pure functions: the service feeds them one GROUP BY (folder, status) query.

/** The status group the screen filters and counts by. */
export function statusGroup(status: DocumentStatus): DocumentStatusGroup {
  return status === 'indexed' || status === 'failed' || status === 'skipped' ? status : 'pending';
}

/** The statuses in a group, for SQL. */
export const STATUSES_OF: Readonly<Record<DocumentStatusGroup, readonly DocumentStatus[]>> = {
  indexed: ['indexed'],
  pending: ['queued', 'extracted', 'embedded'],
  failed: ['failed'],
  skipped: ['skipped'],
};

const emptyCounts = (): StatusCounts => ({ indexed: 0, pending: 0, failed: 0, skipped: 0 });

/** An absolute folder's parts: '/a/b' → ['', 'a', 'b'], 'C:\a' → ['C:', 'a'] on Windows. */
const partsOf = (folder: string, sep: string) => folder.split(sep).filter((part, at) => at === 0 || part !== '');

/**
 * Where a collection's folders meet: the longest folder holding all of them, as parts
 * (see partsOf); empty when they share none (different drives) or there are none.
 */
export function commonParts(folders: readonly string[], sep: string = path.sep): string[] {
  let common: string[] | null = null;
  for (const folder of folders) {
    const parts = partsOf(folder, sep);
    if (common === null) common = parts;
    else {
      let at = 0;
      while (at < common.length && at < parts.length && common[at] === parts[at]) at += 1;
      common = common.slice(0, at);
    }
    if (common.length === 0) break;
  }
  return common ?? [];
}

/** The absolute root folder for `commonParts`; a drive or the file system's root keeps its separator. */
export function rootOf(parts: readonly string[], sep: string = path.sep): string | null {
  if (parts.length === 0) return null;
  return parts.length === 1 ? `${parts[0]}${sep}` : parts.join(sep);
}

/** A stored folder relative to the root given by `commonParts`: '/'-separated, '' for the root itself. */
export function relativeFolder(folder: string, root: readonly string[], sep: string = path.sep): string {
  return partsOf(folder, sep).slice(root.length).join('/');
}

/** The absolute folder for a folder relative to the root; null when it is the root itself. */
export function absoluteFolder(relative: string, root: readonly string[], sep: string = path.sep): string | null {
  const parts = relative.split('/').filter((part) => part !== '');
  if (parts.length === 0) return null;
  const joined = [...root, ...parts];
  return joined.length === 1 ? `${joined[0]}${sep}` : joined.join(sep);
}

const byName = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' }) || (a < b ? -1 : a > b ? 1 : 0);

/**
 * The folder tree with counts per status group, each folder's counts including every folder
 * below it. Depth first, each folder before the folders inside it, siblings by name; the
 * root ('') first, even for an empty collection.
 */
export function folderTree(rows: readonly { folder: string; status: DocumentStatus; count: number }[], sep: string = path.sep): DocumentFolders {
  const root = commonParts(
    rows.map((row) => row.folder),
    sep,
  );
  interface Node {
    readonly path: string;
    readonly name: string;
    readonly depth: number;
    readonly counts: StatusCounts;
    readonly children: Map<string, Node>;
  }
  const top: Node = { path: '', name: '', depth: 0, counts: emptyCounts(), children: new Map() };
  for (const row of rows) {
    const group = statusGroup(row.status);
    let node = top;
    node.counts[group] += row.count;
    for (const part of partsOf(row.folder, sep).slice(root.length)) {
      let child = node.children.get(part);
      if (child === undefined) {
        child = { path: node.path === '' ? part : `${node.path}/${part}`, name: part, depth: node.depth + 1, counts: emptyCounts(), children: new Map() };
        node.children.set(part, child);
      }
      child.counts[group] += row.count;
      node = child;
    }
  }
  const folders: DocumentFolder[] = [];
  const visit = (node: Node) => {
    folders.push({ path: node.path, name: node.name, depth: node.depth, counts: node.counts });
    for (const name of [...node.children.keys()].sort(byName)) visit(node.children.get(name)!);
  };
  visit(top);
  return { root: rootOf(root, sep), folders };
}
