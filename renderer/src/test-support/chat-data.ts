import type { ChatMessage, ChatThread, ConversationSummary } from '../../../electron/common/contract/chat.ts';
import type { Passage } from '../../../electron/common/contract/knowledge.ts';
import type { ChatStreamState } from '../stores/chat/reducer.ts';

// Small builders for the reducer's and selectors' tests: contract-shaped values with only
// the fields a test cares about spelled out.

export function message(id: string, parentId: string | null, role: ChatMessage['role'], content: string, more: Partial<ChatMessage> = {}): ChatMessage {
  return {
    id,
    parentId,
    role,
    content,
    reasoning: null,
    status: 'complete',
    createdAt: '2026-01-01T00:00:00.000Z',
    modelName: null,
    stats: null,
    siblingIndex: 1,
    siblingCount: 1,
    sources: [],
    ...more,
  };
}

export function summary(id: string, more: Partial<ConversationSummary> = {}): ConversationSummary {
  return { id, title: id, pinned: false, modelId: null, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', preview: '', ...more };
}

export function thread(id: string, messages: readonly ChatMessage[]): ChatThread {
  return {
    conversation: {
      ...summary(id),
      settings: {
        systemPrompt: '',
        sampling: { temperature: 0.7, topP: 0.9, topK: 40, minP: 0.05, repeatPenalty: 1.1, maxTokens: 512, seed: null },
        contextSize: 'auto',
      },
      knowledge: { collectionIds: [], documentsOnly: false },
    },
    messages: [...messages],
  };
}

export function passage(chunkId: string): Passage {
  return {
    chunkId,
    documentId: 'd',
    documentName: 'doc.txt',
    collectionId: 'c',
    format: 'text',
    page: null,
    headingPath: [],
    text: 'text',
    snippet: 'text',
    highlights: [],
    score: 1,
    start: 0,
    end: 4,
  };
}

export function streamState(more: Partial<ChatStreamState> = {}): ChatStreamState {
  return { conversations: [], thread: null, streaming: null, notices: [], error: null, announcement: '', sourcesFor: null, ...more };
}
