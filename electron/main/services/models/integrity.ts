import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { AppError } from '../../../common/result.ts';
import { checkGgufFile } from '../gguf/index.ts';
import { appendEvent } from '../storage/events.ts';
import { transaction, type Database } from '../storage/sqlite.ts';
import { getModel, rowOf, stampsOf, type FileStamp, type ModelRow } from './registry.ts';
import { hashInto, ProgressMeter } from './stream.ts';
import type { ByteProgress, ModelRecord, ModelStatus } from './types.ts';

// A library model's integrity: its files re-hashed when their size or time changed, its
// status recorded, and the check before every load (a changed or missing file never loads).

export interface HashOptions {
  readonly onProgress?: (progress: ByteProgress) => void;
  readonly signal?: AbortSignal;
}

type Inspection = { readonly kind: 'missing'; readonly path: string } | { readonly kind: 'present'; readonly stamps: FileStamp[] };

async function inspect(files: readonly string[]): Promise<Inspection> {
  const stamps: FileStamp[] = [];
  for (const file of files) {
    let stats;
    try {
      stats = await stat(file);
    } catch (error) {
      const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : '';
      if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing', path: file };
      throw new AppError('io_error', 'A file of this model could not be examined.', `${file}: ${String(code)}`);
    }
    if (!stats.isFile()) return { kind: 'missing', path: file };
    stamps.push({ size: stats.size, mtimeMs: stats.mtimeMs });
  }
  return { kind: 'present', stamps };
}

/** Hashes the files in order, as one stream; null when the sizes alone already differ from the record. */
async function rehash(row: ModelRow, stamps: readonly FileStamp[], options: HashOptions, what: string): Promise<string | null> {
  const files = JSON.parse(row.files) as string[];
  const recorded = stampsOf(row);
  if (stamps.some((stamp, i) => stamp.size !== recorded[i]?.size)) return null;
  const meter = new ProgressMeter(row.size_bytes, (progress) => options.onProgress?.(progress));
  const hash = createHash('sha256');
  try {
    for (const file of files) await hashInto(file, hash, { signal: options.signal, onBytes: (n) => meter.add(n), what });
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('io_error', 'A file of this model could not be read.', error instanceof Error ? error.message : String(error));
  }
  meter.finish();
  return hash.digest('hex');
}

function recordStatus(db: Database, id: string, status: ModelStatus, stamps: readonly FileStamp[] | null, reason: string): void {
  transaction(db, () => {
    const before = rowOf(db, id);
    const at = new Date().toISOString();
    if (stamps === null) db.prepare('UPDATE models SET status = ?, checked_at = ? WHERE id = ?').run(status, at, id);
    else db.prepare('UPDATE models SET status = ?, checked_at = ?, file_stamps = ? WHERE id = ?').run(status, at, JSON.stringify(stamps), id);
    if (before.status !== status || reason === 'verify') appendEvent(db, 'model.checked', { id, status, before: before.status, reason });
  });
}

/**
 * Re-reads every file of the model and compares its SHA-256 with the one recorded at
 * import. Sets and returns the status: `missing` when a file is gone, `changed` when the
 * bytes differ, `ok` otherwise. Cancelling leaves the status as it was.
 */
export async function verifyModel(db: Database, id: string, options: HashOptions = {}): Promise<ModelRecord> {
  const row = rowOf(db, id);
  const found = await inspect(JSON.parse(row.files) as string[]);
  if (found.kind === 'missing') {
    recordStatus(db, id, 'missing', null, 'verify');
    return getModel(db, id);
  }
  const sha256 = await rehash(row, found.stamps, options, 'The check');
  const status = sha256 === row.sha256 ? 'ok' : 'changed';
  // A touched but identical file gets its new time, so that the load check stays cheap.
  recordStatus(db, id, status, status === 'ok' ? found.stamps : null, 'verify');
  return getModel(db, id);
}

export interface LoadTarget {
  /** The file to give the engine: the only file, or the first part of a split model. */
  readonly path: string;
  readonly record: ModelRecord;
}

/**
 * Run before every load. Cheap when nothing changed: the files must exist with the size
 * and modification time recorded when their hash was last confirmed. Otherwise (and
 * whenever the status is not `ok`) the files are hashed again. The GGUF check runs again
 * too, so a file admitted by an older, laxer validator is judged by the current one.
 * Throws `not_found` for a missing file and `rejected_file` for a changed or refused one;
 * the status is updated either way.
 */
export async function checkBeforeLoad(db: Database, id: string, options: HashOptions = {}): Promise<LoadTarget> {
  const row = rowOf(db, id);
  const files = JSON.parse(row.files) as string[];
  const found = await inspect(files);
  if (found.kind === 'missing') {
    recordStatus(db, id, 'missing', null, 'load');
    throw new AppError(
      'not_found',
      `A file of ${row.display_name} is missing. ${row.import_mode === 'reference' ? 'Reconnect the drive or folder it was imported from, or import it again.' : 'Remove the model and import it again.'}`,
      found.path,
    );
  }
  const recorded = stampsOf(row);
  // A model a signed bundle vouched for is re-hashed before every load, not only when its stamps change:
  // the signature covers the bytes, and a size-and-time check can be fooled.
  const unchanged =
    row.verified_by_bundle === null &&
    row.status === 'ok' &&
    found.stamps.every((stamp, i) => stamp.size === recorded[i]?.size && stamp.mtimeMs === recorded[i]?.mtimeMs);
  if (!unchanged) {
    const sha256 = await rehash(row, found.stamps, options, 'The check');
    if (sha256 !== row.sha256) {
      recordStatus(db, id, 'changed', null, 'load');
      throw new AppError(
        'rejected_file',
        row.verified_by_bundle === null
          ? `${row.display_name} has changed since it was imported: its contents no longer match the recorded SHA-256, so it will not be loaded. Import it again if the change is expected.`
          : `${row.display_name} no longer matches the bytes its signed bundle vouched for (${row.verified_by_bundle}), so it will not be loaded. Install the bundle again.`,
        `expected ${row.sha256}, found ${sha256 ?? 'a different size'}`,
      );
    }
    recordStatus(db, id, 'ok', found.stamps, 'load');
  }
  const check = await checkGgufFile(files[0]!);
  if (!check.ok) {
    throw new AppError(
      'rejected_file',
      check.rejection.message,
      `${check.rejection.code}${check.rejection.offset === undefined ? '' : ` at byte ${check.rejection.offset}`}: ${files[0]!}`,
    );
  }
  return { path: files[0]!, record: getModel(db, id) };
}
