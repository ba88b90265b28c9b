import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { CallContext } from '../common/handlers.ts';
import type { IngestProgress } from '../common/contract/index.ts';
import { BUILT_IN_GUARDS } from '../main/services/app-info.ts';
import { createChatStore } from '../main/services/chat/store.ts';
import { createCore, type Core } from '../main/services/core.ts';
import { scanModels } from '../main/services/models/index.ts';
import { transaction } from '../main/services/storage/sqlite.ts';
import { archivePath, messageText, prng, vocabulary, writeArchive, type WrittenArchive } from './archive-seed-corpus.ts';

// A data folder at archive scale, filled through the services the app and the CLI use
// (createCore): documents added with the knowledge service's addPaths and its ingest queue,
// conversations through the chat handler and the chat store, models scanned and imported
// by reference through the model service. The audit log fills from those actions by itself.
// `seedDocumentRows` is the fast exception, named for what it is: it writes document rows
// through the knowledge store without reading any file.

export type Log = (line: string) => void;

const CTX: CallContext = { caller: { origin: 'archive-seed', isMainFrame: true }, signal: new AbortController().signal };

/** The services over `dataDir`, as the e2e harness opens them, without starting the inference process. */
export function openSeedCore(dataDir: string): Promise<Core> {
  return createCore({
    dataDir,
    host: { kind: 'test-harness', electronVersion: null, chromeVersion: null, networkGuards: [...BUILT_IN_GUARDS] },
    log: (level, message) => {
      if (level === 'error') process.stderr.write(`[seed] ${message}\n`);
    },
  });
}

/** A words-only collection by that name, created when missing. */
async function collectionNamed(core: Core, name: string): Promise<string> {
  const existing = core.knowledge.collections().find((collection) => collection.name === name);
  return existing?.id ?? (await core.knowledge.createCollection(name, null)).id;
}

export interface IngestFigures {
  readonly collection: string;
  readonly archive: WrittenArchive;
  readonly seconds: number;
  readonly done: number;
  readonly failed: number;
  readonly skipped: number;
  readonly writeSeconds: number;
  readonly registerSeconds: number;
}

/**
 * Writes an archive of `documents` files under `sourceRoot` and ingests it into a new
 * words-only collection through addPaths and the ingest queue, then waits for the queue.
 */
export async function ingestArchive(
  core: Core,
  options: { name: string; sourceRoot: string; documents: number; seed: number; log?: Log },
): Promise<IngestFigures> {
  const log = options.log ?? (() => undefined);
  let started = performance.now();
  const archive = await writeArchive(options.sourceRoot, { documents: options.documents, seed: options.seed });
  const writeSeconds = (performance.now() - started) / 1000;
  log(`${options.name}: wrote ${archive.documents} files in ${archive.folders} folders in ${writeSeconds.toFixed(1)} s`);
  const collectionId = await collectionNamed(core, options.name);
  started = performance.now();
  let last = 0;
  let latest: IngestProgress | null = null;
  const unsubscribe = core.bus.on('knowledge.ingestProgress', (progress) => {
    latest = progress;
    const now = performance.now();
    if (now - last < 5_000) return;
    last = now;
    const finished = progress.done + progress.failed + progress.skipped;
    log(`${options.name}: ${finished}/${progress.total} files, ${progress.pagesPerSecond.toFixed(0)} pages/s, ${((now - started) / 1000).toFixed(0)} s`);
  });
  try {
    await core.knowledge.addPaths(collectionId, [options.sourceRoot]);
    const registerSeconds = (performance.now() - started) / 1000;
    await core.knowledge.idle();
    const seconds = (performance.now() - started) / 1000;
    const progress: IngestProgress = latest ?? core.knowledge.queue.progress();
    log(`${options.name}: ingested in ${seconds.toFixed(1)} s (files queued in ${registerSeconds.toFixed(1)} s)`);
    return {
      collection: options.name,
      archive,
      seconds,
      done: progress.done,
      failed: progress.failed,
      skipped: progress.skipped,
      writeSeconds,
      registerSeconds,
    };
  } finally {
    unsubscribe();
  }
}

/**
 * `count` conversations of `messages` messages each, alternating user and assistant. Each
 * conversation is created by the chat handler (audited as the app's are); its messages are
 * saved by the chat store, as a generation would save them, in one transaction per conversation.
 */
