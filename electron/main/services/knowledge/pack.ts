import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { AppError } from '../../../common/result.ts';
import { findModelBySha256, getModel } from '../models/index.ts';
import { transaction, type Database } from '../storage/sqlite.ts';
import type { IndexRowInput, KnowledgeIndex } from './index/lance-index.ts';
import { encodeVector, FTS_ONLY_KEY, type KnowledgeDocument, type KnowledgeStore } from './store.ts';
import { documentFormats, type Chunk } from './types.ts';

// Knowledge packs: a collection's documents, passages and vectors in a folder, so that a
// library indexed once can be installed on machines that never see the originals (or have
// no time to embed them). The pack carries the vectors, so the importing machine needs the
// same embedding model (by SHA-256) to embed queries into the same space, but never embeds
// a passage.
//
//   pack.json        { format, collection: { name, embedding }, documents, chunks, created }
//   documents.jsonl  one indexed document a line; `file` is its copy under files/
//   chunks.jsonl     one passage a line; `vector` is base64 of little-endian float32
//   files/           the documents' copies, named <sha256 prefix>-<name>
//
// A pack is data from elsewhere: everything in it is validated before any of it is stored,
// and an import that fails at any step leaves nothing behind.

export const PACK_FORMAT = 1;
export const PACK_FILE = 'pack.json';
export const DOCUMENTS_FILE = 'documents.jsonl';
export const CHUNKS_FILE = 'chunks.jsonl';
export const FILES_DIR = 'files';

/** Bounds that a real collection stays far inside; past them a pack is refused before it exhausts memory. */
const LIMITS = {
  documents: 100_000,
  chunks: 2_000_000,
  documentBytes: 500 * 1024 * 1024,
  pages: 100_000,
  chunkChars: 200_000,
  /** Offsets index a document's whole text. */
  textChars: 2_000_000_000,
  headings: 64,
  headingChars: 2_000,
  dimensions: 65_536,
  packJsonBytes: 64 * 1024,
  /** The longest chunk (text plus vector) serialized, with room to spare. */
  lineChars: 8 * 1024 * 1024,
} as const;

/** LanceDB writes are one call per batch: big batches make few table versions. */
const INDEX_BATCH = 4_096;
const SHA256 = /^[0-9a-f]{64}$/u;
/** Exported names keep to this alphabet, so a pack's paths can never climb out of files/. */
const PACK_FILE_PATH = /^files\/[0-9a-f]{16}-[\p{L}\p{N}._ ()-]{1,200}$/u;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/u;

const packSchema = z.strictObject({
  format: z.literal(PACK_FORMAT),
  collection: z.strictObject({
    name: z.string().trim().min(1).max(200),
    embedding: z
      .strictObject({
        sha256: z.string().regex(SHA256, 'lowercase hex SHA-256'),
        dimensions: z.int().min(1).max(LIMITS.dimensions),
        modelName: z.string().max(500).nullable(),
      })
      .nullable(),
  }),
  documents: z.int().min(0).max(LIMITS.documents),
  chunks: z.int().min(0).max(LIMITS.chunks),
  created: z.iso.datetime(),
});

const documentSchema = z.strictObject({
  id: z.string().min(1).max(128),
  name: z.string().trim().min(1).max(1_000),
  format: z.enum(documentFormats),
  sha256: z.string().regex(SHA256, 'lowercase hex SHA-256'),
  bytes: z.int().min(0).max(LIMITS.documentBytes),
  pageCount: z.int().min(0).max(LIMITS.pages).nullable(),
  file: z
    .string()
    .regex(PACK_FILE_PATH, 'a file under files/')
    .refine((file) => !file.endsWith('.') && !file.endsWith(' '), 'a portable file name')
    .nullable(),
});

const chunkSchema = z
  .strictObject({
    documentId: z.string().min(1).max(128),
    ordinal: z.int().min(0).max(LIMITS.chunks),
    text: z.string().min(1).max(LIMITS.chunkChars),
    page: z.int().min(1).max(LIMITS.pages).nullable(),
    headingPath: z.array(z.string().max(LIMITS.headingChars)).max(LIMITS.headings),
    start: z.int().min(0).max(LIMITS.textChars),
    end: z.int().min(0).max(LIMITS.textChars),
    tokens: z.int().min(0).max(1_000_000),
    vector: z.string().max(Math.ceil((LIMITS.dimensions * 4) / 3) + 4).regex(BASE64, 'base64').nullable(),
  })
  // The text is the body (document text [start, end)) after an optional heading prefix.
  .refine((chunk) => chunk.start <= chunk.end && chunk.end - chunk.start <= chunk.text.length, 'offsets that fit the passage text');

