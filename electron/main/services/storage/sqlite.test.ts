import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../common/result.ts';
import { appendEvent, listEvents } from './events.ts';
import { assertMigrationList, LATEST_VERSION, MIGRATIONS, type Migration } from './migrations.ts';
import { BUSY_TIMEOUT_MS, DATABASE_FILE, openDatabase, schemaVersion, transaction, type Database } from './sqlite.ts';

let dir: string;
const open: Database[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-sqlite-'));
});

afterEach(async () => {
  for (const db of open.splice(0)) if (db.isOpen) db.close();
  await rm(dir, { recursive: true, force: true });
});

function openTracked(migrations?: readonly Migration[]): Database {
  const db = openDatabase(dir, migrations === undefined ? {} : { migrations });
  open.push(db);
  return db;
}

/** A raw connection that runs no migrations, to inspect or tamper with the file. */
function raw(): DatabaseSync {
  const db = new DatabaseSync(path.join(dir, DATABASE_FILE));
  open.push(db);
  return db;
}

const columns = (db: Database, table: string) =>
  (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string; type: string; notnull: number; pk: number }[]).map(({ name, type, notnull, pk }) => ({
    name,
    type,
    notnull,
    pk,
  }));

const tables = (db: Database) =>
  (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map(
    (row) => row.name,
  );

const pragma = (db: Database, name: string): unknown => Object.values(db.prepare(`PRAGMA ${name}`).get() ?? {})[0];

/** What each migration leaves behind; a new migration adds an entry here. */
const expectedSchema: Record<number, (db: Database) => void> = {
  1: (db) => {
    expect(columns(db, 'settings')).toEqual([
      { name: 'key', type: 'TEXT', notnull: 0, pk: 1 },
      { name: 'value', type: 'TEXT', notnull: 1, pk: 0 },
      { name: 'updated_at', type: 'TEXT', notnull: 1, pk: 0 },
    ]);
    expect(columns(db, 'app_events')).toEqual([
      { name: 'id', type: 'INTEGER', notnull: 0, pk: 1 },
      { name: 'at', type: 'TEXT', notnull: 1, pk: 0 },
      { name: 'type', type: 'TEXT', notnull: 1, pk: 0 },
      { name: 'data', type: 'TEXT', notnull: 1, pk: 0 },
    ]);
    const index = (db.prepare('PRAGMA index_info(app_events_type_at)').all() as { name: string }[]).map((row) => row.name);
    expect(index).toEqual(['type', 'at']);
  },
  2: (db) => {
    expect(columns(db, 'quarantined_models')).toEqual([
      { name: 'identity', type: 'TEXT', notnull: 0, pk: 1 },
      { name: 'path', type: 'TEXT', notnull: 1, pk: 0 },
      { name: 'reason', type: 'TEXT', notnull: 1, pk: 0 },
      { name: 'at', type: 'TEXT', notnull: 1, pk: 0 },
    ]);
  },
  3: (db) => {
    const text = (name: string, notnull = 1) => ({ name, type: 'TEXT', notnull, pk: 0 });
    expect(columns(db, 'models')).toEqual([
      { name: 'id', type: 'TEXT', notnull: 0, pk: 1 },
      text('display_name'),
      text('role'),
      { name: 'size_bytes', type: 'INTEGER', notnull: 1, pk: 0 },
      text('sha256'),
      text('import_mode'),
      text('origin'),
      text('source_path'),
      text('files'),
      text('file_stamps'),
      text('imported_at'),
      text('facts'),
      text('chat_template', 0),
      text('license', 0),
      text('provenance', 0),
      text('verified_by_bundle', 0),
      text('status'),
      text('checked_at'),
      text('load_settings', 0),
      { name: 'is_default_chat', type: 'INTEGER', notnull: 1, pk: 0 },
      { name: 'is_default_embedding', type: 'INTEGER', notnull: 1, pk: 0 },
    ]);
    const indexes = db
      .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'models' AND sql LIKE 'CREATE UNIQUE%' ORDER BY name")
      .all() as {
      name: string;
      sql: string;
    }[];
    expect(indexes.map((index) => index.name)).toEqual(['models_default_chat', 'models_default_embedding', 'models_sha256']);
    expect(indexes.every((index) => /CREATE UNIQUE INDEX/.test(index.sql))).toBe(true);
    expect(indexes.filter((index) => /WHERE/.test(index.sql)).map((index) => index.name)).toEqual(['models_default_chat', 'models_default_embedding']);
  },
  4: (db) => {
    const column = (name: string, type: string, notnull = 1, pk = 0) => ({ name, type, notnull, pk });
    // Later migrations append columns; this step's own come first.
    expect(columns(db, 'conversations').slice(0, 13)).toEqual([
      column('n', 'INTEGER', 0, 1),
      column('id', 'TEXT'),
      column('title', 'TEXT'),
      column('title_auto', 'INTEGER'),
      column('pinned', 'INTEGER'),
      column('model_id', 'TEXT', 0),
      column('system_prompt', 'TEXT'),
      column('sampling', 'TEXT'),
      column('context_size', 'INTEGER', 0),
      column('created_at', 'TEXT'),
      column('updated_at', 'TEXT'),
      column('deleted_at', 'TEXT', 0),
      column('undo_token', 'TEXT', 0),
    ]);
    expect(columns(db, 'messages').slice(0, 12)).toEqual([
      column('n', 'INTEGER', 0, 1),
      column('id', 'TEXT'),
      column('conversation_id', 'TEXT'),
      column('parent_id', 'TEXT', 0),
      column('role', 'TEXT'),
      column('content', 'TEXT'),
      column('reasoning', 'TEXT', 0),
      column('status', 'TEXT'),
      column('model_name', 'TEXT', 0),
      column('stats', 'TEXT', 0),
      column('created_at', 'TEXT'),
      column('active', 'INTEGER'),
    ]);
    expect(columns(db, 'presets')).toEqual([
      column('id', 'TEXT', 0, 1),
      column('name', 'TEXT'),
      column('settings', 'TEXT'),
      column('created_at', 'TEXT'),
      column('updated_at', 'TEXT'),
    ]);
    const named = (type: string, table: string) =>
      (
        db.prepare('SELECT name FROM sqlite_schema WHERE type = ? AND tbl_name = ? AND sql IS NOT NULL ORDER BY name').all(type, table) as { name: string }[]
      ).map((row) => row.name);
    expect(named('index', 'messages')).toEqual(['messages_active_child', 'messages_conversation', 'messages_parent', 'messages_streaming']);
    expect(named('index', 'conversations')).toEqual(['conversations_deleted', 'conversations_recent']);
    expect(named('trigger', 'messages')).toEqual(['messages_fts_delete', 'messages_fts_insert', 'messages_fts_update']);
    expect(named('trigger', 'conversations')).toEqual(['conversations_fts_delete', 'conversations_fts_insert', 'conversations_fts_update']);
    expect(columns(db, 'messages_fts').map((c) => c.name)).toEqual(['content']);
    expect(columns(db, 'conversations_fts').map((c) => c.name)).toEqual(['title']);
  },
  5: (db) => {
    const names = (table: string) => columns(db, table).map((c) => c.name);
    expect(names('collections').slice(0, 8)).toEqual([
      'id',
      'name',
      'embedding_model_id',
      'embedding_key',
      'dimensions',
      'read_only',
      'created_at',
      'updated_at',
    ]);
    expect(names('documents').slice(0, 15)).toEqual([
      'id',
      'collection_id',
      'name',
      'source_path',
      'stored_path',
      'format',
      'bytes',
      'sha256',
      'page_count',
      'status',
      'error_reason',
      'error_message',
      'chunk_count',
      'added_at',
      'updated_at',
    ]);
    expect(names('chunks').slice(0, 10)).toEqual(['id', 'document_id', 'ordinal', 'text', 'page', 'heading_path', 'start', 'end', 'tokens', 'vector']);
    expect(names('watched_folders')).toEqual(['id', 'collection_id', 'path', 'added_at']);
  },
  6: (db) => {
    expect(
      columns(db, 'conversations')
        .slice(13, 14)
        .map((c) => c.name),
    ).toEqual(['knowledge']);
    expect(
      columns(db, 'messages')
        .slice(12, 13)
        .map((c) => c.name),
    ).toEqual(['sources']);
  },
  7: (db) => {
    const names = (table: string) => columns(db, table).map((c) => c.name);
    expect(names('bundles')).toEqual(['id', 'name', 'version', 'publisher', 'signers', 'installed_at', 'expires', 'manifest', 'path']);
    expect(names('bundle_files')).toEqual(['bundle_id', 'path', 'kind', 'size', 'sha256', 'meta']);
    expect(names('bundle_versions')).toEqual(['id', 'highest_version', 'updated_at']);
    expect(names('bundle_trusted_keys')).toEqual(['id', 'public_key', 'name', 'added_at']);
  },
  8: (db) => {
    const names = (table: string) => columns(db, table).map((c) => c.name);
    expect(names('audit_meta')).toEqual(['id', 'anchor_id', 'created_at', 'base_seq', 'base_hash', 'base_period']);
    expect(names('audit_records')).toEqual(['seq', 'at', 'os_user', 'type', 'data', 'prev_hash', 'hash']);
    expect(names('audit_checkpoints')).toEqual(['period', 'first_seq', 'last_seq', 'chain_hash', 'mac', 'at']);
    // seq is the chain's own numbering: a plain INTEGER PRIMARY KEY, never AUTOINCREMENT.
    expect(columns(db, 'audit_records')[0]).toEqual({ name: 'seq', type: 'INTEGER', notnull: 0, pk: 1 });
    const indexes = (
      db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'audit_records' AND sql IS NOT NULL ORDER BY name").all() as {
        name: string;
      }[]
    ).map((row) => row.name);
    expect(indexes).toEqual(['audit_records_at', 'audit_records_type_at']);
  },
  9: (db) => {
    expect(columns(db, 'bundle_collections').map((c) => c.name)).toEqual(['collection_id', 'bundle_id']);
  },
  10: (db) => {
    expect(columns(db, 'documents')[15]?.name).toBe('pii');
  },
  11: (db) => {
    const sql = (db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'bundle_files'").get() as { sql: string }).sql;
    expect(sql).toContain("'runtime'");
    expect(columns(db, 'bundle_files').map((c) => c.name)).toEqual(['bundle_id', 'path', 'kind', 'size', 'sha256', 'meta']);
  },
  12: (db) => {
    const indexSql = (name: string) =>
      (db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?").get(name) as { sql: string } | undefined)?.sql;
    expect(indexSql('conversations_recent')).toMatch(/pinned DESC, updated_at DESC, n DESC\) WHERE deleted_at IS NULL/);
    for (const name of ['models_by_name', 'models_by_size', 'models_by_added', 'bundles_by_name']) expect(indexSql(name)).toBeDefined();
    // A page of the conversation list is a range scan of that index, not a sort of every row.
    const plan = (
      db
        .prepare(
          'EXPLAIN QUERY PLAN SELECT id FROM conversations WHERE deleted_at IS NULL AND (pinned, updated_at, n) < (?, ?, ?) ORDER BY pinned DESC, updated_at DESC, n DESC LIMIT 100',
        )
        .all(1, 'z', 1) as { detail: string }[]
    ).map((row) => row.detail);
    expect(plan.join('\n')).toMatch(/USING INDEX conversations_recent/);
    expect(plan.join('\n')).not.toMatch(/TEMP B-TREE/);
  },
  13: (db) => {
    // The rebuilt documents table: folder after pii, and status_rank (virtual, so only table_xinfo lists it).
    expect(
      columns(db, 'documents')
        .slice(15, 17)
        .map((c) => c.name),
    ).toEqual(['pii', 'folder']);
    const sql = (db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'documents'").get() as { sql: string }).sql;
    expect(sql).toContain("'skipped'");
    expect(sql).toContain('status_rank');
    const indexes = (
      db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'documents' AND sql IS NOT NULL ORDER BY name").all() as { name: string }[]
    ).map((row) => row.name);
    expect(indexes.filter((name) => name !== 'documents_parent')).toEqual([
      'documents_by_added',
      'documents_by_folder',
      'documents_by_name',
      'documents_by_size',
      'documents_by_status',
      'documents_status',
    ]);
    // chunks still points at documents, not at the table the rebuild dropped.
    expect(db.prepare('PRAGMA foreign_key_list(chunks)').all()).toMatchObject([{ table: 'documents', from: 'document_id', on_delete: 'CASCADE' }]);
  },
  14: (db) => {
    // How an answer used the conversation's pinned documents (JSON, or null when none were pinned).
    expect(columns(db, 'messages').find((c) => c.name === 'pinned')).toEqual({ name: 'pinned', type: 'TEXT', notnull: 0, pk: 0 });
    const sql = (db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'messages'").get() as { sql: string }).sql;
    expect(sql).toContain('json_valid(pinned)');
  },
  15: (db) => {
    // An attachment's message: removing the message removes its attachments' rows.
    expect(columns(db, 'documents')[17]).toEqual({ name: 'parent_id', type: 'TEXT', notnull: 0, pk: 0 });
    expect(db.prepare('PRAGMA foreign_key_list(documents)').all()).toContainEqual(
      expect.objectContaining({ table: 'documents', from: 'parent_id', to: 'id', on_delete: 'CASCADE' }),
    );
    expect(db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = 'documents_parent'").get()).toBeDefined();
  },
  16: (db) => {
    // Passages from scans: the chunk's OCR confidence, and each scanned page's word boxes, removed with their document.
    expect(columns(db, 'chunks')[10]).toEqual({ name: 'ocr_confidence', type: 'REAL', notnull: 0, pk: 0 });
    expect(columns(db, 'ocr_pages').map((c) => c.name)).toEqual(['document_id', 'page', 'width', 'height', 'words']);
    expect(db.prepare('PRAGMA foreign_key_list(ocr_pages)').all()).toMatchObject([{ table: 'documents', from: 'document_id', on_delete: 'CASCADE' }]);
  },
  17: (db) => {
    expect(columns(db, 'collections').find((c) => c.name === 'ocr_languages')).toEqual({ name: 'ocr_languages', type: 'TEXT', notnull: 1, pk: 0 });
  },
  18: (db) => {
    expect(columns(db, 'api_tokens').map((c) => c.name)).toEqual([
      'id',
      'name',
      'token_hash',
      'prefix',
      'scopes',
      'collections',
      'created_at',
      'expires_at',
      'revoked_at',
      'last_used_at',
    ]);
    // Only the hash of a token is stored, and one hash names one token.
    const sql = (db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'api_tokens'").get() as { sql: string }).sql;
    expect(sql).toMatch(/token_hash TEXT NOT NULL UNIQUE CHECK \(length\(token_hash\) = 64\)/);
  },
  19: (db) => {
    // Markings as JSON, null when unmarked; malformed JSON is refused by the table itself.
    for (const table of ['collections', 'documents', 'conversations', 'messages']) {
      expect(columns(db, table).find((c) => c.name === 'marking')).toEqual({ name: 'marking', type: 'TEXT', notnull: 0, pk: 0 });
      const sql = (db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?").get(table) as { sql: string }).sql;
      expect(sql).toContain('json_valid(marking)');
    }
    // New documents take their collection's (or their e-mail's) marking, whoever inserts them.
    expect(db.prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name = 'documents_inherit_marking'").get()).toBeDefined();
  },
  20: (db) => {
    expect(columns(db, 'pack_check_sets').map((c) => c.name)).toEqual(['collection_id', 'checks']);
    expect(columns(db, 'pack_checks').map((c) => c.name)).toEqual([
      'id',
      'collection_id',
      'bundle_id',
      'bundle_version',
      'ran_at',
      'trigger',
      'embedding',
      'total',
      'passed',
      'failed',
      'results',
    ]);
  },
};

const extra = (version: number, up: Migration['up'], name = `test ${version}`): Migration => ({ version, name, up });

describe('migrations', () => {
  it('form a gapless list starting at 1, each with a schema check', () => {
    expect(() => assertMigrationList(MIGRATIONS)).not.toThrow();
    expect(LATEST_VERSION).toBe(MIGRATIONS.length);
    expect(Object.keys(expectedSchema).map(Number)).toEqual(MIGRATIONS.map((migration) => migration.version));
  });

  it('bring a fresh database to the latest version with the expected tables and columns', () => {
    const db = openTracked();
    expect(existsSync(path.join(dir, DATABASE_FILE))).toBe(true);
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
    expect(tables(db)).toEqual([
      'api_tokens',
      'app_events',
      'audit_checkpoints',
      'audit_meta',
      'audit_records',
      'bundle_collections',
      'bundle_files',
      'bundle_trusted_keys',
      'bundle_versions',
      'bundles',
      'chunks',
      'collections',
      'conversations',
      'conversations_fts',
      'conversations_fts_config',
      'conversations_fts_data',
      'conversations_fts_docsize',
      'conversations_fts_idx',
      'documents',
      'messages',
      'messages_fts',
      'messages_fts_config',
      'messages_fts_data',
      'messages_fts_docsize',
      'messages_fts_idx',
      'models',
      'ocr_pages',
      'pack_check_sets',
      'pack_checks',
      'presets',
      'quarantined_models',
      'settings',
      'watched_folders',
    ]);
    for (const check of Object.values(expectedSchema)) check(db);
  });

  it('are idempotent: reopening changes nothing', () => {
    const first = openTracked();
    appendEvent(first, 'test', { n: 1 });
    const schema = first.prepare('SELECT type, name, sql FROM sqlite_schema ORDER BY name').all();
    first.close();

    const again = openTracked();
    expect(schemaVersion(again)).toBe(LATEST_VERSION);
    expect(again.prepare('SELECT type, name, sql FROM sqlite_schema ORDER BY name').all()).toEqual(schema);
    expect(listEvents(again)).toHaveLength(1);
  });

  it.each(MIGRATIONS.map((migration) => migration.version - 1))('migrate a database at version %i up to the latest', (from) => {
    const old = openTracked(MIGRATIONS.slice(0, from));
    expect(schemaVersion(old)).toBe(from);
    old.close();

    const db = openTracked();
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
    for (const check of Object.values(expectedSchema)) check(db);
  });

  it('apply only the steps a database is missing, keeping its data', () => {
    const v1 = openTracked(MIGRATIONS);
    appendEvent(v1, 'kept', { before: 'upgrade' });
    v1.close();

    let runs = 0;
    const next = [
      ...MIGRATIONS,
      extra(MIGRATIONS.length + 1, 'CREATE TABLE later (x INTEGER NOT NULL); INSERT INTO later VALUES (7);'),
      extra(MIGRATIONS.length + 2, (db) => {
        runs += 1;
        db.exec('ALTER TABLE app_events ADD COLUMN actor TEXT');
      }),
    ];
    const db = openTracked(next);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length + 2);
    expect(db.prepare('SELECT x FROM later').all()).toEqual([{ x: 7 }]);
    expect(columns(db, 'app_events').map((column) => column.name)).toContain('actor');
    expect(listEvents(db)).toMatchObject([{ type: 'kept', data: { before: 'upgrade' } }]);
    db.close();

    openTracked(next);
    expect(runs).toBe(1);
  });

  it('refuse a database written by a newer version, without touching it', () => {
    openTracked().close();
    const tamper = raw();
    tamper.exec(`PRAGMA user_version = ${LATEST_VERSION + 1}`);
    tamper.close();

    let thrown: unknown;
    try {
      openTracked();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({
      code: 'io_error',
      message: expect.stringMatching(/newer version of Soberana/),
      details: expect.stringContaining(`schema version ${LATEST_VERSION + 1}`),
    });
    expect(schemaVersion(raw())).toBe(LATEST_VERSION + 1);
  });

  it('roll back a failing step completely and leave user_version where it was', () => {
    openTracked().close();
    const broken = [
      ...MIGRATIONS,
      extra(MIGRATIONS.length + 1, 'CREATE TABLE half (x); INSERT INTO half VALUES (1); INSERT INTO missing VALUES (1);', 'broken step'),
    ];

    expect(() => openTracked(broken)).toThrow(
      expect.objectContaining({
        code: 'io_error',
        details: expect.stringMatching(
          new RegExp(`migration ${LATEST_VERSION + 1} \\(broken step\\) failed.*version ${LATEST_VERSION}.*no such table: missing`),
        ),
      }),
    );

    const db = raw();
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
    expect(tables(db)).not.toContain('half');
    // Still usable by the current code after the failed upgrade.
    expect(schemaVersion(openTracked())).toBe(LATEST_VERSION);
  });

  it('roll back a step that throws from a function', () => {
    const broken = [
      ...MIGRATIONS,
      extra(MIGRATIONS.length + 1, (db) => {
        db.exec('CREATE TABLE half (x)');
        throw new Error('boom');
      }),
    ];
    expect(() => openTracked(broken)).toThrow(expect.objectContaining({ code: 'io_error', details: expect.stringContaining('boom') }));
    const db = raw();
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
    expect(tables(db)).not.toContain('half');
  });

  it('reject a list with a gap', () => {
    expect(() => openTracked([extra(1, 'SELECT 1'), extra(3, 'SELECT 1')])).toThrow(/expected 2/);
  });
});

describe('openDatabase', () => {
  it('sets WAL, synchronous=FULL, foreign keys and a busy timeout', () => {
    const db = openTracked();
    expect(pragma(db, 'journal_mode')).toBe('wal');
    expect(pragma(db, 'synchronous')).toBe(2);
    expect(pragma(db, 'foreign_keys')).toBe(1);
    expect(pragma(db, 'busy_timeout')).toBe(BUSY_TIMEOUT_MS);
  });

  it('creates a missing data directory', () => {
    dir = path.join(dir, 'nested', 'data');
    openTracked();
    expect(existsSync(path.join(dir, DATABASE_FILE))).toBe(true);
  });

  it('reports a file that is not a database as an io_error', async () => {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(dir, DATABASE_FILE), 'definitely not sqlite '.repeat(100));
    expect(() => openTracked()).toThrow(expect.objectContaining({ code: 'io_error', message: 'The database could not be opened.' }));
  });
});

describe('transaction', () => {
  it('commits on return and rolls back on throw', () => {
    const db = openTracked();
    expect(transaction(db, () => appendEvent(db, 'kept', 1))).toBe(1);
    expect(() =>
      transaction(db, () => {
        appendEvent(db, 'lost', 2);
        throw new Error('no');
      }),
    ).toThrow('no');
    expect(listEvents(db).map((event) => event.type)).toEqual(['kept']);
  });

  it('turns an inner transaction into a savepoint', () => {
    const db = openTracked();
    transaction(db, () => {
      appendEvent(db, 'outer', 1);
      expect(() =>
        transaction(db, () => {
          appendEvent(db, 'inner', 2);
          throw new Error('inner fails');
        }),
      ).toThrow('inner fails');
      transaction(db, () => appendEvent(db, 'inner-ok', 3));
    });
    expect(listEvents(db).map((event) => event.type)).toEqual(['inner-ok', 'outer']);
  });

  it('refuses an async function and rolls back what it did synchronously', () => {
    const db = openTracked();
    expect(() =>
      transaction(db, async () => {
        appendEvent(db, 'sync-part', 1);
      }),
    ).toThrow(/synchronous/);
    expect(listEvents(db)).toEqual([]);
  });
});

describe('app events', () => {
  it('appends with increasing ids and lists newest first, by type and with a limit', () => {
    const db = openTracked();
    const at = new Date('2025-01-02T03:04:05.678Z');
    const a = appendEvent(db, 'model.loaded', { name: 'a', layers: [1, 2] }, at);
    const b = appendEvent(db, 'settings.changed', { theme: 'dark' });
    const c = appendEvent(db, 'model.loaded', { name: 'c' });
    expect([a, b, c]).toEqual([1, 2, 3]);

    expect(listEvents(db).map((event) => event.id)).toEqual([3, 2, 1]);
    expect(listEvents(db, { type: 'model.loaded' })).toEqual([
      { id: 3, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), type: 'model.loaded', data: { name: 'c' } },
      { id: 1, at: '2025-01-02T03:04:05.678Z', type: 'model.loaded', data: { name: 'a', layers: [1, 2] } },
    ]);
    expect(listEvents(db, { limit: 1 }).map((event) => event.id)).toEqual([3]);
    expect(listEvents(db, { type: 'nothing' })).toEqual([]);
  });

  it('stores null, strings and numbers as JSON, and rejects what JSON cannot hold', () => {
    const db = openTracked();
    appendEvent(db, 'x', null);
    appendEvent(db, 'x', 'text');
    appendEvent(db, 'x', 0);
    expect(listEvents(db).map((event) => event.data)).toEqual([0, 'text', null]);
    expect(() => appendEvent(db, 'x', undefined)).toThrow(expect.objectContaining({ code: 'bad_request' }));
    expect(() => appendEvent(db, '', {})).toThrow(expect.objectContaining({ code: 'bad_request' }));
    expect(() => listEvents(db, { limit: 0 })).toThrow(expect.objectContaining({ code: 'bad_request' }));
  });

  it('never reuses an id after rows are deleted', () => {
    const db = openTracked();
    appendEvent(db, 'x', 1);
    const last = appendEvent(db, 'x', 2);
    db.exec('DELETE FROM app_events');
    expect(appendEvent(db, 'x', 3)).toBe(last + 1);
  });

  it('refuses text that is not JSON at the column level', () => {
    const db = openTracked();
    expect(() => db.prepare("INSERT INTO app_events (at, type, data) VALUES ('t', 'x', 'not json')").run()).toThrow(/CHECK constraint/);
    expect(() => db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('k', '{bad', 't')").run()).toThrow(/CHECK constraint/);
  });
});
