import { randomBytes } from 'node:crypto';
import { lstat, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../storage/sqlite.ts';

/*
 * The library folder: `<libraryDir>/<id>/` holds the files of one copied or linked model.
 * A folder is the library's only if its name is a model id, and it counts as imported only
 * once its registry row exists; anything else under an id-named folder is a leftover of
 * an import that did not finish, and cleanup removes it.
 */

export const MODEL_ID = /^[0-9a-f]{16}$/;
/** Suffix of a file still being copied; renamed away once it is complete and on disk. */
export const PARTIAL_SUFFIX = '.partial';
/** Written into a model's folder while it is being imported, with the importing process's id. */
export const IMPORT_LOCK = '.importing';

export function libraryDirFor(dataDir: string): string {
  return path.join(dataDir, 'models');
}

export function newModelId(): string {
  return randomBytes(8).toString('hex');
}

/** Path segments of `child` below `parent`, or null when it is not strictly inside. Never a string-prefix test. */
export function segmentsBelow(parent: string, child: string): string[] | null {
  const relative = path.relative(path.resolve(parent), path.resolve(child));
  if (relative === '' || path.isAbsolute(relative)) return null;
  const segments = relative.split(path.sep);
  return segments.some((segment) => segment === '..' || segment === '' || segment === '.') ? null : segments;
}

/** The folder of model `id`, checked to be exactly one level below the library. */
export function modelFolder(libraryDir: string, id: string): string {
  if (!MODEL_ID.test(id)) throw new Error(`not a model id: ${JSON.stringify(id)}`);
  const folder = path.join(path.resolve(libraryDir), id);
  const segments = segmentsBelow(libraryDir, folder);
  if (segments?.length !== 1 || segments[0] !== id) throw new Error(`model folder escapes the library: ${folder}`);
  return folder;
}

/** Ids being imported by this process; cleanup never touches them. */
const active = new Set<string>();

export function markImporting(id: string): void {
  active.add(id);
}

export function unmarkImporting(id: string): void {
  active.delete(id);
}

export async function writeImportLock(folder: string): Promise<void> {
  await writeFile(path.join(folder, IMPORT_LOCK), JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }), { flag: 'wx' });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return typeof error === 'object' && error !== null && 'code' in error && error.code === 'EPERM';
  }
}

/** True when another live process is importing into `folder` (the CLI while the app runs, say). */
async function lockedByOtherProcess(folder: string): Promise<boolean> {
  const text = await readFile(path.join(folder, IMPORT_LOCK), 'utf8').catch(() => null);
  if (text === null) return false;
  try {
    const { pid } = JSON.parse(text) as { pid?: unknown };
    return typeof pid === 'number' && Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid);
  } catch {
    return false;
  }
}

export async function syncDirectory(dir: string): Promise<void> {
  // Windows cannot open a folder for fsync; renames there are durable without it.
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface CleanupReport {
  /** Folders of imports that never got a registry row. */
  readonly removedFolders: readonly string[];
  /** Partial files and stale locks inside folders that do have a row. */
  readonly removedFiles: readonly string[];
}

/**
 * Removes what a crashed or killed import left behind: id-named folders with no registry
 * row (unless an import is running in them right now) and `.partial` files and stale
 * locks in the others. Files that are not the library's own (other names) are left alone.
 * Run it when the app or a command starts, before new imports.
 */
export async function cleanupPartialImports(libraryDir: string, db: Database): Promise<CleanupReport> {
  const removedFolders: string[] = [];
  const removedFiles: string[] = [];
  const entries = await readdir(libraryDir, { withFileTypes: true }).catch(() => []);
  const known = db.prepare('SELECT 1 FROM models WHERE id = ?');
  for (const entry of entries) {
    if (!entry.isDirectory() || !MODEL_ID.test(entry.name) || active.has(entry.name)) continue;
    const folder = modelFolder(libraryDir, entry.name);
    if (known.get(entry.name) === undefined) {
      if (await lockedByOtherProcess(folder)) continue;
      await rm(folder, { recursive: true, force: true });
      removedFolders.push(folder);
      continue;
    }
    for (const name of await readdir(folder).catch(() => [])) {
      if (!name.endsWith(PARTIAL_SUFFIX) && name !== IMPORT_LOCK) continue;
      const file = path.join(folder, name);
      if ((await lstat(file).catch(() => null))?.isFile() !== true) continue;
      await rm(file, { force: true });
      removedFiles.push(file);
    }
  }
  return { removedFolders, removedFiles };
}
