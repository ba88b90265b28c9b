import type { Database } from '../storage/sqlite.ts';
import { createConversationStore, type ConversationStore } from './conversations-store.ts';
import { createMessageStore, type MessageStore } from './messages-store.ts';
import { createPresetStore, type PresetStore } from './presets-store.ts';

// Conversations, their message trees and presets in SQLite. Plain synchronous functions
// over one connection: node:sqlite is synchronous, and keeping every write in one call
// means nothing else can slip in between a read and the write that depends on it.
// Each part lives in its own module; this one opens them together as one store.

export { UNDO_SECONDS, type ConversationPatch, type NewConversation } from './conversations-store.ts';
export { DEFAULT_FLUSH_MS, type AnswerWriter, type WriterOptions } from './messages-store.ts';
export { purgeConversationsBefore } from './retention.ts';
export { DEFAULT_TITLE, newId, searchWords, titleFrom, type MessageStatus, type StoredMessage } from './rows.ts';

export interface ChatStore extends ConversationStore, MessageStore, PresetStore {}

export interface ChatStoreOptions {
  readonly now?: () => Date;
}

/**
 * Opens the chat store. Any answer still `streaming` was being written by a process that
 * died (a crash, kill -9, power loss): it becomes `interrupted`, keeping the text written
 * so far, so the user sees it and can continue or regenerate it.
 */
export function createChatStore(db: Database, options: ChatStoreOptions = {}): ChatStore {
  const now = options.now ?? (() => new Date());
  db.prepare("UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'").run();
  const conversations = createConversationStore(db, now);
  const messages = createMessageStore(db, now);
  const presets = createPresetStore(db, now);

  // Whatever a crash left in the undo window is past it by now, or will be at the next purge.
  conversations.purgeExpired();

  return { ...conversations, ...messages, ...presets };
}
