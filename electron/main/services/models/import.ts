import { link, mkdir, realpath, rename, rm, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { AppError } from '../../../common/result.ts';
import { checkGgufFile } from '../gguf/index.ts';
import type { ModelFacts } from '../gguf/index.ts';
import type { Database } from '../storage/sqlite.ts';
import { IMPORT_LOCK, markImporting, modelFolder, newModelId, PARTIAL_SUFFIX, syncDirectory, unmarkImporting, writeImportLock } from './library.ts';
import { integerOf, readGgufMetadata, stringOf } from './metadata.ts';
import type { GgufMetadata } from './metadata.ts';
import { duplicateError, findModelBySha256, insertModel, MAX_NAME_LENGTH } from './registry.ts';
import type { FileStamp } from './registry.ts';
import { startHasher } from './hash-worker.ts';
import type { Hasher } from './hash-worker.ts';
import { copyVerified } from './kernel-copy.ts';
import { ProgressMeter, throwIfCancelled } from './stream.ts';
import { IMPORT_MODES } from './types.ts';
import type { ByteProgress, ImportMode, ImportProgress, ModelCandidate, ModelProvenance, ModelRecord } from './types.ts';

export interface ImportOptions {
  readonly mode: ImportMode;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ImportProgress) => void;
  /** Overrides the candidate's suggested name. */
  readonly displayName?: string;
  /**
   * By reference only: the SHA-256 the caller has just verified for the candidate's one file,
   * which it wrote itself and owns (a bundle's installer hashes each payload as it stages it
   * and checks it against the signed manifest). The file is then not read a second time; its
   * size and time stamps are still checked, as for any import.
   */
  readonly verifiedSha256?: string;
}

/** Metadata keys read besides the validator's facts. */
const KEYS = {
  license: ['general.license', 'general.license.name'],
  author: ['general.author'],
  organization: ['general.organization'],
  url: ['general.url'],
  sourceUrl: ['general.source.url'],
  repository: ['general.source.repo_url', 'general.repo_url', 'general.source.huggingface.repository'],
  chatTemplate: ['tokenizer.chat_template'],
  split: ['split.no', 'split.count'],
} as const;
const WANTED: ReadonlySet<string> = new Set(Object.values(KEYS).flat());

function first(metadata: GgufMetadata, keys: readonly string[]): string | null {
  for (const key of keys) {
    const value = stringOf(metadata, key);
    if (value !== null) return value;
  }
  return null;
}

function provenanceOf(metadata: GgufMetadata): ModelProvenance | null {
  const provenance: ModelProvenance = {
    author: first(metadata, KEYS.author),
    organization: first(metadata, KEYS.organization),
    url: first(metadata, KEYS.url),
    sourceUrl: first(metadata, KEYS.sourceUrl),
    repository: first(metadata, KEYS.repository),
  };
  return Object.values(provenance).every((value) => value === null) ? null : provenance;
}

function rejected(message: string, details: string): AppError {
  return new AppError('rejected_file', message, details);
}

interface Checked {
  readonly facts: ModelFacts;
  readonly metadata: GgufMetadata;
}

/**
 * The gate before any byte is copied: the validator judges the file (or the first part,
 * which carries the metadata), and every other part must be a GGUF file numbered as that
 * part, because llama.cpp opens the siblings of the first part by name and number.
 */
async function checkFiles(sources: readonly string[], name: string): Promise<Checked> {
  const result = await checkGgufFile(sources[0]!);
  if (!result.ok) {
    const { code, message, offset } = result.rejection;
    throw rejected(message, `${code}${offset === undefined ? '' : ` at byte ${offset}`}: ${sources[0]!}`);
  }
  const head = await readGgufMetadata(sources[0]!, WANTED);
  if (!head.ok) throw rejected(`The header of ${name} could not be read: ${head.message}.`, sources[0]!);
  const count = integerOf(head.metadata, 'split.count');
  if (sources.length === 1) {
    if (count !== null && count > 1) {
      throw rejected(
        `This file is one part of a model split into ${count} files. Import all the parts together, from the folder that holds them.`,
        `split.count ${count}: ${sources[0]!}`,
      );
    }
    return { facts: result.facts, metadata: head.metadata };
  }
  if (count !== sources.length || (integerOf(head.metadata, 'split.no') ?? 0) !== 0) {
    throw rejected(`The first file of ${name} does not describe a model split into ${sources.length} parts.`, `split.count ${String(count)}: ${sources[0]!}`);
  }
  let parameterCount = head.metadata.parameterCount;
  let tensorCount = head.metadata.tensorCount;
  let fileSize = result.facts.fileSize;
  for (let i = 1; i < sources.length; i++) {
    const part = await readGgufMetadata(sources[i]!, WANTED);
    if (!part.ok) throw rejected(`Part ${i + 1} of ${name} is not a usable GGUF file: ${part.message}.`, sources[i]!);
    if (integerOf(part.metadata, 'split.no') !== i) throw rejected(`Part ${i + 1} of ${name} is not numbered as part ${i + 1} inside the file.`, sources[i]!);
    parameterCount += part.metadata.parameterCount;
    tensorCount += part.metadata.tensorCount;
    fileSize += (await stat(sources[i]!).catch((error: unknown) => Promise.reject(ioError(error)))).size;
  }
  // The validator saw the first part only; its counts describe the whole model here.
  return { facts: { ...result.facts, parameterCount, tensorCount, fileSize }, metadata: head.metadata };
}

