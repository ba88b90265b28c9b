import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  ChatSampling,
  ConversationSettings,
  MessageStats,
  type ChatMessage,
  type ChatPreset,
  type ChatThread,
  type Conversation,
  type ConversationSummary,
} from '../../../common/contract/chat.ts';
import { KnowledgeSettings, Passage } from '../../../common/contract/knowledge.ts';
import { AppError } from '../../../common/result.ts';
import { transaction, type Database } from '../storage/sqlite.ts';

// Conversations, their message trees and presets in SQLite. Plain synchronous functions
// over one connection: node:sqlite is synchronous, and keeping every write in one call
// means nothing else can slip in between a read and the write that depends on it.

/** How long a deleted conversation can be restored. */
export const UNDO_SECONDS = 10;
/** How often a streaming answer's text is written while it grows. */
export const DEFAULT_FLUSH_MS = 500;
export const DEFAULT_TITLE = 'New conversation';
const TITLE_CHARS = 60;
const PREVIEW_CHARS = 140;

export type MessageStatus = 'complete' | 'interrupted' | 'streaming';

/** A message row as stored; `ChatMessage` is what the renderer gets. */
export interface StoredMessage {
  readonly id: string;
  readonly conversationId: string;
  readonly parentId: string | null;
  readonly role: 'user' | 'assistant';
  readonly content: string;
  readonly reasoning: string | null;
  readonly status: MessageStatus;
  readonly modelName: string | null;
  readonly stats: MessageStats | null;
  readonly createdAt: string;
  readonly sources: readonly Passage[];
}

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
  /** The final write: status, stats and the last text, in one statement. */
  finish(status: 'complete' | 'interrupted', stats: MessageStats | null): ChatMessage;
}

export interface WriterOptions {
  readonly modelName: string | null;
  readonly flushMs?: number;
  /** Called after each write of the growing text; the crash test acknowledges writes with it. */
  readonly onFlush?: (content: string) => void;
}

export interface ChatStore {
  list(query?: string): ConversationSummary[];
  create(input: NewConversation): Conversation;
  conversation(id: string): Conversation;
  thread(id: string): ChatThread;
  update(id: string, patch: ConversationPatch): Conversation;
  remove(id: string): { undoToken: string; undoSeconds: number };
  restore(undoToken: string): Conversation;
  /** Deletes for good every conversation whose undo window has passed. */
  purgeExpired(): number;
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
  listPresets(): ChatPreset[];
  preset(id: string): ChatPreset;
  savePreset(input: { id?: string; name: string; settings: ConversationSettings }): ChatPreset;
  removePreset(id: string): void;
}

export interface ChatStoreOptions {
  readonly now?: () => Date;
}

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

export const newId = (): string => randomBytes(8).toString('hex');

/**
 * Opens the chat store. Any answer still `streaming` was being written by a process that
 * died (a crash, kill -9, power loss): it becomes `interrupted`, keeping the text written
 * so far, so the user sees it and can continue or regenerate it.
 */
