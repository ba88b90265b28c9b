import { z } from 'zod';
import { Marking } from '../../../../common/contract/markings.ts';
import { documentFormats } from '../types.ts';

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
//   checks.json      optional: acceptance checks (pack/checks.ts); pack.json then says how many
//
// Markings (issue #18, optional in either format, written when the exporting machine's policy
// defines them): pack.json `marking` is the highest of its content (its header), the
// collection's and each document's own are kept, and an import restores them as given (a
// level the importing machine's scheme does not know counts as above all: never retrieved).
//
// A pack is data from elsewhere: everything in it is validated before any of it is stored,
// and an import that fails at any step leaves nothing behind.
//
// This file holds the format (names, bounds, schemas); export.ts writes a pack, import.ts
// reads one, and ../pack.ts is the module the rest of the app imports.

/** The newest format this version reads and writes. 2: a pack with checks.json; a pack without checks is still written as 1, so older versions import it. */
export const PACK_FORMAT = 2;
export const PACK_FORMAT_WITHOUT_CHECKS = 1;
export const PACK_FILE = 'pack.json';
export const DOCUMENTS_FILE = 'documents.jsonl';
export const CHUNKS_FILE = 'chunks.jsonl';
export const FILES_DIR = 'files';

/** Bounds that a real collection stays far inside; past them a pack is refused before it exhausts memory. */
export const LIMITS = {
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
  checks: 1_000,
} as const;

const SHA256 = /^[0-9a-f]{64}$/u;
/** Exported names keep to this alphabet, so a pack's paths can never climb out of files/. */
const PACK_FILE_PATH = /^files\/[0-9a-f]{16}-[\p{L}\p{N}._ ()-]{1,200}$/u;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/u;

export const packSchema = z
  .strictObject({
    format: z.union([z.literal(PACK_FORMAT_WITHOUT_CHECKS), z.literal(PACK_FORMAT)]),
    collection: z.strictObject({
      name: z.string().trim().min(1).max(200),
      embedding: z
        .strictObject({
          sha256: z.string().regex(SHA256, 'lowercase hex SHA-256'),
          dimensions: z.int().min(1).max(LIMITS.dimensions),
          modelName: z.string().max(500).nullable(),
        })
        .nullable(),
      marking: Marking.strict().optional(),
    }),
    /** The highest marking of everything in the pack. */
    marking: Marking.strict().optional(),
    documents: z.int().min(0).max(LIMITS.documents),
    chunks: z.int().min(0).max(LIMITS.chunks),
    /** How many checks checks.json holds (format 2 only), so a pack whose checks went missing is refused. */
    checks: z.int().min(1).max(LIMITS.checks).optional(),
    created: z.iso.datetime(),
  })
  .refine((pack) => (pack.format === PACK_FORMAT) === (pack.checks !== undefined), 'format 2 with a count of checks, or format 1 without');

export const documentSchema = z.strictObject({
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
  marking: Marking.strict().optional(),
});

export const chunkSchema = z
  .strictObject({
    documentId: z.string().min(1).max(128),
    ordinal: z.int().min(0).max(LIMITS.chunks),
    text: z.string().min(1).max(LIMITS.chunkChars),
    page: z.int().min(1).max(LIMITS.pages).nullable(),
    headingPath: z.array(z.string().max(LIMITS.headingChars)).max(LIMITS.headings),
    start: z.int().min(0).max(LIMITS.textChars),
    end: z.int().min(0).max(LIMITS.textChars),
    tokens: z.int().min(0).max(1_000_000),
    vector: z
      .string()
      .max(Math.ceil((LIMITS.dimensions * 4) / 3) + 4)
      .regex(BASE64, 'base64')
      .nullable(),
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
  /** Acceptance checks written to checks.json. */
  readonly checks: number;
}
