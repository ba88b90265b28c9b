import { constants } from 'node:fs';
import { chmod, copyFile, open, stat } from 'node:fs/promises';
import { AppError } from '../../../common/result.ts';
import { startHasher } from './hash-worker.ts';
import type { Hasher } from './hash-worker.ts';
import { throwIfCancelled } from './stream.ts';

/*
 * A verified copy at the speed of the slower of its two unavoidable parts. The kernel
 * copies each file (fs.copyFile: copy_file_range on Linux, a reflink where the file system
 * can share blocks, clonefile/CopyFile elsewhere), so no byte crosses into this process,
 * while a worker thread hashes the sources in parallel (hash-worker.ts). What landed is
 * then checked against what was hashed: the same size, and the same bytes at a spread of
 * sample blocks (a wrong, shifted or truncated copy fails it). The kernel's copy is not
 * hashed a second time: the kernel either copies faithfully or reports an error, and a
 * full re-read would cost as much as the hash itself; the library's verify re-hashes the
 * copy whenever asked.
 *
 * Progress counts the bytes both hashed and landed. A cancel stops the hash at once and
 * rejects; a kernel copy already under way cannot be interrupted, so it finishes on its
 * own into a file the caller has already removed (its space is freed when it closes).
 */

/** Blocks compared between source and copy: enough to catch a shifted or truncated copy, cheap next to the hash. */
const SAMPLE_COUNT = 17;
const SAMPLE_BYTES = 64 * 1024;
/** How often the copy's size is read while it runs, for progress. */
const POLL_MS = 50;

export interface CopyOptions {
  readonly signal?: AbortSignal | undefined;
  readonly onBytes?: ((bytes: number) => void) | undefined;
  /** A hashing thread started ahead (see startHasher); a new one otherwise. */
  readonly hasher?: Hasher | undefined;
}

export interface CopyResult {
  readonly sha256: string;
  /** Bytes in each copy, in order. */
  readonly sizes: readonly number[];
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/** The offsets sampled in a file of `size` bytes: the first and last blocks and evenly between. */
export function sampleOffsets(size: number): number[] {
  if (size <= SAMPLE_BYTES) return size === 0 ? [] : [0];
  const last = size - SAMPLE_BYTES;
  const offsets = new Set<number>();
  for (let i = 0; i < SAMPLE_COUNT; i++) offsets.add(Math.floor((last * i) / (SAMPLE_COUNT - 1)));
  return [...offsets];
}

/** Compares `copy` with `source` at the sample blocks and fsyncs it. Throws io_error on any difference. */
async function checkAndSync(source: string, copy: string): Promise<number> {
  const input = await open(source, 'r');
  try {
    const output = await open(copy, 'r+');
    try {
      const [from, to] = await Promise.all([input.stat(), output.stat()]);
      const differ = (why: string) =>
        new AppError('io_error', 'The copy of the model does not match the file it was copied from. Try again.', `${copy}: ${why}`);
      if (from.size !== to.size) throw differ(`${to.size} bytes landed of ${from.size}`);
      const a = Buffer.allocUnsafe(SAMPLE_BYTES);
      const b = Buffer.allocUnsafe(SAMPLE_BYTES);
      for (const offset of sampleOffsets(from.size)) {
        const length = Math.min(SAMPLE_BYTES, from.size - offset);
        const [ra, rb] = await Promise.all([input.read(a, 0, length, offset), output.read(b, 0, length, offset)]);
        if (ra.bytesRead !== length || rb.bytesRead !== length || !a.subarray(0, length).equals(b.subarray(0, length))) {
          throw differ(`bytes differ at ${offset}`);
        }
      }
      await output.sync();
      return to.size;
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
}

/**
 * Copies `sources[i]` to `targets[i]` (which must not exist) in the kernel while a worker
 * thread hashes the sources as one stream; checks and fsyncs each copy; returns the hash
 * and the sizes that landed. On failure or cancel the caller removes the targets.
 */
export async function copyVerified(sources: readonly string[], targets: readonly string[], options: CopyOptions = {}): Promise<CopyResult> {
  const { signal } = options;
  if (signal?.aborted === true) options.hasher?.close();
  throwIfCancelled(signal);
  let hashed = 0;
  let landedBefore = 0;
  let landedNow = 0;
  let reported = 0;
  let current: string | null = null;
  const update = () => {
    const done = Math.min(hashed, landedBefore + landedNow);
    if (done > reported && signal?.aborted !== true) {
      options.onBytes?.(done - reported);
      reported = done;
    }
  };
  let polling = false;
  const poll = () => {
    if (polling || current === null) return;
    polling = true;
    const file = current;
    void sizeOf(file).then((size) => {
      polling = false;
      if (current === file) landedNow = Math.max(landedNow, size);
      update();
    });
  };
  // Stops the hash too when the copy fails, not only when the caller cancels.
  const stop = new AbortController();
  const hashing = (options.hasher ?? startHasher()).hash(sources, {
    signal: signal === undefined ? stop.signal : AbortSignal.any([signal, stop.signal]),
    onBytes: (bytes) => {
      hashed += bytes;
      // The copy usually runs ahead; look at it only when the hash has caught up with what was last seen.
      if (hashed > landedBefore + landedNow) poll();
      update();
    },
  });
  // Settle the hash's outcome even when the copy fails first, so that its rejection is never unhandled.
  hashing.catch(() => undefined);
  const timer = setInterval(poll, POLL_MS);
  const copying = (async () => {
    const sizes: number[] = [];
    for (let i = 0; i < sources.length; i++) {
      throwIfCancelled(signal);
      current = targets[i]!;
      landedNow = 0;
      // EXCL: never overwrite; FICLONE: share blocks where the file system can, else copy.
      await copyFile(sources[i]!, targets[i]!, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
      current = null;
      landedBefore += await sizeOf(targets[i]!);
      landedNow = 0;
      update();
      throwIfCancelled(signal);
      // The kernel copies the source's permissions; the library's files are the app's own, as a streamed copy made them.
      await chmod(targets[i]!, 0o644);
      // Checked and written back while the hash is still running: the copy is usually the faster
      // part, and its write-back would otherwise wait for the hash to end.
      sizes.push(await checkAndSync(sources[i]!, targets[i]!));
    }
    return sizes;
  })();
  copying.catch(() => undefined);
  try {
    // A cancel rejects the hash at once; the copy is not waited for then (it cannot be stopped).
    const [result, sizes] = await Promise.all([hashing, copying]);
    throwIfCancelled(signal);
    const total = sizes.reduce((sum, size) => sum + size, 0);
    if (total !== result.bytes) {
      throw new AppError(
        'io_error',
        'The file changed while it was being imported. Try again once nothing is writing to it.',
        `${result.bytes} bytes hashed, ${total} copied`,
      );
    }
    return { sha256: result.sha256, sizes };
  } catch (error) {
    stop.abort();
    throw error;
  } finally {
    clearInterval(timer);
  }
}
