import { z } from 'zod';
import { Marking } from './markings.ts';

// Collections, documents and retrieval as the renderer sees them. A collection's documents
// are searched with its embedding model's vectors plus full text, or with full text alone
// when it has no embedding model (the zero-setup default).

/** `skipped`: a file found in an added folder that Soberana cannot read (its reason says why); it is listed, never indexed. */
export const DocumentStatus = z.enum(['queued', 'extracted', 'embedded', 'indexed', 'failed', 'skipped']);
export type DocumentStatus = z.infer<typeof DocumentStatus>;

export const DocumentFailure = z.object({
  reason: z.enum([
    'encrypted',
    'corrupt',
    'too_large',
    'zip_bomb',
    'too_deep',
    'unsupported',
    'empty',
    'out_of_memory',
    'timeout',
    'pii_blocked',
    'io_error',
    'embedding_failed',
  ]),
  message: z.string(),
});
export type DocumentFailure = z.infer<typeof DocumentFailure>;

export const WatchedFolder = z.object({ id: z.string(), path: z.string(), addedAt: z.string() });
export type WatchedFolder = z.infer<typeof WatchedFolder>;

export const OcrLanguage = z.enum(['eng', 'spa']);
export type OcrLanguage = z.infer<typeof OcrLanguage>;

export const Collection = z.object({
  id: z.string(),
  name: z.string(),
  embeddingModelId: z.string().nullable(),
  /** The embedding model's name; null with no embedding model, or when it was removed from the library. */
  embeddingModelName: z.string().nullable(),
  /** `text`: full-text search only, because the collection has no embedding model (or it is missing). */
  search: z.enum(['hybrid', 'text']),
  readOnly: z.boolean(),
  /** The languages its scans are read in by OCR (Tesseract codes): English, Spanish or both. */
  ocrLanguages: z.array(OcrLanguage),
  documents: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  pending: z.number().int().nonnegative(),
  chunks: z.number().int().nonnegative(),
  pages: z.number().int().nonnegative(),
  watched: z.array(WatchedFolder),
  /** Its classification marking (null: the policy defines no markings). New documents take it; none may be marked below it. */
  marking: Marking.nullable().optional(),
  /** Why search and chat leave it out now: `packChecks`, its pack failed a check and the policy says disable. Null or absent: in use. */
  disabled: z.literal('packChecks').nullable().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Collection = z.infer<typeof Collection>;

export const DocumentEntry = z.object({
  id: z.string(),
  collectionId: z.string(),
  name: z.string(),
  sourcePath: z.string(),
  /** The folder it was added from, relative to the collection's root folder ('' at the root); see DocumentFolders. */
  folder: z.string(),
  format: z.string(),
  bytes: z.number().int().nonnegative(),
  pages: z.number().int().nonnegative().nullable(),
  chunks: z.number().int().nonnegative(),
  status: DocumentStatus,
  error: DocumentFailure.nullable(),
  /** Personal data found in it, by type and count (policy mode warn or redact); null when none or not screened. */
  personalData: z.record(z.string(), z.number().int().positive()).nullable(),
  addedAt: z.string(),
  updatedAt: z.string(),
  /** For an e-mail's attachment, the message it came with; null otherwise. */
  parentId: z.string().nullable(),
  /** Its classification marking (null: the policy defines no markings). */
  marking: Marking.nullable().optional(),
});
export type DocumentEntry = z.infer<typeof DocumentEntry>;

/** A retrieved passage. `highlights` are [start, end) ranges in `snippet` where the query matched. */
export const Passage = z.object({
  chunkId: z.string(),
  documentId: z.string(),
  documentName: z.string(),
  collectionId: z.string(),
  format: z.string(),
  page: z.number().int().positive().nullable(),
  headingPath: z.array(z.string()),
  /** For a passage of spreadsheet or CSV rows: the first and last row numbers it holds, as the sheet numbers them. */
  rows: z.tuple([z.number().int().positive(), z.number().int().positive()]).nullable().optional(),
  text: z.string(),
  snippet: z.string(),
  highlights: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])),
  score: z.number(),
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
  /** Recognised by OCR from a scan, with this confidence (0–100); null or absent for text the document held. */
  ocrConfidence: z.number().min(0).max(100).nullable().optional(),
  /** Its document's classification marking (null or absent: the policy defines no markings). */
  marking: Marking.nullable().optional(),
});
export type Passage = z.infer<typeof Passage>;

