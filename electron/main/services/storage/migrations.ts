import type { Migration } from './migration-step.ts';
import { documentsFoldersAndSkipped } from './migration-documents-folders.ts';
import { keysetPagingIndexes } from './migration-keyset-indexes.ts';
import { EARLY_MIGRATIONS } from './migrations-early.ts';

export type { Migration } from './migration-step.ts';

export const MIGRATIONS: readonly Migration[] = [
  ...EARLY_MIGRATIONS,
  {
    version: 9,
    name: 'collections installed by bundles',
    // Knowledge packs become read-only collections; uninstalling their bundle removes them.
    up: `
      CREATE TABLE bundle_collections (
        collection_id TEXT PRIMARY KEY REFERENCES collections (id) ON DELETE CASCADE,
        bundle_id TEXT NOT NULL
      );
      CREATE INDEX bundle_collections_bundle ON bundle_collections (bundle_id);
    `,
  },
  {
    version: 10,
    name: 'personal data found in documents',
    // Types and counts only (JSON, e.g. {"email": 2}), never the values: the Documents
    // screen marks a document that holds personal data.
    up: `
      ALTER TABLE documents ADD COLUMN pii TEXT CHECK (pii IS NULL OR json_valid(pii));
    `,
  },
  {
    version: 11,
    name: 'runtime packs in bundles',
    // A CHECK cannot be altered in SQLite: the table is rebuilt with the new kind, rows kept.
    up: `
      CREATE TABLE bundle_files_new (
        bundle_id TEXT NOT NULL REFERENCES bundles (id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('model', 'embedding-model', 'reranker', 'knowledge-pack', 'policy', 'runtime')),
        size INTEGER NOT NULL CHECK (size >= 0),
        sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
        meta TEXT NOT NULL CHECK (json_valid(meta)),
        PRIMARY KEY (bundle_id, path)
      );
      INSERT INTO bundle_files_new (bundle_id, path, kind, size, sha256, meta) SELECT bundle_id, path, kind, size, sha256, meta FROM bundle_files;
      DROP TABLE bundle_files;
      ALTER TABLE bundle_files_new RENAME TO bundle_files;
    `,
  },
  {
    version: 12,
    name: 'keyset paging of conversations, models and bundles',
    up: keysetPagingIndexes,
  },
  {
    version: 13,
    name: 'document folders, skipped files and the indexes of the paged documents list',
    // See migration-documents-folders.ts: the documents table is rebuilt (a CHECK cannot be altered).
    up: documentsFoldersAndSkipped,
  },
  {
    version: 14,
    name: 'pinned documents in answers',
    // pinned: the conversation's pinned documents as an answer used them (JSON array: whole,
    // by passages, or unavailable), so the sources panel shows it after a restart. The pinned
    // ids themselves live in conversations.knowledge (JSON) and need no column.
    up: `
      ALTER TABLE messages ADD COLUMN pinned TEXT CHECK (pinned IS NULL OR json_valid(pinned));
    `,
  },
  {
    version: 15,
    name: 'attachments of e-mails as child documents',
    // An e-mail's attachments are documents of their own that cite their message: parent_id
    // is the message. The cascade keeps no attachment row without its message; the service
    // removes their index rows and stored copies first (knowledge/ingestion/attachments.ts).
    up: `
      ALTER TABLE documents ADD COLUMN parent_id TEXT REFERENCES documents (id) ON DELETE CASCADE;
      CREATE INDEX documents_parent ON documents (parent_id) WHERE parent_id IS NOT NULL;
    `,
  },
  {
    version: 16,
    name: 'passages and word boxes from OCR',
    // ocr_confidence: set on chunks recognised from a scan (Tesseract's confidence, 0–100), so
    // citations can say "from a scan". ocr_pages: each scanned page's words with their boxes, in
    // the pixels of the page image OCR read (JSON arrays), for marking cited words in the viewer.
    up: `
      ALTER TABLE chunks ADD COLUMN ocr_confidence REAL CHECK (ocr_confidence IS NULL OR (ocr_confidence >= 0 AND ocr_confidence <= 100));
      CREATE TABLE ocr_pages (
        document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
        page INTEGER NOT NULL CHECK (page >= 1),
        width INTEGER NOT NULL CHECK (width >= 0),
        height INTEGER NOT NULL CHECK (height >= 0),
        words TEXT NOT NULL CHECK (json_valid(words)),
        PRIMARY KEY (document_id, page)
      );
    `,
  },
  {
    version: 17,
    name: 'OCR languages of a collection',
    // The languages Tesseract reads the collection's scans in: English, Spanish, or both (the default).
    up: `
      ALTER TABLE collections ADD COLUMN ocr_languages TEXT NOT NULL DEFAULT 'eng+spa' CHECK (ocr_languages IN ('eng', 'spa', 'eng+spa'));
    `,
  },
  {
    version: 18,
    name: 'local API tokens',
    // Only the token's SHA-256 is kept (the token is shown once); prefix: its first characters,
    // to tell tokens apart. scopes and collections are JSON arrays (collections null: every one).
    // A revoked token keeps its row, so the list and the audit log can still name it.
    up: `
      CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
        prefix TEXT NOT NULL,
        scopes TEXT NOT NULL CHECK (json_valid(scopes)),
        collections TEXT CHECK (collections IS NULL OR json_valid(collections)),
        created_at TEXT NOT NULL,
        expires_at TEXT,
        revoked_at TEXT,
        last_used_at TEXT
      );
    `,
  },
  {
    version: 19,
    name: 'classification markings',
    // A marking as JSON ({"level":"RESTRICTED","compartments":["FINANCE"]}); null: the scheme's
    // default level with no compartment (and no marking at all while the policy defines none).
    // A conversation's is the highest it has seen; a message's is its answer's.
    // The trigger marks every new document as its e-mail (for an attachment) or its collection,
    // whichever path inserts it (ingestion, a skipped file, a pack), unless the insert marks it.
    up: `
      ALTER TABLE collections ADD COLUMN marking TEXT CHECK (marking IS NULL OR json_valid(marking));
      ALTER TABLE documents ADD COLUMN marking TEXT CHECK (marking IS NULL OR json_valid(marking));
      ALTER TABLE conversations ADD COLUMN marking TEXT CHECK (marking IS NULL OR json_valid(marking));
      ALTER TABLE messages ADD COLUMN marking TEXT CHECK (marking IS NULL OR json_valid(marking));
      CREATE TRIGGER documents_inherit_marking AFTER INSERT ON documents WHEN NEW.marking IS NULL
      BEGIN
        UPDATE documents SET marking = coalesce(
          (SELECT p.marking FROM documents p WHERE p.id = NEW.parent_id),
          (SELECT c.marking FROM collections c WHERE c.id = NEW.collection_id)
        ) WHERE id = NEW.id;
      END;
    `,
  },
  {
    version: 20,
    name: 'knowledge pack checks',
    // pack_check_sets: the acceptance checks a pack brought (its checks.json, as JSON), one set
    // per collection. pack_checks: each run of them, with every check's result (JSON); the
    // latest run of a collection decides whether the policy keeps it out of retrieval.
    // embedding: the embedding key the questions used, or "words", so a change reruns them.
    up: `
      CREATE TABLE pack_check_sets (
        collection_id TEXT PRIMARY KEY REFERENCES collections (id) ON DELETE CASCADE,
        checks TEXT NOT NULL CHECK (json_valid(checks))
      );
      CREATE TABLE pack_checks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        collection_id TEXT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
        bundle_id TEXT,
        bundle_version INTEGER,
        ran_at TEXT NOT NULL,
        trigger TEXT NOT NULL CHECK (trigger IN ('install', 'rollback', 'embedding', 'manual')),
        embedding TEXT NOT NULL,
        total INTEGER NOT NULL CHECK (total >= 0),
        passed INTEGER NOT NULL CHECK (passed >= 0),
        failed INTEGER NOT NULL CHECK (failed >= 0 AND passed + failed = total),
        results TEXT NOT NULL CHECK (json_valid(results))
      );
      CREATE INDEX pack_checks_collection ON pack_checks (collection_id, id);
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
