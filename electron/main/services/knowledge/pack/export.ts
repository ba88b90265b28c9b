import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../../../common/result.ts';
import { getModel } from '../../models/index.ts';
import type { Database } from '../../storage/sqlite.ts';
import { encodeVector, FTS_ONLY_KEY, type KnowledgeDocument, type KnowledgeStore } from '../store.ts';
import { isDocumentFormat } from '../types.ts';
import type { Marking, MarkingScheme } from '../../../../common/contract/index.ts';
import { effectiveMarking, highest } from '../../../../common/markings.ts';
import { documentMarkings, storedMarking } from '../markings.ts';
import { CHECKS_FILE, readChecksFile } from './checks.ts';
import { endStream, copyHashed, writeLine } from './files.ts';
import {
  CHUNKS_FILE,
  DOCUMENTS_FILE,
  FILES_DIR,
  PACK_FILE,
  PACK_FORMAT,
  PACK_FORMAT_WITHOUT_CHECKS,
  type PackChunk,
  type PackDocument,
  type PackManifest,
  type PackProgress,
  type PackSummary,
} from './format.ts';

// Writing a knowledge pack (the format is in format.ts).

export interface ExportDeps {
  readonly db: Database;
  readonly store: KnowledgeStore;
  readonly documentsDir: string;
}

/**
 * Writes the collection's indexed documents to a new pack folder. The pack is built in
 * `outDir.partial` and renamed into place, so `outDir` is either absent or a whole pack.
 */
