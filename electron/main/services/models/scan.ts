import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { AppError } from '../../../common/result.ts';
import type { ModelCandidate, ModelOrigin, ScanProblem, ScanResult } from './types.ts';

/*
 * Finds model files under a path the user gave: `.gguf` files (split sets grouped), LM
 * Studio's `models/<publisher>/<model>/` folders and Ollama's model store. It reads folder
 * listings and Ollama's small manifests only; whether a file really is a model is the
 * validator's job at import time.
 */

export const SCAN_LIMITS = {
  /** Folders below the starting one; LM Studio needs 3, a home folder a few more. */
  maxDepth: 8,
  /** Directory entries looked at in total, so that pointing at `/` ends quickly. */
  maxEntries: 100_000,
  /** An Ollama manifest is a few hundred bytes; anything much larger is not one. */
  maxManifestBytes: 1024 * 1024,
} as const;

export interface ScanOptions {
  readonly maxDepth?: number;
  readonly maxEntries?: number;
  readonly signal?: AbortSignal;
}

const GGUF = /\.gguf$/i;
/** llama.cpp's gguf-split naming: `<prefix>-00001-of-00003.gguf`. */
const SPLIT = /^(.+)-(\d{5})-of-(\d{5})\.gguf$/i;
const OLLAMA_MODEL_LAYER = 'application/vnd.ollama.image.model';
const OLLAMA_REGISTRY = 'registry.ollama.ai';
const DIGEST = /^sha256[:-]([0-9a-f]{64})$/;
/** Folder names LM Studio has used for its home (`~/.lmstudio`, `~/.cache/lm-studio`). */
const LMSTUDIO_HOME = /^(\.?lmstudio|\.?lm-studio|lm studio)$/i;
/** Vision projectors ship next to the model in LM Studio folders; they are not models by themselves. */
const PROJECTOR = /^mmproj/i;

interface FoundFile {
  readonly path: string;
  readonly size: number;
}

class Walk {
  readonly maxDepth: number;
  readonly maxEntries: number;
  readonly signal: AbortSignal | undefined;
  entries = 0;
  truncated = false;
  readonly problems: ScanProblem[] = [];
  readonly skipped: ScanProblem[] = [];
  /** Folders already listed, by device and inode, so that a symlink loop is entered once. */
  readonly visited = new Set<string>();
  /** Files already found, so that a file reached through two links is offered once. */
  readonly seenFiles = new Set<string>();

  constructor(options: ScanOptions) {
    this.maxDepth = options.maxDepth ?? SCAN_LIMITS.maxDepth;
    this.maxEntries = options.maxEntries ?? SCAN_LIMITS.maxEntries;
    this.signal = options.signal;
  }

  firstVisit(stats: Stats): boolean {
    const key = `${stats.dev}:${stats.ino}`;
    if (this.visited.has(key)) return false;
    this.visited.add(key);
    return true;
  }

  firstFile(stats: Stats): boolean {
    const key = `${stats.dev}:${stats.ino}`;
    if (this.seenFiles.has(key)) return false;
    this.seenFiles.add(key);
    return true;
  }

  /**
   * Lists `dir` and below, breadth first, calling `onFile` for each regular file (symlinks
   * followed) that `wanted` accepts by name. `skip` names folders not to enter.
   */
  async files(
    dir: string,
    maxDepth: number,
    wanted: (name: string) => boolean,
    skip: ReadonlySet<string> = new Set(),
    reportDepth = false,
  ): Promise<FoundFile[]> {
    const found: FoundFile[] = [];
    const queue: { dir: string; depth: number }[] = [{ dir, depth: 0 }];
    while (queue.length > 0) {
      if (this.signal?.aborted === true) throw new AppError('cancelled', 'The scan was cancelled.');
      const { dir: current, depth } = queue.shift()!;
      let listing;
      try {
        const dirStats = await stat(current);
        if (!this.firstVisit(dirStats)) continue;
        listing = await readdir(current, { withFileTypes: true });
      } catch (error) {
        this.problems.push({ path: current, message: `This folder could not be read (${codeOf(error)}).` });
        continue;
      }
      listing.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of listing) {
        if (++this.entries > this.maxEntries) {
          this.truncated = true;
          return found;
        }
        const full = path.join(current, entry.name);
        let isDir = entry.isDirectory();
        let isFile = entry.isFile();
        if (entry.isSymbolicLink()) {
          const target = await stat(full).catch(() => null);
          isDir = target?.isDirectory() ?? false;
          isFile = target?.isFile() ?? false;
        }
        if (isDir) {
          if (skip.has(full)) continue;
          if (depth + 1 > maxDepth) this.truncated ||= reportDepth;
          else queue.push({ dir: full, depth: depth + 1 });
        } else if (isFile && wanted(entry.name)) {
          const stats = await stat(full).catch(() => null);
          if (stats?.isFile() === true && this.firstFile(stats)) found.push({ path: full, size: stats.size });
        }
      }
    }
    return found;
  }
}

