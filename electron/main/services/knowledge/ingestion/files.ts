import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { formatByName } from './extract/detect.ts';

// Which files on disk are documents, and walking folders for them.

/** Walks are bounded: a watched folder pointed at a whole drive must not stall the app. */
export const MAX_FOLDER_FILES = 20_000;
const MAX_DEPTH = 32;

/** A name to pick up from a folder: a known format (XLSX is recognised but not read yet), not hidden, not an Office lock file. */
export function isDocumentName(name: string): boolean {
  const base = path.basename(name);
  const format = formatByName(base);
  return !base.startsWith('.') && !base.startsWith('~$') && format !== null && format !== 'xlsx';
}

export interface FoundFile {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Document files under `root`, sorted; hidden folders and symlinked folders are skipped. */
export async function listDocumentFiles(root: string): Promise<FoundFile[]> {
  const found: FoundFile[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH || found.length >= MAX_FOLDER_FILES) return;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (found.length >= MAX_FOLDER_FILES) return;
      if (entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full, depth + 1);
      else if (entry.isFile() && isDocumentName(entry.name)) {
        try {
          const info = await stat(full);
          found.push({ path: full, size: info.size, mtimeMs: info.mtimeMs });
        } catch {
          // Gone between listing and stat: the next scan sees it as removed.
        }
      }
    }
  };
  await walk(root, 0);
  return found;
}

/** Expands picked or dropped paths: files as they are (if documents), folders walked. */
export async function expandPaths(paths: readonly string[]): Promise<{ files: string[]; unsupported: string[] }> {
  const files: string[] = [];
  const unsupported: string[] = [];
  for (const given of paths) {
    let info;
    try {
      info = await stat(given);
    } catch {
      unsupported.push(path.basename(given));
      continue;
    }
    if (info.isDirectory()) files.push(...(await listDocumentFiles(given)).map((file) => file.path));
    else if (isDocumentName(given)) files.push(given);
    else unsupported.push(path.basename(given));
  }
  return { files: [...new Set(files)], unsupported };
}
