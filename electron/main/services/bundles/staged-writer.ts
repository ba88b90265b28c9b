import type { FileHandle } from 'node:fs/promises';

/**
 * Writes a payload's chunks to its staging file behind the hash, so that reading, hashing
 * and writing overlap instead of taking turns: the caller hands a chunk over and goes on to
 * hash the next one while this one is written on libuv's thread pool. Writes stay in order
 * (one in flight at a time). Every WRITEBACK_BYTES, the written range is flushed with a
 * data sync in the background too, so the disk writes while later chunks are hashed and the
 * final sync (which install needs before the rename makes the file count) has only the tail
 * left to flush, instead of the whole file after the hash is done.
 */

/** Flushed in the background this often: enough to keep the disk busy, few enough syscalls. */
const WRITEBACK_BYTES = 64 * 1024 * 1024;

export class StagedWriter {
  readonly #handle: FileHandle;
  #writing: Promise<void> = Promise.resolve();
  #flushing: Promise<void> | null = null;
  #unflushed = 0;
  #failure: { error: unknown } | null = null;

  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  /** Queues `chunk` (which the caller must not reuse) after the previous one; resolves once the one before it is written. */
  async write(chunk: Buffer): Promise<void> {
    await this.#writing;
    this.#throwIfFailed();
    this.#writing = this.#settle(this.#writeAll(chunk));
    this.#unflushed += chunk.length;
    if (this.#unflushed >= WRITEBACK_BYTES && this.#flushing === null) {
      this.#unflushed = 0;
      // After the write just queued, so the flush covers it; never two at once.
      this.#flushing = this.#writing.then(() => this.#settle(this.#handle.datasync())).finally(() => (this.#flushing = null));
    }
  }

  /** Waits for every queued write and flush, then makes the file durable. Throws the first write error. */
  async finish(): Promise<void> {
    await this.settled();
    this.#throwIfFailed();
    await this.#handle.sync();
  }

  /** Waits for whatever is in flight, ignoring its outcome: call it before closing the handle on any path. */
  async settled(): Promise<void> {
    await this.#writing;
    await this.#flushing;
  }

  async #writeAll(chunk: Buffer): Promise<void> {
    let at = 0;
    while (at < chunk.length) {
      const { bytesWritten } = await this.#handle.write(chunk, at, chunk.length - at);
      at += bytesWritten;
    }
  }

  /** A background operation never rejects (that would be an unhandled rejection while the caller hashes); its error is kept for the next call. */
  #settle(operation: Promise<unknown>): Promise<void> {
    return operation.then(
      () => undefined,
      (error: unknown) => {
        this.#failure ??= { error };
      },
    );
  }

  #throwIfFailed(): void {
    if (this.#failure !== null) throw this.#failure.error;
  }
}
