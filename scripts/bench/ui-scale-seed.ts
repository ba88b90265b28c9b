import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { presetSpec, writeGguf } from '../../e2e/fixtures/gguf/writer.ts';
import { ARCHIVE_SCALE, openSeedCore, seedArchive, type ArchiveFigures, type ArchiveSpec } from '../../electron/test-support/archive-seed.ts';

// The UI-scale benchmark's data folder: filled once through the services (see
// electron/test-support/archive-seed.ts) and kept under ~/.cache, keyed by SEED_VERSION.
// Each run works on a copy, so a run never changes the cache. Bump SEED_VERSION whenever
// what the seed writes changes.

export const SEED_VERSION = 1;

export interface SeedCache {
  /** The cached data folder, never opened by a run: copy it first (copyDataDir). */
  readonly dataDir: string;
  /** How long filling it took, when it was filled. */
  readonly figures: ArchiveFigures;
  /** Whether this run filled it (false: it was there already). */
  readonly filledNow: boolean;
}

export function defaultCacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME !== undefined && process.env.XDG_CACHE_HOME !== '' ? process.env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'soberana-bench', `ui-scale-v${SEED_VERSION}`);
}

/** `count` distinct tiny models (each its own seed, so its own hash), for registering by reference. */
async function writeModels(folder: string, count: number): Promise<void> {
  await mkdir(folder, { recursive: true });
  for (let i = 0; i < count; i++) {
    const name = `archive-model-${String(i + 1).padStart(3, '0')}`;
    await writeGguf(path.join(folder, `${name}.gguf`), { ...presetSpec('tiny', 'Q8_0', 1000 + i), name });
  }
}

/**
 * The cached data folder, filled now if it is missing or was left unfinished (a run
 * stopped mid-seed leaves no `complete.json`, and starts over).
 */
export async function ensureSeeded(cacheRoot: string, log: (line: string) => void, models = 100): Promise<SeedCache> {
  const marker = path.join(cacheRoot, 'complete.json');
  const dataDir = path.join(cacheRoot, 'data');
  const done = await readFile(marker, 'utf8').then(
    (text) => JSON.parse(text) as { figures: ArchiveFigures },
    () => null,
  );
  if (done !== null) return { dataDir, figures: done.figures, filledNow: false };

  await rm(cacheRoot, { recursive: true, force: true });
  await mkdir(cacheRoot, { recursive: true });
  const modelsFolder = path.join(cacheRoot, 'models');
  log(`seeding ${cacheRoot} (once; later runs reuse it)`);
  await writeModels(modelsFolder, models);
  const spec: ArchiveSpec = { ...ARCHIVE_SCALE, modelsFolder, sourceRoot: path.join(cacheRoot, 'sources') };
  const core = await openSeedCore(dataDir);
  let figures: ArchiveFigures;
  try {
    figures = await seedArchive(core, spec, log);
  } finally {
    await core.close();
  }
  await writeFile(marker, `${JSON.stringify({ seedVersion: SEED_VERSION, spec, figures, at: new Date().toISOString() }, null, 2)}\n`);
  return { dataDir, figures, filledNow: true };
}

/** A throwaway copy of the cached data folder; the caller removes `root` when done. */
export async function copyDataDir(cached: string): Promise<{ root: string; dataDir: string }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'soberana-bench-ui-scale-'));
  const dataDir = path.join(root, 'data');
  await cp(cached, dataDir, { recursive: true });
  return { root, dataDir };
}
