// Child process of chat/crash.test.ts: writes a conversation through the real chat store, then
// streams an answer into it until it is killed. No model: the tokens are made up here, so
// the test is about what the storage keeps, not about inference.
// Usage: node chat-crash-writer.ts <dataDir>
//
// Each line on stdout is printed after the write it describes has committed.
import { writeSync } from 'node:fs';
import { openDatabase } from '../main/services/storage/sqlite.ts';
import { createChatStore } from '../main/services/chat/store.ts';

export type CrashLine =
  | { readonly kind: 'conversation'; readonly id: string }
  | { readonly kind: 'complete'; readonly messageId: string; readonly content: string }
  | { readonly kind: 'streaming'; readonly messageId: string }
  | { readonly kind: 'flushed'; readonly content: string };

/** The answer is this sequence of tokens, so any prefix of it can be recognised. */
export const token = (index: number): string => ` t${index}`;

function emit(line: CrashLine): void {
  writeSync(1, `${JSON.stringify(line)}\n`);
}

function main(): void {
  const [dataDir] = process.argv.slice(2);
  if (dataDir === undefined) throw new Error('usage: chat-crash-writer.ts <dataDir>');
  const store = createChatStore(openDatabase(dataDir));
  const settings = {
    systemPrompt: '',
    sampling: { temperature: 0.7, topP: 0.9, topK: 40, minP: 0.05, repeatPenalty: 1.1, maxTokens: 512, seed: null },
    contextSize: 'auto' as const,
  };
  const { id } = store.create({ modelId: null, settings });
  emit({ kind: 'conversation', id });

  const question = store.addUserMessage(id, null, 'First question');
  emit({ kind: 'complete', messageId: question.id, content: question.content });
  const first = store.startAnswer(id, question.id, { modelName: 'simulated' });
  first.append('First answer', '');
  const answer = first.finish('complete', { tokens: 2, promptTokens: 2, tokensPerSecond: 1, firstTokenMs: 1, ms: 1 });
  emit({ kind: 'complete', messageId: answer.id, content: answer.content });
  const follow = store.addUserMessage(id, answer.id, 'Second question');
  emit({ kind: 'complete', messageId: follow.id, content: follow.content });

  const writer = store.startAnswer(id, follow.id, { modelName: 'simulated', flushMs: 15, onFlush: (content) => emit({ kind: 'flushed', content }) });
  emit({ kind: 'streaming', messageId: writer.messageId });
  let index = 0;
  // The parent kills the child; the deadline only stops an orphan.
  const deadline = Date.now() + 30_000;
  const timer = setInterval(() => {
    writer.append(token(index), '');
    index += 1;
    if (Date.now() > deadline) clearInterval(timer);
  }, 3);
}

if (import.meta.main) main();
