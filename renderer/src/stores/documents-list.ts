import type {
  DocumentEntry,
  DocumentFolder,
  DocumentFolders,
  DocumentSort,
  DocumentsQuery,
  DocumentStatusGroup,
  StatusCounts,
} from '../../../electron/common/contract/knowledge.ts';
import type { Result } from '../../../electron/common/result.ts';
import { call } from '../api/client.ts';
import { createPagedList, type PagedList } from './paged.ts';

// A collection's documents as the Documents screen asks for them: filtered (name, folder,
// status) and sorted by the knowledge service, a page at a time. Nothing here holds more
// than the pages the user scrolled through.

/** Rows per page: a few screens, so scrolling asks the service rarely. */
export const DOCUMENTS_PAGE = 100;
/** Matches the document picker lists as the user types. */
export const SUGGESTIONS = 20;

export interface DocumentsFilter {
  readonly collectionId: string | null;
  /** Part of the file name. */
  readonly query: string;
  /** A folder relative to the collection's root; '' for all of them. */
  readonly folder: string;
  readonly status: DocumentStatusGroup | null;
  readonly sort: DocumentSort;
  readonly descending: boolean;
}

export const noFilter = (collectionId: string | null): DocumentsFilter => ({
  collectionId,
  query: '',
  folder: '',
  status: null,
  sort: 'name',
  descending: false,
});

/** The service query for a filter: empty parts are left out rather than sent empty. */
export function queryOf(filter: DocumentsFilter & { readonly collectionId: string }, cursor: string | null, limit: number): DocumentsQuery {
  const query = filter.query.trim();
  return {
    collectionId: filter.collectionId,
    ...(query === '' ? {} : { query: query.slice(0, 200) }),
    ...(filter.folder === '' ? {} : { folder: filter.folder }),
    ...(filter.status === null ? {} : { status: filter.status }),
    sort: filter.sort,
    descending: filter.descending,
    ...(cursor === null ? {} : { cursor }),
    limit,
  };
}

/** Clicking a column header: the same column flips the order, another starts ascending. */
export function sortBy(filter: DocumentsFilter, sort: DocumentSort): DocumentsFilter {
  return { ...filter, sort, descending: filter.sort === sort ? !filter.descending : false };
}

const emptyPage = { ok: true, value: { rows: [], nextCursor: null, total: 0 } } as const;

export function createDocumentsList(): PagedList<DocumentEntry, DocumentsFilter> {
  return createPagedList<DocumentEntry, DocumentsFilter>({
    filter: noFilter(null),
    idOf: (document) => document.id,
    async fetchPage(filter, cursor) {
      const { collectionId } = filter;
      if (collectionId === null) return emptyPage;
      const result = await call('knowledge.documents', queryOf({ ...filter, collectionId }, cursor, DOCUMENTS_PAGE));
      return result.ok ? { ok: true, value: { rows: result.value.documents, nextCursor: result.value.nextCursor, total: result.value.total } } : result;
    },
  });
}

/** The first documents whose name holds `query`, indexed ones only (the ones a search can be narrowed to). */
export async function suggestDocuments(collectionId: string, query: string): Promise<Result<readonly DocumentEntry[]>> {
  const result = await call('knowledge.documents', queryOf({ ...noFilter(collectionId), collectionId, query, status: 'indexed' }, null, SUGGESTIONS));
  return result.ok ? { ok: true, value: result.value.documents } : result;
}

export async function fetchFolders(collectionId: string): Promise<Result<DocumentFolders>> {
  return call('knowledge.folders', { collectionId });
}

export const zeroCounts: StatusCounts = { indexed: 0, pending: 0, failed: 0, skipped: 0 };

export const totalOf = (counts: StatusCounts): number => counts.indexed + counts.pending + counts.failed + counts.skipped;

/** The counts of the chosen folder ('' is the whole collection). */
export function countsOf(folders: DocumentFolders | null, folder: string): StatusCounts | null {
  return folders?.folders.find((entry) => entry.path === folder)?.counts ?? null;
}

/** The folders shown in the tree: those whose every ancestor is expanded (the list is depth first). */
export function visibleFolders(folders: readonly DocumentFolder[], expanded: ReadonlySet<string>): readonly DocumentFolder[] {
  const shown: DocumentFolder[] = [];
  // The depth below which folders are hidden, because a collapsed folder sits above them.
  let hiddenBelow = Infinity;
  for (const folder of folders) {
    if (folder.depth > hiddenBelow) continue;
    hiddenBelow = Infinity;
    shown.push(folder);
    if (!expanded.has(folder.path)) hiddenBelow = folder.depth;
  }
  return shown;
}

/** A folder's parent path ('' for a top-level folder); null for the root itself. */
export function parentOf(path: string): string | null {
  if (path === '') return null;
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/** Whether a folder has folders inside it (the next one in depth-first order is deeper). */
export function hasChildren(folders: readonly DocumentFolder[], index: number): boolean {
  const next = folders[index + 1];
  return next !== undefined && next.depth > folders[index]!.depth;
}
