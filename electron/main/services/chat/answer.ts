import { realpath } from 'node:fs/promises';
import type { ChatEvent, Conversation, ConversationSettings, Marking, Passage, RuntimeSettings } from '../../../common/contract/index.ts';
import { AppError } from '../../../common/result.ts';
import type { GenerateStats } from '../../../common/runtime/protocol.ts';
import type { Emit } from '../domain/events.ts';
import { groundedPrompt, noSourcesAnswer, sourcesBudget } from '../knowledge/retrieval/grounding.ts';
import type { PinnedGrounding, PinnedRequest } from '../knowledge/retrieval/pinned.ts';
import { loadLibraryModel } from '../models-handlers.ts';
import { getModel } from '../models/index.ts';
import type { EffectivePolicy } from '../policy/schema.ts';
import type { ChatResult, ChatTurn, RuntimeEngine } from '../inference/engine.ts';
import { modelByPath } from '../inference/model-events.ts';
import { runtimeLocks } from '../inference/locks.ts';
import type { Database } from '../storage/sqlite.ts';
import { retrievePinned } from './answer-pinned.ts';
import { assertQuestionAllowed, assertSourcesAllowed, markAnswer, markingField } from './marking.ts';
import type { AnswerWriter, ChatStore } from './store.ts';

/*
 * One answer, as a pipeline: ensure model → screen → retrieve → generate → finish.
 * The endpoints (chat.send, chat.regenerate, chat.continue in handlers.ts) decide what is
 * answered and where it is written; this module writes it. Each step takes what it needs
 * explicitly, so the order and the state passed between the steps read from `answer`.
 */

/** What chat needs of the engine; tests may pass a stand-in with these methods. */
export type ChatEngine = Pick<RuntimeEngine, 'state' | 'hardware' | 'load' | 'chat'>;

/** What chat needs of the knowledge service. */
export interface ChatKnowledge {
  /** Passages for `query` from the collections, within `budgetTokens`; `relevant` is false when nothing matched well enough to answer from. */
  retrieve(
    query: string,
    collectionIds: readonly string[],
    budgetTokens: number,
  ): Promise<{ passages: Passage[]; mode: 'hybrid' | 'text'; relevant: boolean; notice: string | null }>;
  /** The conversation's pinned documents: whole when they fit the model's context, else their most relevant passages. */
  pinned?(request: PinnedRequest): Promise<PinnedGrounding>;
}

/** What the answer pipeline needs: the part of ChatHandlerDeps it uses, with the store made. */
export interface AnswerDeps {
  readonly db: Database;
  readonly engine: ChatEngine;
  readonly settings: () => RuntimeSettings;
  readonly store: ChatStore;
  readonly changed: (conversationId: string | null) => void;
  readonly emit: Emit;
  readonly knowledge?: ChatKnowledge | undefined;
  readonly screenPrompt?:
    ((text: string) => { readonly text: string; readonly blocked: boolean; readonly reason?: string; readonly findings: readonly unknown[] }) | undefined;
  readonly policy?: (() => EffectivePolicy) | undefined;
}

/** What to answer: the turns before it, the question (null to continue an answer), and where the answer is written. */
export interface AnswerPlan {
  readonly conversationId: string;
  readonly history: readonly ChatTurn[];
  readonly prompt: string | null;
  readonly open: (modelName: string) => AnswerWriter;
}

type Push = (event: ChatEvent) => void;

const ANSWER_STATUS: Readonly<Record<GenerateStats['stopReason'], 'complete' | 'interrupted'>> = {
  eos: 'complete',
  other: 'complete',
  // Cut off by the token limit: interrupted, so the user is offered Continue.
  maxTokens: 'interrupted',
  aborted: 'interrupted',
};

async function samePath(a: string, b: string): Promise<boolean> {
  if (a === b) return true;
  try {
    return (await realpath(a)) === (await realpath(b));
  } catch {
    return false;
  }
}

/** The library model `id`, refused unless it is a chat model. */
export function chatModel(db: Database, id: string) {
  const model = getModel(db, id);
  if (model.role !== 'chat')
    throw new AppError(
      'bad_request',
      `${model.displayName} is ${model.role === 'embedding' ? 'an embedding' : 'a reranking'} model: it cannot chat. Choose a chat model.`,
    );
  return model;
}

/** Fails before anything is saved when there is no model to answer with at all. */
export function checkModel(deps: Pick<AnswerDeps, 'db' | 'engine'>, modelId: string | null): void {
  if (modelId === null) {
    if (deps.engine.state().model === null)
      throw new AppError('no_model', 'No model is loaded, and this conversation has none. Choose a model for it, or load one on the Models screen.');
    return;
  }
  try {
    chatModel(deps.db, modelId);
  } catch (error) {
    if (error instanceof AppError && error.code === 'not_found') {
      throw new AppError('not_found', 'The model of this conversation is no longer in the library. Choose another one for it.', `model ${modelId}`);
    }
    throw error;
  }
}

