import type { Database } from '../storage/sqlite.ts';

// Retention: conversations older than the policy allows leave the file for good.

/**
 * Deletes for good every conversation last active before `cutoff` (retention), and makes
 * sure their text is gone from the file: the FTS segments are merged so their words leave
 * the index, and the WAL is checkpointed so the pages secure_delete overwrote reach the file.
 */
export function purgeConversationsBefore(db: Database, cutoff: Date): number {
  const removed = Number(db.prepare('DELETE FROM conversations WHERE updated_at < ?').run(cutoff.toISOString()).changes);
  if (removed > 0) {
    db.exec("INSERT INTO messages_fts (messages_fts) VALUES ('optimize'); INSERT INTO conversations_fts (conversations_fts) VALUES ('optimize')");
    db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get();
  }
  return removed;
}