export const SearchResult = z.object({
  mode: z.enum(['hybrid', 'text']),
  passages: z.array(Passage),
  /** Why the search was text-only, when it was; for the UI to say so. */
  notice: z.string().nullable(),
  ms: z.number().nonnegative(),
});
export type SearchResult = z.infer<typeof SearchResult>;

export const IngestFileState = z.enum(['queued', 'extracting', 'embedding', 'indexing', 'done', 'skipped', 'failed', 'cancelled']);
export type IngestFileState = z.infer<typeof IngestFileState>;

export const IngestFile = z.object({
  path: z.string(),
  name: z.string(),
  collectionId: z.string(),
  state: IngestFileState,
  pages: z.number().int().nonnegative().nullable(),
  /** 0–1 within this file. */
  progress: z.number().min(0).max(1),
  error: DocumentFailure.nullable(),
});
export type IngestFile = z.infer<typeof IngestFile>;

/** The ingestion queue's state, broadcast as it changes (at most a few times a second). */
export const IngestProgress = z.object({
  active: z.boolean(),
  total: z.number().int().nonnegative(),
  done: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  pages: z.number().int().nonnegative(),
  pagesPerSecond: z.number().nonnegative(),
  /** Seconds left at the current pace; null until it can be estimated. */
  etaSeconds: z.number().nonnegative().nullable(),
  /** 0–1 over the whole run. */
  progress: z.number().min(0).max(1),
  /** The current run's files, most recent last (the oldest are dropped past a few hundred). */
  files: z.array(IngestFile),
});
export type IngestProgress = z.infer<typeof IngestProgress>;

/** A conversation pins at most this many documents: each may take a large part of the context. */
export const MAX_PINNED_DOCUMENTS = 8;

/** A pinned document: its id, and its name to show until the service reports on it (the service reads the document by id). */
export const PinnedRef = z.object({ id: z.string().min(1).max(64), name: z.string().max(1024) });
export type PinnedRef = z.infer<typeof PinnedRef>;

export const KnowledgeSettings = z.object({
  collectionIds: z.array(z.string().min(1).max(64)).max(32),
  /** Refuse to answer when the collections have nothing relevant, instead of answering from the model's own knowledge. */
  documentsOnly: z.boolean(),
  /**
   * Documents of those collections given to the model whole when they fit its context (else
   * their most relevant passages), in this order; absent in settings saved before pinning.
   */
  pinnedDocuments: z.array(PinnedRef).max(MAX_PINNED_DOCUMENTS).optional(),
});
export type KnowledgeSettings = z.infer<typeof KnowledgeSettings>;

/**
 * A pinned document as one answer used it. `whole`: its whole text went to the model, cited
 * by `label` and page; `passages`: it did not fit (`tokens` > `room`), so its most relevant
 * passages did; `unavailable`: deleted, not indexed yet, or its collection is not attached.
 */
export const PinnedDocument = z.object({
  documentId: z.string(),
  name: z.string(),
  collectionId: z.string().nullable(),
  state: z.enum(['whole', 'passages', 'unavailable']),
  /** How the prompt labels a whole document, e.g. "D1"; null otherwise. */
  label: z.string().nullable(),
  /** Its length in the chat model's tokens; null when unavailable. */
  tokens: z.number().int().nonnegative().nullable(),
  /** The tokens of the model's context left for it when it was placed. */
  room: z.number().int().nonnegative().nullable(),
  pages: z.number().int().nonnegative().nullable(),
});
export type PinnedDocument = z.infer<typeof PinnedDocument>;

