import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConversationSettings } from '../../../common/contract/chat.ts';
import { openDatabase, type Database } from '../storage/sqlite.ts';
import { conversationMarkdown, parsePresetFile, presetFile, fileNameFor } from './files.ts';
import { createChatStore, DEFAULT_TITLE, searchWords, titleFrom, UNDO_SECONDS, type ChatStore } from './store.ts';

const SETTINGS: ConversationSettings = {
  systemPrompt: 'Be brief.',
  sampling: { temperature: 0.5, topP: 0.9, topK: 40, minP: 0.05, repeatPenalty: 1.1, maxTokens: 64, seed: 7 },
  contextSize: 'auto',
};

let dir: string;
let db: Database;
let clock: number;
let store: ChatStore;

const reopen = () => {
  db.close();
  db = openDatabase(dir);
  store = createChatStore(db, { now: () => new Date(clock) });
};

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-chat-store-'));
  db = openDatabase(dir);
  clock = Date.parse('2026-01-01T00:00:00.000Z');
  store = createChatStore(db, { now: () => new Date(clock) });
});

afterEach(async () => {
  if (db.isOpen) db.close();
  await rm(dir, { recursive: true, force: true });
});

/** A complete question and answer under `parent`, as the handlers would write them. */
function exchange(conversationId: string, parent: string | null, question: string, reply: string) {
  const user = store.addUserMessage(conversationId, parent, question);
  const writer = store.startAnswer(conversationId, user.id, { modelName: 'tiny' });
  writer.append(reply, '');
  const answer = writer.finish('complete', { tokens: 3, promptTokens: 5, tokensPerSecond: 10, firstTokenMs: 12, ms: 300 });
  return { user, answer };
}

describe('conversations', () => {
  it('create, read back, rename, pin and change settings, surviving a reopen', () => {
    const created = store.create({ modelId: 'abc', settings: SETTINGS });
    expect(created).toMatchObject({ title: DEFAULT_TITLE, pinned: false, modelId: 'abc', preview: '', settings: SETTINGS });
    clock += 1000;
    const updated = store.update(created.id, { title: '  Budget  ', pinned: true, modelId: null, settings: { ...SETTINGS, contextSize: 4096 } });
    expect(updated).toMatchObject({ title: 'Budget', pinned: true, modelId: null, settings: { contextSize: 4096 } });
    reopen();
    expect(store.conversation(created.id)).toEqual(updated);
    expect(() => store.conversation('nope')).toThrow(expect.objectContaining({ code: 'not_found' }));
  });

  it('take their title from the first message until the user names them', () => {
    const auto = store.create({ modelId: null, settings: SETTINGS });
    store.addUserMessage(auto.id, null, '  What is   the capital\nof France, and why is it there? Explain the history in detail please  ');
    expect(store.conversation(auto.id).title).toBe('What is the capital of France, and why is it there? Explain…');
    const named = store.create({ modelId: null, settings: SETTINGS, title: 'Mine' });
    store.addUserMessage(named.id, null, 'Hello');
    expect(store.conversation(named.id).title).toBe('Mine');
    expect(titleFrom('short')).toBe('short');
    expect(titleFrom('x'.repeat(100))).toBe(`${'x'.repeat(60)}…`);
  });

  it('list pinned first, then by last activity, with the start of the last message as preview', () => {
    const a = store.create({ modelId: null, settings: SETTINGS, title: 'A' });
    clock += 1000;
    const b = store.create({ modelId: null, settings: SETTINGS, title: 'B' });
    clock += 1000;
    const c = store.create({ modelId: null, settings: SETTINGS, title: 'C' });
    clock += 1000;
    exchange(a.id, null, 'question', 'the answer is 42');
    expect(store.list().map((item) => item.title)).toEqual(['A', 'C', 'B']);
    store.update(b.id, { pinned: true });
    expect(store.list().map((item) => item.title)).toEqual(['B', 'A', 'C']);
    expect(store.list()[1]!.preview).toBe('the answer is 42');
    expect(c.updatedAt < store.conversation(a.id).updatedAt).toBe(true);
  });
});

