import { extractFile, listPackage, statFile } from '@electron/asar';
import { mkdir, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

// Reads a packaged app's resources folder (app.asar and app.asar.unpacked) the way Electron
// does, for tests under plain Node, which cannot read inside an archive.

export interface ArchiveEntry {
  /** Posix path inside the archive, without the leading slash. */
  readonly path: string;
  readonly unpacked: boolean;
}

export function archiveEntries(archive: string): ArchiveEntry[] {
  const entries: ArchiveEntry[] = [];
  for (const listed of listPackage(archive, { isPack: false })) {
    const relative = listed.replace(/\\/g, '/').replace(/^\//, '');
    const entry = statFile(archive, relative, false);
    if ('files' in entry || 'link' in entry) continue;
    entries.push({ path: relative, unpacked: entry.unpacked === true });
  }
  return entries;
}

/**
 * A folder that Node can run the packaged code from as Electron would see it: files from
 * inside the archive are extracted, and every unpacked file is a symlink into
 * app.asar.unpacked, so native code loads from there and nowhere else.
 */
export async function nodeViewOf(resources: string, into: string): Promise<string> {
  const archive = path.join(resources, 'app.asar');
  for (const entry of archiveEntries(archive)) {
    const target = path.join(into, ...entry.path.split('/'));
    await mkdir(path.dirname(target), { recursive: true });
    if (entry.unpacked) await symlink(path.join(resources, 'app.asar.unpacked', ...entry.path.split('/')), target);
    else await writeFile(target, extractFile(archive, entry.path));
  }
  return into;
}

export async function folderSize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}