/** What the document viewer shows: a PDF's bytes to render at a page, or the extracted text. */
export const DocumentView = z.object({
  documentId: z.string(),
  name: z.string(),
  format: z.string(),
  pages: z.number().int().nonnegative().nullable(),
  /** Its classification marking (null or absent: the policy defines no markings). */
  marking: Marking.nullable().optional(),
  /** The PDF itself, base64; null for other formats or when the stored copy is missing. */
  pdfBase64: z.string().nullable(),
  /**
   * A PNG or JPEG document's picture (its stored copy, base64), shown with the words OCR read on
   * it marked; null or absent for other formats (TIFF included: the renderer cannot decode it),
   * past the size cap, or when the stored copy is missing.
   */
  image: z
    .object({ mime: z.enum(['image/png', 'image/jpeg']), base64: z.string() })
    .nullable()
    .optional(),
  /** The text as indexed, in chunks, for every format. */
  chunks: z.array(
    z.object({
      id: z.string(),
      text: z.string(),
      page: z.number().int().positive().nullable(),
      headingPath: z.array(z.string()),
      /** Recognised from a scan by OCR, with this confidence (0–100); null or absent otherwise. */
      ocrConfidence: z.number().min(0).max(100).nullable().optional(),
    }),
  ),
  /** The words OCR read on each scanned page, with their boxes in that page image's pixels, for marking cited words. */
  scanPages: z
    .array(
      z.object({
        page: z.number().int().positive(),
        width: z.number().int().nonnegative(),
        height: z.number().int().nonnegative(),
        words: z.array(z.object({ text: z.string(), box: z.tuple([z.number(), z.number(), z.number(), z.number()]) })),
      }),
    )
    .optional(),
});
export type DocumentView = z.infer<typeof DocumentView>;

/** Status groups the Documents screen filters and counts by; `pending` is queued, extracted or embedded. */
export const DocumentStatusGroup = z.enum(['indexed', 'pending', 'failed', 'skipped']);
export type DocumentStatusGroup = z.infer<typeof DocumentStatusGroup>;

export const DocumentSort = z.enum(['name', 'added', 'size', 'status']);
export type DocumentSort = z.infer<typeof DocumentSort>;

/**
 * One page of a collection's documents, filtered and sorted by the service (SQLite), never in
 * the page. `cursor` is opaque: pass the previous page's `nextCursor` with the same filter and
 * sort to get the next page; a changed filter starts again without one.
 */
export const DocumentsQuery = z
  .object({
    collectionId: z.string().min(1).max(64),
    /** Part of the file name, case-insensitive. */
    query: z.string().max(200).optional(),
    /** Documents in this folder and below it ('' is the root: all of them). */
    folder: z.string().max(4096).optional(),
    status: DocumentStatusGroup.optional(),
    sort: DocumentSort.optional(),
    descending: z.boolean().optional(),
    cursor: z.string().max(1024).optional(),
    limit: z.number().int().min(1).max(500).optional(),
  })
  .strict();
export type DocumentsQuery = z.infer<typeof DocumentsQuery>;

export const DocumentsPage = z.object({
  documents: z.array(DocumentEntry),
  /** Null on the last page. */
  nextCursor: z.string().nullable(),
  /** Documents matching the filter, over all pages. */
  total: z.number().int().nonnegative(),
});
export type DocumentsPage = z.infer<typeof DocumentsPage>;

export const StatusCounts = z.object({
  indexed: z.number().int().nonnegative(),
  pending: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
});
export type StatusCounts = z.infer<typeof StatusCounts>;

/**
 * A folder of a collection, as the files were added (paths relative to the collection's root,
 * '/'-separated, '' for the root). Counts include every folder below it.
 */
export const DocumentFolder = z.object({ path: z.string(), name: z.string(), depth: z.number().int().nonnegative(), counts: StatusCounts });
export type DocumentFolder = z.infer<typeof DocumentFolder>;

export const DocumentFolders = z.object({
  /** The common folder every document of the collection was added from; null when it has none. */
  root: z.string().nullable(),
  /** Depth first, each folder before the folders inside it, siblings by name; the first is the root (''). */
  folders: z.array(DocumentFolder),
});
export type DocumentFolders = z.infer<typeof DocumentFolders>;
