import path from 'node:path';
import type { Database } from './database.ts';

// Migration 13 (issue 15, archives of 30,000 documents): the documents table gains
// - 'skipped' in its status CHECK: files found in an added folder that Soberana cannot read,
//   listed with their reason and never indexed;
// - `folder`, the absolute folder each document was added from (dirname of source_path,
//   computed here for existing rows), so the Documents screen can browse and filter by folder;
// - `status_rank`, the order the status sort uses (failed, skipped, pending, indexed), as a
//   virtual column so an index can hold it;
// - the indexes the paged, sorted and filtered list and the folder counts read.
//
// A CHECK cannot be altered in SQLite, so the table is rebuilt. chunks references documents
// with ON DELETE CASCADE, and foreign_keys cannot be turned off inside the migration's
// transaction: dropping the old documents table while chunks points at it would delete
// every chunk, and renaming it would carry chunks' reference along. So chunks is rebuilt
// too, pointing at the new table, before either old table is dropped; renaming the new
// tables then updates that reference. Rowids are kept: recovery resumes documents in rowid
// order.

const COLUMNS =
  'id, collection_id, name, source_path, stored_path, format, bytes, sha256, page_count, status, error_reason, error_message, chunk_count, added_at, updated_at, pii';

const CHUNK_COLUMNS = 'id, document_id, ordinal, text, page, heading_path, start, "end", tokens, vector';

export function documentsFoldersAndSkipped(db: Database): void {
  db.exec(`
    CREATE TABLE documents_new (
      id TEXT PRIMARY KEY,
      collection_id TEXT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
      name TEXT NOT NULL,
      source_path TEXT NOT NULL,
      stored_path TEXT,
      format TEXT NOT NULL,
      bytes INTEGER NOT NULL CHECK (bytes >= 0),
      sha256 TEXT NOT NULL,
      page_count INTEGER,
      status TEXT NOT NULL CHECK (status IN ('queued', 'extracted', 'embedded', 'indexed', 'failed', 'skipped')),
      error_reason TEXT,
      error_message TEXT,
      chunk_count INTEGER NOT NULL DEFAULT 0,
      added_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      pii TEXT CHECK (pii IS NULL OR json_valid(pii)),
      folder TEXT NOT NULL DEFAULT '',
      status_rank INTEGER GENERATED ALWAYS AS (CASE status WHEN 'failed' THEN 0 WHEN 'skipped' THEN 1 WHEN 'indexed' THEN 3 ELSE 2 END) VIRTUAL,
      UNIQUE (collection_id, source_path)
    );
    INSERT INTO documents_new (rowid, ${COLUMNS}) SELECT rowid, ${COLUMNS} FROM documents;

    CREATE TABLE chunks_new (
      id TEXT PRIMARY KEY,
      document_id TEXT NOT NULL REFERENCES documents_new (id) ON DELETE CASCADE,
      ordinal INTEGER NOT NULL,
      text TEXT NOT NULL,
      page INTEGER,
      heading_path TEXT NOT NULL CHECK (json_valid(heading_path) AND json_type(heading_path) = 'array'),
      start INTEGER NOT NULL,
      "end" INTEGER NOT NULL,
      tokens INTEGER NOT NULL,
      vector BLOB,
      UNIQUE (document_id, ordinal)
    );
    INSERT INTO chunks_new (rowid, ${CHUNK_COLUMNS}) SELECT rowid, ${CHUNK_COLUMNS} FROM chunks;
  `);
  const setFolder = db.prepare('UPDATE documents_new SET folder = ? WHERE rowid = ?');
  for (const row of db.prepare('SELECT rowid AS n, source_path FROM documents_new').all() as { n: number; source_path: string }[]) {
    setFolder.run(path.dirname(row.source_path), row.n);
  }
  db.exec(`
    DROP TABLE chunks;
    DROP TABLE documents;
    ALTER TABLE documents_new RENAME TO documents;
    ALTER TABLE chunks_new RENAME TO chunks;
    CREATE INDEX documents_status ON documents (status) WHERE status NOT IN ('indexed', 'failed', 'skipped');
    CREATE INDEX documents_by_name ON documents (collection_id, name COLLATE NOCASE, id);
    CREATE INDEX documents_by_added ON documents (collection_id, added_at, id);
    CREATE INDEX documents_by_size ON documents (collection_id, bytes, id);
    CREATE INDEX documents_by_status ON documents (collection_id, status_rank, name COLLATE NOCASE, id);
    CREATE INDEX documents_by_folder ON documents (collection_id, folder, status);
  `);
}
