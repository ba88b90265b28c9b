import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { AppError } from '../../../../common/result.ts';
import { findModelBySha256 } from '../../models/index.ts';
import { transaction, type Database } from '../../storage/sqlite.ts';
import type { IndexRowInput, KnowledgeIndex } from '../index/lance-index.ts';
import { FTS_ONLY_KEY, type KnowledgeStore } from '../store.ts';
import type { Chunk } from '../types.ts';
import { saveCheckSet } from '../checks/store.ts';
import { markingJson } from '../markings.ts';
import { CHECKS_FILE, readChecksFile, type PackCheck } from './checks.ts';
import { copyHashed } from './files.ts';
import {
  chunkSchema,
  CHUNKS_FILE,
  documentSchema,
  DOCUMENTS_FILE,
  FILES_DIR,
  LIMITS,
  PACK_FILE,
  PACK_FORMAT,
  packSchema,
  type PackDocument,
  type PackManifest,
  type PackProgress,
} from './format.ts';

// Reading a knowledge pack (the format is in format.ts): everything in it is validated before
// any of it is stored, and an import that fails at any step leaves nothing behind.

/** LanceDB writes are one call per batch: big batches make few table versions. */
const INDEX_BATCH = 4_096;

export interface ImportDeps {
  readonly db: Database;
  readonly store: KnowledgeStore;
  readonly index: KnowledgeIndex;
  readonly documentsDir: string;
}

export interface ImportOptions {
  /** The new collection's name; by default the pack's. A taken name gets " (2)", " (3)"… */
  readonly name?: string;
  readonly readOnly: boolean;
  /** Whether an embedding model with this SHA-256 is installed and usable. */
  readonly requireModel: (sha256: string) => boolean;
  readonly onProgress?: (progress: PackProgress) => void;
}

interface LoadedDocument {
  readonly entry: PackDocument;
  readonly chunks: Chunk[];
  readonly vectors: Float32Array[];
}

