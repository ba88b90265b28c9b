import { describe, expect, it } from 'vitest';
import { applyChatEvent, placeMessage, syncThreadWithList, touchSummary, type ChatStreamEvent, type ChatStreamState } from './reducer.ts';
import { message, passage, streamState, summary, thread } from '../../test-support/chat-data.ts';

const run = (state: ChatStreamState, events: readonly ChatStreamEvent[]) => events.reduce(applyChatEvent, state);

describe('applyChatEvent', () => {
  const question = message('u1', null, 'user', 'Hello');
  const answer = message('a1', 'u1', 'assistant', 'Hi there', { createdAt: '2026-01-02T00:00:00.000Z' });

  it('folds a send into the thread: the user message, the streamed text, then the saved answer in its place', () => {
    let state = streamState({ thread: thread('c1', []), conversations: [summary('c0', { updatedAt: '2026-01-01T10:00:00.000Z' }), summary('c1')] });
    state = run(state, [
      { type: 'begin', conversationId: 'c1' },
      { type: 'user', message: question },
      { type: 'started', messageId: 'a1', parentId: 'u1' },
    ]);
    expect(state.thread?.messages.map((m) => m.id)).toEqual(['u1']);
    expect(state.streaming).toMatchObject({ conversationId: 'c1', messageId: 'a1', parentId: 'u1', text: '' });

    state = run(state, [
      { type: 'delta', text: 'Hi', reasoning: 'hmm' },
      { type: 'delta', text: ' there', reasoning: '' },
    ]);
    expect(state.streaming).toMatchObject({ text: 'Hi there', reasoning: 'hmm' });

    state = applyChatEvent(state, { type: 'done', message: answer });
    expect(state.streaming).toBeNull();
    expect(state.thread?.messages).toEqual([question, answer]);
    expect(state.announcement).toBe('Answer complete: Hi there');
    // The list entry moved up with its new activity and shows the answer.
    expect(state.conversations.map((c) => [c.id, c.preview])).toEqual([
      ['c1', 'Hi there'],
      ['c0', ''],
    ]);
  });

  it('starts clean: earlier notices, error and picked sources go', () => {
    const state = applyChatEvent(streamState({ notices: [{ kind: 'noSources', detail: 'x' }], error: { code: 'busy', message: 'm' }, sourcesFor: 'a0' }), {
      type: 'begin',
      conversationId: 'c1',
    });
    expect(state).toMatchObject({ notices: [], error: null, sourcesFor: null, streaming: { conversationId: 'c1', text: '', sources: [] } });
  });

  it('keeps sources and notices in arrival order', () => {
    const state = run(streamState(), [
      { type: 'begin', conversationId: 'c1' },
      { type: 'notice', kind: 'textSearchOnly', detail: 'one' },
      { type: 'sources', sources: [passage('p1')], mode: 'text' },
      { type: 'notice', kind: 'contextTrimmed', detail: 'two' },
    ]);
    expect(state.notices.map((notice) => notice.detail)).toEqual(['one', 'two']);
    expect(state.streaming?.sources.map((p) => p.chunkId)).toEqual(['p1']);
  });

  it('ignores stream events when no stream runs, and a user message of another conversation', () => {
    const idle = streamState({ thread: thread('c1', [question]) });
    expect(applyChatEvent(idle, { type: 'delta', text: 'x', reasoning: '' })).toBe(idle);
    expect(applyChatEvent(idle, { type: 'started', messageId: 'a', parentId: 'u' })).toBe(idle);
    const elsewhere = applyChatEvent(idle, { type: 'begin', conversationId: 'c2' });
    expect(applyChatEvent(elsewhere, { type: 'user', message: message('u9', null, 'user', 'x') }).thread).toBe(idle.thread);
  });

  it('ends on an error with the error shown, but a cancel shows none', () => {
    const running = applyChatEvent(streamState(), { type: 'begin', conversationId: 'c1' });
    const failed = applyChatEvent(running, { type: 'error', error: { code: 'unavailable', message: 'gone' } });
    expect(failed).toMatchObject({ streaming: null, error: { code: 'unavailable' } });
    const cancelled = applyChatEvent(running, { type: 'error', error: { code: 'cancelled', message: 'stopped' } });
    expect(cancelled).toMatchObject({ streaming: null, error: null });
  });
});

describe('placeMessage', () => {
  const u1 = message('u1', null, 'user', 'q1');
  const a1 = message('a1', 'u1', 'assistant', 'old answer');
  const u2 = message('u2', 'a1', 'user', 'q2');
  const a2 = message('a2', 'u2', 'assistant', 'a2');

  it('a regenerated answer replaces the shown one and what followed it', () => {
    const again = message('a1b', 'u1', 'assistant', 'new answer', { siblingIndex: 2, siblingCount: 2, siblingIds: ['a1', 'a1b'] });
    expect(placeMessage(thread('c1', [u1, a1, u2, a2]), 'c1', again)?.messages).toEqual([u1, again]);
  });

  it('an edited first message starts a new path; a continued answer stays in its place', () => {
    const edited = message('u1b', null, 'user', 'q1 again');
    expect(placeMessage(thread('c1', [u1, a1]), 'c1', edited)?.messages).toEqual([edited]);
    const continued = { ...a1, content: 'old answer, continued' };
    expect(placeMessage(thread('c1', [u1, a1]), 'c1', continued)?.messages).toEqual([u1, continued]);
  });

  it('leaves another conversation alone', () => {
    const shown = thread('c2', [u1]);
    expect(placeMessage(shown, 'c1', a1)).toBe(shown);
    expect(placeMessage(null, 'c1', a1)).toBeNull();
  });
});

describe('touchSummary', () => {
  it('keeps pinned conversations first', () => {
    const list = [summary('p', { pinned: true, updatedAt: '2026-01-01T00:00:00.000Z' }), summary('a', { updatedAt: '2026-01-03T00:00:00.000Z' }), summary('b')];
    const touched = touchSummary(list, 'b', message('m', null, 'assistant', 'fresh', { createdAt: '2026-01-04T00:00:00.000Z' }));
    expect(touched.map((c) => c.id)).toEqual(['p', 'b', 'a']);
    expect(touched[1]).toMatchObject({ preview: 'fresh', updatedAt: '2026-01-04T00:00:00.000Z' });
  });

  it('leaves a list without the conversation (a search) as it is', () => {
    const list = [summary('a')];
    expect(touchSummary(list, 'z', message('m', null, 'assistant', 'x'))).toBe(list);
  });
});

describe('syncThreadWithList', () => {
  it('takes the title the list gives, and keeps the thread when nothing changed', () => {
    const shown = thread('c1', []);
    expect(syncThreadWithList(shown, [summary('c1', { title: 'Zebras' })])?.conversation.title).toBe('Zebras');
    expect(syncThreadWithList(shown, [summary('c1')])).toBe(shown);
    expect(syncThreadWithList(shown, [])).toBe(shown);
  });

  it('takes the marking an answer raised the conversation to', () => {
    const shown = thread('c1', []);
    const restricted = { level: 'RESTRICTED', compartments: ['FINANCE'] };
    const synced = syncThreadWithList(shown, [summary('c1', { marking: restricted })]);
    expect(synced?.conversation.marking).toEqual(restricted);
    expect(syncThreadWithList(synced, [summary('c1', { marking: { ...restricted } })])).toBe(synced);
  });
});
