import { rm } from 'node:fs/promises';
import { AppError } from '../../../common/result.ts';
import type { ModelFacts, ModelKind } from '../gguf/index.ts';
import { appendEvent } from '../storage/events.ts';
import { transaction, type Database } from '../storage/sqlite.ts';
import { modelFolder, segmentsBelow } from './library.ts';
import { ModelLoadSettings } from './load-settings.ts';
import type { DefaultRole, ImportMode, ModelOrigin, ModelProvenance, ModelRecord, ModelStatus } from './types.ts';

/** Size and modification time of a file when its hash was last confirmed; a change means "hash again". */
export interface FileStamp {
  readonly size: number;
  readonly mtimeMs: number;
}

export interface ModelRow {
  id: string;
  display_name: string;
  role: ModelKind;
  size_bytes: number;
  sha256: string;
  import_mode: ImportMode;
  origin: ModelOrigin;
  source_path: string;
  files: string;
  file_stamps: string;
  imported_at: string;
  facts: string;
  chat_template: string | null;
  license: string | null;
  provenance: string | null;
  verified_by_bundle: string | null;
  status: ModelStatus;
  checked_at: string;
  load_settings: string | null;
  is_default_chat: number;
  is_default_embedding: number;
}

export const COLUMNS =
  'id, display_name, role, size_bytes, sha256, import_mode, origin, source_path, files, file_stamps, imported_at, facts, chat_template, license, provenance, verified_by_bundle, status, checked_at, load_settings, is_default_chat, is_default_embedding';

export const MAX_NAME_LENGTH = 200;

export function toRecord(row: ModelRow): ModelRecord {
  const settings = row.load_settings === null ? null : ModelLoadSettings.safeParse(JSON.parse(row.load_settings));
  return {
    id: row.id,
    displayName: row.display_name,
    role: row.role,
    sizeBytes: row.size_bytes,
    sha256: row.sha256,
    importMode: row.import_mode,
    origin: row.origin,
    sourcePath: row.source_path,
    files: JSON.parse(row.files) as string[],
    importedAt: row.imported_at,
    facts: JSON.parse(row.facts) as ModelFacts,
    chatTemplate: row.chat_template,
    license: row.license,
    provenance: row.provenance === null ? null : (JSON.parse(row.provenance) as ModelProvenance),
    verifiedByBundle: row.verified_by_bundle,
    status: row.status,
    checkedAt: row.checked_at,
    // A value some later version would refuse falls back to the app's defaults instead of breaking the model.
    loadSettings: settings?.success === true ? settings.data : null,
    isDefaultChat: row.is_default_chat === 1,
    isDefaultEmbedding: row.is_default_embedding === 1,
  };
}

export function stampsOf(row: ModelRow): FileStamp[] {
  return JSON.parse(row.file_stamps) as FileStamp[];
}

export function rowOf(db: Database, id: string): ModelRow {
  const row = db.prepare(`SELECT ${COLUMNS} FROM models WHERE id = ?`).get(id) as ModelRow | undefined;
  if (row === undefined) throw new AppError('not_found', 'That model is not in the library.', `model ${id}`);
  return row;
}

export function listModels(db: Database): ModelRecord[] {
  const rows = db.prepare(`SELECT ${COLUMNS} FROM models ORDER BY imported_at, id`).all() as unknown as ModelRow[];
  return rows.map(toRecord);
}

/** Throws `not_found` for an unknown id. */
export function getModel(db: Database, id: string): ModelRecord {
  return toRecord(rowOf(db, id));
}

/** The model with this SHA-256, if any: what duplicate detection and bundles look up. */
export function findModelBySha256(db: Database, sha256: string): ModelRecord | null {
  const row = db.prepare(`SELECT ${COLUMNS} FROM models WHERE sha256 = ?`).get(sha256.toLowerCase()) as ModelRow | undefined;
  return row === undefined ? null : toRecord(row);
}

export function duplicateError(existing: { readonly id: string; readonly displayName: string }): AppError {
  return new AppError('bad_request', `This model is already in the library as ${existing.displayName}.`, existing.id);
}

/** Everything the importer knows once the files are final. */
export interface NewModel {
  readonly id: string;
  readonly displayName: string;
  readonly role: ModelKind;
  readonly sizeBytes: number;
  readonly sha256: string;
  readonly importMode: ImportMode;
  readonly origin: ModelOrigin;
  readonly sourcePath: string;
  readonly files: readonly string[];
  readonly stamps: readonly FileStamp[];
  readonly facts: ModelFacts;
  readonly chatTemplate: string | null;
  readonly license: string | null;
  readonly provenance: ModelProvenance | null;
}

/**
 * Inserts an imported model in one transaction, with its event. The first chat model and
 * the first embedding model become the defaults, so that a fresh library just works.
 * Throws the duplicate error when the hash is already registered.
 */
