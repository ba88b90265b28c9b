import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../../common/result.ts';
import { collisionKey, MANIFEST_FILE, PAYLOAD_DIR, SIGNATURES_FILE, unsafePathReason, type Manifest, type ManifestFile } from './manifest.ts';
import { asRejection, BundleRejectedError, fixedMessages, reject, REBUILD_ADVICE } from './rejections.ts';
import { StagedWriter } from './staged-writer.ts';
import { specialName, tarEntries, type TarEntry } from './tar-reader.ts';

/**
 * Reads a bundle, a tar archive or a plain folder, in one streaming pass with every check
 * made before a byte is written: manifest.json and manifest.sig.json come first and go to
 * `head` (signatures, expiry, rollback) before any payload is read; then each payload's
 * header (type, path, size) is judged before its data is touched, and its bytes are hashed
 * on the way into `stageDir` (or only hashed when there is none).
 */

export interface BundleLimits {
  /** Entries in the archive or folder, folders included. */
  readonly maxEntries: number;
  /** Any single payload file. */
  readonly maxFileBytes: number;
  readonly maxManifestBytes: number;
  readonly maxSignaturesBytes: number;
}

export const DEFAULT_LIMITS: BundleLimits = {
  maxEntries: 10_000,
  // Large enough for any model a desktop can run; small enough to stop a size field gone mad.
  maxFileBytes: 1024 ** 4,
  maxManifestBytes: 4 * 1024 ** 2,
  maxSignaturesBytes: 64 * 1024,
};

export interface ReadOptions {
  readonly limits: BundleLimits;
  /** Judges the signed head; throws a rejection, or returns the manifest the payload must match. */
  readonly head: (manifestBytes: Buffer, signatureBytes: Buffer) => Manifest;
  /** Where accepted payloads are copied, as `<stageDir>/payload/<path>`. */
  readonly stageDir?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly onBytes?: ((file: ManifestFile, done: number) => void) | undefined;
}

export type BundleForm = 'dir' | 'tar';

export async function bundleForm(bundlePath: string): Promise<BundleForm> {
  let stats;
  try {
    stats = await lstat(bundlePath);
  } catch (error) {
    throw new AppError('not_found', 'The bundle was not found.', `${bundlePath}: ${String(error)}`);
  }
  if (stats.isDirectory()) return 'dir';
  if (stats.isFile()) return 'tar';
  throw new AppError('bad_request', 'A bundle is a .tar file or a folder.', `${bundlePath} is neither`);
}

export async function readBundle(bundlePath: string, options: ReadOptions): Promise<Manifest> {
  const form = await bundleForm(bundlePath);
  try {
    return await (form === 'dir' ? readDir(bundlePath, options) : readTar(bundlePath, options));
  } catch (error) {
    // Whatever odd input makes the reader trip over is still the bundle's fault, never a crash.
    throw asRejection(error, 'malformed_archive');
  }
}

/** What has been seen of the payload so far, against what the manifest lists. */
class PayloadTracker {
  readonly #listed: Map<string, ManifestFile>;
  readonly #seen = new Set<string>();
  /** Every folder that holds a listed file, spelled exactly as the manifest spells it. */
  readonly #folders = new Set<string>();
  readonly #seenFolders = new Set<string>();
  readonly #limits: BundleLimits;

  constructor(manifest: Manifest, limits: BundleLimits) {
    this.#limits = limits;
    this.#listed = new Map(manifest.files.map((file) => [collisionKey(file.path), file]));
    for (const file of manifest.files) {
      const segments = file.path.split('/');
      for (let depth = 1; depth < segments.length; depth += 1) this.#folders.add(segments.slice(0, depth).join('/'));
    }
  }

