import type { ChatMessage, ChatThread, MessageStats } from '../../../common/contract/chat.ts';
import type { Passage, PinnedDocument } from '../../../common/contract/knowledge.ts';
import { AppError } from '../../../common/result.ts';
import { transaction, type Database } from '../storage/sqlite.ts';
import { conversationRow, touchConversation } from './conversations-store.ts';
import { chatMessage, MESSAGE_COLUMNS, newId, titleFrom, toConversation, toStored, type MessageRow, type StoredMessage } from './rows.ts';

// A conversation's messages as a tree: the thread shown (the active child at each fork),
// branches, and the writer that saves an answer while it streams.

/** How often a streaming answer's text is written while it grows. */
export const DEFAULT_FLUSH_MS = 500;

export interface AnswerWriter {
  readonly messageId: string;
  readonly parentId: string;
  /** The whole answer so far, including what a continued message had before. */
  readonly content: string;
  append(text: string, reasoning: string): void;
  /** Writes what has arrived now instead of at the next tick. */
  flush(): void;
  /** Saves the passages the answer was given, so they survive with it. */
  setSources(sources: readonly Passage[]): void;
  /** Saves how the conversation's pinned documents went to the model for this answer. */
  setPinned(pinned: readonly PinnedDocument[]): void;
  /** The final write: status, stats and the last text, in one statement. */
  finish(status: 'complete' | 'interrupted', stats: MessageStats | null): ChatMessage;
}

export interface WriterOptions {
  readonly modelName: string | null;
  readonly flushMs?: number;
  /** Called after each write of the growing text; the crash test acknowledges writes with it. */
  readonly onFlush?: (content: string) => void;
}

export interface MessageStore {
  thread(id: string): ChatThread;
  /** The last message of the thread shown, or null for an empty conversation. */
  lastOfThread(conversationId: string): StoredMessage | null;
  message(id: string): StoredMessage;
  /** The messages from the root down to `id`, inclusive. */
  pathTo(id: string): StoredMessage[];
  /** Saves a user message as the active child of `parentId` (null: a new root). */
  addUserMessage(conversationId: string, parentId: string | null, content: string): ChatMessage;
  /** Inserts an empty `streaming` answer under `parentId` and returns its writer. */
  startAnswer(conversationId: string, parentId: string, options: WriterOptions): AnswerWriter;
  /** Reopens an answer to append to it (continue). */
  continueAnswer(messageId: string, options: WriterOptions): AnswerWriter;
  switchBranch(messageId: string): ChatThread;
  toChatMessage(message: StoredMessage): ChatMessage;
}

interface SkeletonRow {
  id: string;
  parent_id: string | null;
  active: number;
}

