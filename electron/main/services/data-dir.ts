import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from './atomic-file.ts';

export const DATA_DIR_ENV = 'SOBERANA_DATA_DIR';

/**
 * Where Electron's `userData` lands for an app named Soberana, so that the CLI and the
 * app share one data directory by default.
 */
export function defaultDataDir(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): string {
  const override = env[DATA_DIR_ENV];
  if (override !== undefined && override !== '') return path.resolve(override);
  if (platform === 'win32') return path.win32.join(env.APPDATA ?? path.win32.join(home, 'AppData', 'Roaming'), 'Soberana');
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Application Support', 'Soberana');
  const configHome = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : path.posix.join(home, '.config');
  return path.posix.join(configHome, 'Soberana');
}

export interface ChooseDataDirInput {
  /** app.isPackaged: a development build always honours the variable (tests, e2e, several checkouts). */
  readonly packaged: boolean;
  readonly env: NodeJS.ProcessEnv;
  /** Where the data lives without an override: Electron's default `userData`. */
  readonly defaultDir: string;
  /** The machine policy's rule (storage.allowDataDirOverride); the user's file is in the data folder, so it cannot decide where that is. */
  readonly policy: { readonly allowDataDirOverride: boolean };
}

export interface ChosenDataDir {
  readonly dir: string;
  /** Why SOBERANA_DATA_DIR was not followed, to show and log; null when it was, or was not set. */
  readonly ignored: string | null;
}

/**
 * The data folder of the app. In the packaged app, SOBERANA_DATA_DIR is followed only where
 * the machine policy allows it: any program can set an environment variable, and a fresh
 * folder would be a fresh audit log, user file and trust store.
 */
export function chooseDataDir({ packaged, env, defaultDir, policy }: ChooseDataDirInput): ChosenDataDir {
  const override = env[DATA_DIR_ENV];
  if (override === undefined || override === '') return { dir: defaultDir, ignored: null };
  if (packaged && !policy.allowDataDirOverride) {
    return { dir: defaultDir, ignored: `${DATA_DIR_ENV} is ignored: the machine policy does not allow another data folder (storage.allowDataDirOverride).` };
  }
  return { dir: path.resolve(override), ignored: null };
}

/** Kept in the default data folder: which folder the app used last, so a move is noticed. */
export const DATA_DIR_MARKER = 'last-data-dir.json';

export const dataDirMarkerPath = (defaultDir: string): string => path.join(defaultDir, DATA_DIR_MARKER);

export interface DataDirChange {
  readonly changed: boolean;
  /** The folder used before, when it was another one: its audit log records the move. */
  readonly from: string | null;
}

/** Compares the folder in use with the one the marker names. No marker (first start, or deleted): no change known. */
export async function detectDataDirChange(markerPath: string, dataDir: string): Promise<DataDirChange> {
  let previous: unknown;
  try {
    previous = (JSON.parse(await readFile(markerPath, 'utf8')) as { dataDir?: unknown }).dataDir;
  } catch {
    return { changed: false, from: null };
  }
  if (typeof previous !== 'string' || previous === '') return { changed: false, from: null };
  const from = path.resolve(previous);
  return from === path.resolve(dataDir) ? { changed: false, from: null } : { changed: true, from };
}

/** Records the folder in use; call it after the move was recorded in the old folder's log. */
export async function recordDataDir(markerPath: string, dataDir: string): Promise<void> {
  await writeFileAtomic(markerPath, `${JSON.stringify({ dataDir: path.resolve(dataDir) })}\n`);
}
