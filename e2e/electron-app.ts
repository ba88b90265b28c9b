import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * The Electron binary's path, or null where it is not installed (as on build machines
 * that install with ELECTRON_SKIP_BINARY_DOWNLOAD=1).
 *
 * This reads the package's path.txt instead of calling require('electron'): since
 * Electron 4x, requiring the package when its binary is missing starts a download,
 * which must never happen here.
 */
export function electronBinary(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.E2E_ELECTRON_APP === 'packaged') return packagedAppExecutable(env);
  let packageDir: string;
  try {
    packageDir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return null;
  }
  const pathFile = path.join(packageDir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const relative = readFileSync(pathFile, 'utf8').trim();
  const distDir = env.ELECTRON_OVERRIDE_DIST_PATH ?? path.join(packageDir, 'dist');
  const binary = path.join(distDir, relative);
  return existsSync(binary) ? binary : null;
}

/**
 * E2E_ELECTRON_APP=packaged: the same specs against the app as `npm run pack` leaves it
 * (dist/linux-unpacked, dist/mac*\/Soberana.app, dist/win-unpacked), fuses flipped and
 * code in app.asar. Null where it has not been packed, or where the folder holds the
 * packaging tests' stand-in executable (scripts/packaging/stand-in-electron.ts), which
 * cannot run. The packaged app ignores the entry path the fixture passes: it loads app.asar.
 */
export function packagedAppExecutable(env: NodeJS.ProcessEnv = process.env): string | null {
  const dist = env.E2E_PACKAGED_DIST ?? path.resolve(import.meta.dirname, '..', 'dist');
  const candidates =
    process.platform === 'darwin'
      ? [
          path.join(dist, `mac-${process.arch}`, 'Soberana.app', 'Contents', 'MacOS', 'Soberana'),
          path.join(dist, 'mac', 'Soberana.app', 'Contents', 'MacOS', 'Soberana'),
        ]
      : process.platform === 'win32'
        ? [path.join(dist, 'win-unpacked', 'Soberana.exe')]
        : [path.join(dist, 'linux-unpacked', 'soberana')];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found === undefined) return null;
  return readFileSync(found).subarray(0, 2).toString('latin1') === '#!' ? null : found;
}