/** Imports a pack folder as a new collection and returns its id. On any failure nothing is left. */
export async function importKnowledgePack(deps: ImportDeps, packDir: string, options: ImportOptions): Promise<string> {
  const { db, store, index } = deps;
  const root = path.resolve(packDir);
  const manifest = await readManifest(root);
  const embedding = manifest.collection.embedding;
  const key = embedding?.sha256 ?? FTS_ONLY_KEY;
  const dimensions = embedding?.dimensions ?? null;

  let embeddingModelId: string | null = null;
  if (embedding !== null) {
    const model = options.requireModel(embedding.sha256) ? findModelBySha256(db, embedding.sha256) : null;
    if (model?.role !== 'embedding') {
      const name = embedding.modelName === null ? '' : ` “${embedding.modelName}”`;
      throw new AppError(
        'bad_request',
        `This knowledge pack needs the embedding model${name} (sha256 ${embedding.sha256.slice(0, 12)}…), which is not installed. Install the bundle that carries it, or import the model first.`,
        `sha256 ${embedding.sha256}`,
      );
    }
    embeddingModelId = model.id;
    // One LanceDB table per key: its vector column has one size.
    const existing = store.dimensionsOf(key);
    if (existing !== null && existing !== embedding.dimensions) {
      throw damaged(`the pack's vectors have ${embedding.dimensions} dimensions; the model's existing collections have ${existing}`);
    }
  }

  const documents = await readDocuments(root, manifest);
  await readChunks(root, manifest, documents, dimensions);
  const checks = await readPackChecks(root, manifest, documents);

  const copies: string[] = [];
  let collectionId: string | null = null;
  const documentIds: string[] = [];
  try {
    // Every file is checked against its hash before anything reaches the database.
    const storedPaths = new Map<string, string>();
    let verified = 0;
    // files/ itself must be a real folder: a link there would make the pack read files from elsewhere.
    const filesDir = await lstat(path.join(root, FILES_DIR)).catch(() => null);
    if (filesDir?.isDirectory() !== true && [...documents.values()].some(({ entry }) => entry.file !== null))
      throw damaged(`${FILES_DIR} is missing or not a folder`);
    await mkdir(deps.documentsDir, { recursive: true });
    for (const { entry } of documents.values()) {
      if (entry.file !== null) {
        const source = path.join(root, ...entry.file.split('/'));
        const info = await lstat(source).catch(() => null);
        if (info?.isFile() !== true) throw damaged(`${entry.file} is missing or not a file`);
        if (info.size !== entry.bytes) throw mismatch(entry, `${entry.file} has ${info.size} bytes, documents.jsonl says ${entry.bytes}`);
        const stored = path.join(
          deps.documentsDir,
          `${entry.sha256.slice(0, 16)}-${randomBytes(4).toString('hex')}${path.extname(entry.file).toLowerCase().slice(0, 12)}`,
        );
        copies.push(stored);
        const copied = await copyHashed(source, stored);
        if (copied.sha256 !== entry.sha256 || copied.bytes !== entry.bytes)
          throw mismatch(entry, `${entry.file}: sha256 ${copied.sha256}, expected ${entry.sha256}`);
        storedPaths.set(entry.id, stored);
      }
      options.onProgress?.({ stage: 'verify', done: ++verified, total: documents.size });
    }

    const rows: IndexRowInput[] = [];
    collectionId = transaction(db, () => {
      const collection = store.createCollection({
        name: freeName(store, options.name ?? manifest.collection.name),
        readOnly: options.readOnly,
        embeddingModelId,
        embeddingKey: key,
        dimensions,
      });
      if (checks !== null) saveCheckSet(db, collection.id, checks);
      // The pack's markings, as given: its documents take the collection's unless they carry their own (migration 19's trigger).
      if (manifest.collection.marking !== undefined)
        db.prepare('UPDATE collections SET marking = ? WHERE id = ?').run(markingJson(manifest.collection.marking), collection.id);
      let stored = 0;
      for (const { entry, chunks, vectors } of documents.values()) {
        const storedPath = storedPaths.get(entry.id) ?? null;
        // Unique within the collection, as the schema requires; says where the document came from.
        const sourcePath = entry.file === null ? `${root}#${entry.id}` : path.join(root, ...entry.file.split('/'));
        const document = store.addDocument({
          collectionId: collection.id,
          name: entry.name,
          sourcePath,
          storedPath,
          format: entry.format,
          bytes: entry.bytes,
          sha256: entry.sha256,
        });
        documentIds.push(document.id);
        if (entry.marking !== undefined) db.prepare('UPDATE documents SET marking = ? WHERE id = ?').run(markingJson(entry.marking), document.id);
        const chunkIds = store.replaceChunks(document.id, chunks, entry.pageCount);
        if (dimensions === null) store.setStatus(document.id, 'embedded');
        else
          store.setVectors(
            chunkIds.map((chunkId, at) => ({ chunkId, vector: vectors[at]! })),
            { documentId: document.id },
          );
        chunkIds.forEach((chunkId, at) =>
          rows.push({ chunkId, documentId: document.id, collectionId: collection.id, text: chunks[at]!.text, vector: vectors[at] ?? null }),
        );
        options.onProgress?.({ stage: 'store', done: ++stored, total: documents.size });
      }
      return collection.id;
    });

    for (let at = 0; at < rows.length; at += INDEX_BATCH) {
      await index.add(key, dimensions, rows.slice(at, at + INDEX_BATCH));
      options.onProgress?.({ stage: 'index', done: Math.min(rows.length, at + INDEX_BATCH), total: rows.length });
    }
    await index.optimize(key);
    transaction(db, () => {
      for (const id of documentIds) store.setStatus(id, 'indexed');
    });
    return collectionId;
  } catch (error) {
    // A crash before this point leaves `embedded` documents, which recovery finishes
    // indexing; a failure we see is undone instead. Rows whose deletion fails here belong to
    // documents that no longer exist, and recovery deletes those at the next start.
    if (collectionId !== null) {
      await index.deleteDocuments(key, documentIds).catch(() => undefined);
      try {
        store.deleteCollection(collectionId);
      } catch {
        // Already gone.
      }
    }
    for (const copy of copies) await rm(copy, { force: true });
    throw error;
  }
}

