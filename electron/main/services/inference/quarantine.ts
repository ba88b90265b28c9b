import type { Database } from '../storage/sqlite.ts';
import type { QuarantineStore } from './engine.ts';

/** Quarantined model files, kept in SQLite so that a restart does not give a crasher another go. */
export function sqliteQuarantine(db: Database, onAdd?: (filePath: string, reason: string) => void): QuarantineStore {
  const find = db.prepare('SELECT reason FROM quarantined_models WHERE identity = ?');
  const insert = db.prepare('INSERT OR REPLACE INTO quarantined_models (identity, path, reason, at) VALUES (?, ?, ?, ?)');
  return {
    reasonFor(identity) {
      const row = find.get(identity) as { reason: string } | undefined;
      return row?.reason ?? null;
    },
    add(identity, filePath, reason) {
      insert.run(identity, filePath, reason, new Date().toISOString());
      onAdd?.(filePath, reason);
    },
  };
}
