import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { IngestProgress } from '../../../../common/contract/knowledge.ts';
import { adoptAttachments, attachmentStage } from './attachments.ts';
import { chunkDocument } from './chunk.ts';
import { withScanConfidence } from './scan-chunks.ts';
import { failureOf, hashFile, isAbort, pagesOf, readHead } from './document-file.ts';
import { detectFormat } from './extract/detect.ts';
import { screenBlocks } from './screen-blocks.ts';
import { progressOf, settledOutcome, type MutableFile, type SettledFile } from './progress.ts';
import { chunkSizing } from './embedder.ts';
import type { KnowledgeDocument } from '../store.ts';
import { DocumentError } from '../types.ts';

// The ingestion queue: one run at a time, files in order, two stages overlapped. While one
// document is embedded in the inference process and written to the index, the next is
// hashed, copied and parsed in the extraction worker. Every step is recorded in the journal
// (documents.status) before the next begins, so a crash anywhere is finished or undone at
// the next start (recover.ts). A document is searchable only once all its rows are written.

export type { Extractor } from './extract/pool.ts';
export { CHARS_PER_PAGE, hashFile, pagesOf } from './document-file.ts';
export type { SettledFile } from './progress.ts';

import type { IngestDeps, IngestJob, IngestQueue, Prepared } from './ingest-types.ts';

export type { IngestDeps, IngestJob, IngestQueue } from './ingest-types.ts';

