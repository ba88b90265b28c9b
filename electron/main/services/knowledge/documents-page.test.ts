import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DocumentsQuery, DocumentSort } from '../../../common/contract/index.ts';
import { openDatabase, type Database } from '../storage/sqlite.ts';
import { documentFolders, failedDocumentIds, pageDocuments } from './documents-page.ts';
import { seededRandom } from '../../../test-support/knowledge-test-helpers.ts';
import { createKnowledgeStore, FTS_ONLY_KEY, type DocumentStatus, type KnowledgeStore } from './store.ts';

// The Documents screen's list in SQLite: every sort and direction pages through every
// document exactly once, in order, ties included; filters combine; a cursor survives
// deletions and is refused when it belongs to another list.

let dir: string;
let db: Database;
let store: KnowledgeStore;
let collectionId: string;

interface Made {
  id: string;
  name: string;
  folder: string;
  bytes: number;
  addedAt: string;
  status: DocumentStatus;
}
let made: Made[];

const ROOT = path.join(path.sep, 'archive');
const FOLDERS = ['', 'a', path.join('a', 'b'), 'c', 'a b'];
const STATUSES: DocumentStatus[] = ['indexed', 'indexed', 'queued', 'extracted', 'failed', 'skipped'];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-documents-page-'));
  db = openDatabase(dir);
  let clock = 0;
  // Three documents share each instant: ties in added_at.
  store = createKnowledgeStore(db, { now: () => new Date(Date.UTC(2024, 0, 1) + Math.floor(clock++ / 3) * 1000) });
  collectionId = store.createCollection({ name: 'Archive', embeddingModelId: null, embeddingKey: FTS_ONLY_KEY, dimensions: null }).id;
  const random = seededRandom(7);
  made = [];
  for (let at = 0; at < 230; at += 1) {
    const folder = FOLDERS[at % FOLDERS.length]!;
    // Few distinct names (in different cases) and sizes: many ties.
    const name = `${['Report', 'report', 'Minutes', 'budget', 'Zeta'][Math.floor(random() * 5)]}-${at % 4}.txt`;
    // The same name twice in a folder is another file, so another path.
    const taken = made.some((m) => m.name === name && m.folder === folder.split(path.sep).join('/'));
    const sourcePath = path.join(ROOT, folder, taken ? `${at}-${name}` : name);
    const document = store.addDocument({ collectionId, name, sourcePath, storedPath: null, format: 'text', bytes: [10, 20, 30][at % 3]!, sha256: 'x' });
    const status = STATUSES[Math.floor(random() * STATUSES.length)]!;
    db.prepare('UPDATE documents SET status = ? WHERE id = ?').run(status, document.id);
    made.push({ id: document.id, name, folder: folder.split(path.sep).join('/'), bytes: document.bytes, addedAt: document.addedAt, status });
  }
});

