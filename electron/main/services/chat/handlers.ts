import { readFile, stat } from 'node:fs/promises';
import type { ChatEvent, Contract, ConversationSettings, RuntimeSettings } from '../../../common/contract/index.ts';
import type { Handlers } from '../../../common/handlers.ts';
import { AppError, ok } from '../../../common/result.ts';
import type { FilePicker } from '../files.ts';
import type { Emit } from '../domain/events.ts';
import type { Gate, GovernedAction } from '../domain/gate.ts';
import { listModels } from '../models/index.ts';
import type { EffectivePolicy } from '../policy/schema.ts';
import type { ChatTurn } from '../inference/engine.ts';
import { pump } from '../inference/handlers.ts';
import { lockedValueRefusal, type StoredRuntimeValues } from '../inference/locks.ts';
import { transaction, type Database } from '../storage/sqlite.ts';
import { answer, chatModel as libraryChatModel, checkModel, type AnswerDeps, type AnswerPlan, type ChatEngine, type ChatKnowledge } from './answer.ts';
import { conversationJson, conversationMarkdown, fileNameFor, MAX_PRESET_FILE_BYTES, parsePresetFile, presetFile } from './files.ts';
import { assertQuestionAllowed, exportMarking, markedFileName } from './marking.ts';
import { markingText } from '../../../common/markings.ts';
import { createChatStore, type ChatStore, type StoredMessage } from './store.ts';

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

export type { ChatEngine, ChatKnowledge } from './answer.ts';
export type { ChatRequest, ChatResult, ChatTurn } from '../inference/engine.ts';

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
  readonly screenPrompt?: (text: string) => {
    readonly text: string;
    readonly blocked: boolean;
    readonly reason?: string;
    readonly findings: readonly unknown[];
  };
  /**
   * The policy in force, to refuse a conversation or preset value that a lock fixes, as
   * settings.update does. The engine clamps locked values whatever is stored (see
   * runtime/locked-engine.ts); this only tells the user at once instead of ignoring the value.
   */
  readonly policy?: () => EffectivePolicy;
}

/** min-p and the seed are not app-wide settings; these are the conversation defaults. */
export const DEFAULT_MIN_P = 0.05;

export function defaultConversationSettings(runtime: RuntimeSettings): ConversationSettings {
  return { systemPrompt: '', sampling: { ...runtime.sampling, minP: DEFAULT_MIN_P, seed: null }, contextSize: runtime.contextSize };
}

/** Turns for the engine: empty answers (stopped before the first token) carry nothing. */
const turns = (messages: readonly StoredMessage[]): ChatTurn[] =>
  messages.filter((message) => message.content !== '').map(({ role, content }) => ({ role, content }));

