import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../../common/result.ts';
import { transaction, type Database } from '../storage/sqlite.ts';
import { canonicalJson } from './canonical.ts';
import { MANIFEST_FILE, PAYLOAD_DIR, SIGNATURES_FILE, type BundleKind, type ManifestFile } from './manifest.ts';
import { BundleRejectedError } from './rejections.ts';
import { forgetBundle, getBundle, installedPaths, registerBundle, type InstalledBundle, type InstalledFile } from './store.ts';
import type { TrustSource } from './trust.ts';
import { checkRollback, runVerification, type VerificationReport, type VerifiedBundle, type VerifyOptions } from './verify.ts';
import { syncDirectory } from '../atomic-file.ts';

/**
 * Install is verify-into-staging, rename into installed/<id>/<version>, run the per-kind
 * installers, then one SQLite transaction. The transaction is the commit point: before it,
 * any failure (or a crash, via cleanupBundles) removes the new folder and leaves the
 * previous version as it was; after it, the old version's folder is removed.
 */

export type Installer = (file: { readonly path: string; readonly entry: ManifestFile; readonly bundle: VerifiedBundle }) => Promise<void> | void;
export type Uninstaller = (file: { readonly path: string; readonly entry: InstalledFile; readonly bundle: InstalledBundle }) => Promise<void> | void;

export interface InstallOptions extends VerifyOptions {
  readonly dataDir: string;
  readonly installers?: Partial<Record<BundleKind, Installer>>;
}

export type InstallOutcome =
  { readonly ok: true; readonly report: VerificationReport; readonly bundle: InstalledBundle } | { readonly ok: false; readonly report: VerificationReport };

export const BUNDLES_DIR = 'bundles';
const STAGING = 'staging';
const INSTALLED = 'installed';
/** Inside a folder between its rename and its commit; names the process that owns it. */
const INSTALLING_MARKER = '.installing';

export const stagingRoot = (dataDir: string): string => path.join(dataDir, BUNDLES_DIR, STAGING);
export const installedRoot = (dataDir: string): string => path.join(dataDir, BUNDLES_DIR, INSTALLED);
/** Absolute folder of an installed bundle (its `path` is relative to the data folder). */
export const bundleDir = (dataDir: string, bundle: Pick<InstalledBundle, 'path'>): string => path.join(dataDir, ...bundle.path.split('/'));

export async function installBundle(bundlePath: string, trust: TrustSource, options: InstallOptions): Promise<InstallOutcome> {
  const { db, dataDir } = options;
  await mkdir(stagingRoot(dataDir), { recursive: true });
  // The pid lets cleanup tell a crashed install's leftovers from another process's live one.
  const stageDir = path.join(stagingRoot(dataDir), `${process.pid}-${randomBytes(8).toString('hex')}`);
  await mkdir(stageDir);
  try {
    const { report, verified } = await guard(() => runVerification(bundlePath, trust, { ...options, stageDir }));
    if (verified === null) return { ok: false, report };
    const { manifest } = verified;
    await guard(async () => {
      await writeDurable(path.join(stageDir, MANIFEST_FILE), verified.manifestBytes);
      await writeDurable(path.join(stageDir, SIGNATURES_FILE), canonicalJson(verified.signatures));
      await writeDurable(path.join(stageDir, INSTALLING_MARKER), String(process.pid));
      await syncTree(stageDir);
    });
    options.signal?.throwIfAborted();

    const relative = [BUNDLES_DIR, INSTALLED, manifest.id, String(manifest.version)].join('/');
    const target = path.join(dataDir, ...relative.split('/'));
    await guard(async () => {
      await mkdir(path.dirname(target), { recursive: true });
      // A folder already there has no row (else this would be a replay): a crash's leftover.
      await rm(target, { recursive: true, force: true });
      await rename(stageDir, target);
      await syncDirectory(path.dirname(target));
    });
    const total = manifest.files.reduce((sum, file) => sum + file.size, 0);
    options.onProgress?.({ phase: 'installing', bytesDone: total, bytesTotal: total });

    let previous: string | null;
    try {
      for (const entry of manifest.files) {
        options.signal?.throwIfAborted();
        await options.installers?.[entry.kind]?.({ path: path.join(target, PAYLOAD_DIR, ...entry.path.split('/')), entry, bundle: verified });
      }
      options.signal?.throwIfAborted();
      options.onProgress?.({ phase: 'registering', bytesDone: total, bytesTotal: total });
      previous = transaction(db, () => {
        // Another process may have installed this id since the verification.
        checkRollback(db, manifest);
        const row = db.prepare('SELECT path FROM bundles WHERE id = ?').get(manifest.id) as { path: string } | undefined;
        registerBundle(db, manifest, verified.signers, relative, options.now ?? new Date());
        return row?.path ?? null;
      });
    } catch (error) {
      await rm(target, { recursive: true, force: true });
      await removeIfEmpty(path.dirname(target));
      if (error instanceof BundleRejectedError) return { ok: false, report: { ...report, ok: false, reason: error.rejection } };
      throw asAppError(error, `Installing the bundle "${manifest.name}" failed; nothing was installed and the previous state is kept.`);
    }

    // Committed: what follows only tidies up, and cleanupBundles finishes it after a crash.
    await rm(path.join(target, INSTALLING_MARKER), { force: true }).catch(() => {});
    if (previous !== null && previous !== relative) await rm(path.join(dataDir, ...previous.split('/')), { recursive: true, force: true }).catch(() => {});
    options.onProgress?.({ phase: 'done', bytesDone: total, bytesTotal: total });
    const bundle = getBundle(db, manifest.id);
    if (bundle === null) throw new AppError('internal', 'The bundle was installed but is not listed.');
    return { ok: true, report, bundle };
  } finally {
    await rm(stageDir, { recursive: true, force: true });
  }
}

