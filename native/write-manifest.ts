import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { computeManifest, manifestFileName, NATIVE_DIR, serializeManifest } from './manifest.ts';
import { currentTarget, type Target } from './targets.ts';

// `node native/write-manifest.ts [--target=<platform>-<arch>] [--print]`: writes (or prints)
// the manifest of the native binaries that ship for the target, from node_modules. Kept apart
// from manifest.ts so that code bundled into the CLI (check.ts) carries no entry-point block.

const root = path.resolve(NATIVE_DIR, '..');
const target = (process.argv.find((arg) => arg.startsWith('--target='))?.slice('--target='.length) ?? currentTarget()) as Target;
const manifest = await computeManifest(root, target);
const text = serializeManifest(manifest);
if (process.argv.includes('--print')) {
  process.stdout.write(text);
} else {
  const file = path.join(NATIVE_DIR, manifestFileName(target));
  await writeFile(file, text);
  console.log(`wrote ${path.relative(root, file)}: ${manifest.files.length} native files`);
}
