import { describe, expect, it } from 'vitest';
import { toCompletionHistory } from './completion-history.ts';

describe('toCompletionHistory', () => {
  it('maps system, user and assistant messages; a last assistant message is the start of the reply', () => {
    expect(
      toCompletionHistory([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!' },
        { role: 'user', content: 'Name a colour' },
        { role: 'assistant', content: 'Blue, or' },
      ]),
    ).toEqual([
      { type: 'system', text: 'Be brief.' },
      { type: 'user', text: 'Hi' },
      { type: 'model', response: ['Hello!'] },
      { type: 'user', text: 'Name a colour' },
      { type: 'model', response: ['Blue, or'] },
    ]);
  });

  it('folds tool results into the calls they answer, by id, or in order when there is none', () => {
    const history = toCompletionHistory([
      { role: 'user', content: 'Weather in Madrid and Lisbon?' },
      {
        role: 'assistant',
        content: 'Looking.',
        toolCalls: [
          { id: 'a', name: 'weather', arguments: '{"city":"Madrid"}' },
          { id: 'b', name: 'weather', arguments: '{"city":"Lisbon"}' },
        ],
      },
      { role: 'tool', content: '{"c":19}', toolCallId: 'b' },
      { role: 'tool', content: 'sunny, 21' },
    ]);
    expect(history).toEqual([
      { type: 'user', text: 'Weather in Madrid and Lisbon?' },
      {
        type: 'model',
        response: [
          'Looking.',
          { type: 'functionCall', name: 'weather', params: { city: 'Madrid' }, result: 'sunny, 21', startsNewChunk: true },
          { type: 'functionCall', name: 'weather', params: { city: 'Lisbon' }, result: { c: 19 } },
        ],
      },
    ]);
  });

  it('keeps arguments that are not JSON as text, an unanswered call with an empty result, and a stray result as the user’s words', () => {
    const history = toCompletionHistory([
      { role: 'user', content: 'Go' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'x', name: 'run', arguments: 'not json' }] },
      { role: 'user', content: 'Never mind' },
      { role: 'tool', content: 'late result', toolCallId: 'x' },
    ]);
    expect(history).toEqual([
      { type: 'user', text: 'Go' },
      { type: 'model', response: [{ type: 'functionCall', name: 'run', params: 'not json', result: '', startsNewChunk: true }] },
      { type: 'user', text: 'Never mind' },
      { type: 'user', text: 'Tool result: late result' },
    ]);
  });

  it('joins assistant messages in a row into one response', () => {
    expect(
      toCompletionHistory([
        { role: 'user', content: 'Q' },
        { role: 'assistant', content: '', toolCalls: [{ id: '1', name: 't', arguments: '{}' }] },
        { role: 'tool', content: '1', toolCallId: '1' },
        { role: 'assistant', content: 'Done.' },
      ]),
    ).toEqual([
      { type: 'user', text: 'Q' },
      { type: 'model', response: [{ type: 'functionCall', name: 't', params: {}, result: 1, startsNewChunk: true }, 'Done.'] },
    ]);
  });
});
