import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { IngestJob } from './ingest.ts';
import { listFolderFiles } from './files.ts';
import type { KnowledgeStore, WatchedFolder } from '../store.ts';

// Watched folders: new and changed files are queued, files that cannot be read are listed as
// skipped, removed ones leave the collection.
// fs.watch only says "something changed"; each event schedules a rescan of the folder,
// which compares the files with the collection's documents. A slow periodic rescan covers
// what watchers miss (network drives, events dropped under load).

export interface FolderWatchDeps {
  readonly store: KnowledgeStore;
  readonly enqueue: (jobs: readonly IngestJob[]) => void;
  /** Lists files Soberana cannot read as skipped; called only with paths the collection does not hold yet. */
  readonly skip: (collectionId: string, paths: readonly string[]) => void;
  readonly removeDocument: (id: string) => Promise<void>;
  readonly log?: (level: string, message: string) => void;
  readonly debounceMs?: number;
  readonly rescanMs?: number;
}

export interface FolderWatch {
  /** Starts watching every folder recorded in SQLite, scanning each once. */
  start(): Promise<void>;
  add(folder: WatchedFolder): Promise<void>;
  remove(id: string): void;
  /** Compares the folder with its collection now. */
  scan(folder: WatchedFolder): Promise<{ queued: number; removed: number }>;
  close(): void;
}

const inside = (folder: string, file: string) => {
  const relative = path.relative(folder, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
};

export function createFolderWatch(deps: FolderWatchDeps): FolderWatch {
  const watchers = new Map<string, { watcher: FSWatcher | null; timer: ReturnType<typeof setTimeout> | null }>();
  let interval: ReturnType<typeof setInterval> | null = null;

  const scan = async (folder: WatchedFolder) => {
    const { documents: files, unsupported } = await listFolderFiles(folder.path);
    // Attachments have no file on disk: they go with their message.
    const documents = deps.store
      .listDocuments(folder.collectionId)
      .filter((document) => document.parentId === null && inside(folder.path, document.sourcePath));
    const known = new Map(documents.map((document) => [document.sourcePath, document]));
    const jobs: IngestJob[] = [];
    for (const file of files) {
      const document = known.get(file.path);
      // Unchanged by size and time: skip without hashing. Otherwise the queue hashes and skips identical content itself.
      if (document !== undefined && document.status === 'indexed' && document.bytes === file.size && file.mtimeMs <= Date.parse(document.updatedAt)) continue;
      if (document !== undefined && document.status !== 'indexed' && document.status !== 'failed') continue;
      if (document !== undefined && document.status === 'failed' && file.mtimeMs <= Date.parse(document.updatedAt)) continue;
      jobs.push({ collectionId: folder.collectionId, path: file.path });
    }
    const present = new Set([...files, ...unsupported].map((file) => file.path));
    const newlySkipped = unsupported.filter((file) => !known.has(file.path)).map((file) => file.path);
    if (newlySkipped.length > 0) deps.skip(folder.collectionId, newlySkipped);
    let removed = 0;
    for (const document of documents) {
      if (present.has(document.sourcePath)) continue;
      await deps.removeDocument(document.id);
      removed += 1;
    }
    deps.enqueue(jobs);
    return { queued: jobs.length, removed };
  };

  const schedule = (folder: WatchedFolder) => {
    const slot = watchers.get(folder.id);
    if (slot === undefined) return;
    if (slot.timer !== null) clearTimeout(slot.timer);
    slot.timer = setTimeout(() => {
      slot.timer = null;
      scan(folder).catch((error: unknown) => deps.log?.('warn', `Could not scan ${folder.path}: ${String(error)}`));
    }, deps.debounceMs ?? 1000);
  };

  const add = async (folder: WatchedFolder) => {
    if (watchers.has(folder.id)) return;
    let watcher: FSWatcher | null = null;
    try {
      watcher = watch(folder.path, { recursive: true, persistent: false }, () => schedule(folder));
      watcher.on('error', (error) => deps.log?.('warn', `Stopped watching ${folder.path}: ${error.message}`));
    } catch (error) {
      // Still rescanned periodically.
      deps.log?.('warn', `Cannot watch ${folder.path}: ${String(error)}`);
    }
    watchers.set(folder.id, { watcher, timer: null });
    await scan(folder).catch((error: unknown) => deps.log?.('warn', `Could not scan ${folder.path}: ${String(error)}`));
  };

  return {
    async start() {
      for (const folder of deps.store.listWatchedFolders()) await add(folder);
      interval ??= setInterval(() => {
        for (const folder of deps.store.listWatchedFolders()) if (watchers.has(folder.id)) schedule(folder);
      }, deps.rescanMs ?? 60_000);
      interval.unref();
    },
    add,
    remove(id) {
      const slot = watchers.get(id);
      if (slot === undefined) return;
      slot.watcher?.close();
      if (slot.timer !== null) clearTimeout(slot.timer);
      watchers.delete(id);
    },
    scan,
    close() {
      for (const id of [...watchers.keys()]) this.remove(id);
      if (interval !== null) clearInterval(interval);
      interval = null;
    },
  };
}
