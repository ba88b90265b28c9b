import { randomBytes } from 'node:crypto';
import type { ConversationSettings, ConversationSummary, Conversation } from '../../../common/contract/chat.ts';
import type { KnowledgeSettings } from '../../../common/contract/knowledge.ts';
import { AppError } from '../../../common/result.ts';
import { transaction, type Database } from '../storage/sqlite.ts';
import { CONVERSATION_COLUMNS, contextColumn, DEFAULT_TITLE, newId, PREVIEW, searchWords, toConversation, toSummary, type ConversationRow } from './rows.ts';

// Conversations: their list and search, settings, and deletion with an undo window.

/** How long a deleted conversation can be restored. */
export const UNDO_SECONDS = 10;

export interface NewConversation {
  readonly modelId: string | null;
  readonly settings: ConversationSettings;
  readonly title?: string;
}

export interface ConversationPatch {
  readonly title?: string;
  readonly pinned?: boolean;
  readonly modelId?: string | null;
  readonly settings?: ConversationSettings;
  readonly knowledge?: KnowledgeSettings;
}

export interface ConversationStore {
  list(query?: string): ConversationSummary[];
  create(input: NewConversation): Conversation;
  conversation(id: string): Conversation;
  update(id: string, patch: ConversationPatch): Conversation;
  remove(id: string): { undoToken: string; undoSeconds: number };
  restore(undoToken: string): Conversation;
  /** Deletes for good every conversation whose undo window has passed. */
  purgeExpired(): number;
}

/** A conversation's row, or not_found when it does not exist or was deleted. */
export function conversationRow(db: Database, id: string): ConversationRow {
  const row = db.prepare(`SELECT ${CONVERSATION_COLUMNS}, ${PREVIEW} FROM conversations c WHERE id = ? AND deleted_at IS NULL`).get(id) as
    ConversationRow | undefined;
  if (row === undefined) throw new AppError('not_found', 'That conversation does not exist or was deleted.', `conversation ${id}`);
  return row;
}

/** Marks a conversation active at `at`, which orders the list. */
export function touchConversation(db: Database, conversationId: string, at: string): void {
  db.prepare('UPDATE conversations SET updated_at = ? WHERE id = ?').run(at, conversationId);
}