/**
 * Removes an installed bundle: uninstallers first (a throwing one stops everything), then
 * its rows, then its folder. Its bundle_versions record stays, so an older version is still refused.
 */
export async function uninstallBundle(
  db: Database,
  dataDir: string,
  id: string,
  options: { uninstallers?: Partial<Record<BundleKind, Uninstaller>> } = {},
): Promise<void> {
  const bundle = getBundle(db, id);
  if (bundle === null) throw new AppError('not_found', 'That bundle is not installed.', id);
  const dir = bundleDir(dataDir, bundle);
  for (const entry of bundle.files) {
    try {
      await options.uninstallers?.[entry.kind]?.({ path: path.join(dir, PAYLOAD_DIR, ...entry.path.split('/')), entry, bundle });
    } catch (error) {
      throw asAppError(error, `Removing the bundle "${bundle.name}" failed; it is still installed.`);
    }
  }
  forgetBundle(db, id);
  await rm(dir, { recursive: true, force: true });
  await removeIfEmpty(path.dirname(dir));
}

export interface CleanupReport {
  readonly removedStaging: number;
  /** Relative paths of installed folders that had no row (a crash between rename and commit, or after an upgrade). */
  readonly removedInstalled: readonly string[];
  /** Bundles whose row exists but whose folder is gone. */
  readonly missing: readonly string[];
}

/** Run at start: removes what interrupted installs and upgrades left behind. */
export async function cleanupBundles(dataDir: string, db: Database): Promise<CleanupReport> {
  let removedStaging = 0;
  for (const name of await listDir(stagingRoot(dataDir))) {
    if (ownedByLiveProcess(Number(name.split('-')[0]))) continue;
    await rm(path.join(stagingRoot(dataDir), name), { recursive: true, force: true });
    removedStaging += 1;
  }
  const registered = installedPaths(db);
  const removedInstalled: string[] = [];
  const seen = new Set<string>();
  for (const id of await listDir(installedRoot(dataDir))) {
    const idDir = path.join(installedRoot(dataDir), id);
    for (const version of await listDir(idDir)) {
      const relative = [BUNDLES_DIR, INSTALLED, id, version].join('/');
      const dir = path.join(idDir, version);
      const marker = path.join(dir, INSTALLING_MARKER);
      if (registered.has(relative)) {
        seen.add(relative);
        await rm(marker, { force: true });
        continue;
      }
      const owner = Number(await readFile(marker, 'utf8').catch(() => ''));
      if (ownedByLiveProcess(owner)) continue;
      await rm(dir, { recursive: true, force: true });
      removedInstalled.push(relative);
    }
    await removeIfEmpty(idDir);
  }
  return { removedStaging, removedInstalled, missing: [...registered].filter((relative) => !seen.has(relative)) };
}

function ownedByLiveProcess(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but someone else's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

async function removeIfEmpty(dir: string): Promise<void> {
  await rmdir(dir).catch(() => {});
}

async function writeDurable(file: string, data: string | Uint8Array): Promise<void> {
  await writeFile(file, data, { flag: 'wx', flush: true });
}

/** fsync every folder under `root`, deepest first, so the renamed tree survives power loss whole. */
async function syncTree(root: string): Promise<void> {
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (entry.isDirectory()) await syncTree(path.join(root, entry.name));
  }
  await syncDirectory(root);
}

/** Turns fs errors into io_error and aborts into cancelled; AppErrors pass through. */
async function guard<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw asAppError(error, 'The bundle could not be installed: a file in the data folder could not be written.');
  }
}

function asAppError(error: unknown, message: string): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof Error && error.name === 'AbortError') return new AppError('cancelled', 'Installing the bundle was cancelled; nothing was installed.');
  return new AppError(
    error instanceof Error && 'code' in error && typeof error.code === 'string' ? 'io_error' : 'internal',
    message,
    error instanceof Error ? error.message : String(error),
  );
}
