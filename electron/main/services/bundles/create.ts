import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../../../common/result.ts';
import { writeFileAtomic } from '../atomic-file.ts';
import { canonicalJson } from './canonical.ts';
import { readHead, type BundleHead } from './head.ts';
import { loadPrivateKey, signBytes, type BundleSignature } from './keys.ts';
import {
  checkManifestFiles,
  MANIFEST_FILE,
  manifestSchema,
  parseManifest,
  PAYLOAD_DIR,
  SIGNATURES_FILE,
  type BundleKind,
  type FileMeta,
  type Manifest,
  type ManifestFile,
} from './manifest.ts';
import { BundleRejectedError } from './rejections.ts';
import { parseSignatures } from './trust.ts';
import { offsetAfterEntries, readFrom, writeArchiveAtomic } from './tar-writer.ts';

export type { BundleHead } from './head.ts';

/** Publisher-side tools: build a bundle folder, pack it into one file, sign either form. */

export interface CreateBundleFile {
  readonly kind: BundleKind;
  /** The file to copy in. */
  readonly source: string;
  /** Where it goes under payload/; defaults to the source's file name. */
  readonly path?: string;
  readonly meta: FileMeta;
}

export interface CreateBundleOptions {
  /** A new (or empty) folder to build the bundle in… */
  readonly dir?: string;
  /** …or a .tar file to write (built in a temporary folder next to it, then packed). */
  readonly out?: string;
  readonly id: string;
  readonly name: string;
  readonly version: number;
  /** ISO timestamps; `created` defaults to now. */
  readonly created?: string;
  readonly expires: string;
  readonly publisherKeyId: string;
  readonly files: readonly CreateBundleFile[];
}

