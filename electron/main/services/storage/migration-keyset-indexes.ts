// Migration 12 (issue 15): the lists page with a keyset cursor over their sort order (5,000
// conversations, 100 models). conversations_recent already ended in the rowid, but ascending,
// while the list orders n DESC; this index matches the whole order so a page is a range scan.
// Models sort by name, size or date added, each with id last for ties; bundles by name.
// Kept in its own file so migrations.ts stays a readable list. Never edit: it has shipped.

export const keysetPagingIndexes = `
      DROP INDEX conversations_recent;
      CREATE INDEX conversations_recent ON conversations (pinned DESC, updated_at DESC, n DESC) WHERE deleted_at IS NULL;
      CREATE INDEX models_by_name ON models (display_name COLLATE NOCASE, id);
      CREATE INDEX models_by_size ON models (size_bytes, id);
      CREATE INDEX models_by_added ON models (imported_at, id);
      CREATE INDEX bundles_by_name ON bundles (name COLLATE NOCASE, id);
    `;