export function createMessageStore(db: Database, now: () => Date): MessageStore {
  const iso = () => now().toISOString();

  const messageRow = (id: string): StoredMessage => {
    const row = db.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?`).get(id) as MessageRow | undefined;
    if (row === undefined) throw new AppError('not_found', 'That message does not exist.', `message ${id}`);
    return toStored(row);
  };

  const siblings = (conversationId: string, parentId: string | null): string[] =>
    (
      db.prepare("SELECT id FROM messages WHERE conversation_id = ? AND ifnull(parent_id, '') = ? ORDER BY n").all(conversationId, parentId ?? '') as {
        id: string;
      }[]
    ).map((row) => row.id);

  const toChatMessage = (message: StoredMessage): ChatMessage => {
    const ids = siblings(message.conversationId, message.parentId);
    return chatMessage(message, ids.indexOf(message.id) + 1, ids);
  };

  /**
   * Makes `id` the chosen child of its parent; the caller runs it inside a transaction, and
   * before inserting a new `id`, since the unique index allows one active child at a time.
   */
  const activate = (conversationId: string, parentId: string | null, id: string) => {
    db.prepare("UPDATE messages SET active = 0 WHERE conversation_id = ? AND ifnull(parent_id, '') = ? AND active = 1 AND id <> ?").run(
      conversationId,
      parentId ?? '',
      id,
    );
    db.prepare('UPDATE messages SET active = 1 WHERE id = ?').run(id);
  };

  const touch = (conversationId: string) => touchConversation(db, conversationId, iso());

  /** The thread: from the root, the active child at each fork (the newest, should none be marked). */
  const threadOf = (conversationId: string): { message: StoredMessage; index: number; siblingIds: string[] }[] => {
    const skeleton = db
      .prepare('SELECT id, parent_id, active FROM messages WHERE conversation_id = ? ORDER BY n')
      .all(conversationId) as unknown as SkeletonRow[];
    const children = new Map<string, SkeletonRow[]>();
    for (const row of skeleton) {
      const key = row.parent_id ?? '';
      const list = children.get(key);
      if (list === undefined) children.set(key, [row]);
      else list.push(row);
    }
    const chosen: { id: string; index: number; siblingIds: string[] }[] = [];
    let level = children.get('');
    while (level !== undefined && level.length > 0) {
      const activeIndex = level.findIndex((row) => row.active === 1);
      const index = activeIndex === -1 ? level.length - 1 : activeIndex;
      const row = level[index]!;
      chosen.push({ id: row.id, index: index + 1, siblingIds: level.map((sibling) => sibling.id) });
      level = children.get(row.id);
    }
    if (chosen.length === 0) return [];
    const rows = db
      .prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(chosen.map((item) => item.id))) as unknown as MessageRow[];
    const byId = new Map(rows.map((row) => [row.id, toStored(row)]));
    return chosen.map((item) => ({ message: byId.get(item.id)!, index: item.index, siblingIds: item.siblingIds }));
  };

  const thread = (id: string): ChatThread => {
    const conversation = toConversation(conversationRow(db, id));
    return { conversation, messages: threadOf(id).map((item) => chatMessage(item.message, item.index, item.siblingIds)) };
  };

  const writer = (message: StoredMessage, initial: string, initialReasoning: string, options: WriterOptions): AnswerWriter => {
    const flushMs = options.flushMs ?? DEFAULT_FLUSH_MS;
    let content = initial;
    let reasoning = initialReasoning;
    let dirty = false;
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    const update = db.prepare('UPDATE messages SET content = ?, reasoning = ? WHERE id = ?');
    const flush = () => {
      clearTimeout(timer);
      timer = undefined;
      if (!dirty || finished) return;
      dirty = false;
      update.run(content, reasoning === '' ? null : reasoning, message.id);
      options.onFlush?.(content);
    };
    return {
      messageId: message.id,
      parentId: message.parentId ?? '',
      get content() {
        return content;
      },
      append(text, more) {
        if (finished || (text === '' && more === '')) return;
        content += text;
        reasoning += more;
        dirty = true;
        timer ??= setTimeout(flush, flushMs);
      },
      flush,
      setSources(sources) {
        db.prepare('UPDATE messages SET sources = ? WHERE id = ?').run(sources.length === 0 ? null : JSON.stringify(sources), message.id);
      },
      setPinned(pinned) {
        db.prepare('UPDATE messages SET pinned = ? WHERE id = ?').run(pinned.length === 0 ? null : JSON.stringify(pinned), message.id);
      },
      finish(status, stats) {
        clearTimeout(timer);
        finished = true;
        transaction(db, () => {
          db.prepare('UPDATE messages SET content = ?, reasoning = ?, status = ?, stats = ?, model_name = ? WHERE id = ?').run(
            content,
            reasoning === '' ? null : reasoning,
            status,
            stats === null ? null : JSON.stringify(stats),
            options.modelName ?? message.modelName,
            message.id,
          );
          touch(message.conversationId);
        });
        return toChatMessage(messageRow(message.id));
      },
    };
  };

  return {
    thread,

    lastOfThread(conversationId) {
      conversationRow(db, conversationId);
      return threadOf(conversationId).at(-1)?.message ?? null;
    },

    message: messageRow,

    pathTo(id) {
      const rows = db
        .prepare(
          `WITH RECURSIVE up (id, depth) AS (SELECT id, 0 FROM messages WHERE id = ? UNION ALL SELECT m.parent_id, up.depth + 1 FROM messages m JOIN up ON m.id = up.id WHERE m.parent_id IS NOT NULL)
           SELECT ${MESSAGE_COLUMNS} FROM up JOIN messages USING (id) ORDER BY up.depth DESC`,
        )
        .all(id) as unknown as MessageRow[];
      if (rows.length === 0) throw new AppError('not_found', 'That message does not exist.', `message ${id}`);
      return rows.map(toStored);
    },

    addUserMessage(conversationId, parentId, content) {
      const id = newId();
      transaction(db, () => {
        const conversation = conversationRow(db, conversationId);
        if (parentId !== null && messageRow(parentId).conversationId !== conversationId) {
          throw new AppError('not_found', 'That message is not in this conversation.', `message ${parentId}`);
        }
        activate(conversationId, parentId, id);
        db.prepare(
          "INSERT INTO messages (id, conversation_id, parent_id, role, content, status, created_at, active) VALUES (?, ?, ?, 'user', ?, 'complete', ?, 1)",
        ).run(id, conversationId, parentId, content, iso());
        touch(conversationId);
        // The first message names the conversation until the user names it.
        if (conversation.title_auto === 1 && parentId === null)
          db.prepare('UPDATE conversations SET title = ? WHERE id = ?').run(titleFrom(content), conversationId);
      });
      return toChatMessage(messageRow(id));
    },

    startAnswer(conversationId, parentId, options) {
      const id = newId();
      transaction(db, () => {
        conversationRow(db, conversationId);
        activate(conversationId, parentId, id);
        db.prepare(
          "INSERT INTO messages (id, conversation_id, parent_id, role, content, status, model_name, created_at, active) VALUES (?, ?, ?, 'assistant', '', 'streaming', ?, ?, 1)",
        ).run(id, conversationId, parentId, options.modelName, iso());
        touch(conversationId);
      });
      return writer(messageRow(id), '', '', options);
    },

    continueAnswer(messageId, options) {
      const message = messageRow(messageId);
      db.prepare("UPDATE messages SET status = 'streaming' WHERE id = ?").run(messageId);
      return writer(message, message.content, message.reasoning ?? '', options);
    },

    switchBranch(messageId) {
      const message = messageRow(messageId);
      transaction(db, () => {
        conversationRow(db, message.conversationId);
        activate(message.conversationId, message.parentId, message.id);
      });
      return thread(message.conversationId);
    },

    toChatMessage,
  };
}