export interface CreateProgress {
  readonly file: string;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

export async function createBundle(
  options: CreateBundleOptions,
  onProgress?: (progress: CreateProgress) => void,
): Promise<{ path: string; manifest: Manifest }> {
  if ((options.dir === undefined) === (options.out === undefined))
    throw new AppError('bad_request', 'Give either a folder or an output file for the bundle, not both.');
  const out = options.out === undefined ? undefined : path.resolve(options.out);
  const dir = options.dir ?? path.join(path.dirname(out ?? ''), `.${path.basename(out ?? '')}.${randomBytes(6).toString('hex')}.building`);
  const sources = await Promise.all(options.files.map(async (file) => ({ file, size: (await statPlain(file.source)).size })));
  const bytesTotal = sources.reduce((sum, { size }) => sum + size, 0);
  const draft = {
    format: 1 as const,
    id: options.id,
    name: options.name,
    version: options.version,
    created: options.created ?? new Date().toISOString(),
    expires: options.expires,
    publisher: options.publisherKeyId,
    files: sources.map(({ file, size }) => ({ path: file.path ?? path.basename(file.source), size, sha256: '0'.repeat(64), kind: file.kind, meta: file.meta })),
  };
  // Checked before anything is copied: a bad field should not cost a copy of a 40 GB model.
  validateDraft(draft);

  await prepareEmptyDir(dir);
  try {
    let before = 0;
    const files: ManifestFile[] = [];
    for (const [index, { file }] of sources.entries()) {
      const entry = draft.files[index] as ManifestFile;
      const target = path.join(dir, PAYLOAD_DIR, ...entry.path.split('/'));
      await mkdir(path.dirname(target), { recursive: true });
      const copied = await copyHashing(file.source, target, (done) => onProgress?.({ file: entry.path, bytesDone: before + done, bytesTotal }));
      if (copied.size !== entry.size) throw new AppError('io_error', `"${file.source}" changed while it was copied.`);
      before += copied.size;
      files.push({ ...entry, sha256: copied.sha256 });
    }
    const manifest: Manifest = { ...draft, files };
    validateDraft(manifest);
    await writeFileAtomic(path.join(dir, MANIFEST_FILE), canonicalJson(manifest));
    await writeFileAtomic(path.join(dir, SIGNATURES_FILE), '[]');
    if (out === undefined) return { path: dir, manifest };
    await packBundle(dir, out);
    return { path: out, manifest };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  } finally {
    if (out !== undefined) await rm(dir, { recursive: true, force: true });
  }
}

function validateDraft(draft: unknown): void {
  const parsed = manifestSchema.safeParse(draft);
  if (!parsed.success) throw new AppError('bad_request', 'The bundle description is not valid.', z.prettifyError(parsed.error));
  try {
    checkManifestFiles(parsed.data as Manifest);
  } catch (error) {
    throw asBadRequest(error);
  }
}

/** Packs a bundle folder into one tar file: manifest.json, manifest.sig.json, then the payload in manifest order. */
export async function packBundle(dir: string, outFile: string): Promise<void> {
  const manifestBytes = await readFile(path.join(dir, MANIFEST_FILE));
  const signatureBytes = await readFile(path.join(dir, SIGNATURES_FILE));
  const manifest = guardParse(() => parseManifest(manifestBytes));
  guardParse(() => parseSignatures(signatureBytes));
  await writeArchiveAtomic(
    path.resolve(outFile),
    async (sink) => {
      await sink.file(MANIFEST_FILE, manifestBytes.length, manifestBytes);
      await sink.file(SIGNATURES_FILE, signatureBytes.length, signatureBytes);
      for (const file of manifest.files) {
        const source = path.join(dir, PAYLOAD_DIR, ...file.path.split('/'));
        const { size } = await statPlain(source);
        if (size !== file.size) throw new AppError('bad_request', `"${file.path}" does not match the manifest (${size} bytes, expected ${file.size}).`);
        await sink.file(
          `${PAYLOAD_DIR}/${file.path}`,
          size,
          checkingHash(createReadStream(source, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>, file),
        );
      }
    },
    { endMarker: true },
  );
}

/** Reads manifest and signatures without judging them (no trust decision, no payload read); a bundle that cannot be read is a bad request naming its rejection code. */
export async function inspectBundle(bundlePath: string): Promise<BundleHead> {
  const reading = await readHead(bundlePath);
  if (!reading.ok) throw new AppError('bad_request', reading.reason.message, reading.reason.details ?? reading.reason.code);
  return reading.head;
}

/**
 * Adds (or replaces) the signature of `privateKeyPem`'s key. A folder gets a new
 * manifest.sig.json; an archive is rewritten through a temporary file and renamed over.
 */
export async function signBundle(bundlePath: string, privateKeyPem: string): Promise<{ keyId: string; signatures: readonly BundleSignature[] }> {
  const key = loadPrivateKey(privateKeyPem);
  const head = await inspectBundle(bundlePath);
  const signatures = [...head.signatures.filter((signature) => signature.keyId !== key.keyId), signBytes(head.manifestBytes, key)];
  const signatureBytes = Buffer.from(canonicalJson(signatures));
  if (head.form === 'dir') {
    await writeFileAtomic(path.join(bundlePath, SIGNATURES_FILE), signatureBytes);
  } else {
    const rest = await offsetAfterEntries(bundlePath, 2);
    await writeArchiveAtomic(
      bundlePath,
      async (sink) => {
        await sink.file(MANIFEST_FILE, head.manifestBytes.length, head.manifestBytes);
        await sink.file(SIGNATURES_FILE, signatureBytes.length, signatureBytes);
        await sink.raw(readFrom(bundlePath, rest));
      },
      { endMarker: false },
    );
  }
  return { keyId: key.keyId, signatures };
}

async function* checkingHash(chunks: AsyncIterable<Buffer>, file: ManifestFile): AsyncIterable<Buffer> {
  const hash = createHash('sha256');
  for await (const chunk of chunks) {
    hash.update(chunk);
    yield chunk;
  }
  if (hash.digest('hex') !== file.sha256)
    throw new AppError('bad_request', `"${file.path}" does not match the manifest's SHA-256; it changed after the bundle was created.`);
}

async function copyHashing(source: string, target: string, onBytes: (done: number) => void): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  const handle = await open(target, 'wx', 0o644);
  let size = 0;
  try {
    for await (const chunk of createReadStream(source, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      await handle.write(chunk);
      size += chunk.length;
      onBytes(size);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { size, sha256: hash.digest('hex') };
}

async function statPlain(file: string): Promise<{ size: number }> {
  let stats;
  try {
    stats = await lstat(file);
  } catch (error) {
    throw new AppError('not_found', `"${file}" was not found.`, String(error));
  }
  if (!stats.isFile()) throw new AppError('bad_request', `"${file}" is not a plain file; bundles hold plain files only.`);
  return { size: stats.size };
}

async function prepareEmptyDir(dir: string): Promise<void> {
  const existing = await stat(dir).catch(() => null);
  if (existing !== null && (!existing.isDirectory() || (await readdir(dir)).length > 0))
    throw new AppError('bad_request', `"${dir}" already exists and is not an empty folder.`);
  await mkdir(dir, { recursive: true });
}

function guardParse<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw asBadRequest(error);
  }
}

function asBadRequest(error: unknown): unknown {
  if (error instanceof BundleRejectedError) return new AppError('bad_request', error.rejection.message, error.rejection.details ?? error.rejection.code);
  return error;
}
