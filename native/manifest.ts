import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentTarget, isNativeFile, shippedNativePackages, type Target } from './targets.ts';

// The manifest of the native binaries that ship for one target: every `.node` addon and
// shared library in the packages of targets.ts, with its size and SHA-256. It is computed
// from node_modules at packaging time (`node native/write-manifest.ts`, run by `npm run
// pack`/`dist`) and committed for the targets whose packages are installed on the build
// machines (linux-x64): a dependency upgrade that changes a shipped binary then shows up
// as a diff to review, and manifest.test.ts fails until the manifest is rewritten.
// The packaged app carries it unpacked (native/manifest.<target>.json), for check.ts.

export interface NativeFile {
  /** Posix path from the folder holding node_modules, e.g. `node_modules/@x/y/a.node`. */
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

export interface NativePackage {
  readonly name: string;
  readonly version: string;
}

export interface NativeManifest {
  readonly target: Target;
  readonly packages: readonly NativePackage[];
  readonly files: readonly NativeFile[];
}

export function manifestFileName(target: Target): string {
  return `manifest.${target}.json`;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Native files under `dir`, as posix paths relative to `root`, sorted. Symlinks are not followed. */
export async function listNativeFiles(root: string, dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if ((entry.isFile() || entry.isSymbolicLink()) && isNativeFile(entry.name)) found.push(path.relative(root, full).split(path.sep).join('/'));
    }
  };
  await walk(dir);
  return found.sort();
}

/** Computes the manifest for `target` from `root/node_modules`; a missing package is an error. */
export async function computeManifest(root: string, target: Target = currentTarget()): Promise<NativeManifest> {
  const packages: NativePackage[] = [];
  const files: NativeFile[] = [];
  for (const name of shippedNativePackages(target)) {
    const dir = path.join(root, 'node_modules', ...name.split('/'));
    let version: string;
    try {
      version = (JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      throw new Error(
        `${name} is not installed in ${root}: the native binaries for ${target} cannot be listed (install on a ${target} machine, or with --os/--cpu).`,
      );
    }
    packages.push({ name, version });
    for (const relative of await listNativeFiles(root, dir)) {
      const full = path.join(root, relative);
      // A symlinked library (libfoo.so -> libfoo.so.1) is hashed as the file it points to.
      const real = (await lstat(full)).isSymbolicLink() ? await realpath(full) : full;
      files.push({ path: relative, size: (await lstat(real)).size, sha256: await sha256File(real) });
    }
  }
  return { target, packages, files };
}

export function serializeManifest(manifest: NativeManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export const NATIVE_DIR = path.dirname(fileURLToPath(import.meta.url));