describe('messages and branches', () => {
  it('saves a thread and follows the active sibling at each fork', () => {
    const { id } = store.create({ modelId: null, settings: SETTINGS });
    const first = exchange(id, null, 'one', 'reply one');
    const second = exchange(id, first.answer.id, 'two', 'reply two');
    expect(store.thread(id).messages.map((m) => m.content)).toEqual(['one', 'reply one', 'two', 'reply two']);
    expect(store.thread(id).messages.every((m) => m.siblingIndex === 1 && m.siblingCount === 1)).toBe(true);

    // Editing "two" is a new user message under the same parent: a branch, shown at once.
    const edited = exchange(id, first.answer.id, 'two, edited', 'reply to the edit');
    let thread = store.thread(id);
    expect(thread.messages.map((m) => m.content)).toEqual(['one', 'reply one', 'two, edited', 'reply to the edit']);
    expect(thread.messages[2]).toMatchObject({ siblingIndex: 2, siblingCount: 2, parentId: first.answer.id });

    // Switching back shows the old branch with its own answer.
    thread = store.switchBranch(second.user.id);
    expect(thread.messages.map((m) => m.content)).toEqual(['one', 'reply one', 'two', 'reply two']);
    expect(thread.messages[2]).toMatchObject({ siblingIndex: 1, siblingCount: 2 });

    // A regenerated answer is a sibling of the answer; the choice at each fork is remembered separately.
    store.switchBranch(edited.user.id);
    const writer = store.startAnswer(id, edited.user.id, { modelName: 'tiny' });
    writer.append('another reply', '');
    writer.finish('complete', null);
    thread = store.thread(id);
    expect(thread.messages.map((m) => m.content)).toEqual(['one', 'reply one', 'two, edited', 'another reply']);
    expect(thread.messages[3]).toMatchObject({ siblingIndex: 2, siblingCount: 2 });
    store.switchBranch(second.user.id);
    store.switchBranch(edited.user.id);
    expect(store.thread(id).messages.at(-1)!.content).toBe('another reply');

    // Editing the very first message makes a second root.
    exchange(id, null, 'zero', 'reply zero');
    expect(store.thread(id).messages.map((m) => m.content)).toEqual(['zero', 'reply zero']);
    expect(store.thread(id).messages[0]).toMatchObject({ siblingIndex: 2, siblingCount: 2, parentId: null });
    expect(store.pathTo(second.answer.id).map((m) => m.content)).toEqual(['one', 'reply one', 'two', 'reply two']);

    reopen();
    expect(store.thread(id).messages.map((m) => m.content)).toEqual(['zero', 'reply zero']);
    expect(store.switchBranch(first.user.id).messages.map((m) => m.content)).toEqual(['one', 'reply one', 'two, edited', 'another reply']);
  });

  it('refuses a parent from another conversation', () => {
    const a = store.create({ modelId: null, settings: SETTINGS });
    const b = store.create({ modelId: null, settings: SETTINGS });
    const { answer } = exchange(a.id, null, 'q', 'r');
    expect(() => store.addUserMessage(b.id, answer.id, 'x')).toThrow(expect.objectContaining({ code: 'not_found' }));
  });

  it('writes a streaming answer as it grows, then its final state with stats and reasoning', async () => {
    const { id } = store.create({ modelId: null, settings: SETTINGS });
    const user = store.addUserMessage(id, null, 'q');
    const flushed: string[] = [];
    const writer = store.startAnswer(id, user.id, { modelName: 'tiny', flushMs: 20, onFlush: (content) => flushed.push(content) });
    const stored = () => db.prepare('SELECT content, reasoning, status FROM messages WHERE id = ?').get(writer.messageId);
    expect(stored()).toEqual({ content: '', reasoning: null, status: 'streaming' });
    writer.append('Hel', 'think');
    writer.append('lo', '');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(stored()).toEqual({ content: 'Hello', reasoning: 'think', status: 'streaming' });
    expect(flushed).toEqual(['Hello']);
    writer.append(' world', '');
    const done = writer.finish('complete', { tokens: 2, promptTokens: 1, tokensPerSecond: 4, firstTokenMs: null, ms: 500 });
    expect(done).toMatchObject({ content: 'Hello world', reasoning: 'think', status: 'complete', modelName: 'tiny', stats: { tokens: 2 } });
    writer.append('late', '');
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(stored()).toEqual({ content: 'Hello world', reasoning: 'think', status: 'complete' });
  });

  it('marks answers left streaming by a dead process as interrupted when opened again', () => {
    const { id } = store.create({ modelId: null, settings: SETTINGS });
    const user = store.addUserMessage(id, null, 'q');
    const writer = store.startAnswer(id, user.id, { modelName: 'tiny' });
    writer.append('partial', '');
    writer.flush();
    reopen();
    const thread = store.thread(id);
    expect(thread.messages.map((m) => [m.content, m.status])).toEqual([
      ['q', 'complete'],
      ['partial', 'interrupted'],
    ]);
    expect(db.prepare("SELECT count(*) AS n FROM messages WHERE status = 'streaming'").get()).toEqual({ n: 0 });
    // Continuing appends to the same message.
    const more = store.continueAnswer(writer.messageId, { modelName: 'tiny' });
    more.append(' and the rest', '');
    expect(more.finish('complete', null)).toMatchObject({ id: writer.messageId, content: 'partial and the rest', status: 'complete' });
  });
});