export type PackManifest = z.infer<typeof packSchema>;
export type PackDocument = z.infer<typeof documentSchema>;
export type PackChunk = z.infer<typeof chunkSchema>;

export interface PackProgress {
  /** export: documents written; verify: files checked; store: documents stored; index: rows written. */
  readonly stage: 'export' | 'verify' | 'store' | 'index';
  readonly done: number;
  readonly total: number;
}

export interface PackSummary {
  readonly dir: string;
  readonly collection: string;
  readonly documents: number;
  readonly chunks: number;
  /** Bytes of the documents' copies. */
  readonly bytes: number;
  readonly embedding: PackManifest['collection']['embedding'];
}

// ── export ──────────────────────────────────────────────────────────────────

export interface ExportDeps {
  readonly db: Database;
  readonly store: KnowledgeStore;
  readonly documentsDir: string;
}

/**
 * Writes the collection's indexed documents to a new pack folder. The pack is built in
 * `outDir.partial` and renamed into place, so `outDir` is either absent or a whole pack.
 */
export async function exportKnowledgePack(deps: ExportDeps, collectionId: string, outDir: string, onProgress?: (progress: PackProgress) => void): Promise<PackSummary> {
  const { store } = deps;
  const collection = store.collection(collectionId);
  const target = path.resolve(outDir);
  const existing = await readdir(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    if (error.code === 'ENOTDIR') throw new AppError('bad_request', `${target} already exists and is a file. Choose a new folder for the pack.`);
    throw error;
  });
  if (existing !== null && existing.length > 0) throw new AppError('bad_request', `The folder ${target} already exists and is not empty. Choose a new folder for the pack; nothing is overwritten.`);

  const embedding =
    collection.embeddingKey === FTS_ONLY_KEY || collection.dimensions === null
      ? null
      : { sha256: collection.embeddingKey, dimensions: collection.dimensions, modelName: modelNameOf(deps.db, collection.embeddingModelId) };
  const documents = store.listDocuments(collectionId).filter((document) => document.status === 'indexed');

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
        let file: string | null = null;
        if (document.storedPath !== null) {
          file = packFileName(document, usedFiles);
          const copied = await copyHashed(await storedCopy(document.storedPath, deps.documentsDir), path.join(partial, file));
          if (copied.sha256 !== document.sha256) {
            throw new AppError('io_error', `Soberana's copy of “${document.name}” has changed since it was indexed. Add the document again, then export.`, `${document.storedPath}: sha256 ${copied.sha256}, expected ${document.sha256}`);
          }
          bytes += copied.bytes;
        }
        const entry: PackDocument = { id: document.id, name: document.name, format: document.format, sha256: document.sha256, bytes: document.bytes, pageCount: document.pageCount, file };
        await writeLine(documentsOut, JSON.stringify(entry));
        for (const line of lines) await writeLine(chunksOut, line);
        documentCount++;
        chunkCount += lines.length;
        onProgress?.({ stage: 'export', done: position + 1, total: documents.length });
      }
    } finally {
      await Promise.all([endStream(documentsOut), endStream(chunksOut)]);
    }
    const manifest: PackManifest = { format: PACK_FORMAT, collection: { name: collection.name, embedding }, documents: documentCount, chunks: chunkCount, created: new Date().toISOString() };
    await writeFile(path.join(partial, PACK_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    // An empty folder given as --out is replaced; rename cannot replace a folder everywhere.
    if (existing !== null) await rmdir(target);
    await rename(partial, target);
    return { dir: target, collection: collection.name, documents: documentCount, chunks: chunkCount, bytes, embedding };
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
      throw new AppError('internal', `A passage of “${document.name}” has no usable vector. Re-index the collection, then export.`, `chunk ${chunk.id}: ${vector?.length ?? 'no'} dimensions, expected ${dimensions}`);
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
  if (await stat(storedPath).then((info) => info.isFile(), () => false)) return storedPath;
  return path.join(documentsDir, path.basename(storedPath));
}

function packFileName(document: KnowledgeDocument, used: Set<string>): string {
  const ext = path.extname(document.name).replace(/[^\p{L}\p{N}.]+/gu, '').slice(0, 12);
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

// ── import ──────────────────────────────────────────────────────────────────

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

  const copies: string[] = [];
  let collectionId: string | null = null;
  const documentIds: string[] = [];
  try {
    // Every file is checked against its hash before anything reaches the database.
    const storedPaths = new Map<string, string>();
    let verified = 0;
    // files/ itself must be a real folder: a link there would make the pack read files from elsewhere.
    const filesDir = await lstat(path.join(root, FILES_DIR)).catch(() => null);
    if (filesDir?.isDirectory() !== true && [...documents.values()].some(({ entry }) => entry.file !== null)) throw damaged(`${FILES_DIR} is missing or not a folder`);
    await mkdir(deps.documentsDir, { recursive: true });
    for (const { entry } of documents.values()) {
      if (entry.file !== null) {
        const source = path.join(root, ...entry.file.split('/'));
        const info = await lstat(source).catch(() => null);
        if (info?.isFile() !== true) throw damaged(`${entry.file} is missing or not a file`);
        if (info.size !== entry.bytes) throw mismatch(entry, `${entry.file} has ${info.size} bytes, documents.jsonl says ${entry.bytes}`);
        const stored = path.join(deps.documentsDir, `${entry.sha256.slice(0, 16)}-${randomBytes(4).toString('hex')}${path.extname(entry.file).toLowerCase().slice(0, 12)}`);
        copies.push(stored);
        const copied = await copyHashed(source, stored);
        if (copied.sha256 !== entry.sha256 || copied.bytes !== entry.bytes) throw mismatch(entry, `${entry.file}: sha256 ${copied.sha256}, expected ${entry.sha256}`);
        storedPaths.set(entry.id, stored);
      }
      options.onProgress?.({ stage: 'verify', done: ++verified, total: documents.size });
    }

    const rows: IndexRowInput[] = [];
    collectionId = transaction(db, () => {
      const collection = store.createCollection({ name: freeName(store, options.name ?? manifest.collection.name), readOnly: options.readOnly, embeddingModelId, embeddingKey: key, dimensions });
      let stored = 0;
      for (const { entry, chunks, vectors } of documents.values()) {
        const storedPath = storedPaths.get(entry.id) ?? null;
        // Unique within the collection, as the schema requires; says where the document came from.
        const sourcePath = entry.file === null ? `${root}#${entry.id}` : path.join(root, ...entry.file.split('/'));
        const document = store.addDocument({ collectionId: collection.id, name: entry.name, sourcePath, storedPath, format: entry.format, bytes: entry.bytes, sha256: entry.sha256 });
        documentIds.push(document.id);
        const chunkIds = store.replaceChunks(document.id, chunks, entry.pageCount);
        if (dimensions === null) store.setStatus(document.id, 'embedded');
        else store.setVectors(chunkIds.map((chunkId, at) => ({ chunkId, vector: vectors[at]! })), { documentId: document.id });
        chunkIds.forEach((chunkId, at) => rows.push({ chunkId, documentId: document.id, collectionId: collection.id, text: chunks[at]!.text, vector: vectors[at] ?? null }));
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
  return new AppError('bad_request', `The file of “${entry.name}” in this knowledge pack does not match its recorded SHA-256: the pack is damaged or was changed, so it was not imported.`, details);
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
    if (chunk.ordinal !== document.chunks.length) throw damaged(`${where}: passage ${chunk.ordinal} of ${chunk.documentId} follows ${document.chunks.length} passages; they must be in order`);
    const pageCount = document.entry.pageCount;
    if (chunk.page !== null && pageCount !== null && chunk.page > pageCount) throw damaged(`${where}: page ${chunk.page} of a document with ${pageCount} pages`);
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
    document.chunks.push({ ordinal: chunk.ordinal, text: chunk.text, page: chunk.page, headingPath: chunk.headingPath, start: chunk.start, end: chunk.end, tokens: chunk.tokens });
  }
  if (line !== manifest.chunks) throw damaged(`${CHUNKS_FILE} has ${line} passages; ${PACK_FILE} declares ${manifest.chunks}`);
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

// ── files ───────────────────────────────────────────────────────────────────

/** Copies a file to a new path (never over an existing one), hashing the bytes as they pass. */
async function copyHashed(from: string, to: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      done(null, chunk);
    },
  });
  await pipeline(createReadStream(from), tap, createWriteStream(to, { flags: 'wx' }));
  return { sha256: hash.digest('hex'), bytes };
}

function writeLine(stream: WriteStream, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    stream.once('error', onError);
    const drained = stream.write(`${line}\n`);
    const done = () => {
      stream.off('error', onError);
      resolve();
    };
    if (drained) done();
    else stream.once('drain', done);
  });
}

function endStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.destroyed) {
      resolve();
      return;
    }
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}
