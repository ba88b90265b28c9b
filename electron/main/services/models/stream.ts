import type { Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { AppError } from '../../../common/result.ts';
import type { ByteProgress } from './types.ts';

/*
 * The byte loop of verify, and the progress meter of import and verify. Two buffers
 * alternate: while one is hashed, the next is already being read, so the disk (on libuv's
 * thread pool) and SHA-256 (on this thread) work at the same time. Import copies in the
 * kernel and hashes on a worker thread instead (kernel-copy.ts, hash-worker.ts).
 */

/** Large enough that per-call overhead vanishes next to the I/O; small enough for prompt cancellation. */
export const CHUNK_BYTES = 8 * 1024 * 1024;
export interface ByteLoopOptions {
  readonly signal?: AbortSignal | undefined;
  /** Called after each chunk is hashed, with its length. */
  readonly onBytes?: ((bytes: number) => void) | undefined;
}

export function throwIfCancelled(signal: AbortSignal | undefined, what = 'The import'): void {
  if (signal?.aborted === true) throw new AppError('cancelled', `${what} was cancelled.`);
}

/** Fills `buffer` from the handle's current position; fewer bytes only at the end of the file. */
async function readFull(handle: FileHandle, buffer: Buffer): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/** Waits for every step, so that no read or write is still running when the caller closes the files. */
async function settled<T>(read: Promise<T>, ...others: Promise<void>[]): Promise<T> {
  const [first, ...rest] = await Promise.allSettled([read, ...others]);
  for (const outcome of rest) if (outcome.status === 'rejected') throw outcome.reason;
  if (first!.status === 'rejected') throw first!.reason;
  return (first as PromiseFulfilledResult<T>).value;
}

/** Hashes now, on this thread, while the reads and writes already started run on the pool; a throw becomes a rejection. */
function hashNow(hash: Hash, chunk: Buffer): Promise<void> {
  return new Promise((resolve) => {
    hash.update(chunk);
    resolve();
  });
}

/** Feeds every byte of `source` to `hash`, reading the next chunk while hashing the current one. Returns the bytes read. */
export async function hashInto(source: string, hash: Hash, options: ByteLoopOptions & { readonly what?: string } = {}): Promise<number> {
  const input = await open(source, 'r');
  try {
    const buffers = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)] as const;
    let current = 0;
    let length = await readFull(input, buffers[0]);
    let total = 0;
    while (length > 0) {
      throwIfCancelled(options.signal, options.what);
      const chunk = buffers[current]!;
      const reading = readFull(input, buffers[1 - current]!);
      const next = await settled(reading, hashNow(hash, chunk.subarray(0, length)));
      total += length;
      options.onBytes?.(length);
      length = next;
      current = 1 - current;
    }
    throwIfCancelled(options.signal, options.what);
    return total;
  } finally {
    await input.close();
  }
}

/** Smoothing factor per sample: about the last two seconds dominate the speed shown. */
const SPEED_ALPHA = 0.3;
const SAMPLE_MS = 250;
const EMIT_MS = 100;
/** Also report every 1% of the bytes, so that a fast copy still shows (and can be cancelled at) fine steps. */
const EMIT_FRACTION = 0.01;

/**
 * Turns a stream of byte counts into progress reports: a speed smoothed with an
 * exponential moving average (so the estimate does not jump with every chunk) and the
 * time left at that speed. Reports every 100 ms or 1% of the bytes, whichever comes
 * first, plus once at the end: at most about a hundred reports per second of I/O.
 */
export class ProgressMeter {
  readonly total: number;
  readonly emit: (progress: ByteProgress) => void;
  readonly now: () => number;
  done = 0;
  speed = 0;
  sampleAt: number;
  sampleBytes = 0;
  emittedAt = -Infinity;
  emittedBytes = 0;

  constructor(total: number, emit: (progress: ByteProgress) => void, now: () => number = () => performance.now()) {
    this.total = total;
    this.emit = emit;
    this.now = now;
    this.sampleAt = now();
  }

  add(bytes: number): void {
    this.done += bytes;
    this.sampleBytes += bytes;
    const now = this.now();
    const elapsed = now - this.sampleAt;
    if (elapsed >= SAMPLE_MS) {
      const instant = (this.sampleBytes * 1000) / elapsed;
      this.speed = this.speed === 0 ? instant : SPEED_ALPHA * instant + (1 - SPEED_ALPHA) * this.speed;
      this.sampleAt = now;
      this.sampleBytes = 0;
    }
    if (now - this.emittedAt >= EMIT_MS || this.done - this.emittedBytes >= this.total * EMIT_FRACTION) this.report(now);
  }

  finish(): void {
    this.report(this.now());
  }

  current(): ByteProgress {
    const left = Math.max(0, this.total - this.done);
    return {
      bytesDone: this.done,
      bytesTotal: this.total,
      bytesPerSecond: Math.round(this.speed),
      secondsLeft: left === 0 ? 0 : this.speed > 0 ? left / this.speed : null,
    };
  }

  private report(now: number): void {
    this.emittedAt = now;
    this.emittedBytes = this.done;
    this.emit(this.current());
  }
}
