import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { formatByName } from './extract/detect.ts';

// Which files on disk are documents, and walking folders for them.

/** Walks are bounded: a watched folder pointed at a whole drive must not stall the app. */
export const MAX_FOLDER_FILES = 20_000;
const MAX_DEPTH = 32;

/** A name to pick up from a folder: a known format, not hidden, not an Office lock file. */
export function isDocumentName(name: string): boolean {
  const base = path.basename(name);
  const format = formatByName(base);
  return !base.startsWith('.') && !base.startsWith('~$') && format !== null;
}

export interface FoundFile {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Names never listed, not even as skipped: the system's own files. */
const IGNORED = new Set(['thumbs.db', 'desktop.ini']);

/** A file Soberana cannot read, in words that name its type. */
export function unsupportedMessage(file: string): string {
  const extension = path.extname(file).toLowerCase();
  const reads =
    'Soberana reads PDF, Word (.docx), Excel (.xlsx), OpenDocument (.odt, .ods), HTML, Markdown, text, CSV, e-mail (.eml) and scanned images (PNG, JPEG, TIFF) files.';
  if (extension === '') return `This file has no extension, so Soberana cannot tell what it is. ${reads}`;
  return `Soberana cannot read ${extension} files. ${reads}`;
}

/**
 * Files under `root`, sorted: the documents, and the other files (ones Soberana cannot read,
 * listed as skipped). Hidden files and folders, symlinked folders and Office lock files are left out.
 */
export async function listFolderFiles(root: string): Promise<{ documents: FoundFile[]; unsupported: FoundFile[] }> {
  const documents: FoundFile[] = [];
  const unsupported: FoundFile[] = [];
  const full = () => documents.length >= MAX_FOLDER_FILES;
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH || full()) return;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (full()) return;
      if (entry.name.startsWith('.') || entry.name.startsWith('~$') || IGNORED.has(entry.name.toLowerCase())) continue;
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(file, depth + 1);
      else if (entry.isFile()) {
        const into = isDocumentName(entry.name) ? documents : unsupported.length < MAX_FOLDER_FILES ? unsupported : null;
        if (into === null) continue;
        try {
          const info = await stat(file);
          into.push({ path: file, size: info.size, mtimeMs: info.mtimeMs });
        } catch {
          // Gone between listing and stat: the next scan sees it as removed.
        }
      }
    }
  };
  await walk(root, 0);
  return { documents, unsupported };
}

/** Document files under `root`, sorted; see listFolderFiles. */
export async function listDocumentFiles(root: string): Promise<FoundFile[]> {
  return (await listFolderFiles(root)).documents;
}

/**
 * Expands picked or dropped paths: files as they are (if documents), folders walked.
 * `unsupported` names given files that are not documents; `skipped` holds the files found in
 * folders that are not, to be listed in the collection as skipped.
 */
export async function expandPaths(paths: readonly string[]): Promise<{ files: string[]; unsupported: string[]; skipped: string[] }> {
  const files: string[] = [];
  const unsupported: string[] = [];
  const skipped: string[] = [];
  for (const given of paths) {
    let info;
    try {
      info = await stat(given);
    } catch {
      unsupported.push(path.basename(given));
      continue;
    }
    if (info.isDirectory()) {
      const found = await listFolderFiles(given);
      files.push(...found.documents.map((file) => file.path));
      skipped.push(...found.unsupported.map((file) => file.path));
    } else if (isDocumentName(given)) files.push(given);
    else unsupported.push(path.basename(given));
  }
  return { files: [...new Set(files)], unsupported, skipped: [...new Set(skipped)] };
}