function damaged(details: string): AppError {
  return new AppError('bad_request', 'This knowledge pack is damaged or was changed after it was made, so it was not imported.', details);
}

function mismatch(entry: PackDocument, details: string): AppError {
  return new AppError(
    'bad_request',
    `The file of “${entry.name}” in this knowledge pack does not match its recorded SHA-256: the pack is damaged or was changed, so it was not imported.`,
    details,
  );
}

function issues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

async function readManifest(root: string): Promise<PackManifest> {
  const file = path.join(root, PACK_FILE);
  const info = await stat(file).catch(() => null);
  if (info?.isFile() !== true) throw new AppError('bad_request', `${root} is not a knowledge pack: it has no ${PACK_FILE}.`);
  if (info.size > LIMITS.packJsonBytes) throw damaged(`${PACK_FILE} has ${info.size} bytes`);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw damaged(`${PACK_FILE} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof raw === 'object' && raw !== null && 'format' in raw && typeof raw.format === 'number' && raw.format > PACK_FORMAT) {
    throw new AppError('bad_request', 'This knowledge pack was made by a newer version of Soberana. Update Soberana to import it.', `format ${raw.format}`);
  }
  const parsed = packSchema.safeParse(raw);
  if (!parsed.success) throw damaged(`${PACK_FILE}: ${issues(parsed.error)}`);
  return parsed.data;
}

async function readDocuments(root: string, manifest: PackManifest): Promise<Map<string, LoadedDocument>> {
  const documents = new Map<string, LoadedDocument>();
  const files = new Set<string>();
  let line = 0;
  for await (const text of readLines(path.join(root, DOCUMENTS_FILE), DOCUMENTS_FILE)) {
    line++;
    if (line > manifest.documents) throw damaged(`${DOCUMENTS_FILE} has more than the ${manifest.documents} documents ${PACK_FILE} declares`);
    const entry = parseLine(documentSchema, text, DOCUMENTS_FILE, line);
    if (documents.has(entry.id)) throw damaged(`${DOCUMENTS_FILE} line ${line}: the document id ${entry.id} appears twice`);
    if (entry.file !== null) {
      if (files.has(entry.file.toLowerCase())) throw damaged(`${DOCUMENTS_FILE} line ${line}: ${entry.file} belongs to two documents`);
      files.add(entry.file.toLowerCase());
    }
    documents.set(entry.id, { entry, chunks: [], vectors: [] });
  }
  if (documents.size !== manifest.documents) throw damaged(`${DOCUMENTS_FILE} has ${documents.size} documents; ${PACK_FILE} declares ${manifest.documents}`);
  return documents;
}

async function readChunks(root: string, manifest: PackManifest, documents: Map<string, LoadedDocument>, dimensions: number | null): Promise<void> {
  let line = 0;
  for await (const text of readLines(path.join(root, CHUNKS_FILE), CHUNKS_FILE)) {
    line++;
    if (line > manifest.chunks) throw damaged(`${CHUNKS_FILE} has more than the ${manifest.chunks} passages ${PACK_FILE} declares`);
    const chunk = parseLine(chunkSchema, text, CHUNKS_FILE, line);
    const where = `${CHUNKS_FILE} line ${line}`;
    const document = documents.get(chunk.documentId);
    if (document === undefined) throw damaged(`${where}: the passage belongs to the document ${chunk.documentId}, which is not in ${DOCUMENTS_FILE}`);
    if (chunk.ordinal !== document.chunks.length)
      throw damaged(`${where}: passage ${chunk.ordinal} of ${chunk.documentId} follows ${document.chunks.length} passages; they must be in order`);
    const pageCount = document.entry.pageCount;
    if (chunk.page !== null && pageCount !== null && chunk.page > pageCount)
      throw damaged(`${where}: page ${chunk.page} of a document with ${pageCount} pages`);
    const previous = document.chunks.at(-1);
    if (previous !== undefined && chunk.start < previous.start) throw damaged(`${where}: the passage starts before the one it follows`);
    if (dimensions === null) {
      if (chunk.vector !== null) throw damaged(`${where}: a vector in a pack without an embedding model`);
    } else {
      if (chunk.vector === null) throw damaged(`${where}: the passage has no vector`);
      const vector = decodePackVector(chunk.vector, dimensions);
      if (vector === null) throw damaged(`${where}: the vector is not ${dimensions} finite float32 values`);
      document.vectors.push(vector);
    }
    document.chunks.push({
      ordinal: chunk.ordinal,
      text: chunk.text,
      page: chunk.page,
      headingPath: chunk.headingPath,
      start: chunk.start,
      end: chunk.end,
      tokens: chunk.tokens,
    });
  }
  if (line !== manifest.chunks) throw damaged(`${CHUNKS_FILE} has ${line} passages; ${PACK_FILE} declares ${manifest.chunks}`);
}

/** The pack's acceptance checks when pack.json declares them (format 2); each must name one of its documents. */
async function readPackChecks(root: string, manifest: PackManifest, documents: Map<string, LoadedDocument>): Promise<PackCheck[] | null> {
  if (manifest.checks === undefined) return null;
  const file = path.join(root, CHECKS_FILE);
  const info = await lstat(file).catch(() => null);
  if (info?.isFile() !== true) throw damaged(`${PACK_FILE} declares ${manifest.checks} checks and ${CHECKS_FILE} is missing`);
  let checks: PackCheck[];
  try {
    checks = await readChecksFile(
      file,
      [...documents.values()].map(({ entry }) => entry),
    );
  } catch (error) {
    throw damaged(error instanceof AppError ? `${error.message}${error.details === undefined ? '' : ` ${error.details}`}` : String(error));
  }
  if (checks.length !== manifest.checks) throw damaged(`${CHECKS_FILE} has ${checks.length} checks; ${PACK_FILE} declares ${manifest.checks}`);
  return checks;
}

/** Null unless the text is exactly `dimensions` little-endian float32 values, all finite. */
function decodePackVector(base64: string, dimensions: number): Float32Array | null {
  const bytes = Buffer.from(base64, 'base64');
  // Node's decoder skips what it cannot read; re-encoding catches any such leniency.
  if (bytes.byteLength !== dimensions * 4 || bytes.toString('base64') !== base64) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const vector = new Float32Array(dimensions);
  for (let at = 0; at < dimensions; at++) {
    const value = view.getFloat32(at * 4, true);
    if (!Number.isFinite(value)) return null;
    vector[at] = value;
  }
  return vector;
}

function parseLine<T>(schema: z.ZodType<T>, text: string, file: string, line: number): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw damaged(`${file} line ${line} is not JSON`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw damaged(`${file} line ${line}: ${issues(parsed.error)}`);
  return parsed.data;
}

/** The lines of a text file, refusing any line long enough to matter for memory. */
async function* readLines(file: string, label: string): AsyncGenerator<string> {
  const info = await stat(file).catch(() => null);
  if (info?.isFile() !== true) throw damaged(`${label} is missing`);
  let buffer = '';
  for await (const piece of createReadStream(file, { encoding: 'utf8', highWaterMark: 1024 * 1024 }) as AsyncIterable<string>) {
    buffer += piece;
    let from = 0;
    for (let at = buffer.indexOf('\n'); at !== -1; at = buffer.indexOf('\n', from)) {
      yield buffer.slice(from, at).replace(/\r$/u, '');
      from = at + 1;
    }
    buffer = buffer.slice(from);
    if (buffer.length > LIMITS.lineChars) throw damaged(`${label} has a line over ${LIMITS.lineChars} characters`);
  }
  if (buffer !== '') yield buffer;
}

/** The collection name, or the first of "name (2)", "name (3)"… that no collection has. */
function freeName(store: KnowledgeStore, wanted: string): string {
  const base = wanted.trim().slice(0, 190);
  if (base === '') throw new AppError('bad_request', 'A collection name must have 1 to 200 characters.');
  const taken = new Set(store.listCollections().map((collection) => collection.name.toLowerCase()));
  if (!taken.has(base.toLowerCase())) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base} (${n})`;
    if (!taken.has(candidate.toLowerCase())) return candidate;
  }
}
