import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DocumentFormat } from './types.ts';

// Which files on disk are documents, and walking folders for them.

const EXTENSIONS = new Set(['.pdf', '.docx', '.html', '.htm', '.xhtml', '.md', '.markdown', '.txt', '.text', '.csv', '.pptx', '.odt', '.epub']);

/** Walks are bounded: a watched folder pointed at a whole drive must not stall the app. */
export const MAX_FOLDER_FILES = 20_000;
const MAX_DEPTH = 32;

const FORMAT_BY_EXTENSION: Readonly<Record<string, DocumentFormat>> = {
  '.pdf': 'pdf',
  '.docx': 'docx',
  '.html': 'html',
  '.htm': 'html',
  '.xhtml': 'html',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.txt': 'text',
  '.text': 'text',
  '.csv': 'csv',
  '.pptx': 'pptx',
  '.odt': 'odt',
  '.epub': 'epub',
};

/** The format a file's name suggests; its bytes decide when it is read. */
export function formatByName(name: string): DocumentFormat {
  return FORMAT_BY_EXTENSION[path.extname(name).toLowerCase()] ?? 'text';
}

export function isDocumentName(name: string): boolean {
  return !path.basename(name).startsWith('.') && !path.basename(name).startsWith('~$') && EXTENSIONS.has(path.extname(name).toLowerCase());
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
