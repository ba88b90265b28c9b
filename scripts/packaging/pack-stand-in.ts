import { build, Platform } from 'electron-builder';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeStandInElectronDist } from './stand-in-electron.ts';

// Runs electron-builder on the real project and the real electron-builder.yml, for the
// unpacked Linux app (`--dir`), against the STAND-IN Electron distribution: the layout,
// the archive, the unpacked native files and the fuses are electron-builder's own work;
// only the executable is a placeholder. Works offline (npmRebuild is off; nothing is
// downloaded). `node scripts/packaging/pack-stand-in.ts <output folder>`.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface StandInPackage {
  /** `<output>/linux-unpacked`. */
  readonly appDir: string;
  readonly resources: string;
  readonly executable: string;
}

export async function packWithStandIn(output: string): Promise<StandInPackage> {
  const electronDist = await makeStandInElectronDist(path.join(output, 'stand-in-electron-dist'));
  const electronVersion = (JSON.parse(await readFile(path.join(root, 'node_modules', 'electron', 'package.json'), 'utf8')) as { version: string }).version;
  await build({
    projectDir: root,
    targets: Platform.LINUX.createTarget('dir'),
    publish: 'never',
    // Everything else comes from electron-builder.yml, as for `npm run pack`.
    config: { electronDist, electronVersion, directories: { output } },
  });
  const appDir = path.join(output, 'linux-unpacked');
  return { appDir, resources: path.join(appDir, 'resources'), executable: path.join(appDir, 'soberana') };
}

if (import.meta.main) {
  const output = process.argv[2];
  if (output === undefined) throw new Error('Usage: node scripts/packaging/pack-stand-in.ts <output folder>');
  const result = await packWithStandIn(path.resolve(output));
  console.log(JSON.stringify(result));
}
