import { describe, expect, it } from 'vitest';
import type { ChatView } from './selectors.ts';
import { chatSelectors, EMPTY_LIST_PAGE } from './selectors.ts';
import type { PinnedDocument } from '../../../../electron/common/contract/knowledge.ts';
import { applyChatEvent } from './reducer.ts';
import { message, passage, streamState, thread } from '../../test-support/chat-data.ts';

function view(more: Partial<ChatView> = {}): ChatView {
  return { ...streamState(), listPage: EMPTY_LIST_PAGE, query: '', selectedId: null, drafts: {}, editing: null, undo: null, ...more };
}

describe('chatSelectors', () => {
  it('reads the draft of the selected conversation', () => {
    expect(chatSelectors.draft(view({ selectedId: 'c1', drafts: { c1: 'typing', '': 'loose' } }))).toBe('typing');
    expect(chatSelectors.draft(view({ drafts: { '': 'loose' } }))).toBe('loose');
    expect(chatSelectors.draft(view({ selectedId: 'c2' }))).toBe('');
  });

  it('tells whether an answer streams, and how far it has got', () => {
    expect(chatSelectors.isStreaming(view())).toBe(false);
    expect(chatSelectors.streamingLength(view())).toBe(-1);
    const streaming = { conversationId: 'c1', messageId: 'a', parentId: 'u', text: 'abc', reasoning: '', sources: [] };
    expect(chatSelectors.isStreaming(view({ streaming }))).toBe(true);
    expect(chatSelectors.streamingLength(view({ streaming }))).toBe(3);
  });

  it('knows which message is being edited', () => {
    expect(chatSelectors.isEditing('u1')(view({ editing: 'u1' }))).toBe(true);
    expect(chatSelectors.isEditing('u2')(view({ editing: 'u1' }))).toBe(false);
  });

  it('reads the thread, its messages and its settings, or null without one', () => {
    expect(chatSelectors.messages(view())).toBeNull();
    expect(chatSelectors.conversationSettings(view())).toBeNull();
    const shown = thread('c1', [message('u1', null, 'user', 'q')]);
    expect(chatSelectors.messages(view({ thread: shown }))).toBe(shown.messages);
    expect(chatSelectors.conversationSettings(view({ thread: shown }))).toBe(shown.conversation.settings);
  });

  describe('shownSources', () => {
    const early = [passage('p1')];
    const late = [passage('p2')];
    const shown = thread('c1', [
      message('u1', null, 'user', 'q'),
      message('a1', 'u1', 'assistant', 'a', { sources: early }),
      message('u2', 'a1', 'user', 'q'),
      message('a2', 'u2', 'assistant', 'a', { sources: late }),
      message('u3', 'a2', 'user', 'q'),
      message('a3', 'u3', 'assistant', 'no sources'),
    ]);

    it('shows the latest answer that has sources', () => {
      expect(chatSelectors.shownSources(view({ thread: shown }))).toBe(late);
    });

    it('shows the picked answer, even over a stream', () => {
      const streaming = { conversationId: 'c1', messageId: 'a4', parentId: 'u4', text: '', reasoning: '', sources: [passage('p9')] };
      expect(chatSelectors.shownSources(view({ thread: shown, sourcesFor: 'a1', streaming }))).toBe(early);
    });

    it('shows the streamed sources once there are some', () => {
      const sources = [passage('p9')];
      const streaming = { conversationId: 'c1', messageId: 'a4', parentId: 'u4', text: '', reasoning: '', sources };
      expect(chatSelectors.shownSources(view({ thread: shown, streaming }))).toBe(sources);
      expect(chatSelectors.shownSources(view({ thread: shown, streaming: { ...streaming, sources: [] } }))).toBe(late);
    });

    it('returns the same empty list every time, so a component does not re-render for nothing', () => {
      expect(chatSelectors.shownSources(view())).toHaveLength(0);
      expect(chatSelectors.shownSources(view())).toBe(chatSelectors.shownSources(view({ sourcesFor: 'missing' })));
    });
  });

  describe('shownPinned', () => {
    const pinned = (state: PinnedDocument['state']): PinnedDocument[] => [
      { documentId: 'd1', name: 'report.pdf', collectionId: 'k', state, label: state === 'whole' ? 'D1' : null, tokens: 900, room: 3000, pages: 4 },
    ];
    const whole = pinned('whole');
    const fallback = pinned('passages');
    const shown = thread('c1', [
      message('u1', null, 'user', 'q'),
      message('a1', 'u1', 'assistant', 'a', { pinned: whole }),
      message('u2', 'a1', 'user', 'q'),
      message('a2', 'u2', 'assistant', 'a', { pinned: fallback, sources: [passage('p1')] }),
      message('u3', 'a2', 'user', 'q'),
      message('a3', 'u3', 'assistant', 'nothing pinned'),
    ]);

    it('shows the latest answer that had pinned documents, or the picked one', () => {
      expect(chatSelectors.shownPinned(view({ thread: shown }))).toBe(fallback);
      expect(chatSelectors.shownPinned(view({ thread: shown, sourcesFor: 'a1' }))).toBe(whole);
      expect(chatSelectors.shownPinned(view({ thread: shown, sourcesFor: 'a3' }))).toHaveLength(0);
    });

    it('shows what the stream reports as soon as it does, before any passage', () => {
      const begun = applyChatEvent(view({ thread: shown }), { type: 'begin', conversationId: 'c1' });
      expect(chatSelectors.shownPinned(begun)).toBe(fallback);
      const reported = applyChatEvent(begun, { type: 'pinned', documents: whole });
      expect(chatSelectors.shownPinned(reported)).toBe(whole);
      expect(reported.streaming?.sources).toEqual([]);
    });

    it('returns the same empty list every time', () => {
      expect(chatSelectors.shownPinned(view())).toBe(chatSelectors.shownPinned(view({ sourcesFor: 'missing' })));
    });
  });
});