export async function seedConversations(core: Core, options: { count: number; messages: number; seed: number; log?: Log }): Promise<number> {
  const store = createChatStore(core.storage);
  const random = prng(options.seed);
  const words = vocabulary(random, 1_500);
  const started = performance.now();
  for (let i = 0; i < options.count; i++) {
    const created = await core.handlers['chat.create']({}, CTX);
    if (!created.ok) throw new Error(`chat.create failed: ${created.error.message}`);
    const conversationId = created.value.id;
    transaction(core.storage, () => {
      let parent: string | null = null;
      for (let m = 0; m < options.messages; m += 2) {
        parent = store.addUserMessage(conversationId, parent, messageText(random, words, 'user')).id;
        if (m + 1 >= options.messages) break;
        const answer = store.startAnswer(conversationId, parent, { modelName: 'archive-seed', flushMs: 60_000 });
        answer.append(messageText(random, words, 'assistant'), '');
        parent = answer.finish('complete', null).id;
      }
    });
    if ((i + 1) % 500 === 0) options.log?.(`conversations: ${i + 1}/${options.count}, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  core.bus.emit('chat.changed', { conversationId: null });
  return (performance.now() - started) / 1000;
}

/**
 * Registers every model found under `folder` by reference, through the model service's
 * import (the Models screen's path after a scan). The files are the caller's to write:
 * test support cannot import e2e/'s GGUF writer.
 */
export async function seedModels(core: Core, folder: string, log?: Log): Promise<number> {
  const { candidates } = await scanModels(folder);
  for (const candidate of candidates) await core.models.import(candidate, { mode: 'reference' });
  log?.(`models: ${candidates.length} registered by reference`);
  return candidates.length;
}

export interface DocumentRowsOptions {
  /** The collection's name; a words-only one is created when missing. */
  readonly collection: string;
  readonly count: number;
  /** Where the rows say their files came from; nothing is read there. */
  readonly sourceRoot?: string;
  /** Real files to ingest after the rows, through addPaths and the queue (their own rows, chunks and index). */
  readonly files?: readonly string[];
  readonly seed?: number;
}

/**
 * A ROW-LEVEL seed, for tests that need a collection of tens of thousands of documents in
 * seconds: it writes `count` document rows through the knowledge store on the real SQLite
 * database and moves each along the journal to `indexed`, as the ingest queue would. No file
 * is read, no passage is stored, nothing is in the search index; names and folders are those
 * of the generated archive. `files`, when given, are then ingested for real. Returns the
 * collection's id.
 */
export async function seedDocumentRows(core: Core, options: DocumentRowsOptions): Promise<string> {
  const collectionId = await collectionNamed(core, options.collection);
  const root = options.sourceRoot ?? path.join(path.sep, 'archive', options.collection.replace(/[^\w-]+/g, '-').toLowerCase());
  const store = core.knowledge.store;
  const random = prng(options.seed ?? 7);
  for (let at = 0; at < options.count; at += 1_000) {
    transaction(core.storage, () => {
      for (let i = at; i < Math.min(options.count, at + 1_000); i++) {
        const relative = archivePath(i, { documents: options.count });
        const document = store.addDocument({
          collectionId,
          name: path.basename(relative),
          sourcePath: path.join(root, relative),
          storedPath: null,
          format: relative.endsWith('.md') ? 'markdown' : 'text',
          bytes: 400 + Math.floor(random() * 2_000),
          sha256: randomBytes(32).toString('hex'),
        });
        store.setStatus(document.id, 'extracted');
        store.setStatus(document.id, 'indexed');
      }
    });
  }
  if (options.files !== undefined && options.files.length > 0) {
    await core.knowledge.addPaths(collectionId, options.files);
    await core.knowledge.idle();
  }
  core.bus.emit('knowledge.changed', { collectionId });
  return collectionId;
}

export interface ArchiveSpec {
  readonly collections: readonly string[];
  readonly documentsPerCollection: number;
  readonly conversations: number;
  readonly messagesPerConversation: number;
  /** A folder of model files to register by reference (see seedModels); none skips models. */
  readonly modelsFolder: string | null;
  /** Where the generated archive files go (they stay there: the documents keep their source paths). */
  readonly sourceRoot: string;
}

export const ARCHIVE_SCALE: Omit<ArchiveSpec, 'modelsFolder' | 'sourceRoot'> = {
  collections: ['Legal archive', 'Finance archive', 'Operations archive'],
  documentsPerCollection: 10_000,
  conversations: 5_000,
  messagesPerConversation: 20,
};

export interface ArchiveFigures {
  readonly ingest: readonly IngestFigures[];
  readonly conversationsSeconds: number;
  readonly models: number;
  readonly totalSeconds: number;
}

/** Fills an open core to the given scale: the documents, then the conversations, then the models. */
export async function seedArchive(core: Core, spec: ArchiveSpec, log: Log = () => undefined): Promise<ArchiveFigures> {
  const started = performance.now();
  const ingest: IngestFigures[] = [];
  for (const [index, name] of spec.collections.entries()) {
    const sourceRoot = path.join(spec.sourceRoot, name.replace(/[^\w-]+/g, '-').toLowerCase());
    ingest.push(await ingestArchive(core, { name, sourceRoot, documents: spec.documentsPerCollection, seed: 100 + index, log }));
  }
  const conversationsSeconds = await seedConversations(core, { count: spec.conversations, messages: spec.messagesPerConversation, seed: 5, log });
  log(`conversations: ${spec.conversations} in ${conversationsSeconds.toFixed(1)} s`);
  const models = spec.modelsFolder === null ? 0 : await seedModels(core, spec.modelsFolder, log);
  return { ingest, conversationsSeconds, models, totalSeconds: (performance.now() - started) / 1000 };
}
