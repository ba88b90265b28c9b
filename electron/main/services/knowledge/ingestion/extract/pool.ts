import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { EgressKind } from '../../../../../guard/egress.ts';
import type { EgressCheck } from '../../../../../guard/probe.ts';
import { DocumentError, type ExtractedDocument } from '../../types.ts';
import type { ExtractLimits } from './limits.ts';
import type { WireError, WorkerMessage, WorkerRequest } from './protocol.ts';

export interface ExtractorOptions {
  /** The worker's V8 old-generation heap cap; a file that needs more fails as out_of_memory. */
  readonly maxOldGenerationMb?: number;
  readonly maxYoungGenerationMb?: number;
  /** Per file; the worker is stopped and replaced when it runs over. */
  readonly timeoutMs?: number;
  /** Per scanned page read by OCR: each recognised page restarts the file's clock with this much time. */
  readonly ocrPageTimeoutMs?: number;
  readonly limits?: ExtractLimits;
  readonly workerEntry?: string;
  /** A worker's egress guard refused an attempt to reach the network (for the audit log). */
  readonly onEgressBlocked?: (attempt: { readonly process: 'worker'; readonly kind: EgressKind; readonly target: string }) => void;
}

export type ExtractResult = ExtractedDocument & { readonly bytes: number; readonly sha256: string };

export interface ExtractOptions {
  /** Where the worker writes an e-mail's attachments (see ExtractRequest.attachmentsDir). */
  readonly attachmentsDir?: string;
  /** Tesseract languages for scanned pages (the collection's OCR setting). */
  readonly ocrLanguages?: readonly string[];
  /** Called as each scanned page is recognised: pages done, of `total` to recognise in this file. */
  readonly onPage?: (done: number, total: number) => void;
}

export interface Extractor {
  /** Extracts one file; calls queue and run one at a time. Rejects with DocumentError, or an AbortError on abort. */
  extract(filePath: string, signal?: AbortSignal, options?: ExtractOptions): Promise<ExtractResult>;
  /** Has the worker (each worker, for a pool) try each way out; `guarded` is true when its egress guard refused them all. Queues like a file. */
  checkEgress(): Promise<EgressCheck>;
  /** Stops the worker; pending and queued calls reject with an AbortError. */
  close(): Promise<void>;
}

export const DEFAULT_EXTRACTOR = Object.freeze({ maxOldGenerationMb: 512, maxYoungGenerationMb: 64, timeoutMs: 120_000, ocrPageTimeoutMs: 120_000 });

/**
 * The worker's entry: the TypeScript source when running from source (tests, the CLI from
 * source), or the bundle esbuild writes to out/main/ (see scripts/build.ts).
 */
export function defaultWorkerEntry(callerUrl: string = import.meta.url): string {
  const caller = fileURLToPath(callerUrl);
  if (path.extname(caller) === '.ts') return path.resolve(path.dirname(caller), 'worker.ts');
  return path.resolve(path.dirname(caller), '../main/extract-worker.js');
}

export function abortError(message = 'The extraction was cancelled.'): Error {
  const error = new Error(message);
  error.name = 'AbortError';
  return error;
}

function fromWire(error: WireError): Error {
  if (error.reason !== null) return new DocumentError(error.reason, error.message);
  return Object.assign(new Error(error.message), error.code === undefined ? {} : { code: error.code });
}

interface Job {
  /** null: the egress self-check. */
  readonly filePath: string | null;
  readonly options: ExtractOptions | undefined;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (result: ExtractResult | EgressCheck) => void;
  readonly reject: (error: Error) => void;
  onAbort?: () => void;
}

/**
 * Runs extraction in one long-lived worker thread with a capped heap and a per-file time
 * limit. A worker that dies (out of memory), times out or is aborted is terminated and a
 * fresh one takes the next file.
 */