function codeOf(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : 'error';
}

function stem(fileName: string): string {
  return fileName.replace(GGUF, '');
}

/** `…/.lmstudio/models/<publisher>/<model>/<file>.gguf` */
function isLmStudio(filePath: string): boolean {
  const parts = filePath.split(path.sep);
  const home = parts.length - 5;
  return home >= 0 && LMSTUDIO_HOME.test(parts[home]!) && parts[home + 1] === 'models';
}

function originOf(filePath: string): ModelOrigin {
  return isLmStudio(filePath) ? 'lmstudio' : 'file';
}

/** Groups split parts into one candidate each; everything else is a candidate by itself. */
function group(files: readonly FoundFile[], problems: ScanProblem[], skipped: ScanProblem[]): ModelCandidate[] {
  const candidates: ModelCandidate[] = [];
  const sets = new Map<string, { dir: string; prefix: string; count: number; parts: Map<number, FoundFile> }>();
  for (const file of files) {
    const name = path.basename(file.path);
    if (PROJECTOR.test(name)) {
      skipped.push({ path: file.path, message: 'This is a vision projector that belongs to a model; it is not a model by itself, so it was skipped.' });
      continue;
    }
    const split = SPLIT.exec(name);
    if (split === null) {
      candidates.push({
        displayName: stem(name),
        paths: [file.path],
        fileNames: [name],
        sizeBytes: file.size,
        origin: originOf(file.path),
        sourcePath: file.path,
      });
      continue;
    }
    const [, prefix, index, count] = split as unknown as [string, string, string, string];
    const key = `${path.dirname(file.path)}\0${prefix}\0${Number(count)}`;
    let set = sets.get(key);
    if (set === undefined) sets.set(key, (set = { dir: path.dirname(file.path), prefix, count: Number(count), parts: new Map() }));
    set.parts.set(Number(index), file);
  }
  for (const set of sets.values()) {
    const ordered: FoundFile[] = [];
    const missing: number[] = [];
    for (let i = 1; i <= set.count; i++) {
      const part = set.parts.get(i);
      if (part === undefined) missing.push(i);
      else ordered.push(part);
    }
    const strays = [...set.parts.keys()].filter((i) => i < 1 || i > set.count);
    const firstName = `${set.prefix}-${pad(1)}-of-${pad(set.count)}.gguf`;
    if (set.count === 0 || strays.length > 0) {
      problems.push({
        path: path.join(set.dir, firstName),
        message: `The split files of "${set.prefix}" are numbered inconsistently (part ${strays.join(', ')} of ${set.count}).`,
      });
      continue;
    }
    if (missing.length > 0) {
      const names = missing.map((i) => `${set.prefix}-${pad(i)}-of-${pad(set.count)}.gguf`);
      problems.push({
        path: path.join(set.dir, firstName),
        message: `"${set.prefix}" is split into ${set.count} files, but ${missing.length === 1 ? 'this part is' : 'these parts are'} missing from the folder: ${names.join(', ')}. Copy every part, then import again.`,
      });
      continue;
    }
    candidates.push({
      displayName: set.prefix,
      paths: ordered.map((part) => part.path),
      fileNames: ordered.map((part) => path.basename(part.path)),
      sizeBytes: ordered.reduce((sum, part) => sum + part.size, 0),
      origin: set.count === 1 ? originOf(ordered[0]!.path) : 'split',
      sourcePath: ordered[0]!.path,
    });
  }
  return candidates;
}

function pad(n: number): string {
  return String(n).padStart(5, '0');
}

/** A name safe as a file name on every platform. */
function safeFileName(name: string): string {
  return (
    name
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^[._]+/, '')
      .slice(0, 120) || 'model'
  );
}

async function isDir(dir: string): Promise<boolean> {
  return (await stat(dir).catch(() => null))?.isDirectory() ?? false;
}

/** Ollama keeps `manifests/` and `blobs/` side by side; the user may point at the store or at `~/.ollama`. */
async function ollamaStores(root: string): Promise<string[]> {
  const stores: string[] = [];
  for (const candidate of [root, path.join(root, 'models')]) {
    if ((await isDir(path.join(candidate, 'manifests'))) && (await isDir(path.join(candidate, 'blobs')))) stores.push(candidate);
  }
  return stores;
}

function ollamaName(host: string, namespace: string, model: string, tag: string): string {
  if (host !== OLLAMA_REGISTRY) return `${host}/${namespace}/${model}:${tag}`;
  return namespace === 'library' ? `${model}:${tag}` : `${namespace}/${model}:${tag}`;
}