export function createIngestQueue(deps: IngestDeps): IngestQueue {
  const { store, index } = deps;
  const flushRows = deps.flushRows ?? 4096;
  const lookahead = Math.max(1, deps.lookahead ?? 1);
  const queue: { job: IngestJob; entry: MutableFile }[] = [];
  let files: MutableFile[] = [];
  let running: Promise<void> | null = null;
  let controller = new AbortController();
  let closed = false;
  let run = { started: 0, pages: 0 };
  let timer: ReturnType<typeof setTimeout> | null = null;
  const touchedKeys = new Set<string>();
  const staged = attachmentStage();

  const snapshot = (): IngestProgress => progressOf(files, run, running !== null);

  const emitNow = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    deps.onProgress(snapshot());
  };
  const emit = () => {
    timer ??= setTimeout(emitNow, deps.progressMs ?? 200);
  };

  const listeners = new Set<(file: SettledFile) => void>();
  const set = (entry: MutableFile, patch: Partial<MutableFile>) => {
    const before = entry.state;
    Object.assign(entry, patch);
    const outcome = settledOutcome(entry.state);
    if (outcome !== null && settledOutcome(before) === null) {
      const settled = { collectionId: entry.collectionId, path: entry.path, outcome, pages: entry.pages, error: entry.error };
      for (const listener of listeners) listener(settled);
    }
    emit();
  };

  /** Removes what an unfinished attempt left: the rows, the stored copy, and a document that did not exist before. */
  const undo = async (prepared: Pick<Prepared, 'document' | 'created'>) => {
    const document = prepared.document;
    if (document === null) return;
    await staged.discard(document.id);
    const collection = store.collection(document.collectionId);
    await index.deleteDocuments(collection.embeddingKey, [document.id]).catch(() => undefined);
    if (prepared.created) {
      const removed = store.deleteDocument(document.id);
      if (removed?.storedPath) await rm(removed.storedPath, { force: true });
    }
  };

  const fail = async (prepared: Pick<Prepared, 'document' | 'entry'>, error: unknown) => {
    const failure = failureOf(error);
    const document = prepared.document;
    if (document !== null) {
      await staged.discard(document.id);
      const collection = store.collection(document.collectionId);
      await index.deleteDocuments(collection.embeddingKey, [document.id]).catch(() => undefined);
      // A failed document keeps its row, to show the reason, and none of its passages.
      store.replaceChunks(document.id, [], null);
      store.markFailed(document.id, failure.reason as DocumentError['reason'], failure.message);
      deps.onChanged(document.collectionId);
    }
    set(prepared.entry, { state: 'failed', error: failure, progress: 1 });
  };

  /** Stage one: hash, skip if unchanged, copy, extract in the worker, chunk, journal `extracted`. */
  const prepare = async (job: IngestJob, entry: MutableFile, signal: AbortSignal): Promise<Prepared> => {
    let document: KnowledgeDocument | null = job.resume === undefined ? null : store.document(job.resume.documentId);
    let created = document !== null && document.sha256 === '';
    const base = { job, entry, embedder: null, pages: 0 };
    try {
      const collection = store.collection(job.collectionId);
      const embedder = await deps.embedderFor(collection.embeddingModelId);
      if (job.resume?.from === 'extracted') {
        document = store.document(job.resume.documentId);
        set(entry, { state: 'embedding', pages: document.pageCount, progress: 0.3 });
        return { ...base, document, outcome: 'ready', embedder, created: false, pages: document.pageCount ?? 1 };
      }
      set(entry, { state: 'extracting', progress: 0.05 });
      let storedPath: string;
      const resumed = job.resume?.from === 'queued' ? store.document(job.resume.documentId) : null;
      if (resumed !== null && resumed.storedPath !== null) {
        document = resumed;
        storedPath = resumed.storedPath;
      } else {
        const source = resumed?.sourcePath ?? job.path;
        const sha256 = await hashFile(source, signal);
        // A row registered when the file was queued (no hash yet) is this run's own: undone on cancel.
        const existing = resumed ?? store.findDocument(job.collectionId, source);
        const registered = existing !== null && existing.sha256 === '';
        if (existing !== null && existing.sha256 === sha256 && existing.status === 'indexed') {
          set(entry, { state: 'skipped', progress: 1, pages: existing.pageCount });
          return { ...base, document: existing, outcome: 'skipped', created: false };
        }
        const head = await readHead(source);
        const format = detectFormat(path.basename(source), head);
        if (format === null)
          throw new DocumentError('unsupported', 'This is not a document Soberana can read. It reads PDF, Word (.docx), HTML, Markdown, text and CSV files.');
        await mkdir(deps.documentsDir, { recursive: true });
        storedPath = path.join(deps.documentsDir, `${sha256.slice(0, 16)}-${randomBytes(4).toString('hex')}${path.extname(source).toLowerCase().slice(0, 12)}`);
        await copyFile(source, storedPath);
        const previousCopy = existing?.storedPath ?? null;
        created = existing === null || registered;
        document = store.addDocument({
          collectionId: job.collectionId,
          name: path.basename(source),
          sourcePath: source,
          storedPath,
          format,
          bytes: (await stat(storedPath)).size,
          sha256,
        });
        if (previousCopy !== null && previousCopy !== storedPath) await rm(previousCopy, { force: true });
        deps.onChanged(job.collectionId);
      }
      const raw = await deps.extractor.extract(storedPath, signal, {
        attachmentsDir: deps.documentsDir,
        ocrLanguages: collection.ocrLanguages,
        // Scanned pages are slow to read: the file's progress moves with each recognised page.
        onPage: (done, total) => set(entry, { progress: 0.05 + (0.2 * done) / Math.max(1, total) }),
      });
      staged.hold(document.id, raw);
      if (signal.aborted) throw Object.assign(new Error('Cancelled'), { name: 'AbortError' });
      const extracted = screenBlocks(deps, raw, document.id);
      set(entry, { progress: 0.25 });
      const chunks = withScanConfidence(await chunkDocument(extracted.blocks, chunkSizing(embedder)), extracted.blocks);
      store.replaceChunks(document.id, chunks, extracted.pageCount);
      // Word boxes hold the words as read: none are kept when screening redacted personal data.
      const redacted = extracted.blocks.some((block, at) => block !== raw.blocks[at]);
      store.replaceOcrPages(document.id, redacted ? [] : (extracted.ocrPages ?? []));
      const pages = pagesOf(extracted);
      set(entry, { state: embedder === null ? 'indexing' : 'embedding', pages: extracted.pageCount ?? pages, progress: 0.3 });
      return { ...base, document: store.document(document.id), outcome: 'ready', embedder, created, pages };
    } catch (error) {
      if (signal.aborted || isAbort(error)) {
        await undo({ document, created });
        set(entry, { state: 'cancelled', progress: 1 });
        return { ...base, document, outcome: 'cancelled', created };
      }
      await fail({ document, entry }, error);
      return { ...base, document, outcome: 'failed', created };
    }
  };

  // Documents embedded (or text-only and extracted) whose rows wait for the next LanceDB write, by key.
  const pending = new Map<string, { dimensions: number | null; ids: string[]; rows: number; entries: MutableFile[]; pages: number[] }>();

  const flush = async () => {
    for (const [key, batch] of pending) {
      pending.delete(key);
      if (batch.ids.length === 0) continue;
      for (const entry of batch.entries) set(entry, { state: 'indexing', progress: 0.9 });
      // A crash after an earlier write but before `indexed` leaves rows behind: replace, never append twice.
      await index.deleteDocuments(key, batch.ids);
      await index.add(key, batch.dimensions, store.indexRows(batch.ids));
      // One write made them all searchable: their audit records are written together too. One by one
      // each cost two fsync'd key-file rewrites on the main thread, seconds for a large flush.
      const documents = (deps.together ?? ((fn) => fn()))(() =>
        batch.ids.map((id) => {
          const document = store.setStatus(id, 'indexed');
          deps.onIndexed?.(document);
          return document;
        }),
      );
      for (const document of documents) {
        const message = staged.take(document.id);
        // Attachments are read once their message is searchable, each as a document of its own.
        if (message !== undefined) enqueue(await adoptAttachments(deps, document, message));
      }
      touchedKeys.add(key);
      batch.entries.forEach((entry, at) => {
        run.pages += batch.pages[at] ?? 0;
        set(entry, { state: 'done', progress: 1 });
      });
      const collections = new Set(batch.ids.map((id) => store.document(id).collectionId));
      for (const collectionId of collections) deps.onChanged(collectionId);
    }
  };

  /** Stage two: embed in batches (journal `embedded`), then queue the rows for the next index write. */
  const finish = async (prepared: Prepared, signal: AbortSignal) => {
    const { document, embedder, entry } = prepared;
    if (prepared.outcome !== 'ready' || document === null) return;
    try {
      const collection = store.collection(document.collectionId);
      if (embedder !== null) {
        const chunks = store.chunksForDocument(document.id);
        const vectors: Float32Array[] = [];
        const step = 64;
        for (let at = 0; at < chunks.length; at += step) {
          if (signal.aborted) throw Object.assign(new Error('Cancelled'), { name: 'AbortError' });
          vectors.push(...(await embedder.embed(chunks.slice(at, at + step).map((chunk) => chunk.text))));
          set(entry, { progress: 0.3 + 0.6 * Math.min(1, (at + step) / Math.max(1, chunks.length)) });
        }
        if (signal.aborted) throw Object.assign(new Error('Cancelled'), { name: 'AbortError' });
        store.setVectors(
          chunks.map((chunk, at) => ({ chunkId: chunk.id, vector: vectors[at]! })),
          { documentId: document.id },
        );
      }
      const key = collection.embeddingKey;
      const batch = pending.get(key) ?? { dimensions: collection.dimensions, ids: [], rows: 0, entries: [], pages: [] };
      batch.ids.push(document.id);
      batch.rows += store.document(document.id).chunkCount;
      batch.entries.push(entry);
      batch.pages.push(prepared.pages);
      pending.set(key, batch);
      if (batch.rows >= flushRows) await flush();
    } catch (error) {
      if (signal.aborted || isAbort(error)) {
        await undo(prepared);
        set(entry, { state: 'cancelled', progress: 1 });
        return;
      }
      await fail(prepared, error);
    }
  };

  const drain = async () => {
    const signal = controller.signal;
    run = { started: performance.now(), pages: 0 };
    try {
      // Up to `lookahead` files are read and parsed ahead of the one being embedded and
      // indexed; they finish in queue order.
      const ahead: Promise<Prepared>[] = [];
      const fill = () => {
        while (ahead.length < lookahead && !signal.aborted) {
          const next = queue.shift();
          if (next === undefined) return;
          ahead.push(prepare(next.job, next.entry, signal));
        }
      };
      // Indexing a message queues its attachments, so the run goes on until nothing is left.
      do {
        fill();
        while (ahead.length > 0) {
          const prepared = await ahead.shift()!;
          fill();
          await finish(prepared, signal);
          fill();
        }
        if (!signal.aborted) await flush();
      } while (!signal.aborted && queue.length > 0);
      if (signal.aborted) {
        // Rows written for documents of this run that are not `indexed` yet must not stay searchable.
        for (const [key, batch] of pending) {
          pending.delete(key);
          for (const [at, id] of batch.ids.entries()) {
            const entry = batch.entries[at]!;
            const document = store.document(id);
            await undo({ document, created: true });
            set(entry, { state: 'cancelled', progress: 1 });
          }
        }
      }
      // Compaction and the FTS refresh once per run, not per write.
      for (const key of touchedKeys)
        await index.optimize(key).catch((error: unknown) => deps.log?.('warn', `Index optimize failed for ${key}: ${String(error)}`));
      touchedKeys.clear();
    } finally {
      running = null;
      emitNow();
    }
  };

  const start = () => {
    if (running !== null || closed || queue.length === 0) return;
    if (controller.signal.aborted) controller = new AbortController();
    running = drain().catch((error: unknown) => deps.log?.('error', `Ingestion stopped: ${String(error)}`));
  };

  function enqueue(jobs: readonly IngestJob[]): void {
    if (closed || jobs.length === 0) return;
    // A finished run's list is cleared when a new run begins.
    if (running === null) files = [];
    for (const job of jobs) {
      // The same file twice in one run would race itself: the second request waits for the next run.
      const busy = files.some(
        (file) => file.collectionId === job.collectionId && file.path === job.path && !['done', 'failed', 'skipped', 'cancelled'].includes(file.state),
      );
      if (busy) continue;
      const entry: MutableFile = {
        path: job.path,
        name: path.basename(job.path),
        collectionId: job.collectionId,
        state: 'queued',
        pages: null,
        progress: 0,
        error: null,
      };
      files.push(entry);
      queue.push({ job, entry });
    }
    emitNow();
    start();
  }

  return {
    enqueue,
    cancel() {
      const dropped = queue.splice(0);
      for (const { job, entry } of dropped) {
        set(entry, { state: 'cancelled' });
        // Rows registered for files that were never started go with them.
        if (job.resume?.from === 'queued') {
          const document = store.document(job.resume.documentId);
          if (document.sha256 === '' && document.storedPath === null) store.deleteDocument(document.id);
        }
      }
      if (dropped.length > 0) deps.onChanged(null);
      const inFlight = files.filter((file) => file.state === 'extracting' || file.state === 'embedding' || file.state === 'indexing').length;
      controller.abort();
      emitNow();
      return dropped.length + inFlight;
    },
    onSettled(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    progress: snapshot,
    async idle() {
      while (running !== null) await running;
    },
    async close() {
      closed = true;
      queue.splice(0);
      controller.abort();
      while (running !== null) await running;
      if (timer !== null) clearTimeout(timer);
    },
  };
}