afterEach(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

const RANK: Record<DocumentStatus, number> = { failed: 0, skipped: 1, queued: 2, extracted: 2, embedded: 2, indexed: 3 };
const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
const KEYS: Record<DocumentSort, (m: Made) => (string | number)[]> = {
  name: (m) => [m.name.toLowerCase(), m.id],
  added: (m) => [m.addedAt, m.id],
  size: (m) => [m.bytes, m.id],
  status: (m) => [RANK[m.status], m.name.toLowerCase(), m.id],
};
function expected(sort: DocumentSort, descending: boolean, keep: (m: Made) => boolean = () => true): string[] {
  const order = (a: Made, b: Made) => {
    const [x, y] = [KEYS[sort](a), KEYS[sort](b)];
    for (let at = 0; at < x.length; at += 1) if (cmp(x[at]!, y[at]!) !== 0) return cmp(x[at]!, y[at]!);
    return 0;
  };
  const list = made.filter(keep).sort(order);
  return (descending ? list.reverse() : list).map((m) => m.id);
}

function all(query: Omit<DocumentsQuery, 'collectionId'>): { ids: string[]; totals: number[] } {
  const ids: string[] = [];
  const totals: number[] = [];
  let cursor: string | undefined;
  do {
    const page = pageDocuments(db, { collectionId, ...query, ...(cursor === undefined ? {} : { cursor }) });
    expect(page.documents.length).toBeLessThanOrEqual(query.limit ?? 100);
    ids.push(...page.documents.map((document) => document.id));
    totals.push(page.total);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return { ids, totals };
}

describe('pageDocuments', () => {
  for (const sort of ['name', 'added', 'size', 'status'] as const) {
    for (const descending of [false, true]) {
      it(`pages through every document once by ${sort} ${descending ? 'descending' : 'ascending'}, ties included`, () => {
        const { ids, totals } = all({ sort, descending, limit: 17 });
        expect(ids).toEqual(expected(sort, descending));
        expect(new Set(totals)).toEqual(new Set([made.length]));
      });
    }
  }

  it('has a default page of 100 and the last page has no cursor', () => {
    const first = pageDocuments(db, { collectionId });
    expect(first.documents).toHaveLength(100);
    expect(first.nextCursor).not.toBeNull();
    expect(pageDocuments(db, { collectionId, limit: 500 }).nextCursor).toBeNull();
  });

  it('combines the name, folder and status filters, and gives folders relative to the root', () => {
    const inA = (m: Made) => m.folder === 'a' || m.folder.startsWith('a/');
    const keep = (m: Made) => m.name.toLowerCase().includes('report') && inA(m) && ['queued', 'extracted', 'embedded'].includes(m.status);
    const { ids, totals } = all({ query: 'REPORT', folder: 'a', status: 'pending', sort: 'size', limit: 5 });
    expect(ids.length).toBeGreaterThan(0);
    expect(ids).toEqual(expected('size', false, keep));
    expect(totals[0]).toBe(ids.length);
    // 'a' and below does not take in 'a b', a sibling whose name starts the same.
    const folders = new Set(pageDocuments(db, { collectionId, folder: 'a', limit: 500 }).documents.map((document) => document.folder));
    expect([...folders].sort()).toEqual(['a', 'a/b']);
    expect(all({ status: 'skipped' }).ids.sort()).toEqual(
      made
        .filter((m) => m.status === 'skipped')
        .map((m) => m.id)
        .sort(),
    );
    // Wildcards typed in the filter are plain characters.
    expect(pageDocuments(db, { collectionId, query: '%' }).total).toBe(0);
    expect(pageDocuments(db, { collectionId, query: '-1.t' }).total).toBe(made.filter((m) => m.name.includes('-1.t')).length);
  });

  it('continues correctly after rows on either side of the cursor were deleted', () => {
    const order = expected('name', false);
    const first = pageDocuments(db, { collectionId, sort: 'name', limit: 10 });
    expect(first.documents.map((document) => document.id)).toEqual(order.slice(0, 10));
    // The page's last row (the cursor's own) and the next page's first row go.
    store.deleteDocument(order[9]!);
    store.deleteDocument(order[10]!);
    const second = pageDocuments(db, { collectionId, sort: 'name', limit: 10, cursor: first.nextCursor! });
    expect(second.documents.map((document) => document.id)).toEqual(order.slice(11, 21));
    expect(second.total).toBe(made.length - 2);
  });

  it('refuses a cursor that is malformed or from another list, with a readable message', () => {
    const cursor = pageDocuments(db, { collectionId, sort: 'name', limit: 10 }).nextCursor!;
    const refused = { code: 'bad_request', message: expect.stringMatching(/not valid any more/) };
    expect(() => pageDocuments(db, { collectionId, cursor: 'not a cursor!' })).toThrow(expect.objectContaining(refused));
    expect(() => pageDocuments(db, { collectionId, cursor: Buffer.from('[1,2]').toString('base64url') })).toThrow(expect.objectContaining(refused));
    expect(() => pageDocuments(db, { collectionId, sort: 'size', cursor })).toThrow(expect.objectContaining(refused));
    expect(() => pageDocuments(db, { collectionId, sort: 'name', descending: true, cursor })).toThrow(expect.objectContaining(refused));
    expect(() => pageDocuments(db, { collectionId, sort: 'name', query: 'report', cursor })).toThrow(expect.objectContaining(refused));
    expect(() => pageDocuments(db, { collectionId, folder: '../etc' })).toThrow(expect.objectContaining({ code: 'bad_request' }));
    expect(() => pageDocuments(db, { collectionId: 'missing' })).toThrow(expect.objectContaining({ code: 'not_found' }));
  });
});

describe('documentFolders and failedDocumentIds', () => {
  it('give the tree under the common root with counts including every folder below', () => {
    const tree = documentFolders(db, collectionId);
    expect(tree.root).toBe(ROOT);
    expect(tree.folders.map((folder) => folder.path)).toEqual(['', 'a', 'a/b', 'a b', 'c']);
    const count = (keep: (m: Made) => boolean) => {
      const mine = made.filter(keep);
      const of = (...statuses: DocumentStatus[]) => mine.filter((m) => statuses.includes(m.status)).length;
      return { indexed: of('indexed'), pending: of('queued', 'extracted', 'embedded'), failed: of('failed'), skipped: of('skipped') };
    };
    expect(tree.folders[0]!.counts).toEqual(count(() => true));
    expect(tree.folders[1]).toEqual({ path: 'a', name: 'a', depth: 1, counts: count((m) => m.folder === 'a' || m.folder === 'a/b') });
    expect(tree.folders[2]).toEqual({ path: 'a/b', name: 'b', depth: 2, counts: count((m) => m.folder === 'a/b') });
    expect(failedDocumentIds(db, collectionId, 'a').sort()).toEqual(
      made
        .filter((m) => m.status === 'failed' && (m.folder === 'a' || m.folder === 'a/b'))
        .map((m) => m.id)
        .sort(),
    );
  });
});

describe('skipped files', () => {
  it('keep one row per path, stay out of recovery and of the pending and failed counts', () => {
    db.prepare('DELETE FROM documents').run();
    const file = path.join(ROOT, 'c', 'tool.exe');
    expect(store.addSkipped(collectionId, file, 'Soberana cannot read .exe files.')).toBe(true);
    expect(store.addSkipped(collectionId, file, 'Soberana cannot read .exe files.')).toBe(false);
    const [row] = pageDocuments(db, { collectionId }).documents;
    expect(row).toMatchObject({
      name: 'tool.exe',
      status: 'skipped',
      format: 'exe',
      folder: '',
      error: { reason: 'unsupported', message: 'Soberana cannot read .exe files.' },
    });
    expect(store.documentsNeedingRecovery()).toEqual([]);
    expect(store.listCollections().find((collection) => collection.id === collectionId)).toMatchObject({ failedCount: 0, pendingCount: 0 });
    expect(() => store.setStatus(row!.id, 'extracted')).toThrow(/cannot move/);
  });
});