/** Reads `manifests/<host>/<namespace>/<model>/<tag>` files and resolves each model layer to its blob. */
async function scanOllama(store: string, walk: Walk): Promise<ModelCandidate[]> {
  const manifestsDir = path.join(store, 'manifests');
  const manifests = await walk.files(manifestsDir, 3, () => true);
  const candidates: ModelCandidate[] = [];
  for (const manifest of manifests) {
    const parts = path.relative(manifestsDir, manifest.path).split(path.sep);
    if (parts.length !== 4) continue;
    const [host, namespace, model, tag] = parts as [string, string, string, string];
    const name = ollamaName(host, namespace, model, tag);
    if (manifest.size > SCAN_LIMITS.maxManifestBytes) {
      walk.problems.push({ path: manifest.path, message: `The Ollama manifest of ${name} is too large to be one; it was skipped.` });
      continue;
    }
    let digest: string | null = null;
    try {
      const parsed = JSON.parse(await readFile(manifest.path, 'utf8')) as unknown;
      const layers = typeof parsed === 'object' && parsed !== null && 'layers' in parsed && Array.isArray(parsed.layers) ? (parsed.layers as unknown[]) : [];
      for (const layer of layers) {
        if (typeof layer !== 'object' || layer === null) continue;
        const { mediaType, digest: value } = layer as { mediaType?: unknown; digest?: unknown };
        if (mediaType === OLLAMA_MODEL_LAYER && typeof value === 'string') {
          digest = DIGEST.exec(value)?.[1] ?? null;
          break;
        }
      }
    } catch {
      walk.problems.push({ path: manifest.path, message: `The Ollama manifest of ${name} could not be read as JSON; it was skipped.` });
      continue;
    }
    if (digest === null) {
      walk.problems.push({
        path: manifest.path,
        message: `The Ollama manifest of ${name} names no model file (it may be an adapter or a projector only); it was skipped.`,
      });
      continue;
    }
    const blob = path.join(store, 'blobs', `sha256-${digest}`);
    const blobStats = await stat(blob).catch(() => null);
    if (blobStats?.isFile() !== true) {
      walk.problems.push({
        path: manifest.path,
        message: `The model file of ${name} is missing from Ollama's blobs folder (sha256-${digest.slice(0, 12)}…). The download may be incomplete.`,
      });
      continue;
    }
    if (!walk.firstFile(blobStats)) continue;
    candidates.push({
      displayName: name,
      paths: [blob],
      fileNames: [`${safeFileName(`${model}-${tag}`)}.gguf`],
      sizeBytes: blobStats.size,
      origin: 'ollama',
      sourcePath: manifest.path,
      expectedSha256: digest,
    });
  }
  return candidates;
}

/**
 * Finds candidate models at `target`: a file (a split part brings its siblings), or a
 * folder searched recursively within SCAN_LIMITS. Throws `not_found` when nothing is at
 * `target`; everything found wrong below it is reported in `problems`.
 */
export async function scanModels(target: string, options: ScanOptions = {}): Promise<ScanResult> {
  const root = path.resolve(target);
  const rootStats = await stat(root).catch(async (error: unknown) => {
    // A dangling symlink exists but leads nowhere: say so rather than "not found".
    const link = await lstat(root).catch(() => null);
    throw new AppError(
      'not_found',
      link?.isSymbolicLink() === true ? 'This link points to a file that no longer exists.' : 'Nothing was found at this path.',
      `${root}: ${codeOf(error)}`,
    );
  });
  const walk = new Walk(options);

  if (rootStats.isFile()) {
    const name = path.basename(root);
    const split = SPLIT.exec(name);
    if (split !== null) {
      const siblings = await walk.files(path.dirname(root), 0, (other) => SPLIT.exec(other)?.[1]?.toLowerCase() === split[1]!.toLowerCase());
      return { candidates: group(siblings, walk.problems, walk.skipped), problems: walk.problems, skipped: walk.skipped, truncated: walk.truncated };
    }
    // Any file the user picked by hand is offered, extension or not (Ollama blobs have none); the validator decides.
    const file = {
      displayName: GGUF.test(name) ? stem(name) : name,
      paths: [root],
      fileNames: [GGUF.test(name) ? name : `${safeFileName(name)}.gguf`],
      sizeBytes: rootStats.size,
      origin: originOf(root),
      sourcePath: root,
    };
    return { candidates: [file], problems: [], skipped: [], truncated: false };
  }
  if (!rootStats.isDirectory()) throw new AppError('bad_request', 'This is neither a file nor a folder.', root);

  const candidates: ModelCandidate[] = [];
  const skip = new Set<string>();
  for (const store of await ollamaStores(root)) {
    candidates.push(...(await scanOllama(store, walk)));
    skip.add(path.join(store, 'manifests'));
    skip.add(path.join(store, 'blobs'));
  }
  const files = await walk.files(root, walk.maxDepth, (name) => GGUF.test(name), skip, true);
  candidates.push(...group(files, walk.problems, walk.skipped));
  candidates.sort((a, b) => (a.sourcePath < b.sourcePath ? -1 : a.sourcePath > b.sourcePath ? 1 : 0));
  return { candidates, problems: walk.problems, skipped: walk.skipped, truncated: walk.truncated };
}
