import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Collection, IngestProgress } from '../common/contract/index.ts';
import { AppError } from '../common/result.ts';
import { isDocumentName } from '../main/services/knowledge/ingestion/files.ts';
import type { SettledFile } from '../main/services/knowledge/ingestion/ingest.ts';
import { UsageError, type Command } from './command.ts';
import { EXIT } from './exit-codes.ts';
import { embeddingChoice, missingCollection, searchMode, startEngineIfUseful, withCore } from './knowledge-common.ts';
import { formatSeconds } from './models.ts';

// `soberana knowledge ingest`: files and folders into a collection, with progress.

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

/** What happened to one file; `skipped` is a file in a folder that Soberana cannot read, listed in the collection. */
interface IngestReport {
  readonly path: string;
  readonly state: SettledFile['outcome'] | 'missing' | 'unsupported' | 'skipped';
  readonly pages: number | null;
  readonly error: { readonly reason: string; readonly message: string } | null;
}

export const knowledgeIngest: Command = {
  summary: 'Add files and folders to a collection, with progress',
  help: `Usage: soberana knowledge ingest <files or folders…> --collection NAME [--create]
       [--embedding-model ID|NAME|none] [--json]

Adds documents (PDF, Word .docx, HTML, Markdown, text, CSV, and scans: PNG, JPEG and TIFF
images and scanned PDF pages, read by OCR) to a collection; folders are walked. Each file is
copied into the app's data folder, read, split into passages and indexed, exactly as when documents are added in the app. Files already in the collection
and unchanged are counted as unchanged. Other files in the folders are listed in the
collection as skipped, with the reason. Progress goes to stderr: a bar on a terminal, a
line every 10% otherwise. Each failed or skipped file is printed with its reason, then a
summary.

Options:
  --collection NAME    The collection to add to
  --create             Create the collection if there is none by that name
  --embedding-model M  With --create: the new collection's embedding model (see
                       "soberana knowledge create --help"); "none" for words only

Ctrl-C cancels: queued files are dropped and the file being read is undone.

Exit codes: 0 every document was added or unchanged (skipped files do not count), 1 a file failed, was missing or not a
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
        if (values['embedding-model'] !== undefined)
          output.err(`“${existing.name}” already exists; --embedding-model applies only to a new collection and was ignored.`);
      } else if (values.create === true) {
        const model = embeddingChoice(core, values);
        await startEngineIfUseful(core, model !== null);
        collection = await core.knowledge.createCollection(name, model);
        if (!output.json)
          output.err(
            `created  “${collection.name}”  ${searchMode(collection.search)}${collection.embeddingModelName === null ? '' : ` with ${collection.embeddingModelName}`}`,
          );
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
          fail({
            path: full,
            state: 'unsupported',
            pages: null,
            error: {
              reason: 'unsupported',
              message: 'Soberana reads PDF, Word (.docx), HTML, Markdown, text and CSV files; this name does not look like one.',
            },
          });
        } else paths.push(full);
      }
      // Each file's outcome as the queue reports it, once per file, however many there are.
      // Documents of this collection that the last run left unfinished are resumed in this run, and count in it.
      const unsettle = core.knowledge.queue.onSettled((file) => {
        if (file.collectionId !== collection.id) return;
        const report: IngestReport = { path: file.path, state: file.outcome, pages: file.pages, error: file.error };
        if (file.outcome === 'failed') fail(report);
        else reports.set(file.path, report);
      });
      const unsubscribe = core.bus.on('knowledge.ingestProgress', (progress) => printer.update(progress));
      const cancel = () => core.knowledge.queue.cancel();
      signal.addEventListener('abort', cancel, { once: true });
      let queued = 0;
      try {
        if (paths.length > 0 && !signal.aborted) {
          const added = await core.knowledge.addPaths(collection.id, paths);
          queued = added.queued;
          for (const file of added.skipped) {
            reports.set(file.path, { path: file.path, state: 'skipped', pages: null, error: { reason: file.reason, message: file.message } });
            if (!output.json) printer.line(`skipped  ${file.path}\n  ${file.reason}: ${file.message}`);
          }
        }
        // Ctrl-C while the folders were walked came before there was anything to cancel.
        if (signal.aborted) cancel();
        await core.knowledge.idle();
        printer.update(core.knowledge.queue.progress());
      } finally {
        signal.removeEventListener('abort', cancel);
        unsettle();
        unsubscribe();
        printer.done();
      }

      const all = [...reports.values()];
      const count = (...states: IngestReport['state'][]) => all.filter((report) => states.includes(report.state)).length;
      const failures = all.filter((report) => report.state === 'failed' || report.state === 'missing' || report.state === 'unsupported');
      const summary = {
        collection: core.knowledge.collectionByName(collection.name),
        added: count('added'),
        unchanged: count('unchanged'),
        failed: failures.length,
        skipped: count('skipped'),
        cancelled: count('cancelled'),
        pages: all.reduce((sum, report) => sum + (report.state === 'added' ? (report.pages ?? 0) : 0), 0),
        seconds: (performance.now() - started) / 1000,
        files: all,
      };
      if (output.json) output.out(JSON.stringify(summary, null, 2));
      else {
        if (queued === 0 && failures.length === 0 && summary.skipped === 0 && !signal.aborted)
          output.err('No documents were found there (PDF, .docx, HTML, Markdown, text or CSV).');
        output.out(
          `added ${summary.added}, unchanged ${summary.unchanged}, failed ${summary.failed}${summary.skipped > 0 ? `, skipped ${summary.skipped}` : ''}${summary.cancelled > 0 ? `, cancelled ${summary.cancelled}` : ''}` +
            ` — ${summary.pages} pages in ${summary.seconds.toFixed(1)} s into “${collection.name}”`,
        );
        if (signal.aborted) output.err('Cancelled. Files not finished were not added.');
      }
      return failures.length > 0 || summary.cancelled > 0 || signal.aborted || (queued === 0 && all.length === 0) ? EXIT.problem : EXIT.ok;
    });
  },
};

/** Bold query words on a terminal; plain text when piped. */