/** File names inside the library must be plain names: no folders, no hidden files, nothing that looks like a leftover. */
function checkFileNames(candidate: ModelCandidate): void {
  const names = candidate.fileNames;
  const plain = (name: string) =>
    name.length > 0 &&
    name.length <= 255 &&
    name === path.basename(name) &&
    !name.startsWith('.') &&
    !name.includes('/') &&
    !name.includes('\\') &&
    !name.endsWith(PARTIAL_SUFFIX) &&
    name !== IMPORT_LOCK;
  if (
    names.length !== candidate.paths.length ||
    names.length === 0 ||
    !names.every(plain) ||
    new Set(names.map((n) => n.toLowerCase())).size !== names.length
  ) {
    throw new AppError('bad_request', 'The model files to import are not described correctly.', JSON.stringify(names));
  }
}

/** File names may hold line breaks and other control characters; a display name may not. */
function cleanName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const printable = name.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return printable.replace(/\s+/g, ' ').trim().slice(0, MAX_NAME_LENGTH).trim();
}

function stampOf(stats: Stats): FileStamp {
  return { size: stats.size, mtimeMs: stats.mtimeMs };
}

const sameStamp = (a: FileStamp, b: FileStamp) => a.size === b.size && a.mtimeMs === b.mtimeMs;

function linkError(error: unknown, source: string): AppError {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const why =
    code === 'EXDEV'
      ? 'the file is on a different drive from the library, and hard links only work within one drive'
      : code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP'
        ? 'the drive it is on does not support hard links'
        : code === 'EMLINK'
          ? 'the file already has as many links as the drive allows'
          : 'the system refused to create a hard link';
  return new AppError(
    'unavailable',
    `This model cannot be linked into the library: ${why}. Import it as a copy, or by reference.`,
    `${code || 'error'}: ${source}`,
  );
}

function ioError(error: unknown): AppError {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const message =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? 'The drive that holds the library is full. Free some space, or import the model by reference.'
      : code === 'ENOENT'
        ? 'A file of the model disappeared while it was being imported.'
        : code === 'EACCES' || code === 'EPERM'
          ? 'Soberana is not allowed to read the model file or to write to the library folder. Check the permissions.'
          : 'The model could not be imported.';
  return new AppError('io_error', message, error instanceof Error ? error.message : String(error));
}

/**
 * Imports one candidate. In order: the GGUF check (a refusal is `rejected_file` and
 * nothing is written); then the files are hashed (SHA-256) on a worker thread, and for a
 * copy, at the same time, copied by the kernel to `<id>/<name>.partial`, checked against
 * the source, fsynced and renamed (kernel-copy.ts); then the registry
 * row is inserted in one transaction. A duplicate hash (`bad_request`, existing id in
 * `details`), a cancel (`cancelled`) or any failure removes everything this import wrote.
 */
export async function importModel(db: Database, libraryDir: string, candidate: ModelCandidate, options: ImportOptions): Promise<ModelRecord> {
  const { mode, signal } = options;
  if (!IMPORT_MODES.includes(mode)) throw new AppError('bad_request', 'Choose copy, link or reference.', `mode ${String(mode)}`);
  checkFileNames(candidate);
  const displayName = cleanName(options.displayName ?? candidate.displayName) || cleanName(candidate.fileNames[0]!) || 'model';
  const sources = candidate.paths.map((source) => path.resolve(source));
  const report = (phase: ImportProgress['phase'], bytes: { bytesDone: number; bytesTotal: number; bytesPerSecond: number; secondsLeft: number | null }) =>
    options.onProgress?.({ phase, ...bytes });

  throwIfCancelled(signal);
  report('checking', { bytesDone: 0, bytesTotal: candidate.sizeBytes, bytesPerSecond: 0, secondsLeft: null });
  // The hashing thread starts while the files are checked; it reads nothing until they pass.
  const hasher = startHasher();
  try {
    return await importChecked(db, libraryDir, candidate, options, { displayName, sources, hasher, report });
  } finally {
    hasher.close();
  }
}

