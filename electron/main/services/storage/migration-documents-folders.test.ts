import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { MIGRATIONS } from './migrations.ts';
import { openDatabase, type Database } from './sqlite.ts';

// Migration 13 rebuilds documents and chunks: existing rows, their chunks and vectors, and
// their rowid order must come through it, with each document's folder filled in.

let dir: string;
let db: Database | null = null;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-migration-13-'));
});

afterEach(async () => {
  db?.close();
  await rm(dir, { recursive: true, force: true });
});

it('keeps every document, chunk and vector, fills in the folder and then allows skipped rows', () => {
  const before = openDatabase(dir, { migrations: MIGRATIONS.filter((migration) => migration.version < 13) });
  const at = '2024-01-01T00:00:00.000Z';
  before.prepare("INSERT INTO collections (id, name, embedding_key, created_at, updated_at) VALUES ('c', 'Archive', 'fts', ?, ?)").run(at, at);
  const insert = before.prepare(
    "INSERT INTO documents (id, collection_id, name, source_path, format, bytes, sha256, status, chunk_count, added_at, updated_at, pii) VALUES (?, 'c', ?, ?, 'text', 10, 'x', ?, 1, ?, ?, ?)",
  );
  insert.run('d2', 'b.txt', '/archive/2023/b.txt', 'indexed', at, at, '{"email":1}');
  insert.run('d1', 'a.txt', '/archive/a.txt', 'queued', at, at, null);
  before
    .prepare(
      "INSERT INTO chunks (id, document_id, ordinal, text, heading_path, start, \"end\", tokens, vector) VALUES ('k', 'd2', 0, 'hello', '[]', 0, 5, 1, x'0000803f')",
    )
    .run();
  before.close();

  db = openDatabase(dir);
  expect(db.prepare('SELECT id, folder, pii, status_rank FROM documents ORDER BY rowid').all()).toEqual([
    { id: 'd2', folder: '/archive/2023', pii: '{"email":1}', status_rank: 3 },
    { id: 'd1', folder: '/archive', pii: null, status_rank: 2 },
  ]);
  expect(db.prepare('SELECT id, document_id, text, hex(vector) AS vector FROM chunks').all()).toEqual([
    { id: 'k', document_id: 'd2', text: 'hello', vector: '0000803F' },
  ]);
  db.prepare(
    "INSERT INTO documents (id, collection_id, name, source_path, format, bytes, sha256, status, added_at, updated_at, folder) VALUES ('d3', 'c', 'x.exe', '/archive/x.exe', 'text', 0, '', 'skipped', ?, ?, '/archive')",
  ).run(at, at);
  // The cascade still works through the rebuilt tables.
  db.prepare("DELETE FROM documents WHERE id = 'd2'").run();
  expect(db.prepare('SELECT count(*) AS n FROM chunks').get()).toEqual({ n: 0 });
  expect(db.prepare('PRAGMA foreign_key_check').all()).toEqual([]);
});
