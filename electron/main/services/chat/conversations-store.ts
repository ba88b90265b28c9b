import { randomBytes } from 'node:crypto';
import type { ConversationSettings, ConversationSummary, Conversation } from '../../../common/contract/chat.ts';
import type { KnowledgeSettings } from '../../../common/contract/knowledge.ts';
import { AppError } from '../../../common/result.ts';
import { decodeCursor, DEFAULT_PAGE, MAX_PAGE, pageOf } from '../storage/keyset.ts';
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

export interface ConversationQuery {
  /** Words that must all occur in the title or a message, each as a prefix. */
  readonly query?: string | undefined;
  /** The previous page's `nextCursor`, with the same query. */
  readonly cursor?: string | undefined;
  /** Rows per page; DEFAULT_PAGE when absent. */
  readonly limit?: number | undefined;
}

export interface ConversationPage {
  readonly conversations: ConversationSummary[];
  /** Null on the last page. */
  readonly nextCursor: string | null;
  /** Conversations matching the query, over all pages. */
  readonly total: number;
}

export interface ConversationStore {
  /** One page of the list, pinned first, then by last activity, newest first. */
  page(query?: ConversationQuery): ConversationPage;
  /** Every conversation matching `query`, in the list's order (all pages). */
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

const LIST = 'conversations';

/**
 * The conversations in which every word occurs (in the title or any message, each as a
 * prefix), and how to show each one's snippet: from the newest message with every word,
 * else with any of them.
 */
function matchingConversations(db: Database, words: readonly string[]): { ids: string[]; withSnippet: (row: ConversationRow) => ConversationRow } {
  const quoted = words.map((word) => `"${word.replaceAll('"', '""')}"*`);
  const inMessages = db.prepare(
    'SELECT m.conversation_id AS conversation, max(m.n) AS n FROM messages_fts f JOIN messages m ON m.n = f.rowid WHERE messages_fts MATCH ? GROUP BY m.conversation_id',
  );
  const inTitles = db.prepare('SELECT c.id AS conversation FROM conversations_fts f JOIN conversations c ON c.n = f.rowid WHERE conversations_fts MATCH ?');
  const matching = (match: string) =>
    new Set([...(inMessages.all(match) as { conversation: string }[]), ...(inTitles.all(match) as { conversation: string }[])].map((row) => row.conversation));
  let ids = matching(quoted[0]!);
  for (const word of quoted.slice(1)) {
    const found = matching(word);
    ids = new Set([...ids].filter((id) => found.has(id)));
  }
  if (ids.size === 0) return { ids: [], withSnippet: (row) => row };
  const lastHit = (match: string) => new Map((inMessages.all(match) as { conversation: string; n: number }[]).map((row) => [row.conversation, row.n]));
  const all = lastHit(quoted.join(' '));
  const any = lastHit(quoted.join(' OR '));
  const snippet = db.prepare("SELECT snippet(messages_fts, 0, '', '', '…', 16) AS text FROM messages_fts WHERE messages_fts MATCH ? AND rowid = ?");
  return {
    ids: [...ids],
    withSnippet(row) {
      const n = all.get(row.id) ?? any.get(row.id);
      const text = n === undefined ? undefined : (snippet.get(quoted.join(' OR '), n) as { text: string } | undefined)?.text;
      return text === undefined ? row : { ...row, preview: text };
    },
  };
}

export function createConversationStore(db: Database, now: () => Date): ConversationStore {
  const iso = () => now().toISOString();

  const purgeExpired = () => {
    const cutoff = new Date(now().getTime() - UNDO_SECONDS * 1000).toISOString();
    return Number(db.prepare('DELETE FROM conversations WHERE deleted_at IS NOT NULL AND deleted_at <= ?').run(cutoff).changes);
  };

  const page = ({ query, cursor, limit = DEFAULT_PAGE }: ConversationQuery = {}): ConversationPage => {
    purgeExpired();
    const words = searchWords(query);
    if (words !== null && words.length === 0) return { conversations: [], nextCursor: null, total: 0 };
    const matches = words === null ? null : matchingConversations(db, words);
    if (matches !== null && matches.ids.length === 0) return { conversations: [], nextCursor: null, total: 0 };
    // Keyset over the list's order: (pinned, updated_at, n) descending, n breaking ties.
    const after = cursor === undefined ? null : decodeCursor(LIST, cursor, ['number', 'string', 'number']);
    const where = ['deleted_at IS NULL'];
    const params: (string | number)[] = [];
    if (matches !== null) {
      where.push('id IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(matches.ids));
    }
    const total = (db.prepare(`SELECT count(*) AS total FROM conversations c WHERE ${where.join(' AND ')}`).get(...params) as { total: number }).total;
    if (after !== null) {
      where.push('(pinned, updated_at, n) < (?, ?, ?)');
      params.push(...after);
    }
    const rows = db
      .prepare(
        `SELECT ${CONVERSATION_COLUMNS}, n, ${PREVIEW} FROM conversations c WHERE ${where.join(' AND ')} ORDER BY pinned DESC, updated_at DESC, n DESC LIMIT ?`,
      )
      .all(...params, limit + 1) as unknown as (ConversationRow & { n: number })[];
    const shown = pageOf(rows, limit, LIST, (row) => [row.pinned, row.updated_at, row.n]);
    return { conversations: shown.rows.map((row) => toSummary(matches === null ? row : matches.withSnippet(row))), nextCursor: shown.nextCursor, total };
  };

  return {
    page,

    list(query) {
      const all: ConversationSummary[] = [];
      let cursor: string | undefined;
      do {
        const next = page({ query, cursor, limit: MAX_PAGE });
        all.push(...next.conversations);
        cursor = next.nextCursor ?? undefined;
      } while (cursor !== undefined);
      return all;
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