/** Step 1. Loads the conversation's model unless it is already loaded with the context size it asks for; returns its name. */
export async function ensureModel(
  deps: Pick<AnswerDeps, 'db' | 'engine' | 'settings' | 'policy'>,
  modelId: string | null,
  asked: ConversationSettings['contextSize'],
  signal: AbortSignal,
): Promise<string> {
  const { db, engine, settings } = deps;
  const loaded = engine.state().model;
  if (modelId === null) {
    if (loaded === null)
      throw new AppError('no_model', 'No model is loaded, and this conversation has none. Choose a model for it, or load one on the Models screen.');
    return loaded.name;
  }
  const record = chatModel(db, modelId);
  const first = record.files[0];
  // The engine loads a locked context size whatever is asked; asking for it here keeps a
  // conversation stored with another number from reloading the model at every turn.
  const contextSize = (deps.policy === undefined ? undefined : runtimeLocks(deps.policy()).contextSize) ?? asked;
  if (loaded !== null && first !== undefined && (await samePath(first, loaded.path)) && (contextSize === 'auto' || loaded.contextSize === contextSize))
    return loaded.name;
  const model = await loadLibraryModel({ db, engine, settings }, modelId, { signal, ...(contextSize === 'auto' ? {} : { contextSize }) });
  return model.name;
}

/** Step 2. The question as the model may see it (personal data replaced by the policy), with a notice when it holds any. */
export function screen(deps: Pick<AnswerDeps, 'screenPrompt'>, prompt: string | null, push: Push): string | null {
  const screened = prompt === null || deps.screenPrompt === undefined ? null : deps.screenPrompt(prompt);
  if (screened !== null && screened.findings.length > 0 && !screened.blocked) {
    push({
      type: 'notice',
      kind: 'personalData',
      detail:
        screened.text === prompt
          ? 'Your message contains personal data. It was sent as written.'
          : 'Your message contains personal data. The model saw it with that data replaced by placeholders such as [EMAIL].',
    });
  }
  return screened?.text ?? prompt;
}

/** What retrieval leaves for generation: the prompt (grounded in passages, if any) and those passages; or the answer itself. */
type Retrieved =
  | {
      readonly prompt: string | null;
      readonly sources: readonly Passage[];
      readonly chunkIds?: readonly string[];
      /** Pinned documents given to the model (whole or by passages), for the answer's marking. */
      readonly documentIds?: readonly string[];
      readonly done?: undefined;
    }
  | { readonly done: ChatEvent };

/** Step 3. Grounds the question in the conversation's collections; answers at once when documents-only finds nothing. */
export async function retrieve(
  deps: Pick<AnswerDeps, 'engine' | 'knowledge' | 'changed' | 'db' | 'policy'>,
  conversation: Conversation,
  plan: AnswerPlan,
  question: string | null,
  writer: AnswerWriter,
  push: Push,
): Promise<Retrieved> {
  const { collectionIds, documentsOnly } = conversation.knowledge;
  // Continuing an answer keeps the passages it was given; only a new question retrieves.
  if (deps.knowledge === undefined || collectionIds.length === 0 || plan.prompt === null) return { prompt: question, sources: [] };
  const loaded = deps.engine.state().model;
  const pinned = deps.knowledge.pinned?.bind(deps.knowledge);
  if (pinned !== undefined && loaded !== null && (conversation.knowledge.pinnedDocuments ?? []).length > 0) {
    const step = {
      pinned,
      model: { path: loaded.path, contextSize: loaded.contextSize },
      changed: deps.changed,
      check: (sources: readonly Passage[], documentIds: readonly string[]) =>
        assertSourcesAllowed(deps.db, schemeOf(deps), conversation.id, sources, documentIds),
    };
    return retrievePinned(step, conversation, { history: plan.history, question: question ?? plan.prompt }, writer, push);
  }
  let found;
  try {
    found = await deps.knowledge.retrieve(question ?? plan.prompt, collectionIds, sourcesBudget(deps.engine.state().model?.contextSize ?? null));
  } catch (error) {
    writer.finish('interrupted', null);
    deps.changed(conversation.id);
    throw error;
  }
  try {
    // Passages from compartments the policy keeps apart from what the conversation has seen are refused before anyone sees them.
    assertSourcesAllowed(deps.db, schemeOf(deps), conversation.id, found.passages, []);
  } catch (error) {
    writer.finish('interrupted', null);
    deps.changed(conversation.id);
    throw error;
  }
  if (found.notice !== null) push({ type: 'notice', kind: 'textSearchOnly', detail: found.notice });
  if (!found.relevant && documentsOnly) {
    writer.append(noSourcesAnswer(), '');
    const message = writer.finish('complete', null);
    push({ type: 'notice', kind: 'noSources', detail: 'Nothing in the attached collections matches this question, so the model was not asked.' });
    deps.changed(conversation.id);
    return { done: { type: 'done', message } };
  }
  if (found.passages.length === 0) return { prompt: question, sources: [] };
  writer.setSources(found.passages);
  push({ type: 'sources', sources: found.passages, mode: found.mode });
  return { prompt: groundedPrompt(question ?? plan.prompt, found.passages, documentsOnly), sources: found.passages };
}