export function insertModel(db: Database, model: NewModel, now: Date = new Date()): ModelRecord {
  return transaction(db, () => {
    const existing = findModelBySha256(db, model.sha256);
    if (existing !== null) throw duplicateError(existing);
    const hasDefault = (column: 'is_default_chat' | 'is_default_embedding') => db.prepare(`SELECT 1 FROM models WHERE ${column} = 1`).get() !== undefined;
    const defaultChat = model.role === 'chat' && !hasDefault('is_default_chat');
    const defaultEmbedding = model.role === 'embedding' && !hasDefault('is_default_embedding');
    const at = now.toISOString();
    db.prepare(
      `INSERT INTO models (${COLUMNS}) VALUES (${COLUMNS.split(',')
        .map(() => '?')
        .join(', ')})`,
    ).run(
      model.id,
      model.displayName,
      model.role,
      model.sizeBytes,
      model.sha256,
      model.importMode,
      model.origin,
      model.sourcePath,
      JSON.stringify(model.files),
      JSON.stringify(model.stamps),
      at,
      JSON.stringify(model.facts),
      model.chatTemplate,
      model.license,
      model.provenance === null ? null : JSON.stringify(model.provenance),
      null,
      'ok',
      at,
      null,
      defaultChat ? 1 : 0,
      defaultEmbedding ? 1 : 0,
    );
    appendEvent(
      db,
      'model.imported',
      {
        id: model.id,
        name: model.displayName,
        sha256: model.sha256,
        mode: model.importMode,
        origin: model.origin,
        source: model.sourcePath,
        sizeBytes: model.sizeBytes,
      },
      now,
    );
    return getModel(db, model.id);
  });
}

/** Trims the name; 1 to 200 characters, no control characters. */
export function renameModel(db: Database, id: string, name: string): ModelRecord {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_NAME_LENGTH) {
    throw new AppError('bad_request', `A model name needs 1 to ${MAX_NAME_LENGTH} characters.`, `got ${trimmed.length}`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) throw new AppError('bad_request', 'A model name cannot contain line breaks or control characters.');
  return transaction(db, () => {
    const before = rowOf(db, id);
    db.prepare('UPDATE models SET display_name = ? WHERE id = ?').run(trimmed, id);
    appendEvent(db, 'model.renamed', { id, from: before.display_name, to: trimmed });
    return getModel(db, id);
  });
}

const DEFAULT_COLUMN = { chat: 'is_default_chat', embedding: 'is_default_embedding' } as const;

/** Makes `id` the default for `role`, which must be the model's own role; the previous default stops being one. */
export function setDefault(db: Database, id: string, role: DefaultRole): ModelRecord {
  const column = DEFAULT_COLUMN[role];
  if (column === undefined) throw new AppError('bad_request', 'A default is either for chat or for embedding.', `role ${String(role)}`);
  return transaction(db, () => {
    const row = rowOf(db, id);
    if (row.role !== role) {
      throw new AppError(
        'bad_request',
        `${row.display_name} is ${row.role === 'embedding' ? 'an embedding' : `a ${row.role}`} model, so it cannot be the default ${role} model.`,
        `model ${id} role ${row.role}`,
      );
    }
    // Clear first: the partial unique index allows one row at 1 at any moment, even inside a transaction.
    db.prepare(`UPDATE models SET ${column} = 0 WHERE ${column} = 1 AND id <> ?`).run(id);
    db.prepare(`UPDATE models SET ${column} = 1 WHERE id = ?`).run(id);
    appendEvent(db, 'model.default_set', { id, role });
    return getModel(db, id);
  });
}

export function clearDefault(db: Database, role: DefaultRole): void {
  const column = DEFAULT_COLUMN[role];
  if (column === undefined) throw new AppError('bad_request', 'A default is either for chat or for embedding.', `role ${String(role)}`);
  db.prepare(`UPDATE models SET ${column} = 0 WHERE ${column} = 1`).run();
}

/** Stores the model's own load settings (validated with ModelLoadSettings); null forgets them. */
export function setLoadSettings(db: Database, id: string, settings: ModelLoadSettings | null): ModelRecord {
  let json: string | null = null;
  if (settings !== null) {
    const parsed = ModelLoadSettings.safeParse(settings);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(settings)'}: ${issue.message}`).join('; ');
      throw new AppError('bad_request', 'Those load settings are not valid.', fields);
    }
    json = JSON.stringify(parsed.data);
  }
  return transaction(db, () => {
    rowOf(db, id);
    db.prepare('UPDATE models SET load_settings = ? WHERE id = ?').run(json, id);
    return getModel(db, id);
  });
}

export interface RemovedModel {
  readonly record: ModelRecord;
  /** The library folder deleted with it; null for referenced models, whose files are never touched. */
  readonly deletedFolder: string | null;
}

/**
 * Removes the model from the registry and deletes the files the library owns: its folder
 * for copied and linked models (for a link, only the library's link; the original stays).
 * Referenced files are never touched. The row goes first, so that a failure half way
 * leaves an orphan folder, which cleanupPartialImports removes, never a row without files.
 * Unload the model first: some systems refuse to delete an open file.
 */
export async function removeModel(db: Database, libraryDir: string, id: string): Promise<RemovedModel> {
  const record = transaction(db, () => {
    const found = getModel(db, id);
    db.prepare('DELETE FROM models WHERE id = ?').run(id);
    appendEvent(db, 'model.removed', { id, name: found.displayName, sha256: found.sha256, mode: found.importMode });
    return found;
  });
  if (record.importMode === 'reference') return { record, deletedFolder: null };
  const folder = modelFolder(libraryDir, id);
  // Files recorded outside the model's own folder (a hand-edited database) are never deleted.
  const owned = record.files.every((file) => segmentsBelow(folder, file)?.length === 1);
  if (!owned)
    throw new AppError(
      'io_error',
      'The model was removed from the library, but its files were left in place because they are not where the library keeps its own.',
      record.files.join(', '),
    );
  await rm(folder, { recursive: true, force: true });
  return { record, deletedFolder: folder };
}

/** Marks a model as vouched for by a signed bundle: it is then re-hashed before every load. */
export function markVerifiedByBundle(db: Database, id: string, label: string | null): void {
  db.prepare('UPDATE models SET verified_by_bundle = ? WHERE id = ?').run(label, id);
}