export async function exportKnowledgePack(
  deps: ExportDeps,
  collectionId: string,
  outDir: string,
  onProgress?: (progress: PackProgress) => void,
  options: { readonly checks?: string; readonly scheme?: MarkingScheme | null } = {},
): Promise<PackSummary> {
  const { store } = deps;
  const collection = store.collection(collectionId);
  const target = path.resolve(outDir);
  const existing = await readdir(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    if (error.code === 'ENOTDIR') throw new AppError('bad_request', `${target} already exists and is a file. Choose a new folder for the pack.`);
    throw error;
  });
  if (existing !== null && existing.length > 0)
    throw new AppError('bad_request', `The folder ${target} already exists and is not empty. Choose a new folder for the pack; nothing is overwritten.`);

  const embedding =
    collection.embeddingKey === FTS_ONLY_KEY || collection.dimensions === null
      ? null
      : { sha256: collection.embeddingKey, dimensions: collection.dimensions, modelName: modelNameOf(deps.db, collection.embeddingModelId) };
  const documents = store.listDocuments(collectionId).filter((document) => document.status === 'indexed');
  // Checked before anything is written: each check must name a document the pack will hold.
  const checks = options.checks === undefined ? null : await readChecksFile(path.resolve(options.checks), documents);
  // Under a marking scheme the pack keeps the collection's and each document's marking, and says the highest.
  const scheme = options.scheme ?? null;
  const collectionMarking = scheme === null ? null : effectiveMarking(scheme, storedMarking(deps.db, 'collection', collectionId));
  const stored =
    scheme === null
      ? new Map<string, Marking | null>()
      : documentMarkings(
          deps.db,
          documents.map((document) => document.id),
        );
  const written: Marking[] = collectionMarking === null ? [] : [collectionMarking];

  const partial = `${target}.partial`;
  // A leftover from an export that was interrupted: it was never a pack.
  await rm(partial, { recursive: true, force: true });
  await mkdir(path.join(partial, FILES_DIR), { recursive: true });
  try {
    const documentsOut = createWriteStream(path.join(partial, DOCUMENTS_FILE), { flags: 'wx' });
    const chunksOut = createWriteStream(path.join(partial, CHUNKS_FILE), { flags: 'wx' });
    const usedFiles = new Set<string>();
    let documentCount = 0;
    let chunkCount = 0;
    let bytes = 0;
    try {
      for (const [position, listed] of documents.entries()) {
        // Read in one synchronous step, so a document re-ingested meanwhile is seen either before or after.
        const snapshot = snapshotDocument(store, listed.id, embedding?.dimensions ?? null);
        if (snapshot === null) continue;
        const { document, lines } = snapshot;
        // Only indexed documents are exported, and they always have a document format (skipped files have none).
        if (!isDocumentFormat(document.format)) continue;
        const format = document.format;
        let file: string | null = null;
        if (document.storedPath !== null) {
          file = packFileName(document, usedFiles);
          const copied = await copyHashed(await storedCopy(document.storedPath, deps.documentsDir), path.join(partial, file));
          if (copied.sha256 !== document.sha256) {
            throw new AppError(
              'io_error',
              `Soberana's copy of “${document.name}” has changed since it was indexed. Add the document again, then export.`,
              `${document.storedPath}: sha256 ${copied.sha256}, expected ${document.sha256}`,
            );
          }
          bytes += copied.bytes;
        }
        const entry: PackDocument = {
          id: document.id,
          name: document.name,
          format,
          sha256: document.sha256,
          bytes: document.bytes,
          pageCount: document.pageCount,
          file,
          ...(scheme === null ? {} : { marking: effectiveMarking(scheme, stored.get(document.id)) }),
        };
        if (entry.marking !== undefined) written.push(entry.marking);
        await writeLine(documentsOut, JSON.stringify(entry));
        for (const line of lines) await writeLine(chunksOut, line);
        documentCount++;
        chunkCount += lines.length;
        onProgress?.({ stage: 'export', done: position + 1, total: documents.length });
      }
    } finally {
      await Promise.all([endStream(documentsOut), endStream(chunksOut)]);
    }
    if (checks !== null && checks.length > 0) await writeFile(path.join(partial, CHECKS_FILE), `${JSON.stringify(checks, null, 2)}\n`);
    const manifest: PackManifest = {
      // Without checks the pack stays format 1, which older versions import.
      format: checks !== null && checks.length > 0 ? PACK_FORMAT : PACK_FORMAT_WITHOUT_CHECKS,
      collection: { name: collection.name, embedding, ...(collectionMarking === null ? {} : { marking: collectionMarking }) },
      ...(scheme === null ? {} : { marking: highest(scheme, written) }),
      documents: documentCount,
      chunks: chunkCount,
      ...(checks !== null && checks.length > 0 ? { checks: checks.length } : {}),
      created: new Date().toISOString(),
    };
    await writeFile(path.join(partial, PACK_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    // An empty folder given as --out is replaced; rename cannot replace a folder everywhere.
    if (existing !== null) await rmdir(target);
    await rename(partial, target);
    return { dir: target, collection: collection.name, documents: documentCount, chunks: chunkCount, bytes, embedding, checks: checks?.length ?? 0 };
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
}

function modelNameOf(db: Database, id: string | null): string | null {
  if (id === null) return null;
  try {
    return getModel(db, id).displayName;
  } catch {
    // The model left the library; the pack still names it by hash.
    return null;
  }
}

function snapshotDocument(store: KnowledgeStore, id: string, dimensions: number | null): { document: KnowledgeDocument; lines: string[] } | null {
  let document: KnowledgeDocument;
  try {
    document = store.document(id);
  } catch {
    return null;
  }
  if (document.status !== 'indexed') return null;
  const vectors = new Map(store.indexRows([id]).map((row) => [row.chunkId, row.vector]));
  const lines = store.chunksForDocument(id).map((chunk) => {
    const vector = vectors.get(chunk.id) ?? null;
    if (dimensions !== null && vector?.length !== dimensions) {
      throw new AppError(
        'internal',
        `A passage of “${document.name}” has no usable vector. Re-index the collection, then export.`,
        `chunk ${chunk.id}: ${vector?.length ?? 'no'} dimensions, expected ${dimensions}`,
      );
    }
    const entry: PackChunk = {
      documentId: id,
      ordinal: chunk.ordinal,
      text: chunk.text,
      page: chunk.page,
      headingPath: [...chunk.headingPath],
      start: chunk.start,
      end: chunk.end,
      tokens: chunk.tokens,
      vector: dimensions === null || vector === null ? null : Buffer.from(encodeVector(vector)).toString('base64'),
    };
    return JSON.stringify(entry);
  });
  return { document, lines };
}

/** The stored copy, also when the data folder was moved since (stored paths are absolute). */
async function storedCopy(storedPath: string, documentsDir: string): Promise<string> {
  if (
    await stat(storedPath).then(
      (info) => info.isFile(),
      () => false,
    )
  )
    return storedPath;
  return path.join(documentsDir, path.basename(storedPath));
}

function packFileName(document: KnowledgeDocument, used: Set<string>): string {
  const ext = path
    .extname(document.name)
    .replace(/[^\p{L}\p{N}.]+/gu, '')
    .slice(0, 12);
  const stem = document.name
    .slice(0, document.name.length - path.extname(document.name).length)
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}._ ()-]+/gu, '_')
    .replace(/^[. ]+|[. ]+$/gu, '')
    .slice(0, 120);
  const safe = `${stem === '' ? 'document' : stem}${ext}`;
  const prefix = document.sha256.slice(0, 16);
  let name = `${FILES_DIR}/${prefix}-${safe}`;
  for (let n = 2; used.has(name.toLowerCase()); n++) name = `${FILES_DIR}/${prefix}-${n}-${safe}`;
  used.add(name.toLowerCase());
  return name;
}
