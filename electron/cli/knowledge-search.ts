import type { ChatMessage, Passage } from '../common/contract/index.ts';
import type { CallContext } from '../common/handlers.ts';
import { AppError } from '../common/result.ts';
import { listModels } from '../main/services/models/index.ts';
import { intOption, UsageError, type Command } from './command.ts';
import { EXIT } from './exit-codes.ts';
import { cite, collectionNames, findCollection, resolveModel, searchMode, startEngineIfUseful, unwrap, withCore } from './knowledge-common.ts';

// `soberana knowledge search | ask`: ranked passages, and answers with numbered sources.

function highlighted(passage: Passage, tty: boolean): string {
  if (!tty || passage.highlights.length === 0) return passage.snippet;
  let out = '';
  let at = 0;
  for (const [start, end] of passage.highlights) {
    if (start < at) continue;
    out += `${passage.snippet.slice(at, start)}\x1b[1m${passage.snippet.slice(start, end)}\x1b[22m`;
    at = end;
  }
  return out + passage.snippet.slice(at);
}

export const knowledgeSearch: Command = {
  summary: 'Search collections; ranked passages with document and page',
  help: `Usage: soberana knowledge search --collection NAME [--collection NAME…] [--limit N]
       [--json] "query"

Searches the collections as the app does (words and meaning when a collection has an
embedding model, words only otherwise; reranked when the library has a reranking
model) and prints the passages best first: document, page (or section), score and the
snippet around the query's words. The search mode and time go to stderr.

Options:
  --collection NAME  A collection to search; repeat it to search several
  --limit N          How many passages, 1 to 100 (default 10)
  --json             The passages in full, as JSON

Exit codes: 0 ok (also when nothing matched), 1 no such collection, 2 bad usage.`,
  options: { collection: { type: 'string', multiple: true }, limit: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run({ dataDir, output, values, positionals }) {
    const query = positionals[0]!.trim();
    if (query === '') throw new UsageError('The query is empty.');
    const names = collectionNames(values);
    const limit = intOption(values.limit, 'limit', 1, 100) ?? 10;
    return withCore(dataDir, output, async (core) => {
      const collections = names.map((name) => findCollection(core, name));
      await startEngineIfUseful(
        core,
        collections.some((collection) => collection.search === 'hybrid'),
      );
      const result = await core.knowledge.search({ query, collectionIds: collections.map((collection) => collection.id), limit });
      if (output.json) {
        output.out(JSON.stringify(result, null, 2));
        return EXIT.ok;
      }
      output.err(`mode=${searchMode(result.mode)} passages=${result.passages.length} ms=${result.ms.toFixed(0)}`);
      if (result.notice !== null) output.err(`notice: ${result.notice}`);
      if (result.passages.length === 0) output.out('Nothing matched.');
      const tty = process.stdout.isTTY === true;
      result.passages.forEach((passage, index) => {
        const collection = collections.length > 1 ? `  [${collections.find((c) => c.id === passage.collectionId)?.name ?? ''}]` : '';
        output.out(`${index + 1}. ${cite(passage)}  (score ${passage.score.toFixed(4)})${collection}`);
        output.out(`   ${highlighted(passage, tty).replace(/\s+/g, ' ')}`);
      });
      return EXIT.ok;
    });
  },
};

export const knowledgeAsk: Command = {
  summary: 'Answer a question from collections, citing its sources',
  help: `Usage: soberana knowledge ask --collection NAME [--collection NAME…] [--model ID]
       [--documents-only] [--json] "question"

Starts a conversation attached to the collections, as the app's chat does, so it appears
in the app. The passages found for the question are given to the model, which streams its
answer to stdout; then the numbered sources it was given: [1] document, page.

Options:
  --collection NAME   A collection to answer from; repeat it for several
  --model ID          A library chat model: its id, a unique prefix of it, or its name
                      (default: the default chat model)
  --documents-only    Answer only from the documents: when nothing relevant is found,
                      say so instead of asking the model
  --json              Print the answer and its sources as JSON instead of streaming

The conversation's id and the answer's statistics go to stderr.

Exit codes: 0 ok, 1 no such collection, no model, or a failed or stopped answer, 2 bad usage.`,
  options: { collection: { type: 'string', multiple: true }, model: { type: 'string' }, 'documents-only': { type: 'boolean', default: false } },
  positionals: { min: 1, max: 1 },
  async run({ dataDir, output, values, positionals, signal }) {
    const question = positionals[0]!.trim();
    if (question === '') throw new UsageError('The question is empty.');
    const names = collectionNames(values);
    if (values.model === '') throw new UsageError('--model needs a value.');
    const model = typeof values.model === 'string' ? values.model : undefined;
    const documentsOnly = values['documents-only'] === true;

    // A reader that goes away (`| head`) stops the answer instead of crashing on EPIPE.
    const readerGone = new AbortController();
    const onStdoutError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') readerGone.abort();
      else throw error;
    };
    process.stdout.on('error', onStdoutError);
    const stop = AbortSignal.any([signal, readerGone.signal]);
    try {
      return await withCore(dataDir, output, async (core) => {
        const collections = names.map((name) => findCollection(core, name));
        const modelId = model === undefined ? undefined : resolveModel(core, model, 'chat');
        // Checked first, so that a missing model does not leave an empty conversation behind.
        if (modelId === undefined && !listModels(core.storage).some((candidate) => candidate.isDefaultChat)) {
          throw new AppError('no_model', 'There is no chat model in the library. Import one with "soberana models import", or pass --model.');
        }
        const { handlers } = core;
        const ctx: CallContext = { caller: { origin: 'cli', isMainFrame: true }, signal: stop };
        const created = unwrap(await handlers['chat.create'](modelId === undefined ? {} : { modelId }, ctx));
        const conversation = unwrap(
          await handlers['chat.update']({ id: created.id, knowledge: { collectionIds: collections.map((c) => c.id), documentsOnly } }, ctx),
        );
        output.err(`conversation=${conversation.id}`);

        await core.runtime.start();
        let answer: ChatMessage | null = null;
        let mode: 'hybrid' | 'text' | null = null;
        const notices: { kind: string; detail: string }[] = [];
        let streamed = false;
        for await (const event of handlers['chat.send']({ conversationId: conversation.id, content: question }, ctx)) {
          if (event.type === 'delta' && !output.json && event.text !== '' && !readerGone.signal.aborted) {
            process.stdout.write(event.text);
            streamed = true;
          } else if (event.type === 'sources') mode = event.mode;
          else if (event.type === 'notice') {
            notices.push({ kind: event.kind, detail: event.detail });
            if (!output.json) output.err(`notice: ${event.detail}`);
          } else if (event.type === 'done') answer = event.message;
        }
        if (answer === null) throw new AppError('internal', 'The answer ended without being saved.');
        const sources = answer.sources;
        if (output.json) {
          output.out(
            JSON.stringify(
              {
                conversationId: conversation.id,
                answer: answer.content,
                status: answer.status,
                mode,
                notices,
                sources: sources.map((source, index) => ({ n: index + 1, ...source })),
              },
              null,
              2,
            ),
          );
        } else if (!readerGone.signal.aborted) {
          // The canned refusal in documents-only mode arrives with `done`, never as deltas.
          if (!streamed && answer.content !== '') process.stdout.write(answer.content);
          process.stdout.write('\n');
          if (sources.length > 0) {
            output.out(`\nSources${mode === null ? '' : ` (${searchMode(mode)})`}:`);
            sources.forEach((source, index) => output.out(`[${index + 1}] ${cite(source)}`));
          } else output.out('\nSources: none');
        }
        const stats = answer.stats;
        output.err(`tokens=${stats?.tokens ?? 0} tokens_per_s=${(stats?.tokensPerSecond ?? 0).toFixed(1)} sources=${sources.length} status=${answer.status}`);
        if (stop.aborted) {
          output.err('Stopped. The partial answer is saved as interrupted.');
          return EXIT.problem;
        }
        return EXIT.ok;
      });
    } finally {
      process.stdout.off('error', onStdoutError);
    }
  },
};