export function createChatHandlers(deps: ChatHandlerDeps): ChatHandlers {
  const { db, engine, picker, settings, changed, gate } = deps;
  const store = deps.store ?? createChatStore(db);
  // One answer at a time: the inference process generates one at a time anyway, and a
  // second send must fail before it saves anything.
  const running = new Map<string, AbortController>();
  const answerDeps: AnswerDeps = {
    db,
    engine,
    settings,
    store,
    changed,
    emit: deps.emit,
    knowledge: deps.knowledge,
    screenPrompt: deps.screenPrompt,
    policy: deps.policy,
  };
  const chatModel = (id: string) => libraryChatModel(db, id);
  const answerWith = (push: (event: ChatEvent) => void, plan: AnswerPlan, signal: AbortSignal) => answer(answerDeps, push, plan, signal);

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

  /** Runs `start` as the only answer in progress, stoppable by the caller or by deleting the conversation. */
  const exclusive = (
    conversationOf: () => string,
    ctxSignal: AbortSignal,
    start: (push: (event: ChatEvent) => void, signal: AbortSignal) => Promise<ChatEvent>,
  ) =>
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
      throw new AppError(
        'io_error',
        'The file could not be saved. Check that the folder exists and that you can write to it.',
        error instanceof Error ? error.message : String(error),
      );
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
    'chat.list': (input) => ok(store.page(input)),

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
      exclusive(
        () => conversationId,
        signal,
        async (push, stop) => {
          const conversation = store.conversation(conversationId);
          checkModel(answerDeps, conversation.modelId);
          // Before anything is saved: a question whose collections mix compartments the policy keeps apart.
          assertQuestionAllowed(db, deps.policy?.().markings ?? null, conversation);
          // Refused before anything is saved: a blocked message must not reach the database either.
          const screened = deps.screenPrompt?.(content);
          if (screened?.blocked === true)
            throw new AppError(
              'forbidden',
              `${screened.reason ?? 'Blocked: the message contains personal data.'} This machine's policy does not allow sending personal data to the model. Remove it and send again.`,
            );
          // No parent given: answer the end of the thread. A parent that already has children makes a branch.
          const parent = parentId === undefined ? store.lastOfThread(conversationId) : parentId === null ? null : store.message(parentId);
          if (parent !== null && parent.conversationId !== conversationId)
            throw new AppError('not_found', 'That message is not in this conversation.', `message ${parent.id}`);
          const user = store.addUserMessage(conversationId, parent?.id ?? null, content);
          push({ type: 'user', message: user });
          changed(conversationId);
          return answerWith(
            push,
            {
              conversationId,
              history: parent === null ? [] : turns(store.pathTo(parent.id)),
              prompt: content,
              open: (modelName) => store.startAnswer(conversationId, user.id, writerOptions(modelName)),
            },
            stop,
          );
        },
      ),

    // A user message's id answers it again (after a failed answer); an answer's id adds a sibling answer.
    'chat.regenerate': ({ messageId }, { signal }) =>
      exclusive(
        () => store.message(messageId).conversationId,
        signal,
        async (push, stop) => {
          const target = store.message(messageId);
          const user = target.role === 'user' ? target : target.parentId === null ? null : store.message(target.parentId);
          if (user === null || user.role !== 'user') throw new AppError('bad_request', 'That answer has no question to answer again.', `message ${messageId}`);
          const conversation = store.conversation(user.conversationId);
          checkModel(answerDeps, conversation.modelId);
          return answerWith(
            push,
            {
              conversationId: conversation.id,
              history: user.parentId === null ? [] : turns(store.pathTo(user.parentId)),
              prompt: user.content,
              open: (modelName) => store.startAnswer(conversation.id, user.id, writerOptions(modelName)),
            },
            stop,
          );
        },
      ),

    'chat.continue': ({ messageId }, { signal }) =>
      exclusive(
        () => store.message(messageId).conversationId,
        signal,
        async (push, stop) => {
          const target = store.message(messageId);
          if (target.role !== 'assistant') throw new AppError('bad_request', 'Only an answer can be continued.', `message ${messageId}`);
          if (target.status === 'complete')
            throw new AppError('bad_request', 'This answer is complete; only an interrupted answer can be continued.', `message ${messageId}`);
          const conversation = store.conversation(target.conversationId);
          checkModel(answerDeps, conversation.modelId);
          const path = store.pathTo(messageId);
          // Stopped before its first token, there is nothing to continue from: ask the question again into the same message.
          const empty = target.content === '';
          return answerWith(
            push,
            {
              conversationId: conversation.id,
              history: turns(empty ? path.slice(0, -2) : path),
              prompt: empty ? (path.at(-2)?.content ?? null) : null,
              open: (modelName) => store.continueAnswer(messageId, writerOptions(modelName)),
            },
            stop,
          );
        },
      ),

    'chat.switchBranch': ({ messageId }) => {
      gate.check('chat.switchBranch');
      // The answer being written belongs to the thread shown; switching under it would hide it mid-stream.
      if (running.has(store.message(messageId).conversationId))
        throw new AppError('busy', 'Wait for the answer to finish, or stop it, before switching branches.');
      const thread = store.switchBranch(messageId);
      return ok(recorded('chat.switchBranch', thread.conversation.id, thread));
    },

    'chat.export': async ({ id, format }) => {
      gate.check('chat.export');
      const thread = store.thread(id);
      // Under a marking scheme the export carries the highest marking of what it holds, in its header and at the start of its name.
      const scheme = deps.policy?.().markings ?? null;
      const marking = scheme === null ? null : exportMarking(scheme, thread);
      const name = (extension: string) => markedFileName(marking, fileNameFor(thread.conversation.title, extension));
      const result =
        format === 'markdown'
          ? await save(name('md'), conversationMarkdown(thread, marking === null ? null : markingText(marking)))
          : await save(name('json'), conversationJson(thread, new Date(), marking === null ? null : markingText(marking)));
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
