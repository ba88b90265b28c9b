import { lstat, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { listNativeFiles, manifestFileName, sha256File, type NativeManifest } from './manifest.ts';
import { currentTarget, type Target } from './targets.ts';

// Checks that the native binaries in place are the ones the manifest lists, byte for byte.
// `root` is the folder that holds `node_modules` and `native/`: the project folder, or the
// packaged app's `resources/app.asar.unpacked`, where electron-builder puts every native file
// (Electron cannot load native code from inside app.asar). For `soberana doctor`.

export type NativeProblem =
  | { readonly kind: 'no-manifest'; readonly path: string }
  | { readonly kind: 'missing'; readonly path: string }
  | { readonly kind: 'changed'; readonly path: string; readonly expected: string; readonly actual: string }
  | { readonly kind: 'unexpected'; readonly path: string };

export interface NativeCheck {
  readonly target: Target;
  readonly ok: boolean;
  /** How many files the manifest lists (and were checked). */
  readonly checked: number;
  readonly problems: readonly NativeProblem[];
}

export async function readManifest(root: string, target: Target): Promise<NativeManifest | null> {
  try {
    return JSON.parse(await readFile(path.join(root, 'native', manifestFileName(target)), 'utf8')) as NativeManifest;
  } catch {
    return null;
  }
}

export async function checkNativeBinaries(root: string, target: Target = currentTarget()): Promise<NativeCheck> {
  const manifest = await readManifest(root, target);
  if (manifest === null) {
    return { target, ok: false, checked: 0, problems: [{ kind: 'no-manifest', path: path.join(root, 'native', manifestFileName(target)) }] };
  }
  const problems: NativeProblem[] = [];
  for (const file of manifest.files) {
    const full = path.join(root, ...file.path.split('/'));
    let actual: string;
    try {
      const real = (await lstat(full)).isSymbolicLink() ? await realpath(full) : full;
      actual = await sha256File(real);
    } catch {
      problems.push({ kind: 'missing', path: file.path });
      continue;
    }
    if (actual !== file.sha256) problems.push({ kind: 'changed', path: file.path, expected: file.sha256, actual });
  }
  // A native file in a shipped package that the manifest does not list would load unchecked.
  const listed = new Set(manifest.files.map((file) => file.path));
  for (const { name } of manifest.packages) {
    const dir = path.join(root, 'node_modules', ...name.split('/'));
    const present = await listNativeFiles(root, dir).catch(() => []);
    for (const file of present) if (!listed.has(file)) problems.push({ kind: 'unexpected', path: file });
  }
  return { target, ok: problems.length === 0, checked: manifest.files.length, problems };
}

/** One line per problem, for the doctor's report. */
export function describeNativeProblem(problem: NativeProblem): string {
  switch (problem.kind) {
    case 'no-manifest':
      return `No manifest of native binaries at ${problem.path}.`;
    case 'missing':
      return `${problem.path} is missing.`;
    case 'changed':
      return `${problem.path} is not the shipped file (SHA-256 ${problem.actual.slice(0, 12)}…, expected ${problem.expected.slice(0, 12)}…).`;
    case 'unexpected':
      return `${problem.path} is not in the manifest.`;
  }
}