async function importChecked(
  db: Database,
  libraryDir: string,
  candidate: ModelCandidate,
  options: ImportOptions,
  context: { displayName: string; sources: string[]; hasher: Hasher; report: (phase: ImportProgress['phase'], bytes: ByteProgress) => void },
): Promise<ModelRecord> {
  const { mode, signal } = options;
  const { displayName, sources, hasher, report } = context;
  const checked = await checkFiles(sources, displayName);
  throwIfCancelled(signal);
  const before = await Promise.all(sources.map(async (source) => stampOf(await stat(source)))).catch((error: unknown) => Promise.reject(ioError(error)));
  const total = before.reduce((sum, stamp) => sum + stamp.size, 0);

  if (candidate.expectedSha256 !== undefined) {
    // Ollama already named the hash: a duplicate is known before a single byte is copied.
    const known = findModelBySha256(db, candidate.expectedSha256);
    if (known !== null) throw duplicateError(known);
  }

  const id = newModelId();
  const folder = mode === 'reference' ? null : modelFolder(libraryDir, id);
  const targets = folder === null ? sources : candidate.fileNames.map((name) => path.join(folder, name));
  const phase = mode === 'copy' ? 'copying' : 'hashing';
  const meter = new ProgressMeter(total, (progress) => report(phase, progress));
  const loop = { signal, onBytes: (bytes: number) => meter.add(bytes) };
  let sha256: string;
  markImporting(id);
  try {
    if (folder !== null) {
      await mkdir(libraryDir, { recursive: true });
      await mkdir(folder);
      await writeImportLock(folder);
    }
    if (mode === 'copy') {
      const partials = targets.map((target) => `${target}${PARTIAL_SUFFIX}`);
      const copied = await copyVerified(sources, partials, { ...loop, hasher });
      for (let i = 0; i < sources.length; i++) {
        if (copied.sizes[i] !== before[i]!.size)
          throw new AppError(
            'io_error',
            'The file changed while it was being imported. Try again once nothing is writing to it.',
            `${sources[i]!}: ${before[i]!.size} bytes before, ${copied.sizes[i]} copied`,
          );
      }
      for (let i = 0; i < sources.length; i++) await rename(partials[i]!, targets[i]!);
      sha256 = copied.sha256;
    } else {
      if (mode === 'link') {
        for (let i = 0; i < sources.length; i++) {
          // link() does not follow a symlink: it would link the link, which may be relative and break in the library.
          const real = await realpath(sources[i]!);
          await link(real, targets[i]!).catch((error: unknown) => Promise.reject(linkError(error, real)));
        }
      }
      const verified = mode === 'reference' && targets.length === 1 ? options.verifiedSha256?.toLowerCase() : undefined;
      if (verified !== undefined) meter.add(total);
      sha256 = verified ?? (await hasher.hash(targets, loop)).sha256;
    }
    meter.finish();
    report('finishing', meter.current());

    if (candidate.expectedSha256 !== undefined && candidate.expectedSha256.toLowerCase() !== sha256) {
      throw rejected(
        `The file of ${displayName} does not match the checksum its Ollama manifest records, so it is damaged or incomplete.`,
        `expected ${candidate.expectedSha256}, got ${sha256}`,
      );
    }
    const after = await Promise.all(sources.map(async (source) => stampOf(await stat(source))));
    if (after.some((stamp, i) => !sameStamp(stamp, before[i]!))) {
      throw new AppError('io_error', 'The file changed while it was being imported. Try again once nothing is writing to it.', sources.join(', '));
    }
    const existing = findModelBySha256(db, sha256);
    if (existing !== null) throw duplicateError(existing);
    if (folder !== null) {
      // The renames inside the folder, and the folder itself, must be on disk before the row that points at them.
      // What will be loaded is the library's file: judge it, not only the source it came from (while the folders sync).
      const [final] = await Promise.all([checkGgufFile(targets[0]!), syncDirectory(folder).then(() => syncDirectory(libraryDir))]);
      if (!final.ok) throw rejected(final.rejection.message, `${final.rejection.code}: ${targets[0]!}`);
    }
    const stamps = folder === null ? before : await Promise.all(targets.map(async (target) => stampOf(await stat(target))));
    throwIfCancelled(signal);
    const record = insertModel(db, {
      id,
      displayName,
      role: checked.facts.kind,
      sizeBytes: total,
      sha256,
      importMode: mode,
      origin: candidate.origin,
      sourcePath: path.resolve(candidate.sourcePath),
      files: targets,
      stamps,
      facts: checked.facts,
      chatTemplate: first(checked.metadata, KEYS.chatTemplate),
      license: first(checked.metadata, KEYS.license),
      provenance: provenanceOf(checked.metadata),
    });
    if (folder !== null) await rm(path.join(folder, IMPORT_LOCK), { force: true }).catch(() => undefined);
    return record;
  } catch (error) {
    // Should this fail too, the folder has no row and the next cleanupPartialImports removes it.
    if (folder !== null) await rm(folder, { recursive: true, force: true }).catch(() => undefined);
    if (error instanceof AppError) throw error;
    throw ioError(error);
  } finally {
    unmarkImporting(id);
  }
}