export function createChatStore(db: Database, options: ChatStoreOptions = {}): ChatStore {
  const now = options.now ?? (() => new Date());
  const iso = () => now().toISOString();
  db.prepare("UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'").run();

  const conversationRow = (id: string): ConversationRow => {
    const row = db.prepare(`SELECT ${CONVERSATION_COLUMNS}, ${PREVIEW} FROM conversations c WHERE id = ? AND deleted_at IS NULL`).get(id) as ConversationRow | undefined;
    if (row === undefined) throw new AppError('not_found', 'That conversation does not exist or was deleted.', `conversation ${id}`);
    return row;
  };

  const messageRow = (id: string): StoredMessage => {
    const row = db.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?`).get(id) as MessageRow | undefined;
    if (row === undefined) throw new AppError('not_found', 'That message does not exist.', `message ${id}`);
    return toStored(row);
  };

  const siblings = (conversationId: string, parentId: string | null): string[] =>
    (db.prepare("SELECT id FROM messages WHERE conversation_id = ? AND ifnull(parent_id, '') = ? ORDER BY n").all(conversationId, parentId ?? '') as { id: string }[]).map((row) => row.id);

  const toChatMessage = (message: StoredMessage): ChatMessage => {
    const ids = siblings(message.conversationId, message.parentId);
    return chatMessage(message, ids.indexOf(message.id) + 1, ids);
  };

  /**
   * Makes `id` the chosen child of its parent; the caller runs it inside a transaction, and
   * before inserting a new `id`, since the unique index allows one active child at a time.
   */
  const activate = (conversationId: string, parentId: string | null, id: string) => {
    db.prepare("UPDATE messages SET active = 0 WHERE conversation_id = ? AND ifnull(parent_id, '') = ? AND active = 1 AND id <> ?").run(conversationId, parentId ?? '', id);
    db.prepare('UPDATE messages SET active = 1 WHERE id = ?').run(id);
  };

  const touch = (conversationId: string) => db.prepare('UPDATE conversations SET updated_at = ? WHERE id = ?').run(iso(), conversationId);

  /** The thread: from the root, the active child at each fork (the newest, should none be marked). */
  const threadOf = (conversationId: string): { message: StoredMessage; index: number; siblingIds: string[] }[] => {
    const skeleton = db.prepare('SELECT id, parent_id, active FROM messages WHERE conversation_id = ? ORDER BY n').all(conversationId) as unknown as SkeletonRow[];
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
    const rows = db.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(chosen.map((item) => item.id))) as unknown as MessageRow[];
    const byId = new Map(rows.map((row) => [row.id, toStored(row)]));
    return chosen.map((item) => ({ message: byId.get(item.id)!, index: item.index, siblingIds: item.siblingIds }));
  };

  const thread = (id: string): ChatThread => {
    const conversation = toConversation(conversationRow(id));
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

  const purgeExpired = () => {
    const cutoff = new Date(now().getTime() - UNDO_SECONDS * 1000).toISOString();
    return Number(db.prepare('DELETE FROM conversations WHERE deleted_at IS NOT NULL AND deleted_at <= ?').run(cutoff).changes);
  };

  // Whatever a crash left in the undo window is past it by now, or will be at the next purge.
  purgeExpired();

  return {
    list(query) {
      purgeExpired();
      const words = searchWords(query);
      if (words === null) {
        const rows = db.prepare(`SELECT ${CONVERSATION_COLUMNS}, ${PREVIEW} FROM conversations c WHERE deleted_at IS NULL ORDER BY pinned DESC, updated_at DESC, n DESC`).all() as unknown as ConversationRow[];
        return rows.map(toSummary);
      }
      if (words.length === 0) return [];
      // Every word must occur somewhere in the conversation (its title or any message), each as a prefix.
      const quoted = words.map((word) => `"${word.replaceAll('"', '""')}"*`);
      const inMessages = db.prepare('SELECT m.conversation_id AS conversation, max(m.n) AS n FROM messages_fts f JOIN messages m ON m.n = f.rowid WHERE messages_fts MATCH ? GROUP BY m.conversation_id');
      const inTitles = db.prepare('SELECT c.id AS conversation FROM conversations_fts f JOIN conversations c ON c.n = f.rowid WHERE conversations_fts MATCH ?');
      const matching = (match: string) => new Set([...(inMessages.all(match) as { conversation: string }[]), ...(inTitles.all(match) as { conversation: string }[])].map((row) => row.conversation));
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
        .prepare(`SELECT ${CONVERSATION_COLUMNS}, ${PREVIEW} FROM conversations c WHERE deleted_at IS NULL AND id IN (SELECT value FROM json_each(?)) ORDER BY pinned DESC, updated_at DESC, n DESC`)
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
      ).run(id, given === '' ? DEFAULT_TITLE : given.slice(0, 200), given === '' ? 1 : 0, modelId, settings.systemPrompt, JSON.stringify(settings.sampling), contextColumn(settings.contextSize), at, at);
      return toConversation(conversationRow(id));
    },

    conversation: (id) => toConversation(conversationRow(id)),
    thread,

    update(id, patch) {
      conversationRow(id);
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
      return toConversation(conversationRow(id));
    },

    remove(id) {
      conversationRow(id);
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
      return toConversation(conversationRow(row.id));
    },

    purgeExpired,

    lastOfThread(conversationId) {
      conversationRow(conversationId);
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
        const conversation = conversationRow(conversationId);
        if (parentId !== null && messageRow(parentId).conversationId !== conversationId) {
          throw new AppError('not_found', 'That message is not in this conversation.', `message ${parentId}`);
        }
        activate(conversationId, parentId, id);
        db.prepare("INSERT INTO messages (id, conversation_id, parent_id, role, content, status, created_at, active) VALUES (?, ?, ?, 'user', ?, 'complete', ?, 1)").run(
          id,
          conversationId,
          parentId,
          content,
          iso(),
        );
        touch(conversationId);
        // The first message names the conversation until the user names it.
        if (conversation.title_auto === 1 && parentId === null) db.prepare('UPDATE conversations SET title = ? WHERE id = ?').run(titleFrom(content), conversationId);
      });
      return toChatMessage(messageRow(id));
    },

    startAnswer(conversationId, parentId, options) {
      const id = newId();
      transaction(db, () => {
        conversationRow(conversationId);
        activate(conversationId, parentId, id);
        db.prepare("INSERT INTO messages (id, conversation_id, parent_id, role, content, status, model_name, created_at, active) VALUES (?, ?, ?, 'assistant', '', 'streaming', ?, ?, 1)").run(
          id,
          conversationId,
          parentId,
          options.modelName,
          iso(),
        );
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
        conversationRow(message.conversationId);
        activate(message.conversationId, message.parentId, message.id);
      });
      return thread(message.conversationId);
    },

    toChatMessage,

    listPresets() {
      const rows = db.prepare('SELECT id, name, settings FROM presets ORDER BY name COLLATE NOCASE, created_at, id').all() as unknown as PresetRow[];
      return rows.flatMap((row) => {
        const preset = toPreset(row);
        return preset === null ? [] : [preset];
      });
    },

    preset(id) {
      const row = db.prepare('SELECT id, name, settings FROM presets WHERE id = ?').get(id) as PresetRow | undefined;
      const preset = row === undefined ? null : toPreset(row);
      if (preset === null) throw new AppError('not_found', 'That preset does not exist.', `preset ${id}`);
      return preset;
    },

    savePreset({ id, name, settings }) {
      const at = iso();
      const json = JSON.stringify(settings);
      if (id === undefined) {
        const created = newId();
        db.prepare('INSERT INTO presets (id, name, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(created, name, json, at, at);
        return { id: created, name, settings };
      }
      const changed = db.prepare('UPDATE presets SET name = ?, settings = ?, updated_at = ? WHERE id = ?').run(name, json, at, id).changes;
      if (Number(changed) === 0) throw new AppError('not_found', 'That preset does not exist.', `preset ${id}`);
      return { id, name, settings };
    },

    removePreset(id) {
      const changed = db.prepare('DELETE FROM presets WHERE id = ?').run(id).changes;
      if (Number(changed) === 0) throw new AppError('not_found', 'That preset does not exist.', `preset ${id}`);
    },
  };
}

