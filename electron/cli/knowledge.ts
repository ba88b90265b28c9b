import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ChatMessage, Collection, IngestFile, IngestProgress, Passage } from '../common/contract/index.ts';
import type { CallContext } from '../common/handlers.ts';
import { AppError, type Result } from '../common/result.ts';
import { createCore, type Core } from '../main/services/core.ts';
import { isDocumentName } from '../main/services/knowledge/ingestion/files.ts';
import type { PackProgress } from '../main/services/knowledge/pack.ts';
import { listModels } from '../main/services/models/index.ts';
import { intOption, UsageError, type Command, type CommandValues } from './command.ts';
import { EXIT } from './exit-codes.ts';
import type { Output } from './output.ts';
import { formatBytes } from './models.ts';

// Documents from the command line: the same knowledge service, database and index as the
// app, so collections made here appear there (and the other way round), and scripted
// ingestion runs exactly the pipeline the app runs.

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new AppError(result.error.code, result.error.message, result.error.details);
  return result.value;
}

function reportError(output: Output, error: unknown): number {
  if (!(error instanceof AppError)) throw error;
  if (output.json) output.out(JSON.stringify({ error: error.toData() }, null, 2));
  else output.err(`${error.message}${error.details === undefined ? '' : `\n  ${error.details}`}`);
  return EXIT.problem;
}

async function withCore(dataDir: string, output: Output, run: (core: Core) => Promise<number>): Promise<number> {
  const core = await createCore({ dataDir, host: HOST, log: (level, message) => level === 'error' && process.stderr.write(`[soberana] ${message}\n`) });
  try {
    return await run(core);
  } catch (error) {
    return reportError(output, error);
  } finally {
    await core.close();
  }
}

/**
 * The inference process is only needed for embeddings and reranking; starting it for
 * collections searched by words alone would cost a second for nothing.
 */
async function startEngineIfUseful(core: Core, embedding: boolean): Promise<void> {
  if (embedding || listModels(core.storage).some((model) => model.role === 'reranking' && model.status === 'ok')) await core.runtime.start();
}

/** An id, a unique id prefix of at least four characters, or a model's exact name. */
function resolveModel(core: Core, given: string, role: 'chat' | 'embedding'): string {
  const models = listModels(core.storage).filter((model) => model.role === role);
  const byId = models.filter((model) => model.id === given || (given.length >= 4 && model.id.startsWith(given)));
  const matches = byId.length > 0 ? byId : models.filter((model) => model.displayName.toLowerCase() === given.toLowerCase());
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length > 1) throw new AppError('bad_request', `"${given}" matches ${matches.length} models; give more of the id.`);
  throw new AppError('not_found', `No ${role} model in the library is called or has the id "${given}". Run "soberana models list" to see them.`);
}

/** `--embedding-model`: absent leaves the choice to the service (the default embedding model), "none" means words only. */
function embeddingChoice(core: Core, values: CommandValues): string | null | undefined {
  const given = values['embedding-model'];
  if (given === undefined) return undefined;
  if (typeof given !== 'string' || given.trim() === '') throw new UsageError('--embedding-model needs an id, a name or "none".');
  return given.trim().toLowerCase() === 'none' ? null : resolveModel(core, given.trim(), 'embedding');
}

/** The error for a missing collection, naming the ones that do exist, since a typo is the usual cause. */
function missingCollection(core: Core, name: string): AppError {
  const names = core.knowledge.collections().map((collection) => `“${collection.name}”`);
  return new AppError(
    'not_found',
    `There is no collection named “${name.trim()}”.`,
    names.length === 0 ? 'There are no collections yet. Create one with "soberana knowledge create NAME".' : `The collections are: ${names.join(', ')}.`,
  );
}

function findCollection(core: Core, name: string): Collection {
  const found = core.knowledge.collections().find((collection) => collection.name.toLowerCase() === name.trim().toLowerCase());
  if (found === undefined) throw missingCollection(core, name);
  return found;
}