export function createConversationStore(db: Database, now: () => Date): ConversationStore {
  const iso = () => now().toISOString();

  const purgeExpired = () => {
    const cutoff = new Date(now().getTime() - UNDO_SECONDS * 1000).toISOString();
    return Number(db.prepare('DELETE FROM conversations WHERE deleted_at IS NOT NULL AND deleted_at <= ?').run(cutoff).changes);
  };

  return {
    list(query) {
      purgeExpired();
      const words = searchWords(query);
      if (words === null) {
        const rows = db
          .prepare(`SELECT ${CONVERSATION_COLUMNS}, ${PREVIEW} FROM conversations c WHERE deleted_at IS NULL ORDER BY pinned DESC, updated_at DESC, n DESC`)
          .all() as unknown as ConversationRow[];
        return rows.map(toSummary);
      }
      if (words.length === 0) return [];
      // Every word must occur somewhere in the conversation (its title or any message), each as a prefix.
      const quoted = words.map((word) => `"${word.replaceAll('"', '""')}"*`);
      const inMessages = db.prepare(
        'SELECT m.conversation_id AS conversation, max(m.n) AS n FROM messages_fts f JOIN messages m ON m.n = f.rowid WHERE messages_fts MATCH ? GROUP BY m.conversation_id',
      );
      const inTitles = db.prepare('SELECT c.id AS conversation FROM conversations_fts f JOIN conversations c ON c.n = f.rowid WHERE conversations_fts MATCH ?');
      const matching = (match: string) =>
        new Set(
          [...(inMessages.all(match) as { conversation: string }[]), ...(inTitles.all(match) as { conversation: string }[])].map((row) => row.conversation),
        );
      let ids = matching(quoted[0]!);
      for (const word of quoted.slice(1)) {
        const found = matching(word);
        ids = new Set([...ids].filter((id) => found.has(id)));
      }
      if (ids.size === 0) return [];
      // The snippet comes from the newest message with every word, else with any of them.
      const lastHit = (match: string) => new Map((inMessages.all(match) as { conversation: string; n: number }[]).map((row) => [row.conversation, row.n]));
      const all = lastHit(quoted.join(' '));
      const any = lastHit(quoted.join(' OR '));
      const rows = db
        .prepare(
          `SELECT ${CONVERSATION_COLUMNS}, ${PREVIEW} FROM conversations c WHERE deleted_at IS NULL AND id IN (SELECT value FROM json_each(?)) ORDER BY pinned DESC, updated_at DESC, n DESC`,
        )
        .all(JSON.stringify([...ids])) as unknown as ConversationRow[];
      const snippet = db.prepare("SELECT snippet(messages_fts, 0, '', '', '…', 16) AS text FROM messages_fts WHERE messages_fts MATCH ? AND rowid = ?");
      return rows.map((row) => {
        const n = all.get(row.id) ?? any.get(row.id);
        const text = n === undefined ? undefined : (snippet.get(quoted.join(' OR '), n) as { text: string } | undefined)?.text;
        return toSummary(text === undefined ? row : { ...row, preview: text });
      });
    },

    create({ modelId, settings, title }) {
      purgeExpired();
      const id = newId();
      const at = iso();
      const given = title?.trim() ?? '';
      db.prepare(
        'INSERT INTO conversations (id, title, title_auto, pinned, model_id, system_prompt, sampling, context_size, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?)',
      ).run(
        id,
        given === '' ? DEFAULT_TITLE : given.slice(0, 200),
        given === '' ? 1 : 0,
        modelId,
        settings.systemPrompt,
        JSON.stringify(settings.sampling),
        contextColumn(settings.contextSize),
        at,
        at,
      );
      return toConversation(conversationRow(db, id));
    },

    conversation: (id) => toConversation(conversationRow(db, id)),

    update(id, patch) {
      conversationRow(db, id);
      transaction(db, () => {
        if (patch.title !== undefined) db.prepare('UPDATE conversations SET title = ?, title_auto = 0 WHERE id = ?').run(patch.title.trim().slice(0, 200), id);
        if (patch.pinned !== undefined) db.prepare('UPDATE conversations SET pinned = ? WHERE id = ?').run(patch.pinned ? 1 : 0, id);
        if (patch.modelId !== undefined) db.prepare('UPDATE conversations SET model_id = ? WHERE id = ?').run(patch.modelId, id);
        if (patch.knowledge !== undefined) db.prepare('UPDATE conversations SET knowledge = ? WHERE id = ?').run(JSON.stringify(patch.knowledge), id);
        if (patch.settings !== undefined) {
          db.prepare('UPDATE conversations SET system_prompt = ?, sampling = ?, context_size = ? WHERE id = ?').run(
            patch.settings.systemPrompt,
            JSON.stringify(patch.settings.sampling),
            contextColumn(patch.settings.contextSize),
            id,
          );
        }
      });
      return toConversation(conversationRow(db, id));
    },

    remove(id) {
      conversationRow(db, id);
      purgeExpired();
      const undoToken = randomBytes(16).toString('base64url');
      db.prepare('UPDATE conversations SET deleted_at = ?, undo_token = ? WHERE id = ?').run(iso(), undoToken, id);
      return { undoToken, undoSeconds: UNDO_SECONDS };
    },

    restore(undoToken) {
      purgeExpired();
      const row = db.prepare('SELECT id FROM conversations WHERE undo_token = ? AND deleted_at IS NOT NULL').get(undoToken) as { id: string } | undefined;
      if (row === undefined) throw new AppError('not_found', 'It is too late to undo: the conversation has been deleted for good.');
      db.prepare('UPDATE conversations SET deleted_at = NULL, undo_token = NULL WHERE id = ?').run(row.id);
      return toConversation(conversationRow(db, row.id));
    },

    purgeExpired,
  };
}