describe('search', () => {
  it('finds conversations by a word in a title or in any message, folding case and accents, with a snippet', () => {
    const a = store.create({ modelId: null, settings: SETTINGS, title: 'Quarterly budget' });
    const b = store.create({ modelId: null, settings: SETTINGS, title: 'Travel' });
    exchange(b.id, null, 'Where should I eat in Lyon?', 'Try the bouchons near the Café des Fédérations, famous for quenelles.');
    const c = store.create({ modelId: null, settings: SETTINGS, title: 'Other' });
    exchange(c.id, null, 'Unrelated', 'Nothing here');

    expect(store.list('budget').map((item) => item.id)).toEqual([a.id]);
    const hit = store.list('cafe federations');
    expect(hit.map((item) => item.id)).toEqual([b.id]);
    expect(hit[0]!.preview).toContain('Café des Fédérations');
    expect(store.list('QUENEL').map((item) => item.id)).toEqual([b.id]);
    // Every word must appear in the conversation, not necessarily in one message.
    expect(store.list('lyon bouchons').map((item) => item.id)).toEqual([b.id]);
    expect(store.list('travel quenelles').map((item) => item.id)).toEqual([b.id]);
    expect(store.list('lyon nothing')).toEqual([]);
    expect(store.list('nowhere-to-be-found')).toEqual([]);
    // FTS syntax is taken as plain words, never as operators.
    expect(store.list('"budget" OR NEAR(')).toEqual([]);
    expect(store.list('budget*').map((item) => item.id)).toEqual([a.id]);
    expect(
      store
        .list('  ')
        .map((item) => item.id)
        .sort(),
    ).toEqual([a.id, b.id, c.id].sort());
    expect(store.list('!!!')).toEqual([]);
    expect(searchWords('a "b" c')).toEqual(['a', 'b', 'c']);

    // A renamed conversation is found by its new title only; a deleted one is not found.
    store.update(a.id, { title: 'Annual plan' });
    expect(store.list('budget')).toEqual([]);
    expect(store.list('annual').map((item) => item.id)).toEqual([a.id]);
    store.remove(b.id);
    expect(store.list('lyon')).toEqual([]);
  });

  it('keeps the index in step with streaming updates and purges', () => {
    const { id } = store.create({ modelId: null, settings: SETTINGS });
    const user = store.addUserMessage(id, null, 'hello');
    const writer = store.startAnswer(id, user.id, { modelName: 'tiny' });
    writer.append('first draft', '');
    writer.flush();
    writer.append(' then zebra', '');
    writer.finish('complete', null);
    expect(store.list('zebra').map((item) => item.id)).toEqual([id]);
    expect(store.list('draft').map((item) => item.id)).toEqual([id]);
    store.remove(id);
    clock += (UNDO_SECONDS + 1) * 1000;
    expect(store.purgeExpired()).toBe(1);
    expect(db.prepare('SELECT count(*) AS n FROM messages').get()).toEqual({ n: 0 });
    // An external-content FTS index that missed a delete would fail its integrity check.
    expect(() => db.exec("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")).not.toThrow();
    expect(() => db.exec("INSERT INTO conversations_fts (conversations_fts) VALUES ('integrity-check')")).not.toThrow();
    expect(db.prepare("SELECT count(*) AS n FROM messages_fts WHERE messages_fts MATCH 'zebra'").get()).toEqual({ n: 0 });
  });
});