interface ConversationRow {
  id: string;
  title: string;
  title_auto: number;
  pinned: number;
  model_id: string | null;
  system_prompt: string;
  sampling: string;
  context_size: number | null;
  knowledge: string | null;
  created_at: string;
  updated_at: string;
  preview: string | null;
}

interface MessageRow {
  id: string;
  conversation_id: string;
  parent_id: string | null;
  role: 'user' | 'assistant';
  content: string;
  reasoning: string | null;
  status: MessageStatus;
  model_name: string | null;
  stats: string | null;
  sources: string | null;
  created_at: string;
}

interface SkeletonRow {
  id: string;
  parent_id: string | null;
  active: number;
}

interface PresetRow {
  id: string;
  name: string;
  settings: string;
}

const CONVERSATION_COLUMNS = 'id, title, title_auto, pinned, model_id, system_prompt, sampling, context_size, knowledge, created_at, updated_at';
const MESSAGE_COLUMNS = 'id, conversation_id, parent_id, role, content, reasoning, status, model_name, stats, sources, created_at';
const PREVIEW = `(SELECT substr(content, 1, ${PREVIEW_CHARS * 2}) FROM messages m WHERE m.conversation_id = c.id ORDER BY m.n DESC LIMIT 1) AS preview`;

/** Used only when a stored value cannot be read (a file edited by hand, a value a later version refuses). */
const FALLBACK_SAMPLING: ChatSampling = { temperature: 0.7, topP: 0.9, topK: 40, minP: 0.05, repeatPenalty: 1.1, maxTokens: 512, seed: null };

