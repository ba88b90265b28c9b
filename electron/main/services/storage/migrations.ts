import type { Database } from './sqlite.ts';

/**
 * One step of the schema. `version` numbers run 1, 2, 3… with no gaps; each step is applied
 * in its own transaction together with the `user_version` bump, so a crash or an error leaves
 * the database at the previous version, never halfway.
 *
 * Never edit a migration that has shipped: databases in the field already ran it. Add a new
 * one instead.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** SQL (may hold several statements) or a synchronous function for data rewrites. */
  readonly up: string | ((db: Database) => void);
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'settings and app events',
    // json_valid keeps a bug elsewhere from storing text that no reader could parse.
    // app_events uses AUTOINCREMENT so ids are never reused after old rows are pruned:
    // the audit log will chain records by id. It grows with ALTER TABLE … ADD COLUMN;
    // event-specific fields go in `data`.
    up: `
      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL CHECK (json_valid(value)),
        updated_at TEXT NOT NULL
      );
      CREATE TABLE app_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL CHECK (json_valid(data))
      );
      CREATE INDEX app_events_type_at ON app_events (type, at);
    `,
  },
  {
    version: 2,
    name: 'quarantined model files',
    // A file is identified by real path, size and modification time: a new download to
    // the same path is a different file and gets a fresh chance.
    up: `
      CREATE TABLE quarantined_models (
        identity TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        reason TEXT NOT NULL,
        at TEXT NOT NULL
      );
    `,
  },
];

export const LATEST_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

/** Throws when the list has a gap, a duplicate or is out of order: a programming error, caught by the tests. */
export function assertMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(`Migration "${migration.name}" has version ${migration.version}; expected ${index + 1}.`);
    }
  });
}
