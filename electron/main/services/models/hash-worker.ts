import { Worker } from 'node:worker_threads';
import { AppError } from '../../../common/result.ts';

/*
 * SHA-256 of a model's files on a worker thread, so that hashing gigabytes never holds the
 * main thread (which answers the window and the contract) and runs beside a kernel copy.
 *
 * The worker's code is the string below, run with `eval: true`: it uses only Node's
 * built-in modules, so it needs no bundle of its own next to the main one (the app's
 * build and the tests from source load the same thing), and it is small enough to read
 * here. Two buffers alternate: the next read runs on libuv's pool while this chunk is
 * hashed. Chunks of 1 MiB stay in the CPU cache between the read's copy and the hash.
 */

const CHUNK_BYTES = 1024 * 1024;
/** Progress messages every this many bytes: fine steps for the meter, few messages. */
const REPORT_BYTES = 4 * 1024 * 1024;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { open } = require('node:fs/promises');
async function main(files) {
  const { chunkBytes, reportBytes } = workerData;
  const hash = createHash('sha256');
  const buffers = [Buffer.allocUnsafe(chunkBytes), Buffer.allocUnsafe(chunkBytes)];
  let total = 0;
  let unreported = 0;
  for (const file of files) {
    const handle = await open(file, 'r');
    let current = 0;
    let pending = handle.read(buffers[0], 0, chunkBytes, null);
    try {
      for (;;) {
        const { bytesRead } = await pending;
        if (bytesRead === 0) break;
        const chunk = buffers[current];
        current = 1 - current;
        pending = handle.read(buffers[current], 0, chunkBytes, null);
        hash.update(chunk.subarray(0, bytesRead));
        total += bytesRead;
        unreported += bytesRead;
        if (unreported >= reportBytes) {
          parentPort.postMessage({ type: 'bytes', bytes: unreported });
          unreported = 0;
        }
      }
    } finally {
      await pending.catch(() => undefined);
      await handle.close();
    }
  }
  if (unreported > 0) parentPort.postMessage({ type: 'bytes', bytes: unreported });
  parentPort.postMessage({ type: 'done', sha256: hash.digest('hex'), bytes: total });
}
parentPort.once('message', (files) =>
  main(files).catch((error) => parentPort.postMessage({ type: 'error', message: String(error && error.message), code: error && error.code })),
);
`;

type WorkerMessage =
  | { readonly type: 'bytes'; readonly bytes: number }
  | { readonly type: 'done'; readonly sha256: string; readonly bytes: number }
  | { readonly type: 'error'; readonly message: string; readonly code?: string };

export interface HashOptions {
  readonly signal?: AbortSignal | undefined;
  /** Called as bytes are hashed, with how many since the last call. */
  readonly onBytes?: ((bytes: number) => void) | undefined;
  /** The cancelled message's subject ("The import was cancelled."). */
  readonly what?: string;
}

export interface HashResult {
  readonly sha256: string;
  readonly bytes: number;
}

/**
 * A hashing thread, started ahead of the files it will hash: starting a thread costs tens
 * of milliseconds (more on a busy machine), which the import spends on the GGUF check
 * instead of waiting. It hashes once; `close` stops it whether or not it was used.
 */
export interface Hasher {
  /**
   * SHA-256 of `files` read in order as one stream. Cancelling stops the thread at once and
   * rejects with `cancelled`; a read error rejects with an Error carrying the system's code
   * (ENOENT, EACCES…), as fs would.
   */
  hash(files: readonly string[], options?: HashOptions): Promise<HashResult>;
  close(): void;
}

export function startHasher(): Hasher {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { chunkBytes: CHUNK_BYTES, reportBytes: REPORT_BYTES } });
  let used = false;
  // Until hash() listens, an early failure of the thread must not go unhandled.
  let early: Error | null = null;
  let exited = false;
  const onEarlyError = (error: Error) => (early = error);
  worker.on('error', onEarlyError);
  worker.once('exit', () => (exited = true));
  return {
    close: () => void worker.terminate(),
    hash(files, options = {}) {
      const { signal } = options;
      const cancelled = () => new AppError('cancelled', `${options.what ?? 'The import'} was cancelled.`);
      if (used) return Promise.reject(new Error('A hashing thread hashes once.'));
      used = true;
      if (signal?.aborted === true) {
        void worker.terminate();
        return Promise.reject(cancelled());
      }
      // A thread that already failed or ended will send nothing more.
      if (exited) return Promise.reject(early ?? new Error('The hashing thread stopped before it was used.'));
      return new Promise<HashResult>((resolve, reject) => {
        let settled = false;
        const finish = (outcome: () => void) => {
          if (settled) return;
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          void worker.terminate();
          outcome();
        };
        const onAbort = () => finish(() => reject(cancelled()));
        signal?.addEventListener('abort', onAbort, { once: true });
        worker.off('error', onEarlyError);
        worker.on('message', (message: WorkerMessage) => {
          if (settled) return;
          if (message.type === 'bytes') options.onBytes?.(message.bytes);
          else if (message.type === 'done') finish(() => resolve({ sha256: message.sha256, bytes: message.bytes }));
          else finish(() => reject(Object.assign(new Error(message.message), message.code === undefined ? {} : { code: message.code })));
        });
        worker.on('error', (error) => finish(() => reject(error)));
        worker.on('exit', (code) => finish(() => reject(new Error(`The hashing thread stopped unexpectedly (exit code ${code}).`))));
        worker.postMessage([...files]);
      });
    },
  };
}

/** SHA-256 of `files` as one stream, on a thread of its own (see Hasher.hash). */
export function hashFiles(files: readonly string[], options: HashOptions = {}): Promise<HashResult> {
  return startHasher().hash(files, options);
}