export function createExtractor(options: ExtractorOptions = {}): Extractor {
  const entry = options.workerEntry ?? defaultWorkerEntry();
  const timeoutMs = options.timeoutMs ?? DEFAULT_EXTRACTOR.timeoutMs;
  const ocrPageTimeoutMs = options.ocrPageTimeoutMs ?? DEFAULT_EXTRACTOR.ocrPageTimeoutMs;
  const limits = options.limits ?? {};
  const queue: Job[] = [];
  let worker: Worker | null = null;
  let lastError: (Error & { code?: string }) | null = null;
  let current: { job: Job; id: number; timer: NodeJS.Timeout } | null = null;
  let nextId = 1;
  let closed = false;

  function spawn(): Worker {
    const w = new Worker(entry, {
      resourceLimits: {
        maxOldGenerationSizeMb: options.maxOldGenerationMb ?? DEFAULT_EXTRACTOR.maxOldGenerationMb,
        maxYoungGenerationSizeMb: options.maxYoungGenerationMb ?? DEFAULT_EXTRACTOR.maxYoungGenerationMb,
      },
      execArgv: [],
    });
    lastError = null;
    w.on('message', (reply: WorkerMessage) => {
      if ('type' in reply) {
        if (reply.type === 'pageProgress') pageDone(reply.id, reply.done, reply.total);
        else notifyEgress(reply.kind, reply.target);
        return;
      }
      if (current === null || reply.id !== current.id) return;
      const { job } = finish();
      // The OCR engine's memory is over its cap (or it broke): a fresh worker takes the next file.
      if ('recycle' in reply && reply.recycle === true && worker === w) {
        worker = null;
        void w.terminate();
      }
      if ('egress' in reply) job.resolve(reply.egress);
      else if (reply.ok) job.resolve({ ...reply.document, bytes: reply.bytes, sha256: reply.sha256 });
      else job.reject(fromWire(reply.error));
      pump();
    });
    w.on('error', (error: Error & { code?: string }) => {
      if (w === worker) lastError = error;
    });
    w.on('exit', (code) => {
      // A worker we stopped on purpose was already detached; only unexpected exits land here.
      if (w !== worker) return;
      worker = null;
      if (current !== null) {
        const { job } = finish();
        job.reject(
          lastError?.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new DocumentError(
                'out_of_memory',
                'Reading this file needed more memory than allowed, so it was stopped. Split it into smaller files and add them.',
              )
            : new DocumentError('corrupt', `The document reader stopped unexpectedly (${lastError?.message ?? `exit code ${code}`}).`),
        );
      }
      pump();
    });
    return w;
  }

  function notifyEgress(kind: EgressKind, target: string): void {
    try {
      options.onEgressBlocked?.({ process: 'worker', kind, target });
    } catch {
      // Recording is the listener's job; a failure there must not break extraction.
    }
  }

  /** A scanned page was recognised: the file gets a fresh page's worth of time, and the caller hears of it. */
  function pageDone(id: number, done: number, total: number): void {
    if (current === null || current.id !== id) return;
    clearTimeout(current.timer);
    current.timer = armTimer(ocrPageTimeoutMs);
    try {
      current.job.options?.onPage?.(done, total);
    } catch {
      // Progress is the listener's business; a failure there must not stop the file.
    }
  }

  function armTimer(ms: number): NodeJS.Timeout {
    return setTimeout(() => {
      const limit = ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} seconds`;
      kill(new DocumentError('timeout', `Reading this file took longer than ${limit}, so it was stopped. Split it into smaller files and add them.`));
    }, ms);
  }

  /** Clears the running job's timer and abort listener, and hands it back. */
  function finish(): { job: Job } {
    const running = current;
    if (running === null) throw new Error('no running extraction');
    current = null;
    clearTimeout(running.timer);
    if (running.job.onAbort !== undefined) running.job.signal?.removeEventListener('abort', running.job.onAbort);
    worker?.unref();
    return { job: running.job };
  }

  /** Stops the worker in the middle of a file and fails that file with `error`. */
  function kill(error: Error): void {
    const w = worker;
    worker = null;
    const { job } = finish();
    job.reject(error);
    void w?.terminate();
    pump();
  }

  function pump(): void {
    if (closed || current !== null) return;
    const job = queue.shift();
    if (job === undefined) return;
    worker ??= spawn();
    worker.ref();
    const id = nextId++;
    const timer = armTimer(timeoutMs);
    current = { job, id, timer };
    // onPage stays here: functions don't cross to the worker.
    const { onPage: _onPage, ...wire } = job.options ?? {};
    const request: WorkerRequest = job.filePath === null ? { id, op: 'egressCheck' } : { id, filePath: job.filePath, limits, ...wire };
    worker.postMessage(request);
  }

  return {
    checkEgress() {
      if (closed) return Promise.reject(abortError('The extractor is closed.'));
      return new Promise<EgressCheck>((resolve, reject) => {
        queue.push({ filePath: null, options: undefined, signal: undefined, resolve: resolve as Job['resolve'], reject });
        pump();
      });
    },
    extract(filePath, signal, options) {
      if (closed) return Promise.reject(abortError('The extractor is closed.'));
      if (signal?.aborted === true) return Promise.reject(abortError());
      return new Promise<ExtractResult>((resolve, reject) => {
        const job: Job = { filePath: path.resolve(filePath), options, signal, resolve: resolve as Job['resolve'], reject };
        if (signal !== undefined) {
          job.onAbort = () => {
            if (current?.job === job) kill(abortError());
            else {
              const index = queue.indexOf(job);
              if (index !== -1) queue.splice(index, 1);
              reject(abortError());
            }
          };
          signal.addEventListener('abort', job.onAbort, { once: true });
        }
        queue.push(job);
        pump();
      });
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.reject(abortError('The extractor was closed.'));
      const w = worker;
      worker = null;
      if (current !== null) finish().job.reject(abortError('The extractor was closed.'));
      await w?.terminate();
    },
  };
}

/**
 * Several extractors, each with its own worker: a file goes to the one with the fewest files
 * waiting, so parsing uses more than one core while the rest of ingestion waits on embedding.
 */
export function createExtractorPool(size: number, options: ExtractorOptions = {}): Extractor {
  const members = Array.from({ length: Math.max(1, size) }, () => ({ extractor: createExtractor(options), waiting: 0 }));
  return {
    async extract(filePath, signal, options) {
      const member = members.reduce((best, candidate) => (candidate.waiting < best.waiting ? candidate : best));
      member.waiting += 1;
      try {
        return await member.extractor.extract(filePath, signal, options);
      } finally {
        member.waiting -= 1;
      }
    },
    async checkEgress() {
      const checks = await Promise.all(members.map((member) => member.extractor.checkEgress()));
      return { guarded: checks.every((check) => check.guarded), attempts: checks.flatMap((check) => check.attempts) };
    },
    async close() {
      await Promise.all(members.map((member) => member.extractor.close()));
    },
  };
}