const contextColumn = (contextSize: ConversationSettings['contextSize']): number | null => (contextSize === 'auto' ? null : contextSize);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function toSummary(row: ConversationRow): ConversationSummary {
  return {
    id: row.id,
    title: row.title,
    pinned: row.pinned === 1,
    modelId: row.model_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    preview: previewOf(row.preview ?? ''),
  };
}

function toConversation(row: ConversationRow): Conversation {
  const sampling = ChatSampling.safeParse(parseJson(row.sampling));
  return {
    ...toSummary(row),
    settings: {
      systemPrompt: row.system_prompt,
      sampling: sampling.success ? sampling.data : FALLBACK_SAMPLING,
      contextSize: row.context_size === null || row.context_size < 256 ? 'auto' : row.context_size,
    },
    knowledge: knowledgeOf(row.knowledge),
  };
}

function toStored(row: MessageRow): StoredMessage {
  const stats = row.stats === null ? null : MessageStats.safeParse(parseJson(row.stats));
  return {
    id: row.id,
    conversationId: row.conversation_id,
    parentId: row.parent_id,
    role: row.role,
    content: row.content,
    reasoning: row.reasoning,
    status: row.status,
    modelName: row.model_name,
    stats: stats?.success === true ? stats.data : null,
    createdAt: row.created_at,
    sources: sourcesOf(row.sources),
  };
}

function chatMessage(message: StoredMessage, siblingIndex: number, siblingIds: readonly string[]): ChatMessage {
  return {
    id: message.id,
    parentId: message.parentId,
    role: message.role,
    content: message.content,
    reasoning: message.reasoning,
    // A row still streaming is shown as interrupted: if its writer is alive, `done` replaces it soon.
    status: message.status === 'complete' ? 'complete' : 'interrupted',
    createdAt: message.createdAt,
    modelName: message.modelName,
    stats: message.stats,
    sources: [...message.sources],
    siblingIndex: Math.max(1, siblingIndex),
    siblingCount: Math.max(1, siblingIds.length),
    siblingIds: [...siblingIds],
  };
}

function toPreset(row: PresetRow): ChatPreset | null {
  const settings = ConversationSettings.safeParse(parseJson(row.settings));
  return settings.success ? { id: row.id, name: row.name, settings: settings.data } : null;
}

/** The words of a search, or null for no search at all. FTS5 syntax is never passed through: each word is quoted. */
export function searchWords(query: string | undefined): string[] | null {
  if (query === undefined || query.trim() === '') return null;
  return query.match(/[\p{L}\p{N}_]+/gu) ?? [];
}

export function titleFrom(content: string): string {
  const flat = content.replace(/\s+/g, ' ').trim();
  if (flat.length <= TITLE_CHARS) return flat === '' ? DEFAULT_TITLE : flat;
  const cut = flat.slice(0, TITLE_CHARS);
  const space = cut.lastIndexOf(' ');
  return `${(space > TITLE_CHARS / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

function previewOf(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= PREVIEW_CHARS ? flat : `${flat.slice(0, PREVIEW_CHARS - 1).trimEnd()}…`;
}

const NO_KNOWLEDGE: KnowledgeSettings = { collectionIds: [], documentsOnly: false };

function knowledgeOf(json: string | null): KnowledgeSettings {
  if (json === null) return NO_KNOWLEDGE;
  const parsed = KnowledgeSettings.safeParse(parseJson(json));
  return parsed.success ? parsed.data : NO_KNOWLEDGE;
}

function sourcesOf(json: string | null): Passage[] {
  if (json === null) return [];
  const parsed = z.array(Passage).safeParse(parseJson(json));
  return parsed.success ? parsed.data : [];
}
