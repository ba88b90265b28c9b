import { transaction, type Database } from '../storage/sqlite.ts';
import { collectionRow } from './collections-store.ts';

// Folders whose files a collection follows.

export interface WatchedFolder {
  readonly id: string;
  readonly collectionId: string;
  readonly path: string;
  readonly addedAt: string;
}

export interface WatchedFolderStore {
  addWatchedFolder(collectionId: string, path: string): WatchedFolder;
  removeWatchedFolder(id: string): void;
  listWatchedFolders(collectionId?: string): WatchedFolder[];
}

interface FolderRow {
  id: string;
  collection_id: string;
  path: string;
  added_at: string;
}

export function createWatchedFolderStore(db: Database, iso: () => string, newId: () => string): WatchedFolderStore {
  return {
    addWatchedFolder(collectionId, path) {
      return transaction(db, () => {
        collectionRow(db, collectionId);
        const existing = db.prepare('SELECT id FROM watched_folders WHERE collection_id = ? AND path = ?').get(collectionId, path) as
          { id: string } | undefined;
        const id = existing?.id ?? newId();
        if (existing === undefined)
          db.prepare('INSERT INTO watched_folders (id, collection_id, path, added_at) VALUES (?, ?, ?, ?)').run(id, collectionId, path, iso());
        const row = db.prepare('SELECT id, collection_id, path, added_at FROM watched_folders WHERE id = ?').get(id) as unknown as FolderRow;
        return toFolder(row);
      });
    },

    removeWatchedFolder(id) {
      db.prepare('DELETE FROM watched_folders WHERE id = ?').run(id);
    },

    listWatchedFolders(collectionId) {
      const rows = (collectionId === undefined
        ? db.prepare('SELECT id, collection_id, path, added_at FROM watched_folders ORDER BY added_at, path').all()
        : db
            .prepare('SELECT id, collection_id, path, added_at FROM watched_folders WHERE collection_id = ? ORDER BY added_at, path')
            .all(collectionId)) as unknown as FolderRow[];
      return rows.map(toFolder);
    },
  };
}

function toFolder(row: FolderRow): WatchedFolder {
  return { id: row.id, collectionId: row.collection_id, path: row.path, addedAt: row.added_at };
}
