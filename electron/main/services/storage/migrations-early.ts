import type { Migration } from './migration-step.ts';

// Steps 1 to 8 of the schema, the first capabilities (settings, models, conversations,
// documents, bundles, audit). Kept apart from migrations.ts so each file stays short; the
// list is assembled there. Never edit a step that has shipped: add a new one.

export const EARLY_MIGRATIONS: readonly Migration[] = [
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
  {
    version: 3,
    name: 'model library',
    // One row per imported model, inserted only once its files are final. sha256 is unique
    // because importing the same bytes twice is refused. files and file_stamps are parallel
    // JSON arrays (paths to load, and the size and mtime at the last confirmed hash, which
    // makes the check before each load cheap). facts is the GGUF validator's report.
    // The partial unique indexes allow at most one default chat and one default embedding
    // model; the CHECKs keep a default on a model of the matching role.
    up: `
      CREATE TABLE models (
        id TEXT PRIMARY KEY,
        display_name TEXT NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
        role TEXT NOT NULL CHECK (role IN ('chat', 'embedding', 'reranking')),
        size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
        sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
        import_mode TEXT NOT NULL CHECK (import_mode IN ('copy', 'link', 'reference')),
        origin TEXT NOT NULL CHECK (origin IN ('file', 'split', 'lmstudio', 'ollama')),
        source_path TEXT NOT NULL,
        files TEXT NOT NULL CHECK (json_valid(files) AND json_type(files) = 'array'),
        file_stamps TEXT NOT NULL CHECK (json_valid(file_stamps) AND json_type(file_stamps) = 'array'),
        imported_at TEXT NOT NULL,
        facts TEXT NOT NULL CHECK (json_valid(facts)),
        chat_template TEXT,
        license TEXT,
        provenance TEXT CHECK (provenance IS NULL OR json_valid(provenance)),
        verified_by_bundle TEXT,
        status TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'missing', 'changed')),
        checked_at TEXT NOT NULL,
        load_settings TEXT CHECK (load_settings IS NULL OR json_valid(load_settings)),
        is_default_chat INTEGER NOT NULL DEFAULT 0 CHECK (is_default_chat IN (0, 1) AND (is_default_chat = 0 OR role = 'chat')),
        is_default_embedding INTEGER NOT NULL DEFAULT 0 CHECK (is_default_embedding IN (0, 1) AND (is_default_embedding = 0 OR role = 'embedding'))
      );
      CREATE UNIQUE INDEX models_sha256 ON models (sha256);
      CREATE UNIQUE INDEX models_default_chat ON models (is_default_chat) WHERE is_default_chat = 1;
      CREATE UNIQUE INDEX models_default_embedding ON models (is_default_embedding) WHERE is_default_embedding = 1;
    `,
  },
  {
    version: 4,
    name: 'conversations, messages, presets and chat search',
    // Conversations and messages have an INTEGER PRIMARY KEY besides their text id because
    // the full-text indexes use external content keyed by rowid, and only an INTEGER PRIMARY
    // KEY keeps a rowid stable across VACUUM. Messages form a tree (parent_id); `active`
    // marks the chosen sibling at each fork, at most one per parent (the partial unique
    // index; a root message has parent '' there, since NULLs never collide). `streaming`
    // rows are answers being written: on startup they become `interrupted`, which is how a
    // crash mid-answer keeps the partial text. context_size NULL means auto. A deleted
    // conversation keeps its rows until its undo window has passed (deleted_at, undo_token).
    // Both FTS tables tokenize with diacritics folded, so "cafe" finds "café".
    up: `
      CREATE TABLE conversations (
        n INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
        title_auto INTEGER NOT NULL DEFAULT 1 CHECK (title_auto IN (0, 1)),
        pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
        model_id TEXT,
        system_prompt TEXT NOT NULL DEFAULT '',
        sampling TEXT NOT NULL CHECK (json_valid(sampling)),
        context_size INTEGER CHECK (context_size IS NULL OR context_size >= 256),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        deleted_at TEXT,
        undo_token TEXT UNIQUE
      );
      CREATE INDEX conversations_recent ON conversations (pinned DESC, updated_at DESC) WHERE deleted_at IS NULL;
      CREATE INDEX conversations_deleted ON conversations (deleted_at) WHERE deleted_at IS NOT NULL;

      CREATE TABLE messages (
        n INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        parent_id TEXT REFERENCES messages (id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        content TEXT NOT NULL,
        reasoning TEXT,
        status TEXT NOT NULL CHECK (status IN ('complete', 'interrupted', 'streaming')),
        model_name TEXT,
        stats TEXT CHECK (stats IS NULL OR json_valid(stats)),
        created_at TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
      );
      CREATE INDEX messages_conversation ON messages (conversation_id, n);
      CREATE INDEX messages_parent ON messages (parent_id);
      CREATE UNIQUE INDEX messages_active_child ON messages (conversation_id, ifnull(parent_id, '')) WHERE active = 1;
      CREATE INDEX messages_streaming ON messages (status) WHERE status = 'streaming';

      CREATE TABLE presets (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        settings TEXT NOT NULL CHECK (json_valid(settings)),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );

      CREATE VIRTUAL TABLE messages_fts USING fts5(content, content = 'messages', content_rowid = 'n', tokenize = 'unicode61 remove_diacritics 2');
      CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, content) VALUES (new.n, new.content);
      END;
      CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.n, old.content);
      END;
      CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.n, old.content);
        INSERT INTO messages_fts (rowid, content) VALUES (new.n, new.content);
      END;

      CREATE VIRTUAL TABLE conversations_fts USING fts5(title, content = 'conversations', content_rowid = 'n', tokenize = 'unicode61 remove_diacritics 2');
      CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
        INSERT INTO conversations_fts (rowid, title) VALUES (new.n, new.title);
      END;
      CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
        INSERT INTO conversations_fts (conversations_fts, rowid, title) VALUES ('delete', old.n, old.title);
      END;
      CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations BEGIN
        INSERT INTO conversations_fts (conversations_fts, rowid, title) VALUES ('delete', old.n, old.title);
        INSERT INTO conversations_fts (rowid, title) VALUES (new.n, new.title);
      END;
    `,
  },
  {
    version: 5,
    name: 'knowledge collections, documents and chunks',
    // SQLite is the source of truth for knowledge; LanceDB holds a copy of chunk text and
    // vectors for search and is rebuilt from here when lost. embedding_key names the vectors'
    // space (the embedding model's sha256, or 'fts' for collections searched by text only):
    // LanceDB keeps one table per key. documents.status is the ingestion journal
    // (queued → extracted → embedded → indexed, or failed), so a crash at any step is
    // resumed from the last one recorded. chunks.vector is float32 little-endian, kept so the
    // index can be rebuilt without re-embedding. "start"/"end" are offsets into the
    // document's full text (blocks joined by blank lines).
    up: `
      CREATE TABLE collections (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 200),
        embedding_model_id TEXT,
        embedding_key TEXT NOT NULL CHECK (length(embedding_key) >= 1),
        dimensions INTEGER CHECK (dimensions IS NULL OR dimensions >= 1),
        read_only INTEGER NOT NULL DEFAULT 0 CHECK (read_only IN (0, 1)),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );

      CREATE TABLE documents (
        id TEXT PRIMARY KEY,
        collection_id TEXT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        source_path TEXT NOT NULL,
        stored_path TEXT,
        format TEXT NOT NULL,
        bytes INTEGER NOT NULL CHECK (bytes >= 0),
        sha256 TEXT NOT NULL,
        page_count INTEGER,
        status TEXT NOT NULL CHECK (status IN ('queued', 'extracted', 'embedded', 'indexed', 'failed')),
        error_reason TEXT,
        error_message TEXT,
        chunk_count INTEGER NOT NULL DEFAULT 0,
        added_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (collection_id, source_path)
      );
      CREATE INDEX documents_status ON documents (status) WHERE status NOT IN ('indexed', 'failed');

      CREATE TABLE chunks (
        id TEXT PRIMARY KEY,
        document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
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

      CREATE TABLE watched_folders (
        id TEXT PRIMARY KEY,
        collection_id TEXT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        added_at TEXT NOT NULL,
        UNIQUE (collection_id, path)
      );
    `,
  },
  {
    version: 6,
    name: 'collections in conversations, sources in answers',
    // knowledge: which collections a conversation answers from (JSON, NULL = none).
    // sources: the passages an answer was given, numbered as it cites them (JSON array), so
    // the sources panel shows what the model actually saw even after the documents change.
    up: `
      ALTER TABLE conversations ADD COLUMN knowledge TEXT CHECK (knowledge IS NULL OR json_valid(knowledge));
      ALTER TABLE messages ADD COLUMN sources TEXT CHECK (sources IS NULL OR json_valid(sources));
    `,
  },
  {
    version: 7,
    name: 'signed bundles',
    // One row per installed bundle id (an upgrade replaces it in the same transaction that
    // registers the new files). bundle_versions is the rollback guard: the highest version
    // ever installed per id, written only by the installer, never from bundle content, and
    // kept when a bundle is uninstalled. bundle_trusted_keys is the development-mode trust
    // store, used only when no policy names trusted keys. path is relative to the data folder.
    up: `
      CREATE TABLE bundles (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 1),
        publisher TEXT NOT NULL CHECK (length(publisher) = 16),
        signers TEXT NOT NULL CHECK (json_valid(signers) AND json_type(signers) = 'array'),
        installed_at TEXT NOT NULL,
        expires TEXT NOT NULL,
        manifest TEXT NOT NULL CHECK (json_valid(manifest)),
        path TEXT NOT NULL UNIQUE
      );
      CREATE TABLE bundle_files (
        bundle_id TEXT NOT NULL REFERENCES bundles (id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('model', 'embedding-model', 'reranker', 'knowledge-pack', 'policy')),
        size INTEGER NOT NULL CHECK (size >= 0),
        sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
        meta TEXT NOT NULL CHECK (json_valid(meta)),
        PRIMARY KEY (bundle_id, path)
      );
      CREATE TABLE bundle_versions (
        id TEXT PRIMARY KEY,
        highest_version INTEGER NOT NULL CHECK (highest_version >= 1),
        updated_at TEXT NOT NULL
      );
      CREATE TABLE bundle_trusted_keys (
        id TEXT PRIMARY KEY CHECK (length(id) = 16),
        public_key TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        added_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 8,
    name: 'tamper-evident audit log',
    // audit_records is a hash chain: each row's hash covers its fields and the previous
    // row's hash, so seq is assigned by the writer (no AUTOINCREMENT) and must stay gapless.
    // audit_checkpoints seals seq ranges with a MAC under a key that is ratcheted forward
    // and erased afterwards (docs/audit.md). audit_meta is one row: the anchor's public id
    // and the purge base, i.e. the last purged record's seq and hash, where the chain now starts.
    up: `
      CREATE TABLE audit_meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        anchor_id TEXT NOT NULL CHECK (length(anchor_id) = 64),
        created_at TEXT NOT NULL,
        base_seq INTEGER NOT NULL DEFAULT 0 CHECK (base_seq >= 0),
        base_hash TEXT NOT NULL CHECK (length(base_hash) = 64),
        base_period INTEGER
      );
      CREATE TABLE audit_records (
        seq INTEGER PRIMARY KEY CHECK (seq >= 1),
        at TEXT NOT NULL,
        os_user TEXT NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL CHECK (json_valid(data)),
        prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
        hash TEXT NOT NULL CHECK (length(hash) = 64)
      );
      CREATE INDEX audit_records_at ON audit_records (at);
      CREATE INDEX audit_records_type_at ON audit_records (type, at);
      CREATE TABLE audit_checkpoints (
        period INTEGER PRIMARY KEY CHECK (period >= 0),
        first_seq INTEGER NOT NULL CHECK (first_seq >= 1),
        last_seq INTEGER NOT NULL CHECK (last_seq >= first_seq),
        chain_hash TEXT NOT NULL CHECK (length(chain_hash) = 64),
        mac TEXT NOT NULL CHECK (length(mac) = 64),
        at TEXT NOT NULL
      );
    `,
  },
];