describe('delete and undo', () => {
  it('hides a deleted conversation, restores it within the window, and purges it after', () => {
    const { id } = store.create({ modelId: null, settings: SETTINGS, title: 'Keep me' });
    exchange(id, null, 'q', 'r');
    const { undoToken, undoSeconds } = store.remove(id);
    expect(undoSeconds).toBe(UNDO_SECONDS);
    expect(store.list()).toEqual([]);
    expect(() => store.thread(id)).toThrow(expect.objectContaining({ code: 'not_found' }));
    clock += (UNDO_SECONDS - 1) * 1000;
    expect(store.restore(undoToken)).toMatchObject({ id, title: 'Keep me' });
    expect(store.thread(id).messages).toHaveLength(2);
    expect(() => store.restore(undoToken)).toThrow(expect.objectContaining({ code: 'not_found' }));

    const second = store.remove(id);
    clock += UNDO_SECONDS * 1000;
    expect(() => store.restore(second.undoToken)).toThrow(expect.objectContaining({ code: 'not_found', message: expect.stringMatching(/too late/) }));
    expect(db.prepare('SELECT count(*) AS n FROM conversations').get()).toEqual({ n: 0 });
  });

  it('purges an expired deletion when opened again', () => {
    const { id } = store.create({ modelId: null, settings: SETTINGS });
    store.remove(id);
    clock += 60_000;
    reopen();
    expect(db.prepare('SELECT count(*) AS n FROM conversations').get()).toEqual({ n: 0 });
  });
});

describe('presets', () => {
  it('save, rename, list by name, delete, and round-trip through a file', () => {
    const a = store.savePreset({ name: 'Precise', settings: { ...SETTINGS, sampling: { ...SETTINGS.sampling, temperature: 0.1 } } });
    const b = store.savePreset({ name: 'creative', settings: { ...SETTINGS, sampling: { ...SETTINGS.sampling, temperature: 1.3, seed: null } } });
    expect(store.listPresets().map((p) => p.name)).toEqual(['creative', 'Precise']);
    const renamed = store.savePreset({ id: a.id, name: 'Exact', settings: a.settings });
    expect(renamed).toEqual({ id: a.id, name: 'Exact', settings: a.settings });
    expect(() => store.savePreset({ id: 'missing', name: 'x', settings: SETTINGS })).toThrow(expect.objectContaining({ code: 'not_found' }));

    const file = presetFile(store.listPresets());
    const parsed = parsePresetFile(file);
    expect(parsed).toEqual([
      { name: 'creative', settings: b.settings },
      { name: 'Exact', settings: a.settings },
    ]);
    store.removePreset(b.id);
    expect(() => store.removePreset(b.id)).toThrow(expect.objectContaining({ code: 'not_found' }));
    expect(store.listPresets().map((p) => p.id)).toEqual([a.id]);
  });

  it('accepts a bare preset or a list, and rejects anything else with the failing field', () => {
    expect(parsePresetFile(JSON.stringify({ name: 'One', settings: SETTINGS }))).toEqual([{ name: 'One', settings: SETTINGS }]);
    expect(parsePresetFile(JSON.stringify([{ name: 'One', settings: SETTINGS }]))).toHaveLength(1);
    expect(() => parsePresetFile('{not json')).toThrow(expect.objectContaining({ code: 'bad_request', message: expect.stringMatching(/not valid JSON/) }));
    expect(() => parsePresetFile(JSON.stringify({ name: 'Hot', settings: { ...SETTINGS, sampling: { ...SETTINGS.sampling, temperature: 9 } } }))).toThrow(
      expect.objectContaining({ code: 'bad_request', details: expect.stringContaining('temperature') }),
    );
  });
});

describe('export', () => {
  it('renders the thread shown as Markdown, with reasoning quoted and interruptions marked', () => {
    const { id } = store.create({ modelId: null, settings: SETTINGS });
    const user = store.addUserMessage(id, null, 'Why?');
    const writer = store.startAnswer(id, user.id, { modelName: 'tiny' });
    writer.append('Because.', 'Let me think.\n\nYes.');
    writer.finish('interrupted', null);
    const markdown = conversationMarkdown(store.thread(id));
    expect(markdown).toContain('# Why?');
    expect(markdown).toContain('## System prompt\n\nBe brief.');
    expect(markdown).toContain('## User\n\nWhy?');
    expect(markdown).toContain('## Assistant (tiny)\n\n> **Reasoning**\n>\n> Let me think.\n>\n> Yes.\n\nBecause.\n\n_(interrupted)_');
    expect(fileNameFor('a/b: c?', 'md')).toBe('a b c.md');
    expect(fileNameFor('...', 'json')).toBe('conversation.json');
  });
});
