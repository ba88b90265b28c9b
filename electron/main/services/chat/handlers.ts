import { readFile, realpath, stat } from 'node:fs/promises';
import type { ChatEvent, Contract, ConversationSettings, Passage, RuntimeSettings } from '../../../common/contract/index.ts';
import { groundedPrompt, noSourcesAnswer, sourcesBudget } from '../knowledge/grounding.ts';
import type { Handlers } from '../../../common/handlers.ts';
import { AppError, ok } from '../../../common/result.ts';
import type { GenerateStats } from '../../../common/runtime/protocol.ts';
import type { FilePicker } from '../files.ts';
import type { Emit } from '../domain/events.ts';
import type { Gate, GovernedAction } from '../domain/gate.ts';
import { loadLibraryModel } from '../models-handlers.ts';
import { getModel, listModels } from '../models/index.ts';
import type { EffectivePolicy } from '../policy/schema.ts';
import type { ChatTurn, RuntimeEngine } from '../runtime/engine.ts';
import { pump } from '../runtime/handlers.ts';
import { modelByPath } from '../runtime/model-events.ts';
import { lockedValueRefusal, runtimeLocks, type StoredRuntimeValues } from '../runtime/locks.ts';
import { transaction, type Database } from '../storage/sqlite.ts';
import { conversationJson, conversationMarkdown, fileNameFor, MAX_PRESET_FILE_BYTES, parsePresetFile, presetFile } from './files.ts';
import { createChatStore, type AnswerWriter, type ChatStore, type StoredMessage } from './store.ts';

type ChatHandlers = Pick<
  Handlers<Contract>,
  | 'chat.list'
  | 'chat.create'
  | 'chat.get'
  | 'chat.update'
  | 'chat.delete'
  | 'chat.restore'
  | 'chat.send'
  | 'chat.regenerate'
  | 'chat.continue'
  | 'chat.switchBranch'
  | 'chat.export'
  | 'presets.list'
  | 'presets.save'
  | 'presets.delete'
  | 'presets.export'
  | 'presets.import'
>;

/** What chat needs of the engine; tests may pass a stand-in with these methods. */
export type ChatEngine = Pick<RuntimeEngine, 'state' | 'hardware' | 'load' | 'chat'>;
export type { ChatRequest, ChatResult, ChatTurn } from '../runtime/engine.ts';

export interface ChatHandlerDeps {
  readonly db: Database;
  readonly engine: ChatEngine;
  readonly picker: FilePicker;
  readonly settings: () => RuntimeSettings;
  /** Broadcasts `chat.changed`: a conversation changed, or (null) the list did. */
  readonly changed: (conversationId: string | null) => void;
  /** The store to use; by default one over `db`, which marks answers a dead process left `streaming` as interrupted. */
  readonly store?: ChatStore;
  /** How often a growing answer is written to the database. */
  readonly flushMs?: number;
  /** Retrieval from the conversation's collections; without it, collections are ignored. */
  readonly knowledge?: ChatKnowledge;
  /** The policy and audit gate every change passes (services/domain/gate.ts). */
  readonly gate: Gate;
  /** Domain events: answers, exports and changes, for the audit subscriber. */
  readonly emit: Emit;
  /** Screens a prompt for personal data by the policy (warn, redact or block). */
  readonly screenPrompt?: (text: string) => { readonly text: string; readonly blocked: boolean; readonly reason?: string; readonly findings: readonly unknown[] };
  /**
   * The policy in force, to refuse a conversation or preset value that a lock fixes, as
   * settings.update does. The engine clamps locked values whatever is stored (see
   * runtime/locked-engine.ts); this only tells the user at once instead of ignoring the value.
   */
  readonly policy?: () => EffectivePolicy;
}

/** What chat needs of the knowledge service. */
export interface ChatKnowledge {
  /** Passages for `query` from the collections, within `budgetTokens`; `relevant` is false when nothing matched well enough to answer from. */
  retrieve(query: string, collectionIds: readonly string[], budgetTokens: number): Promise<{ passages: Passage[]; mode: 'hybrid' | 'text'; relevant: boolean; notice: string | null }>;
}

/** min-p and the seed are not app-wide settings; these are the conversation defaults. */
export const DEFAULT_MIN_P = 0.05;

export function defaultConversationSettings(runtime: RuntimeSettings): ConversationSettings {
  return { systemPrompt: '', sampling: { ...runtime.sampling, minP: DEFAULT_MIN_P, seed: null }, contextSize: runtime.contextSize };
}

