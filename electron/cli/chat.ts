import type { ChatMessage, Conversation } from '../common/contract/index.ts';
import type { CallContext } from '../common/handlers.ts';
import { AppError, type Result } from '../common/result.ts';
import { createCore } from '../main/services/core.ts';
import { listModels } from '../main/services/models/index.ts';
import type { Database } from '../main/services/storage/sqlite.ts';
import { UsageError, type Command } from './command.ts';
import { EXIT } from './exit-codes.ts';

// `soberana chat` goes through the same handlers as the app, over the same database, so a
// conversation started here shows up in the app and the other way round.

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new AppError(result.error.code, result.error.message, result.error.details);
  return result.value;
}

/** An id, a unique id prefix of at least four characters, or a model's exact name. */
function resolveModel(db: Database, given: string): string {
  const models = listModels(db);
  const byId = models.filter((model) => model.id === given || (given.length >= 4 && model.id.startsWith(given)));
  const matches = byId.length > 0 ? byId : models.filter((model) => model.displayName.toLowerCase() === given.toLowerCase());
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length > 1) throw new AppError('bad_request', `"${given}" matches ${matches.length} models; give more of the id.`);
  throw new AppError('not_found', `No model in the library is called or has the id "${given}". Run "soberana models list" to see them.`);
}

const format = (value: number | null, digits = 0) => (value === null ? '-' : value.toFixed(digits));

export const chat: Command = {
  summary: 'Chat with a library model; conversations are shared with the app',
  help: `Usage: soberana chat [--model ID] [--system TEXT] [--conversation ID] [--json] "prompt"

Sends the prompt to a conversation and streams the answer to stdout. Statistics and the
conversation's id go to stderr; pass the id to --conversation to continue it. The
conversation is saved in the app's database: it appears in the app, and conversations
started in the app can be continued here.

Options:
  --model ID           A library model: its id, a unique prefix of it, or its name
                       (default: the conversation's model, else the default chat model)
  --system TEXT        The system prompt; with --conversation, replaces its system prompt
  --conversation ID    Continue this conversation instead of starting a new one
  --json               Print the saved answer as JSON instead of streaming it

Exit codes: 0 ok, 1 no model, a refused model or a failed answer, 2 bad usage, 3 internal error.`,
  options: {
    model: { type: 'string' },
    system: { type: 'string' },
    conversation: { type: 'string' },
  },
  positionals: { min: 1, max: 1 },
  async run({ dataDir, output, values, positionals, signal }) {
    const prompt = positionals[0]!.trim();
    if (prompt === '') throw new UsageError('The prompt is empty.');
    for (const name of ['model', 'conversation'] as const) {
      if (values[name] === '') throw new UsageError(`--${name} needs a value.`);
    }
    const model = typeof values.model === 'string' ? values.model : undefined;
    const system = typeof values.system === 'string' ? values.system : undefined;
    const conversationId = typeof values.conversation === 'string' ? values.conversation : undefined;

    // A reader that goes away (`| head`) stops the answer, which is then saved as interrupted, instead of crashing on EPIPE.
    const readerGone = new AbortController();
    const onStdoutError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') readerGone.abort();
      else throw error;
    };
    process.stdout.on('error', onStdoutError);
    const stop = AbortSignal.any([signal, readerGone.signal]);
    const core = await createCore({ dataDir, host: HOST, log: (level, message) => level === 'error' && process.stderr.write(`[runtime] ${message}\n`) });
    try {
      const handlers = core.handlers;
      const ctx: CallContext = { caller: { origin: 'cli', isMainFrame: true }, signal: stop };
      const modelId = model === undefined ? undefined : resolveModel(core.storage, model);
      // This process has no model loaded, so a new conversation needs one from the library; better to say so than leave an empty conversation behind.
      if (conversationId === undefined && modelId === undefined && !listModels(core.storage).some((candidate) => candidate.isDefaultChat)) {
        throw new AppError('no_model', 'There is no chat model in the library. Import one with "soberana models import", or pass --model.');
      }
      let conversation: Conversation =
        conversationId === undefined
          ? unwrap(await handlers['chat.create'](modelId === undefined ? {} : { modelId }, ctx))
          : unwrap(await handlers['chat.get']({ id: conversationId }, ctx)).conversation;
      if (conversationId !== undefined && modelId !== undefined) conversation = unwrap(await handlers['chat.update']({ id: conversation.id, modelId }, ctx));
      if (system !== undefined)
        conversation = unwrap(await handlers['chat.update']({ id: conversation.id, settings: { ...conversation.settings, systemPrompt: system } }, ctx));
      // First, so that the conversation can be continued even if this answer fails.
      output.err(`conversation=${conversation.id}`);

      await core.runtime.start();
      let answer: ChatMessage | null = null;
      let streamed = false;
      for await (const event of handlers['chat.send']({ conversationId: conversation.id, content: prompt }, ctx)) {
        if (event.type === 'delta' && !output.json && event.text !== '' && !readerGone.signal.aborted) {
          process.stdout.write(event.text);
          streamed = true;
        } else if (event.type === 'notice') output.err(`notice: ${event.detail}`);
        else if (event.type === 'done') answer = event.message;
      }
      if (answer === null) throw new AppError('internal', 'The answer ended without being saved.');
      if (output.json) output.out(JSON.stringify({ conversationId: conversation.id, message: answer }, null, 2));
      else if (streamed && !readerGone.signal.aborted) process.stdout.write('\n');
      const stats = answer.stats;
      output.err(
        `tokens=${stats?.tokens ?? 0} tokens_per_s=${format(stats?.tokensPerSecond ?? null, 1)} first_token_ms=${format(stats?.firstTokenMs ?? null)} prompt_tokens=${stats?.promptTokens ?? 0} ms=${format(stats?.ms ?? null)} status=${answer.status}`,
      );
      if (stop.aborted) {
        output.err('Stopped. The partial answer is saved as interrupted.');
        return EXIT.problem;
      }
      return EXIT.ok;
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      if (output.json) output.out(JSON.stringify({ error: error.toData() }, null, 2));
      else output.err(`${error.message}${error.details === undefined ? '' : `\n  ${error.details}`}`);
      return EXIT.problem;
    } finally {
      await core.close();
      process.stdout.off('error', onStdoutError);
    }
  },
};
