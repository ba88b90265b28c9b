import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { AppError } from '../../../common/result.ts';
import type { Database } from './database.ts';
import { assertMigrationList, MIGRATIONS, type Migration } from './migrations.ts';

export type { Database } from './database.ts';

export const DATABASE_FILE = 'soberana.db';

/** Long enough to ride out another connection's checkpoint; short enough that a stuck lock surfaces as an error. */
export const BUSY_TIMEOUT_MS = 5_000;

export interface OpenDatabaseOptions {
  /** Tests pass a shorter or a broken list; the app always uses MIGRATIONS. */
  readonly migrations?: readonly Migration[];
}

/**
 * Opens `<dataDir>/soberana.db` and brings its schema up to date. Throws an `io_error`
 * AppError when the file cannot be opened, was written by a newer Soberana, or a
 * migration fails; in every case the connection is closed again.
 */
export function openDatabase(dataDir: string, options: OpenDatabaseOptions = {}): Database {
  const migrations = options.migrations ?? MIGRATIONS;
  assertMigrationList(migrations);
  const file = path.join(dataDir, DATABASE_FILE);

  let db: Database;
  try {
    mkdirSync(dataDir, { recursive: true });
    db = new DatabaseSync(file);
  } catch (error) {
    throw new AppError('io_error', 'The database could not be opened.', `${file}: ${messageOf(error)}`);
  }

  try {
    // First, so that every later statement waits for another connection instead of failing at once.
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Checked before anything writes to the file: a newer schema must be left exactly as it is.
    refuseNewer(db, file, migrations.length);
    const mode = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string } | undefined;
    if (mode?.journal_mode.toLowerCase() !== 'wal') {
      // WAL needs shared memory, which some network file systems lack.
      throw new AppError(
        'io_error',
        'The data folder does not support the database. Choose a folder on a local disk.',
        `${file}: journal_mode is ${mode?.journal_mode ?? 'unknown'}, expected wal`,
      );
    }
    // FULL makes every commit durable on power loss in WAL mode, not only on a process crash.
    db.exec('PRAGMA synchronous = FULL');
    db.exec('PRAGMA foreign_keys = ON');
    // Deleted rows are overwritten, not just unlinked: a conversation removed by the user or
    // by retention must not stay readable in the file's free pages.
    db.exec('PRAGMA secure_delete = ON');
    migrate(db, migrations, file);
    return db;
  } catch (error) {
    db.close();
    if (error instanceof AppError) throw error;
    throw new AppError('io_error', 'The database could not be opened.', `${file}: ${messageOf(error)}`);
  }
}

export function schemaVersion(db: Database): number {
  const row = db.prepare('PRAGMA user_version').get() as { user_version: number } | undefined;
  return row?.user_version ?? 0;
}

function refuseNewer(db: Database, file: string, known: number): void {
  const version = schemaVersion(db);
  if (version > known) {
    throw new AppError(
      'io_error',
      'This data was saved by a newer version of Soberana. Install that version or a later one to open it.',
      `${file}: schema version ${version}, this build knows up to ${known}`,
    );
  }
}

function migrate(db: Database, migrations: readonly Migration[], file: string): void {
  for (const migration of migrations) {
    if (schemaVersion(db) >= migration.version) continue;
    try {
      transaction(db, () => {
        // Another process may have migrated while this one waited for the write lock.
        if (schemaVersion(db) >= migration.version) return;
        if (typeof migration.up === 'string') db.exec(migration.up);
        else migration.up(db);
        db.exec(`PRAGMA user_version = ${migration.version}`);
      });
    } catch (error) {
      throw new AppError(
        'io_error',
        'The database could not be upgraded for this version of Soberana. Nothing in it was lost.',
        `${file}: migration ${migration.version} (${migration.name}) failed and was rolled back; the schema stays at version ${schemaVersion(db)}: ${messageOf(error)}`,
      );
    }
  }
}

/** Nesting depth per connection, so that an inner `transaction` becomes a savepoint. */
const depths = new WeakMap<Database, number>();

/**
 * Runs `fn` inside one transaction: committed when it returns, rolled back when it throws.
 * `fn` must be synchronous: an `await` inside would let other writes into the transaction.
 * The outer level takes the write lock up front (BEGIN IMMEDIATE) so that two connections
 * cannot both read, then both fail to upgrade to a writer.
 */
export function transaction<T>(db: Database, fn: () => T): T {
  const depth = depths.get(db) ?? 0;
  const savepoint = `soberana_${depth}`;
  db.exec(depth === 0 ? 'BEGIN IMMEDIATE' : `SAVEPOINT ${savepoint}`);
  depths.set(db, depth + 1);
  try {
    const result = fn();
    if (isThenable(result)) throw new Error('transaction() was given an async function; it must be synchronous.');
    db.exec(depth === 0 ? 'COMMIT' : `RELEASE ${savepoint}`);
    return result;
  } catch (error) {
    rollback(db, depth, savepoint);
    throw error;
  } finally {
    depths.set(db, depth);
  }
}

function rollback(db: Database, depth: number, savepoint: string): void {
  try {
    if (depth === 0) db.exec('ROLLBACK');
    else db.exec(`ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`);
  } catch {
    // SQLite already rolled back by itself (some I/O and full-disk errors do that); nothing is left to undo.
  }
}

function isThenable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
