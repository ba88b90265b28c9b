import path from 'node:path';
import type { PackProgress } from '../main/services/knowledge/pack.ts';
import { UsageError, type Command } from './command.ts';
import { EXIT } from './exit-codes.ts';
import { embeddingChoice, findCollection, searchMode, startEngineIfUseful, table, withCore } from './knowledge-common.ts';
import { formatBytes } from './models.ts';

// `soberana knowledge collections | create | export`: the collections themselves.

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
      else if (collections.length === 0)
        output.out(
          'There are no collections. Create one with "soberana knowledge create NAME", or add documents with "soberana knowledge ingest <files> --collection NAME --create".',
        );
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
      else
        output.out(
          `created  “${created.name}”  ${searchMode(created.search)}${created.embeddingModelName === null ? '' : ` with ${created.embeddingModelName}`}`,
        );
      return EXIT.ok;
    });
  },
};

/** Progress on stderr: a bar redrawn in place on a terminal, otherwise a line every 10%. */

export const knowledgeExport: Command = {
  summary: 'Export a collection as a knowledge pack folder',
  help: `Usage: soberana knowledge export --collection NAME --out DIR [--checks FILE] [--json]

Writes the collection's indexed documents to a new folder: pack.json, documents.jsonl,
chunks.jsonl (the passages with their vectors) and files/ (the documents). Another
Soberana imports the pack without reading or embedding the documents again; it needs
the same embedding model, which pack.json names by SHA-256. Documents still being added
or that failed are left out. Progress goes to stderr, a summary to stdout.

The pack is written next to DIR first and moved into place when complete, so DIR is
never a half-written pack. An existing DIR must be empty: nothing is overwritten.

With --checks, the pack carries acceptance checks (checks.json): a JSON array of
{ "id", "question", "expect": { "document": NAME or SHA-256, "page"?: N },
"answerPhrases"?: [...] }, at most 1000. Each expected document must be one the pack
holds. The machine that installs the pack runs them and shows the result.

Options:
  --collection NAME  The collection to export
  --out DIR          The new folder for the pack
  --checks FILE      Acceptance checks to carry (see docs/bundles.md)

Exit codes: 0 exported, 1 no such collection, DIR is not empty, or the export failed,
2 bad usage.`,
  options: { collection: { type: 'string' }, out: { type: 'string' }, checks: { type: 'string' } },
  async run({ dataDir, output, values }) {
    const name = typeof values.collection === 'string' ? values.collection.trim() : '';
    if (name === '') throw new UsageError('--collection needs the name of a collection.');
    const out = typeof values.out === 'string' ? values.out.trim() : '';
    if (out === '') throw new UsageError('--out needs the folder to write the pack to.');
    const checks = typeof values.checks === 'string' ? values.checks.trim() : undefined;
    if (checks === '') throw new UsageError('--checks needs the file that holds the checks.');
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
      const summary = await core.knowledge.exportPack(collection.id, path.resolve(out), progress, checks === undefined ? {} : { checks: path.resolve(checks) });
      if (!output.json && process.stderr.isTTY === true) process.stderr.write('\r\x1b[2K');
      if (output.json) output.out(JSON.stringify(summary, null, 2));
      else {
        const left = collection.documents - summary.documents;
        output.out(
          `exported “${summary.collection}”: ${summary.documents} documents, ${summary.chunks} passages, ${formatBytes(summary.bytes)} of files` +
            ` (${summary.embedding === null ? 'words only' : `vectors of ${summary.embedding.modelName ?? 'an embedding model'}, sha256 ${summary.embedding.sha256.slice(0, 12)}…`})` +
            `${summary.checks > 0 ? `, ${summary.checks} acceptance check${summary.checks === 1 ? '' : 's'}` : ''} to ${summary.dir}`,
        );
        if (left > 0) output.err(`${left} document${left === 1 ? ' was' : 's were'} left out: not indexed (failed or still being added).`);
      }
      return EXIT.ok;
    });
  },
};
