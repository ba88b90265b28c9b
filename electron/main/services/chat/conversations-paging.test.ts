import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConversationSettings, ConversationSummary } from '../../../common/contract/chat.ts';
import { encodeCursor } from '../storage/keyset.ts';
import { openDatabase, type Database } from '../storage/sqlite.ts';
import { createChatStore, type ChatStore } from './store.ts';
import type { ConversationQuery } from './conversations-store.ts';

// The conversation list a page at a time (issue 15): a keyset over pinned, last activity and
// insertion order, so pages neither repeat nor skip rows, even with ties or a deletion between them.

const SETTINGS: ConversationSettings = {
  systemPrompt: '',
  sampling: { temperature: 0.5, topP: 0.9, topK: 40, minP: 0.05, repeatPenalty: 1.1, maxTokens: 64, seed: 7 },
  contextSize: 'auto',
};

let dir: string;
let db: Database;
let clock: number;
let store: ChatStore;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-chat-paging-'));
  db = openDatabase(dir);
  clock = Date.parse('2026-01-01T00:00:00.000Z');
  store = createChatStore(db, { now: () => new Date(clock) });
});

afterEach(async () => {
  if (db.isOpen) db.close();
  await rm(dir, { recursive: true, force: true });
});

/** Every page in turn, with a hook between pages; the pages as returned. */
function allPages(query: Omit<ConversationQuery, 'cursor'>, between: (pageIndex: number) => void = () => {}) {
  const pages: { conversations: ConversationSummary[]; total: number }[] = [];
  let cursor: string | undefined;
  do {
    const page = store.page({ ...query, ...(cursor === undefined ? {} : { cursor }) });
    pages.push(page);
    between(pages.length);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && pages.length < 1000);
  return pages;
}

describe('the conversation list, a page at a time', () => {
  it('returns every conversation once, in the list order, with ties on the time broken by creation', () => {
    // Groups of five share one timestamp: only the keyset's last column tells them apart.
    const titles: string[] = [];
    for (let i = 0; i < 53; i++) {
      if (i % 5 === 0) clock += 1000;
      titles.push(store.create({ modelId: null, settings: SETTINGS, title: `T${i}` }).title);
    }
    store.update(store.list().find((item) => item.title === 'T7')!.id, { pinned: true });
    store.update(store.list().find((item) => item.title === 'T30')!.id, { pinned: true });

    const expected = store.list().map((item) => item.id);
    expect(expected).toHaveLength(53);
    const pages = allPages({ limit: 10 });
    expect(pages.map((page) => page.conversations.length)).toEqual([10, 10, 10, 10, 10, 3]);
    expect(pages.every((page) => page.total === 53)).toBe(true);
    expect(pages.flatMap((page) => page.conversations.map((item) => item.id))).toEqual(expected);
    const shown = pages.flatMap((page) => page.conversations);
    expect(shown.slice(0, 2).map((item) => item.title)).toEqual(['T30', 'T7']);
    // Newest first; among the same second, the one created last first.
    expect(shown.slice(2, 5).map((item) => item.title)).toEqual(['T52', 'T51', 'T50']);
  });

  it('a conversation deleted between two pages is neither repeated nor makes another skipped', () => {
    for (let i = 0; i < 25; i++) {
      clock += 1000;
      store.create({ modelId: null, settings: SETTINGS, title: `T${i}` });
    }
    const expected = store.list().map((item) => item.id);
    let deleted = '';
    const pages = allPages({ limit: 10 }, (index) => {
      if (index !== 1) return;
      // The first row of what would be the second page goes away.
      deleted = expected[10]!;
      store.remove(deleted);
    });
    const ids = pages.flatMap((page) => page.conversations.map((item) => item.id));
    expect(ids).toEqual(expected.filter((id) => id !== deleted));
    expect(pages[1]!.total).toBe(24);
  });

  it('pages the search results too, with the same order and total', () => {
    for (let i = 0; i < 30; i++) {
      clock += 1000;
      const conversation = store.create({ modelId: null, settings: SETTINGS, title: i % 3 === 0 ? `Budget ${i}` : `Travel ${i}` });
      if (i % 3 === 1) store.addUserMessage(conversation.id, null, 'what about the budget?');
    }
    const pages = allPages({ query: 'budget', limit: 7 });
    const ids = pages.flatMap((page) => page.conversations.map((item) => item.id));
    expect(ids).toEqual(store.list('budget').map((item) => item.id));
    expect(ids).toHaveLength(20);
    expect(pages[0]!.total).toBe(20);
    expect(new Set(ids).size).toBe(20);
    expect(store.page({ query: 'nothing-like-this' })).toEqual({ conversations: [], nextCursor: null, total: 0 });
  });

  it('defaults to 100 a page, and refuses a cursor it did not make', () => {
    for (let i = 0; i < 120; i++) store.create({ modelId: null, settings: SETTINGS, title: `T${i}` });
    const first = store.page();
    expect(first.conversations).toHaveLength(100);
    expect(first.total).toBe(120);
    expect(store.page({ cursor: first.nextCursor! }).conversations).toHaveLength(20);
    for (const cursor of ['garbage!', 'e30', encodeCursor('models', [1, 'x', 3]), encodeCursor('conversations', ['1', 'x', 3])]) {
      expect(() => store.page({ cursor })).toThrow(expect.objectContaining({ code: 'bad_request', message: expect.stringMatching(/reload the list/) }));
    }
  });
});
