import type { ChatEvent, Conversation, Passage } from '../../../common/contract/index.ts';
import { groundedPrompt, noSourcesAnswer } from '../knowledge/retrieval/grounding.ts';
import type { PinnedGrounding, PinnedRequest } from '../knowledge/retrieval/pinned.ts';
import type { ChatTurn } from '../inference/engine.ts';
import type { AnswerWriter } from './store.ts';

// The retrieval step of an answer when the conversation has pinned documents: the knowledge
// service decides what goes to the model (whole documents that fit, passages of those that do
// not, see knowledge/retrieval/pinned.ts); this step tells the user, saves it with the answer
// and builds the prompt. While documents are pinned they are what the answer is grounded in:
// the rest of the collections is not searched (unpinning them searches it again).

type Push = (event: ChatEvent) => void;

export type PinnedRetrieved =
  | {
      readonly prompt: string | null;
      readonly sources: readonly Passage[];
      readonly chunkIds: readonly string[];
      /** The pinned documents given to the model, whole or by passages (for the answer's marking). */
      readonly documentIds: readonly string[];
      readonly done?: undefined;
    }
  | { readonly done: ChatEvent };

export interface PinnedStep {
  readonly pinned: (request: PinnedRequest) => Promise<PinnedGrounding>;
  readonly model: { readonly path: string; readonly contextSize: number };
  readonly changed: (conversationId: string | null) => void;
  /** Refuses sources the policy keeps apart from what the conversation has seen (chat/marking.ts); before they are saved or shown. */
  readonly check?: (sources: readonly Passage[], documentIds: readonly string[]) => void;
}

export async function retrievePinned(
  step: PinnedStep,
  conversation: Conversation,
  turn: { readonly history: readonly ChatTurn[]; readonly question: string },
  writer: AnswerWriter,
  push: Push,
): Promise<PinnedRetrieved> {
  const { collectionIds, documentsOnly, pinnedDocuments = [] } = conversation.knowledge;
  let grounding: PinnedGrounding;
  try {
    grounding = await step.pinned({
      query: turn.question,
      collectionIds,
      documentIds: pinnedDocuments.map((document) => document.id),
      model: step.model,
      reserve: {
        texts: [conversation.settings.systemPrompt, ...turn.history.map((past) => past.content), turn.question],
        answerTokens: conversation.settings.sampling.maxTokens,
      },
    });
    step.check?.(grounding.passages, usedDocumentIds(grounding));
  } catch (error) {
    writer.finish('interrupted', null);
    step.changed(conversation.id);
    throw error;
  }
  writer.setPinned(grounding.documents);
  push({ type: 'pinned', documents: grounding.documents });
  for (const notice of grounding.notices) push({ type: 'notice', kind: notice.kind, detail: notice.detail });
  if (grounding.whole.length === 0 && grounding.passages.length === 0) {
    if (!documentsOnly) return { prompt: turn.question, sources: [], chunkIds: [], documentIds: [] };
    writer.append(noSourcesAnswer(), '');
    const message = writer.finish('complete', null);
    push({ type: 'notice', kind: 'noSources', detail: 'Nothing of the pinned documents could be given to the model, so it was not asked.' });
    step.changed(conversation.id);
    return { done: { type: 'done', message } };
  }
  if (grounding.passages.length > 0) {
    writer.setSources(grounding.passages);
    push({ type: 'sources', sources: grounding.passages, mode: grounding.mode });
  }
  return {
    prompt: groundedPrompt(turn.question, grounding.passages, documentsOnly, grounding.whole),
    sources: grounding.passages,
    chunkIds: grounding.chunkIds,
    documentIds: usedDocumentIds(grounding),
  };
}

const usedDocumentIds = (grounding: PinnedGrounding): string[] =>
  grounding.documents.filter((document) => document.state !== 'unavailable').map((document) => document.documentId);