const ANSWER_STATUS: Readonly<Record<GenerateStats['stopReason'], 'complete' | 'interrupted'>> = {
  eos: 'complete',
  other: 'complete',
  // Cut off by the token limit: interrupted, so the user is offered Continue.
  maxTokens: 'interrupted',
  aborted: 'interrupted',
};

/** Turns for the engine: empty answers (stopped before the first token) carry nothing. */
const turns = (messages: readonly StoredMessage[]): ChatTurn[] => messages.filter((message) => message.content !== '').map(({ role, content }) => ({ role, content }));

async function samePath(a: string, b: string): Promise<boolean> {
  if (a === b) return true;
  try {
    return (await realpath(a)) === (await realpath(b));
  } catch {
    return false;
  }
}

export function createChatHandlers(deps: ChatHandlerDeps): ChatHandlers {
  const { db, engine, picker, settings, changed, gate } = deps;
  const store = deps.store ?? createChatStore(db);
  // One answer at a time: the inference process generates one at a time anyway, and a
  // second send must fail before it saves anything.
  const running = new Map<string, AbortController>();

  const chatModel = (id: string) => {
    const model = getModel(db, id);
    if (model.role !== 'chat') throw new AppError('bad_request', `${model.displayName} is ${model.role === 'embedding' ? 'an embedding' : 'a reranking'} model: it cannot chat. Choose a chat model.`);
    return model;
  };

  const writerOptions = (modelName: string) => ({ modelName, ...(deps.flushMs === undefined ? {} : { flushMs: deps.flushMs }) });

  /** Refuses a stored value a lock fixes, unless it was stored already (then the engine clamps it). */
  const refuseLocked = (next: ConversationSettings, previous: () => ConversationSettings | null) => {
    if (deps.policy === undefined) return;
    const values = (settings: ConversationSettings): StoredRuntimeValues => ({ contextSize: settings.contextSize, sampling: settings.sampling });
    const before = previous();
    const refused = lockedValueRefusal(values(next), before === null ? null : values(before), deps.policy());
    if (refused !== null) throw new AppError('forbidden', refused.message, refused.path);
  };

  const notBusy = () => {
    if (running.size > 0) throw new AppError('busy', 'An answer is already being written. Stop it or wait for it to finish.');
  };

  /** Fails before anything is saved when there is no model to answer with at all. */
  const checkModel = (modelId: string | null) => {
    if (modelId === null) {
      if (engine.state().model === null) throw new AppError('no_model', 'No model is loaded, and this conversation has none. Choose a model for it, or load one on the Models screen.');
      return;
    }
    try {
      chatModel(modelId);
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') {
        throw new AppError('not_found', 'The model of this conversation is no longer in the library. Choose another one for it.', `model ${modelId}`);
      }
      throw error;
    }
  };

  /** Loads the conversation's model unless it is already loaded with the context size it asks for; returns its name. */
  const ensureModel = async (modelId: string | null, asked: ConversationSettings['contextSize'], signal: AbortSignal): Promise<string> => {
    const loaded = engine.state().model;
    if (modelId === null) {
      if (loaded === null) throw new AppError('no_model', 'No model is loaded, and this conversation has none. Choose a model for it, or load one on the Models screen.');
      return loaded.name;
    }
    const record = chatModel(modelId);
    const first = record.files[0];
    // The engine loads a locked context size whatever is asked; asking for it here keeps a
    // conversation stored with another number from reloading the model at every turn.
    const contextSize = (deps.policy === undefined ? undefined : runtimeLocks(deps.policy()).contextSize) ?? asked;
    if (loaded !== null && first !== undefined && (await samePath(first, loaded.path)) && (contextSize === 'auto' || loaded.contextSize === contextSize)) return loaded.name;
    const model = await loadLibraryModel({ db, engine, settings }, modelId, { signal, ...(contextSize === 'auto' ? {} : { contextSize }) });
    return model.name;
  };

  interface Plan {
    readonly conversationId: string;
    readonly history: readonly ChatTurn[];
    readonly prompt: string | null;
    readonly open: (modelName: string) => AnswerWriter;
  }

  /** Loads the model, streams the answer into the database and to the caller, and finishes the row whatever happens. */
  const answer = async (push: (event: ChatEvent) => void, plan: Plan, signal: AbortSignal): Promise<ChatEvent> => {
    const conversation = store.conversation(plan.conversationId);
    const modelName = await ensureModel(conversation.modelId, conversation.settings.contextSize, signal);
    if (signal.aborted) throw new AppError('cancelled', 'Cancelled.');
    const writer = plan.open(modelName);
    push({ type: 'started', messageId: writer.messageId, parentId: writer.parentId });
    const screened = plan.prompt === null || deps.screenPrompt === undefined ? null : deps.screenPrompt(plan.prompt);
    if (screened !== null && screened.findings.length > 0 && !screened.blocked) {
      push({
        type: 'notice',
        kind: 'personalData',
        detail: screened.text === plan.prompt ? 'Your message contains personal data. It was sent as written.' : 'Your message contains personal data. The model saw it with that data replaced by placeholders such as [EMAIL].',
      });
    }
    const question = screened?.text ?? plan.prompt;
    let prompt = question;
    let sources: readonly Passage[] = [];
    const { collectionIds, documentsOnly } = conversation.knowledge;
    // Continuing an answer keeps the passages it was given; only a new question retrieves.
    if (deps.knowledge !== undefined && collectionIds.length > 0 && plan.prompt !== null) {
      let found;
      try {
        found = await deps.knowledge.retrieve(question ?? plan.prompt, collectionIds, sourcesBudget(engine.state().model?.contextSize ?? null));
      } catch (error) {
        writer.finish('interrupted', null);
        changed(conversation.id);
        throw error;
      }
      if (found.notice !== null) push({ type: 'notice', kind: 'textSearchOnly', detail: found.notice });
      if (!found.relevant && documentsOnly) {
        writer.append(noSourcesAnswer(), '');
        const message = writer.finish('complete', null);
        push({ type: 'notice', kind: 'noSources', detail: 'Nothing in the attached collections matches this question, so the model was not asked.' });
        changed(conversation.id);
        return { type: 'done', message };
      }
      if (found.passages.length > 0) {
        writer.setSources(found.passages);
        sources = found.passages;
        push({ type: 'sources', sources: found.passages, mode: found.mode });
        prompt = groundedPrompt(question ?? plan.prompt, found.passages, documentsOnly);
      }
    }
    if (signal.aborted) {
      const message = writer.finish('interrupted', null);
      changed(conversation.id);
      return { type: 'done', message };
    }
    let result;
    try {
      result = await engine.chat(
        { conversationId: conversation.id, systemPrompt: conversation.settings.systemPrompt, history: plan.history, prompt, sampling: conversation.settings.sampling },
        (text, reasoning) => {
          writer.append(text, reasoning);
          push({ type: 'delta', text, reasoning });
        },
        signal,
      );
    } catch (error) {
      const message = writer.finish('interrupted', null);
      changed(conversation.id);
      // Stopping is not a failure: the partial answer is kept and can be continued.
      if (signal.aborted) return { type: 'done', message };
      throw error;
    }
    if (result.trimmedTurns > 0) {
      const n = result.trimmedTurns;
      push({
        type: 'notice',
        kind: 'contextTrimmed',
        detail: `The ${n === 1 ? 'oldest message' : `${n} oldest messages`} did not fit in the model's context and ${n === 1 ? 'was' : 'were'} left out of this answer. The system prompt was kept.`,
      });
    }
    if (result.defaultTemplate) {
      push({ type: 'notice', kind: 'defaultTemplate', detail: `${modelName} has no chat template of its own, so a generic one was used. Answers may be less accurate.` });
    }
    const { tokens, promptTokens, tokensPerSecond, firstTokenMs, ms } = result.stats;
    const message = writer.finish(ANSWER_STATUS[result.stats.stopReason], { tokens, promptTokens, tokensPerSecond, firstTokenMs, ms });
    changed(conversation.id);
    const loadedPath = engine.state().model?.path ?? null;
    const model = loadedPath === null ? null : modelByPath(db, loadedPath);
    if (model !== null) {
      deps.emit({
        type: 'chat.turn',
        data: { conversationId: conversation.id, modelSha256: model.sha256, collections: [...collectionIds], chunkIds: sources.map((passage) => passage.chunkId), prompt: question ?? '', response: message.content },
      });
    }
    return { type: 'done', message };
  };

  /** Runs `start` as the only answer in progress, stoppable by the caller or by deleting the conversation. */
  const exclusive = (conversationOf: () => string, ctxSignal: AbortSignal, start: (push: (event: ChatEvent) => void, signal: AbortSignal) => Promise<ChatEvent>) =>
    pump<ChatEvent>(async (push) => {
      // Before anything is saved: an answer that could not be audited must not be written either.
      gate.check('chat.send');
      notBusy();
      const conversationId = conversationOf();
      const controller = new AbortController();
      running.set(conversationId, controller);
      try {
        return await start(push, AbortSignal.any([ctxSignal, controller.signal]));
      } finally {
        running.delete(conversationId);
      }
    });

  const save = async (defaultName: string, content: string) => {
    let saved: string | null;
    try {
      saved = await picker.saveFile(defaultName, content);
    } catch (error) {
      throw new AppError('io_error', 'The file could not be saved. Check that the folder exists and that you can write to it.', error instanceof Error ? error.message : String(error));
    }
    return ok({ saved: saved !== null, path: saved });
  };

  /** A change with no event of its own: recorded, and broadcast to the windows. */
  const recorded = <T>(action: GovernedAction, conversationId: string | null, value: T): T => {
    gate.changed(action, conversationId);
    changed(conversationId);
    return value;
  };

  return {
    'chat.list': ({ query }) => ok({ conversations: store.list(query) }),

    'chat.create': ({ modelId, presetId, title }) => {
      gate.check('chat.create');
      const model = modelId === undefined ? (listModels(db).find((candidate) => candidate.isDefaultChat)?.id ?? null) : chatModel(modelId).id;
      const conversationSettings = presetId === undefined ? defaultConversationSettings(settings()) : store.preset(presetId).settings;
      const conversation = store.create({ modelId: model, settings: conversationSettings, ...(title === undefined ? {} : { title }) });
      return ok(recorded('chat.create', conversation.id, conversation));
    },

    'chat.get': ({ id }) => ok(store.thread(id)),

    'chat.update': ({ id, title, pinned, modelId, settings: conversationSettings, knowledge }) => {
      gate.check('chat.update');
      if (modelId !== undefined && modelId !== null) chatModel(modelId);
      if (conversationSettings !== undefined) refuseLocked(conversationSettings, () => store.conversation(id).settings);
      const conversation = store.update(id, {
        ...(title === undefined ? {} : { title }),
        ...(pinned === undefined ? {} : { pinned }),
        ...(modelId === undefined ? {} : { modelId }),
        ...(conversationSettings === undefined ? {} : { settings: conversationSettings }),
        ...(knowledge === undefined ? {} : { knowledge }),
      });
      return ok(recorded('chat.update', id, conversation));
    },

    'chat.delete': ({ id }) => {
      gate.check('chat.delete');
      const result = store.remove(id);
      // An answer still being written there would only write into a deleted conversation.
      running.get(id)?.abort();
      return ok(recorded('chat.delete', id, result));
    },

    'chat.restore': ({ undoToken }) => {
      gate.check('chat.restore');
      const conversation = store.restore(undoToken);
      return ok(recorded('chat.restore', conversation.id, conversation));
    },

    'chat.send': ({ conversationId, content, parentId }, { signal }) =>
      exclusive(() => conversationId, signal, async (push, stop) => {
        const conversation = store.conversation(conversationId);
        checkModel(conversation.modelId);
        // Refused before anything is saved: a blocked message must not reach the database either.
        const screened = deps.screenPrompt?.(content);
        if (screened?.blocked === true) throw new AppError('forbidden', `${screened.reason ?? 'Blocked: the message contains personal data.'} This machine's policy does not allow sending personal data to the model. Remove it and send again.`);
        // No parent given: answer the end of the thread. A parent that already has children makes a branch.
        const parent = parentId === undefined ? store.lastOfThread(conversationId) : parentId === null ? null : store.message(parentId);
        if (parent !== null && parent.conversationId !== conversationId) throw new AppError('not_found', 'That message is not in this conversation.', `message ${parent.id}`);
        const user = store.addUserMessage(conversationId, parent?.id ?? null, content);
        push({ type: 'user', message: user });
        changed(conversationId);
        return answer(
          push,
          {
            conversationId,
            history: parent === null ? [] : turns(store.pathTo(parent.id)),
            prompt: content,
            open: (modelName) => store.startAnswer(conversationId, user.id, writerOptions(modelName)),
          },
          stop,
        );
      }),

    // A user message's id answers it again (after a failed answer); an answer's id adds a sibling answer.
    'chat.regenerate': ({ messageId }, { signal }) =>
      exclusive(() => store.message(messageId).conversationId, signal, async (push, stop) => {
        const target = store.message(messageId);
        const user = target.role === 'user' ? target : target.parentId === null ? null : store.message(target.parentId);
        if (user === null || user.role !== 'user') throw new AppError('bad_request', 'That answer has no question to answer again.', `message ${messageId}`);
        const conversation = store.conversation(user.conversationId);
        checkModel(conversation.modelId);
        return answer(
          push,
          {
            conversationId: conversation.id,
            history: user.parentId === null ? [] : turns(store.pathTo(user.parentId)),
            prompt: user.content,
            open: (modelName) => store.startAnswer(conversation.id, user.id, writerOptions(modelName)),
          },
          stop,
        );
      }),

    'chat.continue': ({ messageId }, { signal }) =>
      exclusive(() => store.message(messageId).conversationId, signal, async (push, stop) => {
        const target = store.message(messageId);
        if (target.role !== 'assistant') throw new AppError('bad_request', 'Only an answer can be continued.', `message ${messageId}`);
        if (target.status === 'complete') throw new AppError('bad_request', 'This answer is complete; only an interrupted answer can be continued.', `message ${messageId}`);
        const conversation = store.conversation(target.conversationId);
        checkModel(conversation.modelId);
        const path = store.pathTo(messageId);
        // Stopped before its first token, there is nothing to continue from: ask the question again into the same message.
        const empty = target.content === '';
        return answer(
          push,
          {
            conversationId: conversation.id,
            history: turns(empty ? path.slice(0, -2) : path),
            prompt: empty ? (path.at(-2)?.content ?? null) : null,
            open: (modelName) => store.continueAnswer(messageId, writerOptions(modelName)),
          },
          stop,
        );
      }),

    'chat.switchBranch': ({ messageId }) => {
      gate.check('chat.switchBranch');
      // The answer being written belongs to the thread shown; switching under it would hide it mid-stream.
      if (running.has(store.message(messageId).conversationId)) throw new AppError('busy', 'Wait for the answer to finish, or stop it, before switching branches.');
      const thread = store.switchBranch(messageId);
      return ok(recorded('chat.switchBranch', thread.conversation.id, thread));
    },

    'chat.export': async ({ id, format }) => {
      gate.check('chat.export');
      const thread = store.thread(id);
      const result = format === 'markdown' ? await save(fileNameFor(thread.conversation.title, 'md'), conversationMarkdown(thread)) : await save(fileNameFor(thread.conversation.title, 'json'), conversationJson(thread));
      if (result.ok && result.value.saved) deps.emit({ type: 'export', data: { what: 'conversation', format, items: thread.messages.length } });
      return result;
    },

    'presets.list': () => ok({ presets: store.listPresets() }),

    'presets.save': ({ id, name, settings: presetSettings }) => {
      gate.check('presets.save');
      refuseLocked(presetSettings, () => (id === undefined ? null : store.preset(id).settings));
      const preset = store.savePreset({ ...(id === undefined ? {} : { id }), name, settings: presetSettings });
      gate.changed('presets.save', preset.id);
      return ok(preset);
    },

    'presets.delete': ({ id }) => {
      gate.check('presets.delete');
      store.removePreset(id);
      gate.changed('presets.delete', id);
      return ok({ deleted: true as const });
    },

    'presets.export': async ({ id }) => {
      gate.check('presets.export');
      const preset = store.preset(id);
      const result = await save(fileNameFor(`${preset.name}.preset`, 'json'), presetFile([preset]));
      if (result.ok && result.value.saved) deps.emit({ type: 'export', data: { what: 'preset', format: 'json', items: 1 } });
      return result;
    },

    'presets.import': async () => {
      gate.check('presets.import');
      const chosen = await picker.pickOpenFile('Import presets', ['json']);
      if (chosen === null) return ok({ imported: [] });
      let text: string;
      try {
        if ((await stat(chosen)).size > MAX_PRESET_FILE_BYTES) throw new AppError('bad_request', 'That file is too large to be a preset file.', chosen);
        text = await readFile(chosen, 'utf8');
      } catch (error) {
        if (error instanceof AppError) throw error;
        throw new AppError('io_error', 'That file could not be read.', error instanceof Error ? error.message : String(error));
      }
      const entries = parsePresetFile(text);
      // New ids: a preset file may come from another machine, and importing twice must not overwrite.
      const imported = transaction(db, () => entries.map((entry) => store.savePreset(entry)));
      for (const preset of imported) gate.changed('presets.import', preset.id);
      return ok({ imported });
    },
  };
}