/** Step 4. Streams the answer into the writer and to the caller; a stop keeps the partial answer and ends here. */
export async function generate(
  deps: Pick<AnswerDeps, 'engine' | 'changed'>,
  conversation: Conversation,
  plan: AnswerPlan,
  prompt: string | null,
  writer: AnswerWriter,
  push: Push,
  signal: AbortSignal,
): Promise<{ readonly result: ChatResult; readonly done?: undefined } | { readonly done: ChatEvent }> {
  if (signal.aborted) {
    const message = writer.finish('interrupted', null);
    deps.changed(conversation.id);
    return { done: { type: 'done', message } };
  }
  let result;
  try {
    result = await deps.engine.chat(
      {
        conversationId: conversation.id,
        systemPrompt: conversation.settings.systemPrompt,
        history: plan.history,
        prompt,
        sampling: conversation.settings.sampling,
      },
      (delta) => {
        writer.append(delta.text, delta.reasoning);
        push({ type: 'delta', text: delta.text, reasoning: delta.reasoning });
      },
      signal,
    );
  } catch (error) {
    const message = writer.finish('interrupted', null);
    deps.changed(conversation.id);
    // Stopping is not a failure: the partial answer is kept and can be continued.
    if (signal.aborted) return { done: { type: 'done', message } };
    throw error;
  }
  return { result };
}

/** Step 5. Tells what the engine had to change, saves the answer with its stats, and records the turn for the audit. */
export function finish(
  deps: Pick<AnswerDeps, 'db' | 'engine' | 'changed' | 'emit'>,
  conversation: Conversation,
  turn: {
    readonly modelName: string;
    readonly question: string | null;
    readonly sources: readonly Passage[];
    readonly chunkIds?: readonly string[] | undefined;
    readonly result: ChatResult;
    /** The answer's classification marking; null without markings. */
    readonly marking?: Marking | null;
  },
  writer: AnswerWriter,
  push: Push,
): ChatEvent {
  const { modelName, question, sources, result } = turn;
  if (result.trimmedTurns > 0) {
    const n = result.trimmedTurns;
    push({
      type: 'notice',
      kind: 'contextTrimmed',
      detail: `The ${n === 1 ? 'oldest message' : `${n} oldest messages`} did not fit in the model's context and ${n === 1 ? 'was' : 'were'} left out of this answer. The system prompt was kept.`,
    });
  }
  if (result.defaultTemplate) {
    push({
      type: 'notice',
      kind: 'defaultTemplate',
      detail: `${modelName} has no chat template of its own, so a generic one was used. Answers may be less accurate.`,
    });
  }
  const { tokens, promptTokens, tokensPerSecond, firstTokenMs, ms } = result.stats;
  const message = writer.finish(ANSWER_STATUS[result.stats.stopReason], { tokens, promptTokens, tokensPerSecond, firstTokenMs, ms });
  deps.changed(conversation.id);
  const loadedPath = deps.engine.state().model?.path ?? null;
  const model = loadedPath === null ? null : modelByPath(deps.db, loadedPath);
  if (model !== null) {
    deps.emit({
      type: 'chat.turn',
      data: {
        conversationId: conversation.id,
        modelSha256: model.sha256,
        collections: [...conversation.knowledge.collectionIds],
        // Everything the model was given: the passages, and every chunk of a pinned document given whole.
        chunkIds: [...(turn.chunkIds ?? sources.map((passage) => passage.chunkId))],
        prompt: question ?? '',
        response: message.content,
        ...markingField(turn.marking ?? null),
      },
    });
  }
  return { type: 'done', message };
}

const schemeOf = (deps: Pick<AnswerDeps, 'policy'>) => deps.policy?.().markings ?? null;

/** Loads the model, streams the answer into the database and to the caller, and finishes the row whatever happens. */
export async function answer(deps: AnswerDeps, push: Push, plan: AnswerPlan, signal: AbortSignal): Promise<ChatEvent> {
  const conversation = deps.store.conversation(plan.conversationId);
  assertQuestionAllowed(deps.db, schemeOf(deps), conversation);
  const modelName = await ensureModel(deps, conversation.modelId, conversation.settings.contextSize, signal);
  if (signal.aborted) throw new AppError('cancelled', 'Cancelled.');
  const writer = plan.open(modelName);
  push({ type: 'started', messageId: writer.messageId, parentId: writer.parentId });
  const question = screen(deps, plan.prompt, push);
  const retrieved = await retrieve(deps, conversation, plan, question, writer, push);
  if (retrieved.done !== undefined) return retrieved.done;
  const marking = markAnswer(deps.db, schemeOf(deps), {
    conversationId: conversation.id,
    messageId: writer.messageId,
    sources: retrieved.sources,
    documentIds: retrieved.documentIds,
  });
  const generated = await generate(deps, conversation, plan, retrieved.prompt, writer, push, signal);
  if (generated.done !== undefined) return generated.done;
  return finish(
    deps,
    conversation,
    { modelName, question, sources: retrieved.sources, chunkIds: retrieved.chunkIds, result: generated.result, marking },
    writer,
    push,
  );
}