  /**
   * A folder entry below payload/ (`''` for payload/ itself). Only payload/ and the folders
   * that hold listed files may appear: anything else was not signed.
   */
  acceptFolder(relative: string): void {
    if (relative !== '' && !this.#folders.has(relative)) {
      reject(
        'unlisted_file',
        `The bundle holds a folder its manifest does not list ("${PAYLOAD_DIR}/${relative}/"). Something was added after signing. ${REBUILD_ADVICE}`,
      );
    }
    const key = collisionKey(relative);
    if (this.#seenFolders.has(key)) reject('duplicate_path', `The bundle holds the folder "${PAYLOAD_DIR}/${relative}" more than once. ${REBUILD_ADVICE}`);
    this.#seenFolders.add(key);
  }

  /** The manifest entry for a payload file whose header said `size` bytes. */
  accept(relative: string, size: number): ManifestFile {
    const key = collisionKey(relative);
    if (this.#seen.has(key)) reject('duplicate_path', `The bundle holds "${relative}" more than once. ${REBUILD_ADVICE}`);
    this.#seen.add(key);
    const file = this.#listed.get(key);
    if (file === undefined || file.path !== relative) {
      reject(
        'unlisted_file',
        `The bundle holds a file its manifest does not list ("${PAYLOAD_DIR}/${relative}"). Something was added after signing. ${REBUILD_ADVICE}`,
      );
    }
    checkSize(file, size, this.#limits);
    return file;
  }

  finish(): void {
    for (const [key, file] of this.#listed) {
      if (!this.#seen.has(key))
        reject(
          'missing_file',
          `The bundle's manifest lists "${file.path}", but the file is not in the bundle. Copy the whole bundle again, or ask the publisher for a complete one.`,
        );
    }
  }
}

export function countEntry(count: number, limits: BundleLimits): number {
  const next = count + 1;
  if (next > limits.maxEntries)
    reject('too_many_entries', `The bundle holds more than ${limits.maxEntries} entries, more than any genuine bundle needs. ${REBUILD_ADVICE}`);
  return next;
}

function checkSize(file: ManifestFile, size: number, limits: BundleLimits): void {
  if (size > limits.maxFileBytes) reject('oversized', `"${file.path}" is ${size} bytes, above the limit of ${limits.maxFileBytes} bytes for one file.`);
  if (size > file.size)
    reject('oversized', `"${file.path}" is bigger than its manifest says (${size} bytes, not ${file.size}). It was changed after signing. ${REBUILD_ADVICE}`);
  if (size < file.size)
    reject(
      'size_mismatch',
      `"${file.path}" is smaller than its manifest says (${size} bytes, not ${file.size}). It was changed after signing, or cut short. ${REBUILD_ADVICE}`,
    );
}

export function checkDeclaredSizes(manifest: Manifest, limits: BundleLimits): void {
  if (manifest.files.length + 3 > limits.maxEntries)
    reject('too_many_entries', `The bundle lists ${manifest.files.length} files, above the limit of ${limits.maxEntries} entries. ${REBUILD_ADVICE}`);
  for (const file of manifest.files) {
    if (file.size > limits.maxFileBytes)
      reject('oversized', `"${file.path}" is declared at ${file.size} bytes, above the limit of ${limits.maxFileBytes} bytes for one file.`);
  }
}

function checkEntryPath(raw: string): string {
  const unsafe = unsafePathReason(raw);
  if (unsafe !== null)
    reject(
      'path_traversal',
      `The bundle holds an entry at an unsafe location ("${raw}"): ${unsafe}. It was built to write outside its folder; do not install it.`,
      raw,
    );
  return raw;
}

/** Copies one payload file's bytes, hashing and counting them; `chunks` ends early only on damage. */
async function stage(file: ManifestFile, chunks: AsyncIterable<Buffer>, options: ReadOptions): Promise<void> {
  let handle: FileHandle | null = null;
  if (options.stageDir !== undefined) {
    const target = path.join(options.stageDir, PAYLOAD_DIR, ...file.path.split('/'));
    // Belt and braces: the path was checked, but a write must never leave staging.
    if (!target.startsWith(path.join(options.stageDir, PAYLOAD_DIR) + path.sep)) throw new AppError('internal', 'A bundle path escaped staging.', target);
    await mkdir(path.dirname(target), { recursive: true });
    handle = await open(target, 'wx', 0o644);
  }
  // Written behind the hash: this chunk goes to disk while the next is read and hashed.
  const writer = handle === null ? null : new StagedWriter(handle);
  try {
    const hash = createHash('sha256');
    let done = 0;
    for await (const chunk of chunks) {
      options.signal?.throwIfAborted();
      done += chunk.length;
      if (done > file.size) reject('oversized', `"${file.path}" is bigger than its manifest says. It was changed after signing. ${REBUILD_ADVICE}`);
      await writer?.write(chunk);
      hash.update(chunk);
      options.onBytes?.(file, done);
    }
    if (done < file.size) reject('size_mismatch', `"${file.path}" is smaller than its manifest says (${done} bytes, not ${file.size}). ${REBUILD_ADVICE}`);
    const digest = hash.digest('hex');
    if (digest !== file.sha256)
      reject(
        'hash_mismatch',
        `The contents of "${file.path}" do not match the signed manifest: the file was changed or damaged after signing. ${REBUILD_ADVICE}`,
        `sha256 ${digest}, expected ${file.sha256}`,
      );
    // Durable before the rename into installed/ makes it count.
    await writer?.finish();
  } finally {
    // Nothing may still be writing when the handle closes, whatever stopped the loop.
    await writer?.settled();
    await handle?.close();
  }
}

// --- tar ---

function checkEntryType(entry: TarEntry): 'file' | 'dir' {
  if (entry.type === 'file' || entry.type === 'dir') return entry.type;
  if (entry.type === 'hardlink' || entry.type === 'symlink') {
    reject(
      'link_entry',
      `The bundle holds a ${entry.type === 'hardlink' ? 'hard link' : 'symbolic link'} ("${entry.path}" → "${entry.linkpath}"). Bundles may hold only plain files; a link can point outside the bundle. Do not install it.`,
    );
  }
  reject(
    'unsupported_entry',
    `The bundle holds a special entry ("${entry.path}", ${specialName(entry.typeflag)}). Bundles may hold only plain files and folders. Do not install it.`,
    specialName(entry.typeflag),
  );
}

/** A header block and the end-of-archive marker: nothing shorter can be a whole bundle. */
const MIN_ARCHIVE_BYTES = 3 * 512;
/** PAX and GNU long-name records: a path is at most 1024 characters, so this is ample. */
const MAX_META_BYTES = 64 * 1024;

async function readTar(file: string, options: ReadOptions): Promise<Manifest> {
  const { limits } = options;
  const handle = await open(file, NO_FOLLOW);
  try {
    if ((await handle.stat()).size < MIN_ARCHIVE_BYTES) reject('truncated', fixedMessages.truncated, 'shorter than the smallest possible archive');
    let manifestBytes: Buffer | null = null;
    let manifest: Manifest | null = null;
    let tracker: PayloadTracker | null = null;
    let entries = 0;
    for await (const entry of tarEntries(handle, { maxMetaBytes: MAX_META_BYTES, signal: options.signal })) {
      const index = entries;
      entries = countEntry(entries, limits);
      const name = checkEntryPath(entry.path);
      const type = checkEntryType(entry);
      if (index === 0 || index === 1) {
        const expected = index === 0 ? MANIFEST_FILE : SIGNATURES_FILE;
        if (name === expected && type === 'dir') {
          if (index === 0)
            reject('malformed_manifest', `The bundle's ${MANIFEST_FILE} is a folder, not a file. Rebuild the bundle with "soberana bundle create".`);
          reject('malformed_signature', fixedMessages.malformed_signature, `${SIGNATURES_FILE} is a folder`);
        }
        if (name !== expected || type !== 'file')
          reject('malformed_archive', fixedMessages.malformed_archive, `entry ${index + 1} is "${entry.path}", expected ${expected}`);
        const max = index === 0 ? limits.maxManifestBytes : limits.maxSignaturesBytes;
        if (entry.size > max) reject('oversized', `The bundle's ${expected} is ${entry.size} bytes, above the limit of ${max}. ${REBUILD_ADVICE}`);
        const bytes = await collect(entry.data());
        if (index === 0) {
          manifestBytes = bytes;
          continue;
        }
        manifest = options.head(manifestBytes ?? Buffer.alloc(0), bytes);
        checkDeclaredSizes(manifest, limits);
        tracker = new PayloadTracker(manifest, limits);
        continue;
      }
      if (tracker === null) throw new AppError('internal', 'Payload before head.');
      if (name === MANIFEST_FILE || name === SIGNATURES_FILE) reject('duplicate_path', `The bundle holds a second "${name}". ${REBUILD_ADVICE}`);
      if (type === 'dir') {
        if (name !== PAYLOAD_DIR && !name.startsWith(`${PAYLOAD_DIR}/`))
          reject('unlisted_file', `The bundle holds a folder outside payload/ ("${name}"). ${REBUILD_ADVICE}`);
        tracker.acceptFolder(name === PAYLOAD_DIR ? '' : name.slice(PAYLOAD_DIR.length + 1));
        continue;
      }
      if (!name.startsWith(`${PAYLOAD_DIR}/`))
        reject('unlisted_file', `The bundle holds a file outside payload/ ("${name}") that its manifest does not list. ${REBUILD_ADVICE}`);
      const listed = tracker.accept(name.slice(PAYLOAD_DIR.length + 1), entry.size);
      await stage(listed, entry.data(), options);
    }
    if (manifest === null || tracker === null) reject('truncated', fixedMessages.truncated, 'archive ends before its manifest and signatures');
    (tracker as PayloadTracker).finish();
    return manifest;
  } finally {
    await handle.close();
  }
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

// --- folder ---

/** O_NOFOLLOW: a file swapped for a link between the listing and the open is refused, not followed. */
const NO_FOLLOW = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

async function openPlain(file: string, shown: string): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    handle = await open(file, NO_FOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') reject('link_entry', `The bundle holds a link ("${shown}"). Bundles may hold only plain files. Do not install it.`);
    if (code === 'ENOENT') reject('missing_file', `The bundle folder has no "${shown}". Copy the whole bundle again.`);
    throw new AppError('io_error', 'A bundle file could not be read.', `${file}: ${String(error)}`);
  }
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await handle.close();
    if (stats.isDirectory()) reject('unlisted_file', `The bundle holds a folder where a file belongs ("${shown}"). ${REBUILD_ADVICE}`);
    reject('unsupported_entry', `The bundle holds a special file ("${shown}"). Bundles may hold only plain files. Do not install it.`);
  }
  if (stats.nlink > 1) {
    await handle.close();
    reject('link_entry', `The bundle holds a hard-linked file ("${shown}"). Bundles may hold only plain files. Copy the bundle folder again (without links).`);
  }
  return { handle, size: stats.size };
}

async function readSmall(dir: string, name: string, max: number, ifFolder: () => never): Promise<Buffer> {
  if ((await lstat(path.join(dir, name)).catch(() => null))?.isDirectory() === true) ifFolder();
  const { handle, size } = await openPlain(path.join(dir, name), name);
  try {
    if (size > max) reject('oversized', `The bundle's ${name} is ${size} bytes, above the limit of ${max}. ${REBUILD_ADVICE}`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

async function readDir(dir: string, options: ReadOptions): Promise<Manifest> {
  const { limits } = options;
  let manifestBytes: Buffer;
  try {
    manifestBytes = await readSmall(dir, MANIFEST_FILE, limits.maxManifestBytes, () =>
      reject('malformed_manifest', `The bundle's ${MANIFEST_FILE} is a folder, not a file. Rebuild the bundle with "soberana bundle create".`),
    );
  } catch (error) {
    if (error instanceof BundleRejectedError && error.rejection.code === 'missing_file')
      reject('malformed_manifest', 'The bundle folder has no manifest.json. Rebuild the bundle with "soberana bundle create".');
    throw error;
  }
  let signatureBytes: Buffer;
  try {
    signatureBytes = await readSmall(dir, SIGNATURES_FILE, limits.maxSignaturesBytes, () =>
      reject('malformed_signature', fixedMessages.malformed_signature, `${SIGNATURES_FILE} is a folder`),
    );
  } catch (error) {
    if (error instanceof BundleRejectedError && error.rejection.code === 'missing_file') reject('malformed_signature', fixedMessages.malformed_signature);
    throw error;
  }
  const manifest = options.head(manifestBytes, signatureBytes);
  checkDeclaredSizes(manifest, limits);
  const tracker = new PayloadTracker(manifest, limits);

  let entries = 0;
  let hasPayload = false;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    entries = countEntry(entries, limits);
    if (entry.name === MANIFEST_FILE || entry.name === SIGNATURES_FILE) continue;
    if (entry.name !== PAYLOAD_DIR)
      reject('unlisted_file', `The bundle folder holds "${entry.name}", which its manifest does not list. Remove it, or ask the publisher for a clean copy.`);
    if (entry.isSymbolicLink())
      reject('link_entry', `The bundle's payload folder is a link. Bundles may hold only plain files and folders. Do not install it.`);
    if (!entry.isDirectory())
      reject('unlisted_file', `The bundle folder holds a file named "${PAYLOAD_DIR}" where the payload folder belongs. ${REBUILD_ADVICE}`);
    hasPayload = true;
  }
  const walk = async (relative: string): Promise<void> => {
    const absolute = path.join(dir, PAYLOAD_DIR, ...relative.split('/').filter(Boolean));
    const children = (await readdir(absolute, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const child of children) {
      entries = countEntry(entries, limits);
      const name = checkEntryPath(relative === '' ? child.name : `${relative}/${child.name}`);
      if (child.isSymbolicLink())
        reject(
          'link_entry',
          `The bundle holds a symbolic link ("${PAYLOAD_DIR}/${name}"). Bundles may hold only plain files; a link can point outside the bundle. Do not install it.`,
        );
      if (child.isDirectory()) {
        tracker.acceptFolder(name);
        await walk(name);
        continue;
      }
      if (!child.isFile())
        reject('unsupported_entry', `The bundle holds a special file ("${PAYLOAD_DIR}/${name}"). Bundles may hold only plain files. Do not install it.`);
      const { handle, size } = await openPlain(path.join(dir, PAYLOAD_DIR, ...name.split('/')), `${PAYLOAD_DIR}/${name}`);
      try {
        const listed = tracker.accept(name, size);
        await stage(listed, handle.createReadStream({ autoClose: false, highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>, options);
      } finally {
        await handle.close();
      }
    }
  };
  if (hasPayload) await walk('');
  tracker.finish();
  return manifest;
}
