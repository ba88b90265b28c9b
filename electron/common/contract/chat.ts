import { z } from 'zod';
import { KnowledgeSettings, Passage, PinnedDocument } from './knowledge.ts';
import { Marking } from './markings.ts';

// Conversations as the renderer sees them. Messages form a tree: editing a user message
// or regenerating an answer adds a sibling, and each conversation remembers which
// sibling is active at every fork, so `thread` is the one path shown.

export const ChatSampling = z.object({
  temperature: z.number().min(0).max(2),
  topP: z.number().gt(0).max(1),
  topK: z.number().int().min(0).max(1000),
  minP: z.number().min(0).max(1),
  repeatPenalty: z.number().min(1).max(2),
  maxTokens: z.number().int().min(1).max(32_768),
  /** null: a new random seed for every answer. */
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .nullable(),
});
export type ChatSampling = z.infer<typeof ChatSampling>;

export const ConversationSettings = z.object({
  systemPrompt: z.string().max(100_000),
  sampling: ChatSampling,
  contextSize: z.union([z.literal('auto'), z.number().int().min(256).max(1_048_576)]),
});
export type ConversationSettings = z.infer<typeof ConversationSettings>;

export const ConversationSummary = z.object({
  id: z.string(),
  title: z.string(),
  pinned: z.boolean(),
  modelId: z.string().nullable(),
  createdAt: z.string(),
  /** Last activity: the list is sorted by it, pinned first. */
  updatedAt: z.string(),
  /** For search results: a snippet around the match, else the start of the last message. */
  preview: z.string(),
  /** The highest marking of what it has seen (its sources); null or absent: no markings, or nothing marked yet. */
  marking: Marking.nullable().optional(),
});
export type ConversationSummary = z.infer<typeof ConversationSummary>;

export const Conversation = ConversationSummary.extend({ settings: ConversationSettings, knowledge: KnowledgeSettings });
export type Conversation = z.infer<typeof Conversation>;

export const MessageStats = z.object({
  tokens: z.number().int().nonnegative(),
  promptTokens: z.number().int().nonnegative(),
  tokensPerSecond: z.number().nonnegative(),
  firstTokenMs: z.number().nonnegative().nullable(),
  ms: z.number().nonnegative(),
});
export type MessageStats = z.infer<typeof MessageStats>;

export const ChatMessage = z.object({
  id: z.string(),
  parentId: z.string().nullable(),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  /** A reasoning ("thinking") segment, shown collapsed; null when the model gave none. */
  reasoning: z.string().nullable(),
  /** `interrupted`: the answer stopped early (Stop, a crash, the app closing); it can be continued. */
  status: z.enum(['complete', 'interrupted']),
  createdAt: z.string(),
  modelName: z.string().nullable(),
  stats: MessageStats.nullable(),
  /** Position among its siblings (1-based) and how many there are, for the ‹ 2/3 › switcher. */
  siblingIndex: z.number().int().positive(),
  siblingCount: z.number().int().positive(),
  /** The siblings' ids in order (this message included), to switch with ‹ ›. */
  siblingIds: z.array(z.string()).optional(),
  /** The passages given to the model for this answer, numbered [1], [2]… in order. */
  sources: z.array(Passage),
  /** The conversation's pinned documents as this answer used them (whole, by passages, or not at all); absent when none were pinned. */
  pinned: z.array(PinnedDocument).optional(),
  /** An answer's marking: the highest of its sources' and the conversation's when it was given; null or absent without markings. */
  marking: Marking.nullable().optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const ChatThread = z.object({ conversation: Conversation, messages: z.array(ChatMessage) });
export type ChatThread = z.infer<typeof ChatThread>;

/** What a send, regenerate or continue streams. */
export const ChatEvent = z.discriminatedUnion('type', [
  /** The user's message as saved (send only). */
  z.object({ type: z.literal('user'), message: ChatMessage }),
  /** The answer has started; its id is final, its content grows with the deltas. */
  z.object({ type: z.literal('started'), messageId: z.string(), parentId: z.string() }),
  z.object({ type: z.literal('delta'), text: z.string(), reasoning: z.string() }),
  /** The passages retrieved from the conversation's collections, before the first delta. */
  z.object({ type: z.literal('sources'), sources: z.array(Passage), mode: z.enum(['hybrid', 'text']) }),
  /** The pinned documents and how each went to the model, before the first delta. */
  z.object({ type: z.literal('pinned'), documents: z.array(PinnedDocument) }),
  /** Something the user should know: older turns dropped to fit the context, a default chat template used. */
  z.object({
    type: z.literal('notice'),
    kind: z.enum(['contextTrimmed', 'defaultTemplate', 'noSources', 'textSearchOnly', 'personalData', 'pinnedPassages', 'pinnedUnavailable']),
    detail: z.string(),
  }),
  /** The answer as saved, with its stats. */
  z.object({ type: z.literal('done'), message: ChatMessage }),
]);
export type ChatEvent = z.infer<typeof ChatEvent>;

export const ChatPreset = z.object({ id: z.string(), name: z.string().min(1).max(200), settings: ConversationSettings });
export type ChatPreset = z.infer<typeof ChatPreset>;

export const Id = z.object({ id: z.string().min(1).max(64) }).strict();
