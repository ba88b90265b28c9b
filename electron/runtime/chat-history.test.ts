import type { ChatHistoryItem } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { countTrimmedTurns, sameVisibleHistory, toChatHistory } from './chat-history.ts';

const thought = (text: string) => ({ type: 'segment', segmentType: 'thought', text, ended: true }) as const;

describe('chat history for node-llama-cpp', () => {
  it('maps turns to history items, with the system prompt first when there is one', () => {
    expect(
      toChatHistory('Be brief.', [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
      ]),
    ).toEqual([
      { type: 'system', text: 'Be brief.' },
      { type: 'user', text: 'Hi' },
      { type: 'model', response: ['Hello'] },
    ]);
    expect(toChatHistory('', [{ role: 'user', content: 'Hi' }])).toEqual([{ type: 'user', text: 'Hi' }]);
  });

  it('treats the session’s own history as the client’s when only reasoning segments differ', () => {
    const session: ChatHistoryItem[] = [
      { type: 'system', text: 'S' },
      { type: 'user', text: 'Q' },
      { type: 'model', response: [thought('hmm'), 'A'] },
    ];
    const client = toChatHistory('S', [
      { role: 'user', content: 'Q' },
      { role: 'assistant', content: 'A' },
    ]);
    expect(sameVisibleHistory(session, client)).toBe(true);
    expect(
      sameVisibleHistory(
        session,
        toChatHistory('S', [
          { role: 'user', content: 'Q' },
          { role: 'assistant', content: 'B' },
        ]),
      ),
    ).toBe(false);
    expect(
      sameVisibleHistory(
        session,
        toChatHistory('T', [
          { role: 'user', content: 'Q' },
          { role: 'assistant', content: 'A' },
        ]),
      ),
    ).toBe(false);
    expect(sameVisibleHistory(session, session.slice(0, 2))).toBe(false);
  });
});

describe('counting the turns context shift dropped', () => {
  const full: ChatHistoryItem[] = [
    { type: 'system', text: 'S' },
    { type: 'user', text: 'Q1 with many words' },
    { type: 'model', response: ['A1'] },
    { type: 'user', text: 'Q2' },
    { type: 'model', response: [thought('t'), 'A2'] },
    { type: 'user', text: 'Q3' },
    { type: 'model', response: ['A3'] },
  ];

  it('is 0 when everything fit, or nothing was evaluated', () => {
    expect(countTrimmedTurns(full, full)).toBe(0);
    expect(countTrimmedTurns(full, null)).toBe(0);
  });

  it('counts turns missing from the front of the context window, keeping the system prompt out of it', () => {
    expect(countTrimmedTurns(full, [full[0]!, ...full.slice(3)])).toBe(2);
    expect(countTrimmedTurns(full, full.slice(5))).toBe(4);
  });

  it('counts a turn that was cut short as trimmed', () => {
    expect(countTrimmedTurns(full, [full[0]!, { type: 'user', text: 'words' }, ...full.slice(2)])).toBe(1);
    // A2 lost its reasoning: Q1, A1 and Q2 were dropped and A2 was cut.
    expect(countTrimmedTurns(full, [full[0]!, { type: 'model', response: ['A2'] }, ...full.slice(5)])).toBe(4);
  });

  it('does not count the empty reasoning segments node-llama-cpp tidies away', () => {
    const withEmpty: ChatHistoryItem[] = [...full.slice(0, 6), { type: 'model', response: [thought(''), 'A3'] }];
    expect(countTrimmedTurns(withEmpty, full)).toBe(0);
  });
});
