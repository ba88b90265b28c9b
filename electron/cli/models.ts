import { AppError } from '../common/result.ts';
import { openContext } from '../main/services/domain/context.ts';
import { cleanupPartialImports, getModel, IMPORT_MODES, libraryDirFor, listModels, scanModels } from '../main/services/models/index.ts';
import { createModelService, type ModelService } from '../main/services/models/service.ts';
import type { ByteProgress, ImportMode, ModelRecord } from '../main/services/models/index.ts';
import { openDatabase, type Database } from '../main/services/storage/sqlite.ts';
import { UsageError, type Command } from './command.ts';
import { EXIT } from './exit-codes.ts';
import type { Output } from './output.ts';

// The model library from the command line. These commands never need the inference
// process, so they do not start it. Reads open the database directly; changes go through
// the same governed model service as the app, so the policy and the audit log apply.

function withDatabase<T>(dataDir: string, run: (db: Database) => Promise<T>): Promise<T> {
  const db = openDatabase(dataDir);
  return run(db).finally(() => db.close());
}

async function withModelService<T>(dataDir: string, run: (service: ModelService, db: Database) => Promise<T>): Promise<T> {
  const context = await openContext({ dataDir, log: (level, message) => level === 'error' && process.stderr.write(`[soberana] ${message}\n`) });
  try {
    const service = createModelService({ db: context.storage, libraryDir: libraryDirFor(dataDir), gate: context.gate, emit: context.emit });
    return await run(service, context.storage);
  } finally {
    context.close();
  }
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${UNITS[unit]}`;
}

/** Seconds left, as a person reads them on a progress line: 42s, 3m07s, 1h05m. */
export function formatSeconds(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--';
  const s = Math.ceil(seconds);
  return s < 60
    ? `${s}s`
    : s < 3600
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Progress on stderr: a bar redrawn in place on a terminal; otherwise a plain line every
 * 10%, so that logs stay readable. Nothing in --json mode unless stderr is a terminal.
 */
function progressPrinter(label: string, json: boolean): { update: (progress: ByteProgress) => void; done: () => void } {
  const tty = process.stderr.isTTY === true;
  let lastTenth = -1;
  let drawn = false;
  return {
    update(progress) {
      const fraction = progress.bytesTotal === 0 ? 1 : progress.bytesDone / progress.bytesTotal;
      const speed = progress.bytesPerSecond > 0 ? `${formatBytes(progress.bytesPerSecond)}/s` : '--';
      if (tty) {
        // Some terminals (and `script`) report 0 columns.
        const columns = process.stderr.columns > 0 ? process.stderr.columns : 80;
        const width = Math.max(10, Math.min(40, columns - 50));
        const filled = Math.round(fraction * width);
        const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
        const line = `${bar} ${(fraction * 100).toFixed(0).padStart(3)}%  ${speed.padStart(12)}  ${formatSeconds(progress.secondsLeft).padStart(6)} left  ${label}`;
        // One line, never wrapped: a wrapped line cannot be redrawn in place.
        process.stderr.write(`\r\x1b[2K${line.slice(0, columns - 1)}`);
        drawn = true;
      } else if (!json) {
        const tenth = Math.floor(fraction * 10);
        if (tenth > lastTenth) {
          lastTenth = tenth;
          const rate = progress.bytesPerSecond > 0 && fraction < 1 ? `, ${speed}, ${formatSeconds(progress.secondsLeft)} left` : '';
          process.stderr.write(`${label}: ${tenth * 10}% of ${formatBytes(progress.bytesTotal)}${rate}\n`);
        }
      }
    },
    done() {
      if (drawn) process.stderr.write('\r\x1b[2K');
    },
  };
}

/** An id, or a unique prefix of at least four characters (ids are long to type). */
function resolveId(db: Database, given: string): string {
  if (given.length >= 4) {
    const matches = listModels(db).filter((model) => model.id === given || model.id.startsWith(given));
    if (matches.length === 1) return matches[0]!.id;
    if (matches.length > 1) throw new AppError('bad_request', `"${given}" matches ${matches.length} models; give more of the id.`);
  }
  throw new AppError('not_found', `No model in the library has the id "${given}". Run "soberana models list" to see them.`);
}

function reportError(output: Output, error: unknown): number {
  if (!(error instanceof AppError)) throw error;
  if (output.json) output.out(JSON.stringify({ error: error.toData() }, null, 2));
  else output.err(`${error.message}${error.details === undefined ? '' : `\n  ${error.details}`}`);
  return EXIT.problem;
}

function describe(model: ModelRecord): string {
  const f = model.facts;
  const defaults = [model.isDefaultChat ? 'default chat model' : '', model.isDefaultEmbedding ? 'default embedding model' : ''].filter(Boolean).join(', ');
  const provenance = model.provenance;
  return [
    `${model.displayName}  (${model.id})`,
    `  role            ${model.role}${defaults === '' ? '' : ` (${defaults})`}`,
    `  status          ${model.status} (checked ${model.checkedAt})`,
    `  architecture    ${f.architecture}`,
    `  parameters      ${f.parameterCount.toLocaleString('en-US')}`,
    `  quantization    ${f.quantization}`,
    `  context length  ${f.contextLength}`,
    `  layers          ${f.layerCount}`,
    `  embedding       ${f.embeddingLength}`,
    `  vocabulary      ${f.vocabularySize ?? '-'}`,
    `  size            ${formatBytes(model.sizeBytes)} (${model.sizeBytes.toLocaleString('en-US')} bytes)`,
    `  sha256          ${model.sha256}`,
    `  import          ${model.importMode} from ${model.origin}, ${model.importedAt}`,
    `  source          ${model.sourcePath}`,
    ...model.files.map((file, i) => `  ${i === 0 ? 'files          ' : '               '} ${file}`),
    `  license         ${model.license ?? '-'}`,
    `  provenance      ${
      provenance === null
        ? '-'
        : Object.entries(provenance)
            .filter(([, v]) => v !== null)
            .map(([k, v]) => `${k}: ${String(v)}`)
            .join('; ')
    }`,
    `  bundle          ${model.verifiedByBundle ?? '-'}`,
    `  load settings   ${model.loadSettings === null ? 'app defaults' : JSON.stringify(model.loadSettings)}`,
    `  chat template   ${
      model.chatTemplate === null
        ? '-'
        : `\n${model.chatTemplate
            .split('\n')
            .map((line) => `    ${line}`)
            .join('\n')}`
    }`,
  ].join('\n');
}

export const modelsImport: Command = {
  summary: 'Import a GGUF file, split files, or an LM Studio or Ollama folder',
  help: `Usage: soberana models import <path> [--mode copy|link|reference] [--json]

Finds the models at <path> (a .gguf file, a folder searched recursively, split files
named *-00001-of-0000N.gguf, LM Studio's models folder or Ollama's model store), checks
each file with the GGUF validator, and adds it to the library.

Modes:
  copy       Copy into the library (default). Progress, then an fsync and a rename.
  link       Hard-link into the library; the file must be on the same drive.
  reference  Leave the file where it is; it is re-checked before each load.

The SHA-256 of every file is computed while it is read and stored; a model already in
the library is refused. Ctrl-C cancels and leaves nothing behind.

Exit codes: 0 every model found was imported, 1 something was refused, missing or
cancelled, or nothing was found, 2 bad usage, 3 internal error.`,
  options: { mode: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run({ dataDir, output, values, positionals, signal }) {
    const modeValue = values.mode ?? 'copy';
    if (typeof modeValue !== 'string' || !(IMPORT_MODES as readonly string[]).includes(modeValue))
      throw new UsageError('--mode takes copy, link or reference.');
    const mode = modeValue as ImportMode;
    return withModelService(dataDir, async (service, db) => {
      const library = libraryDirFor(dataDir);
      await cleanupPartialImports(library, db);
      let scan;
      try {
        scan = await scanModels(positionals[0]!, { signal });
      } catch (error) {
        return reportError(output, error);
      }
      const imported: ModelRecord[] = [];
      const refused: { path: string; name: string; error: ReturnType<AppError['toData']> }[] = [];
      for (const candidate of scan.candidates) {
        const printer = progressPrinter(candidate.displayName, output.json);
        try {
          const record = await service.import(candidate, { mode, signal, onProgress: (p) => p.phase !== 'checking' && printer.update(p) });
          printer.done();
          imported.push(record);
          if (!output.json)
            output.out(
              `imported  ${record.id}  ${record.displayName}  ${record.role}  ${formatBytes(record.sizeBytes)}  ${record.facts.quantization}  (${mode})`,
            );
        } catch (error) {
          printer.done();
          if (!(error instanceof AppError)) throw error;
          refused.push({ path: candidate.sourcePath, name: candidate.displayName, error: error.toData() });
          if (!output.json) output.err(`refused   ${candidate.sourcePath}\n  ${error.message}${error.details === undefined ? '' : `\n  ${error.details}`}`);
          if (error.code === 'cancelled') break;
        }
      }
      if (output.json) {
        output.out(JSON.stringify({ imported, refused, problems: scan.problems, skipped: scan.skipped, truncated: scan.truncated }, null, 2));
      } else {
        for (const problem of scan.problems) output.err(`problem   ${problem.path}\n  ${problem.message}`);
        for (const skip of scan.skipped) output.err(`skipped   ${skip.path}\n  ${skip.message}`);
        if (scan.truncated) output.err('The search stopped early: the folder is very large or deep. Point at the folder that holds the models.');
        if (scan.candidates.length === 0 && scan.problems.length === 0) output.err('No model files (.gguf, LM Studio or Ollama folders) were found there.');
      }
      return refused.length > 0 || scan.problems.length > 0 || imported.length === 0 ? EXIT.problem : EXIT.ok;
    });
  },
};

export const modelsList: Command = {
  summary: 'List the models in the library',
  help: `Usage: soberana models list [--json]

One line per model: id, status, role, size, quantization, context length, import mode
and name. A * marks the default chat or embedding model.`,
  async run({ dataDir, output }) {
    return withDatabase(dataDir, async (db) => {
      const models = listModels(db);
      if (output.json) {
        output.out(JSON.stringify(models, null, 2));
      } else if (models.length === 0) {
        output.out('The library is empty. Import a model with "soberana models import <file or folder>".');
      } else {
        const rows = models.map((m) => [
          m.id,
          m.status,
          `${m.role}${m.isDefaultChat || m.isDefaultEmbedding ? '*' : ''}`,
          formatBytes(m.sizeBytes),
          m.facts.quantization,
          String(m.facts.contextLength),
          m.importMode,
          m.displayName,
        ]);
        const header = ['ID', 'STATUS', 'ROLE', 'SIZE', 'QUANT', 'CONTEXT', 'MODE', 'NAME'];
        const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
        for (const row of [header, ...rows]) output.out(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
      }
      return EXIT.ok;
    });
  },
};

export const modelsInspect: Command = {
  summary: 'Show everything the library knows about a model',
  help: `Usage: soberana models inspect <id> [--json]

Prints the model's facts from its GGUF header, its hash, where it came from, its
licence and provenance when the file names them, and its chat template. <id> may be a
unique prefix of at least four characters.`,
  positionals: { min: 1, max: 1 },
  async run({ dataDir, output, positionals }) {
    return withDatabase(dataDir, async (db) => {
      try {
        const model = getModel(db, resolveId(db, positionals[0]!));
        output.out(output.json ? JSON.stringify(model, null, 2) : describe(model));
        return EXIT.ok;
      } catch (error) {
        return reportError(output, error);
      }
    });
  },
};

export const modelsVerify: Command = {
  summary: "Re-hash a model's files and compare with the recorded SHA-256",
  help: `Usage: soberana models verify <id> [--json]

Reads every file of the model again and compares its SHA-256 with the one recorded at
import. The model's status becomes ok, changed or missing.

Exit codes: 0 ok, 1 changed, missing or cancelled, 2 bad usage, 3 internal error.`,
  positionals: { min: 1, max: 1 },
  async run({ dataDir, output, positionals, signal }) {
    return withModelService(dataDir, async (service, db) => {
      try {
        const id = resolveId(db, positionals[0]!);
        const printer = progressPrinter(getModel(db, id).displayName, output.json);
        const model = await service.verify(id, { signal, onProgress: (p) => printer.update(p) }).finally(() => printer.done());
        if (output.json) output.out(JSON.stringify({ id: model.id, status: model.status, sha256: model.sha256, checkedAt: model.checkedAt }, null, 2));
        else
          output.out(
            model.status === 'ok'
              ? `ok       ${model.displayName}: SHA-256 ${model.sha256} matches`
              : model.status === 'missing'
                ? `missing  ${model.displayName}: a file is gone (${model.files.join(', ')})`
                : `changed  ${model.displayName}: the contents no longer match the SHA-256 recorded at import`,
          );
        return model.status === 'ok' ? EXIT.ok : EXIT.problem;
      } catch (error) {
        return reportError(output, error);
      }
    });
  },
};

export const modelsRemove: Command = {
  summary: 'Remove a model from the library',
  help: `Usage: soberana models remove <id> [--json]

Removes the model from the library and deletes the files the library owns (copied or
linked into it). Files imported by reference are never deleted.`,
  positionals: { min: 1, max: 1 },
  async run({ dataDir, output, positionals }) {
    return withModelService(dataDir, async (service, db) => {
      try {
        const removed = await service.remove(resolveId(db, positionals[0]!));
        if (output.json) output.out(JSON.stringify({ id: removed.record.id, name: removed.record.displayName, deletedFolder: removed.deletedFolder }, null, 2));
        else
          output.out(
            `removed  ${removed.record.displayName} (${removed.record.id})${removed.deletedFolder === null ? `; its file was left in place: ${removed.record.files.join(', ')}` : ''}`,
          );
        return EXIT.ok;
      } catch (error) {
        return reportError(output, error);
      }
    });
  },
};
