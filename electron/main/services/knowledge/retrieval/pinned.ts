import type { Passage, PinnedDocument } from '../../../../common/contract/knowledge.ts';
import { AppError } from '../../../../common/result.ts';
import type { RuntimeEngine } from '../../inference/engine.ts';
import type { KnowledgeDocument } from '../documents-store.ts';
import { sourcesBudget, type WholeDocument } from './grounding.ts';
import { fallbackNotice, fitDocuments, passageBudget, roomForDocuments, wholeText } from './pinned-fit.ts';
import { search, type SearchParts } from './search.ts';

// Pinned documents for chat, the one place their rules are applied: a pinned document is used
// only while its collection is attached to the conversation and it is indexed; it goes to the
// model whole when it fits what the context leaves (counted with the chat model's own
// tokenizer), else its most relevant passages do, and the user is told how much would fit.
// The text is the indexed chunks', so whatever ingestion screening removed stays removed.

export interface PinnedRequest {
  readonly query: string;
  /** The conversation's attached collections: a pinned document of any other is not used. */
  readonly collectionIds: readonly string[];
  readonly documentIds: readonly string[];
  /** Pinned documents this machine may not retrieve (their marking, knowledge/markings.ts): not used, and said so. */
  readonly hidden?: ReadonlySet<string>;
  /** The loaded chat model's file (its tokenizer counts) and its context size. */
  readonly model: { readonly path: string; readonly contextSize: number };
  /** What else the context must hold: the system prompt, the history and the question; and the answer's tokens. */
  readonly reserve: { readonly texts: readonly string[]; readonly answerTokens: number };
}

export interface PinnedGrounding {
  /** Every pinned document, in pinned order, with how it was used. */
  readonly documents: PinnedDocument[];
  /** The documents given whole, in pinned order. */
  readonly whole: WholeDocument[];
  /** Passages of the documents that did not fit, within what the context left. */
  readonly passages: Passage[];
  readonly mode: 'hybrid' | 'text';
  readonly notices: { readonly kind: 'pinnedPassages' | 'pinnedUnavailable' | 'textSearchOnly'; readonly detail: string }[];
  /** Every chunk the model was given, for the audit. */
  readonly chunkIds: string[];
}

export type PinnedParts = SearchParts & { readonly engine: Pick<RuntimeEngine, 'countTokens'> };

/**
 * A text longer than this many characters per token of room cannot fit (no tokenizer packs more
 * into one token), so it is not tokenized whole at every answer; its stored chunk counts tell its size.
 */
const MAX_CHARS_PER_TOKEN = 16;

function documentOrNull(parts: PinnedParts, id: string): KnowledgeDocument | null {
  try {
    return parts.store.document(id);
  } catch (error) {
    if (error instanceof AppError && error.code === 'not_found') return null;
    throw error;
  }
}

const unavailable = (documentId: string, name: string, collectionId: string | null, pages: number | null): PinnedDocument => ({
  documentId,
  name,
  collectionId,
  state: 'unavailable',
  label: null,
  tokens: null,
  room: null,
  pages,
});

export async function pinnedForChat(parts: PinnedParts, request: PinnedRequest): Promise<PinnedGrounding> {
  const attached = new Set(request.collectionIds);
  const notices: PinnedGrounding['notices'][number][] = [];
  const usable: { document: KnowledgeDocument; text: string; chunkIds: string[]; storedTokens: number }[] = [];
  const states = new Map<string, PinnedDocument>();
  for (const id of new Set(request.documentIds)) {
    const document = documentOrNull(parts, id);
    const hidden = request.hidden?.has(id) === true;
    if (document === null || hidden || !attached.has(document.collectionId) || document.status !== 'indexed') {
      const name = document?.name ?? 'A pinned document';
      const why =
        document === null
          ? 'was deleted'
          : hidden
            ? "is marked above what this machine's policy allows"
            : !attached.has(document.collectionId)
              ? 'belongs to a collection not attached to this conversation'
              : 'is not indexed yet';
      notices.push({ kind: 'pinnedUnavailable', detail: `${name} ${why}, so it was not used for this answer.` });
      states.set(id, unavailable(id, document?.name ?? id, document?.collectionId ?? null, document?.pageCount ?? null));
      continue;
    }
    const chunks = parts.store.chunksForDocument(id);
    usable.push({
      document,
      text: wholeText(chunks),
      chunkIds: chunks.map((chunk) => chunk.id),
      storedTokens: chunks.reduce((sum, chunk) => sum + chunk.tokens, 0),
    });
  }

  const count = (texts: readonly string[]) => parts.engine.countTokens(request.model.path, texts, 1);
  const reserved = (await count(request.reserve.texts)).reduce((sum, n) => sum + n, 0);
  const room = roomForDocuments(request.model.contextSize, reserved, request.reserve.answerTokens);
  const plausible = usable.filter((entry) => entry.text.length <= room * MAX_CHARS_PER_TOKEN);
  const counted = await count(plausible.map((entry) => entry.text));
  const tokensOf = new Map(plausible.map((entry, index) => [entry.document.id, counted[index] ?? entry.storedTokens]));
  const { fitted, left } = fitDocuments(
    usable.map((entry) => ({ id: entry.document.id, tokens: tokensOf.get(entry.document.id) ?? entry.storedTokens })),
    room,
  );

  const whole: WholeDocument[] = [];
  const chunkIds: string[] = [];
  const fallback: KnowledgeDocument[] = [];
  fitted.forEach((fit, index) => {
    const entry = usable[index]!;
    const { document } = entry;
    const label = fit.whole ? `D${whole.length + 1}` : null;
    if (label !== null) {
      whole.push({ label, name: document.name, pages: document.pageCount, text: entry.text });
      chunkIds.push(...entry.chunkIds);
    } else fallback.push(document);
    states.set(document.id, {
      documentId: document.id,
      name: document.name,
      collectionId: document.collectionId,
      state: fit.whole ? 'whole' : 'passages',
      label,
      tokens: fit.tokens,
      room: fit.room,
      pages: document.pageCount,
    });
  });

  let passages: Passage[] = [];
  let mode: 'hybrid' | 'text' = 'text';
  const budget = passageBudget(left, sourcesBudget(request.model.contextSize));
  if (fallback.length > 0 && budget > 0) {
    const found = await search(parts, {
      query: request.query,
      collectionIds: [...new Set(fallback.map((document) => document.collectionId))],
      documentIds: fallback.map((document) => document.id),
      limit: 8,
    });
    mode = found.mode;
    if (found.notice !== null) notices.push({ kind: 'textSearchOnly', detail: found.notice });
    const sizes = await count(found.passages.map((passage) => passage.text));
    let spent = 0;
    for (const [index, passage] of found.passages.entries()) {
      const size = sizes[index] ?? 0;
      if (spent + size > budget) continue;
      spent += size;
      passages.push(passage);
    }
    chunkIds.push(...passages.map((passage) => passage.chunkId));
  } else passages = [];
  for (const document of fallback) {
    const state = states.get(document.id)!;
    notices.push({ kind: 'pinnedPassages', detail: fallbackNotice(document.name, state.tokens ?? 0, state.room ?? 0, passages.length > 0) });
  }

  return {
    documents: request.documentIds.filter((id, index, all) => all.indexOf(id) === index).map((id) => states.get(id)!),
    whole,
    passages,
    mode,
    notices,
    chunkIds,
  };
}