/**
 * `--collection` is declared `multiple` where several may be given. main passes values on
 * as CommandValues, which has no arrays, so this reads what parseArgs really returns.
 */
function collectionNames(values: CommandValues): string[] {
  const raw: unknown = values.collection;
  const list = Array.isArray(raw) ? (raw as unknown[]) : raw === undefined ? [] : [raw];
  const names = list.filter((name): name is string => typeof name === 'string').map((name) => name.trim());
  if (names.length === 0 || names.some((name) => name === '')) throw new UsageError('--collection needs the name of a collection.');
  return [...new Set(names)];
}

const searchMode = (mode: 'hybrid' | 'text') => (mode === 'hybrid' ? 'words and meaning' : 'words only');

/** Where a passage is in its document: the page for paged formats, else the section's headings. */
function location(passage: Pick<Passage, 'page' | 'headingPath'>): string {
  if (passage.page !== null) return `page ${passage.page}`;
  const headings = passage.headingPath.filter((heading) => heading !== '');
  return headings.length === 0 ? '' : `section “${headings.join(' › ')}”`;
}

const cite = (passage: Passage) => [passage.documentName, location(passage)].filter((part) => part !== '').join(', ');

function table(output: Output, header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  for (const row of [header, ...rows]) output.out(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}

function formatSeconds(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--';
  const s = Math.ceil(seconds);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export const knowledgeCollections: Command = {
  summary: 'List document collections: documents, pages, passages, search mode',
  help: `Usage: soberana knowledge collections [--json]

One line per collection: its name, documents (with failed and pending ones), pages,
passages (the chunks search returns), how it is searched and its embedding model.
"words and meaning" collections have an embedding model; "words only" ones are searched
by full text alone. Create one with "soberana knowledge create".`,
  async run({ dataDir, output }) {
    return withCore(dataDir, output, async (core) => {
      const collections = core.knowledge.collections();
      if (output.json) output.out(JSON.stringify(collections, null, 2));
      else if (collections.length === 0) output.out('There are no collections. Create one with "soberana knowledge create NAME", or add documents with "soberana knowledge ingest <files> --collection NAME --create".');
      else
        table(
          output,
          ['NAME', 'DOCUMENTS', 'PAGES', 'PASSAGES', 'SEARCH', 'EMBEDDING MODEL'],
          collections.map((c) => [
            `${c.name}${c.readOnly ? ' (read-only)' : ''}`,
            `${c.documents}${c.failed > 0 ? ` (${c.failed} failed)` : ''}${c.pending > 0 ? ` (${c.pending} pending)` : ''}`,
            String(c.pages),
            String(c.chunks),
            searchMode(c.search),
            c.embeddingModelName ?? (c.embeddingModelId === null ? '-' : `missing (${c.embeddingModelId})`),
          ]),
        );
      return EXIT.ok;
    });
  },
};

export const knowledgeCreate: Command = {
  summary: 'Create a document collection',
  help: `Usage: soberana knowledge create NAME [--embedding-model ID|NAME|none] [--json]

Creates an empty collection; add documents with "soberana knowledge ingest".

Options:
  --embedding-model M  The embedding model whose vectors search the collection by
                       meaning as well as words: an id, a unique prefix of it, or a
                       name. "none" searches by words only. Default: the library's
                       default embedding model, else none.

Exit codes: 0 created, 1 the name is taken or the model cannot be used, 2 bad usage.`,
  options: { 'embedding-model': { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run({ dataDir, output, values, positionals }) {
    const name = positionals[0]!.trim();
    if (name === '') throw new UsageError('The collection needs a name.');
    return withCore(dataDir, output, async (core) => {
      const model = embeddingChoice(core, values);
      // Without --embedding-model the service picks the default embedding model, if any.
      await startEngineIfUseful(core, model !== null);
      const created = await core.knowledge.createCollection(name, model);
      if (output.json) output.out(JSON.stringify(created, null, 2));
      else output.out(`created  “${created.name}”  ${searchMode(created.search)}${created.embeddingModelName === null ? '' : ` with ${created.embeddingModelName}`}`);
      return EXIT.ok;
    });
  },
};

/** Progress on stderr: a bar redrawn in place on a terminal, otherwise a line every 10%. */
function ingestPrinter(json: boolean) {
  const tty = process.stderr.isTTY === true;
  let lastTenth = -1;
  let drawn = false;
  const clear = () => {
    if (drawn) process.stderr.write('\r\x1b[2K');
    drawn = false;
  };
  return {
    /** Lines that must not be overwritten by the bar (failures). */
    line(text: string) {
      clear();
      process.stderr.write(`${text}\n`);
    },
    update(progress: IngestProgress) {
      const finished = progress.done + progress.failed + progress.skipped;
      const rate = progress.pagesPerSecond > 0 ? `${progress.pagesPerSecond.toFixed(1)} pages/s` : '-- pages/s';
      if (tty) {
        const columns = process.stderr.columns > 0 ? process.stderr.columns : 80;
        const width = Math.max(10, Math.min(30, columns - 60));
        const filled = Math.round(progress.progress * width);
        const current = progress.files.find((file) => file.state === 'extracting' || file.state === 'embedding' || file.state === 'indexing')?.name ?? '';
        const text = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(progress.progress * 100).toFixed(0).padStart(3)}%  ${finished}/${progress.total} files  ${rate}  ${formatSeconds(progress.etaSeconds)} left  ${current}`;
        // One line, never wrapped: a wrapped line cannot be redrawn in place.
        process.stderr.write(`\r\x1b[2K${text.slice(0, columns - 1)}`);
        drawn = true;
      } else if (!json) {
        const tenth = Math.floor(progress.progress * 10);
        if (tenth > lastTenth && progress.total > 0) {
          lastTenth = tenth;
          process.stderr.write(`progress: ${tenth * 10}%, ${finished} of ${progress.total} files, ${progress.pages} pages, ${rate}\n`);
        }
      }
    },
    done: clear,
  };
}

interface IngestReport {
  readonly path: string;
  readonly state: IngestFile['state'] | 'missing' | 'unsupported';
  readonly pages: number | null;
  readonly error: { readonly reason: string; readonly message: string } | null;
}

export const knowledgeIngest: Command = {
  summary: 'Add files and folders to a collection, with progress',
  help: `Usage: soberana knowledge ingest <files or folders…> --collection NAME [--create]
       [--embedding-model ID|NAME|none] [--json]

Adds documents (PDF, Word .docx, HTML, Markdown, text, CSV) to a collection; folders are
walked. Each file is copied into the app's data folder, read, split into passages and
indexed, exactly as when documents are added in the app. Files already in the collection
and unchanged are skipped. Progress goes to stderr: a bar on a terminal, a line every
10% otherwise. Each failed file is printed with its reason, then a summary.

Options:
  --collection NAME    The collection to add to
  --create             Create the collection if there is none by that name
  --embedding-model M  With --create: the new collection's embedding model (see
                       "soberana knowledge create --help"); "none" for words only

Ctrl-C cancels: queued files are dropped and the file being read is undone.

Exit codes: 0 every file was added or unchanged, 1 a file failed, was missing or not a
document, the run was cancelled, or the collection does not exist, 2 bad usage.`,
  options: { collection: { type: 'string' }, create: { type: 'boolean', default: false }, 'embedding-model': { type: 'string' } },
  positionals: { min: 1, max: 10_000 },
  async run({ dataDir, output, values, positionals, signal }) {
    const name = typeof values.collection === 'string' ? values.collection.trim() : '';
    if (name === '') throw new UsageError('--collection needs the name of a collection.');
    if (values['embedding-model'] !== undefined && values.create !== true) throw new UsageError('--embedding-model only applies with --create.');
    const started = performance.now();
    return withCore(dataDir, output, async (core) => {
      const existing = core.knowledge.collections().find((collection) => collection.name.toLowerCase() === name.toLowerCase());
      let collection: Collection;
      if (existing !== undefined) {
        collection = existing;
        // Changing the model of a collection re-indexes all of it: too much to do as a side effect.
        if (values['embedding-model'] !== undefined) output.err(`“${existing.name}” already exists; --embedding-model applies only to a new collection and was ignored.`);
      } else if (values.create === true) {
        const model = embeddingChoice(core, values);
        await startEngineIfUseful(core, model !== null);
        collection = await core.knowledge.createCollection(name, model);
        if (!output.json) output.err(`created  “${collection.name}”  ${searchMode(collection.search)}${collection.embeddingModelName === null ? '' : ` with ${collection.embeddingModelName}`}`);
      } else {
        const missing = missingCollection(core, name);
        throw new AppError('not_found', `${missing.message} Pass --create to create it.`, missing.details);
      }
      await startEngineIfUseful(core, collection.search === 'hybrid');

      const printer = ingestPrinter(output.json);
      const reports = new Map<string, IngestReport>();
      const fail = (report: IngestReport) => {
        reports.set(report.path, report);
        if (!output.json) printer.line(`failed   ${report.path}\n  ${report.error?.reason ?? 'error'}: ${report.error?.message ?? ''}`);
      };

      // Paths as the service stores them, so a second run recognises unchanged files.
      const paths: string[] = [];
      for (const given of positionals) {
        const full = path.resolve(given);
        const info = await stat(full).catch(() => null);
        if (info === null) fail({ path: full, state: 'missing', pages: null, error: { reason: 'missing', message: 'There is no such file or folder.' } });
        else if (info.isFile() && !isDocumentName(full)) {
          fail({ path: full, state: 'unsupported', pages: null, error: { reason: 'unsupported', message: 'Soberana reads PDF, Word (.docx), HTML, Markdown, text and CSV files; this name does not look like one.' } });
        } else paths.push(full);
      }
      const track = (progress: IngestProgress) => {
        // Documents of this collection that the last run left unfinished are resumed in this run, and count in it.
        for (const file of progress.files) {
          if (file.collectionId !== collection.id) continue;
          const before = reports.get(file.path);
          if (before?.state === file.state) continue;
          const report: IngestReport = { path: file.path, state: file.state, pages: file.pages, error: file.error };
          if (file.state === 'failed') fail(report);
          else reports.set(file.path, report);
        }
        printer.update(progress);
      };
      const unsubscribe = core.bus.on('knowledge.ingestProgress', track);
      const cancel = () => core.knowledge.queue.cancel();
      signal.addEventListener('abort', cancel, { once: true });
      let queued = 0;
      try {
        if (paths.length > 0 && !signal.aborted) queued = (await core.knowledge.addPaths(collection.id, paths)).queued;
        // Ctrl-C while the folders were walked came before there was anything to cancel.
        if (signal.aborted) cancel();
        await core.knowledge.idle();
        track(core.knowledge.queue.progress());
      } finally {
        signal.removeEventListener('abort', cancel);
        unsubscribe();
        printer.done();
      }

      const all = [...reports.values()];
      const count = (...states: IngestReport['state'][]) => all.filter((report) => states.includes(report.state)).length;
      const failures = all.filter((report) => report.state === 'failed' || report.state === 'missing' || report.state === 'unsupported');
      const summary = {
        collection: core.knowledge.collectionByName(collection.name),
        added: count('done'),
        unchanged: count('skipped'),
        failed: failures.length,
        cancelled: count('cancelled', 'queued', 'extracting', 'embedding', 'indexing'),
        pages: all.reduce((sum, report) => sum + (report.state === 'done' ? (report.pages ?? 0) : 0), 0),
        seconds: (performance.now() - started) / 1000,
        files: all,
      };
      if (output.json) output.out(JSON.stringify(summary, null, 2));
      else {
        if (queued === 0 && failures.length === 0 && !signal.aborted) output.err('No documents were found there (PDF, .docx, HTML, Markdown, text or CSV).');
        output.out(
          `added ${summary.added}, unchanged ${summary.unchanged}, failed ${summary.failed}${summary.cancelled > 0 ? `, cancelled ${summary.cancelled}` : ''}` +
            ` — ${summary.pages} pages in ${summary.seconds.toFixed(1)} s into “${collection.name}”`,
        );
        if (signal.aborted) output.err('Cancelled. Files not finished were not added.');
      }
      return failures.length > 0 || summary.cancelled > 0 || signal.aborted || (queued === 0 && all.length === 0) ? EXIT.problem : EXIT.ok;
    });
  },
};

/** Bold query words on a terminal; plain text when piped. */
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
      await startEngineIfUseful(core, collections.some((collection) => collection.search === 'hybrid'));
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
        const conversation = unwrap(await handlers['chat.update']({ id: created.id, knowledge: { collectionIds: collections.map((c) => c.id), documentsOnly } }, ctx));
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
          output.out(JSON.stringify({ conversationId: conversation.id, answer: answer.content, status: answer.status, mode, notices, sources: sources.map((source, index) => ({ n: index + 1, ...source })) }, null, 2));
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


export const knowledgeExport: Command = {
  summary: 'Export a collection as a knowledge pack folder',
  help: `Usage: soberana knowledge export --collection NAME --out DIR [--json]

Writes the collection's indexed documents to a new folder: pack.json, documents.jsonl,
chunks.jsonl (the passages with their vectors) and files/ (the documents). Another
Soberana imports the pack without reading or embedding the documents again; it needs
the same embedding model, which pack.json names by SHA-256. Documents still being added
or that failed are left out. Progress goes to stderr, a summary to stdout.

The pack is written next to DIR first and moved into place when complete, so DIR is
never a half-written pack. An existing DIR must be empty: nothing is overwritten.

Options:
  --collection NAME  The collection to export
  --out DIR          The new folder for the pack

Exit codes: 0 exported, 1 no such collection, DIR is not empty, or the export failed,
2 bad usage.`,
  options: { collection: { type: 'string' }, out: { type: 'string' } },
  async run({ dataDir, output, values }) {
    const name = typeof values.collection === 'string' ? values.collection.trim() : '';
    if (name === '') throw new UsageError('--collection needs the name of a collection.');
    const out = typeof values.out === 'string' ? values.out.trim() : '';
    if (out === '') throw new UsageError('--out needs the folder to write the pack to.');
    return withCore(dataDir, output, async (core) => {
      const collection = findCollection(core, name);
      let lastTenth = -1;
      const progress = (p: PackProgress) => {
        if (output.json || p.total === 0) return;
        if (process.stderr.isTTY === true) {
          process.stderr.write(`\r\x1b[2Kexporting  ${p.done}/${p.total} documents`);
          return;
        }
        const tenth = Math.floor((p.done / p.total) * 10);
        if (tenth > lastTenth) {
          lastTenth = tenth;
          process.stderr.write(`progress: ${tenth * 10}%, ${p.done} of ${p.total} documents\n`);
        }
      };
      const summary = await core.knowledge.exportPack(collection.id, path.resolve(out), progress);
      if (!output.json && process.stderr.isTTY === true) process.stderr.write('\r\x1b[2K');
      if (output.json) output.out(JSON.stringify(summary, null, 2));
      else {
        const left = collection.documents - summary.documents;
        output.out(
          `exported “${summary.collection}”: ${summary.documents} documents, ${summary.chunks} passages, ${formatBytes(summary.bytes)} of files` +
            ` (${summary.embedding === null ? 'words only' : `vectors of ${summary.embedding.modelName ?? 'an embedding model'}, sha256 ${summary.embedding.sha256.slice(0, 12)}…`}) to ${summary.dir}`,
        );
        if (left > 0) output.err(`${left} document${left === 1 ? ' was' : 's were'} left out: not indexed (failed or still being added).`);
      }
      return EXIT.ok;
    });
  },
};
