// Shapes shared by the knowledge pipeline: extract → chunk → embed → store → retrieve.
// Each stage owns its module; this file is the only thing they all import.

export const documentFormats = [
  'pdf',
  'docx',
  'html',
  'markdown',
  'text',
  'csv',
  'pptx',
  'xlsx',
  'ods',
  'odt',
  'epub',
  'png',
  'jpeg',
  'tiff',
  'email',
] as const;
export type DocumentFormat = (typeof documentFormats)[number];

export const isDocumentFormat = (format: string): format is DocumentFormat => (documentFormats as readonly string[]).includes(format);

export type BlockKind = 'heading' | 'paragraph' | 'list' | 'table' | 'code';

/** One structural piece of a document, in reading order. */
export interface ExtractedBlock {
  readonly kind: BlockKind;
  readonly text: string;
  /** 1-based page for paged formats (PDF, PPTX slide, XLSX sheet); null otherwise. */
  readonly page: number | null;
  /** Headings enclosing this block, outermost first. A heading block's own path includes itself. */
  readonly headingPath: readonly string[];
  /** Heading level 1–6 for `heading` blocks. */
  readonly level?: number;
  /** Set when the text was recognised from a page image (a scan): Tesseract's mean word confidence, 0–100. */
  readonly ocrConfidence?: number;
}

export interface ExtractedDocument {
  readonly format: DocumentFormat;
  readonly title: string | null;
  /** Pages for paged formats; null when the format has none. */
  readonly pageCount: number | null;
  readonly blocks: readonly ExtractedBlock[];
  /** The recognised words of each page read by OCR, with their boxes, for marking cited words on the page image. */
  readonly ocrPages?: readonly OcrPageWords[];
  /** An e-mail's sender, recipients, date and subject. */
  readonly email?: EmailFields;
  /** An e-mail's attachments: each becomes a child document of the message (ingestion/attachments.ts). */
  readonly attachments?: readonly ExtractedAttachment[];
}

export interface EmailFields {
  readonly from: string;
  readonly to: readonly string[];
  readonly cc: readonly string[];
  /** ISO 8601 when the Date header parses, else its raw value; null without one. */
  readonly date: string | null;
  readonly subject: string;
}

/** One attachment of a message, as the extraction worker hands it back. */
export interface ExtractedAttachment {
  /** Its file name (made up from its type when the message gives none). */
  readonly name: string;
  readonly mimeType: string;
  readonly bytes: number;
  /** Its bytes, until the worker writes them to `path`; null once written or when it will not be read. */
  readonly content: Uint8Array | null;
  /** The file the worker wrote it to; null when not written (skipped, or no folder was given). */
  readonly path: string | null;
  readonly sha256: string | null;
  /** Why Soberana will not read it (unknown format, too large); null when it will. */
  readonly skipped: { readonly reason: DocumentFailureReason; readonly message: string } | null;
}

/** One OCR'd page: its pixel size as recognised and each word's box in those pixels. */
export interface OcrPageWords {
  readonly page: number;
  readonly width: number;
  readonly height: number;
  readonly words: readonly OcrWord[];
}

export interface OcrWord {
  readonly text: string;
  /** Left, top, width, height in the page image's pixels. */
  readonly box: readonly [number, number, number, number];
  readonly confidence: number;
}

/**
 * Why one file could not be ingested. Each is reported per file; none stops the others.
 * - encrypted: password-protected PDF or Office file
 * - corrupt: the parser could not read it
 * - too_large: over the size limit, on disk or once unpacked
 * - zip_bomb: an archive whose declared sizes or ratios are unsafe (checked before any parser)
 * - too_deep: nesting beyond the limit (HTML, XML)
 * - unsupported: no extractor for this kind of file
 * - empty: no text found (e.g. a scanned PDF without a text layer)
 * - out_of_memory / timeout: the parsing worker hit its memory cap or time limit and was stopped
 * - pii_blocked: the machine policy blocks documents that hold personal data
 */
export const documentFailureReasons = [
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
] as const;
export type DocumentFailureReason = (typeof documentFailureReasons)[number];

export class DocumentError extends Error {
  readonly reason: DocumentFailureReason;
  constructor(reason: DocumentFailureReason, message: string) {
    super(message);
    this.name = 'DocumentError';
    this.reason = reason;
  }
}

/** A retrievable passage. Offsets index the document's full text: its blocks' texts joined by "\n\n". */
export interface Chunk {
  readonly ordinal: number;
  readonly text: string;
  /** The page the chunk starts on; null for unpaged formats. */
  readonly page: number | null;
  readonly headingPath: readonly string[];
  readonly start: number;
  readonly end: number;
  readonly tokens: number;
  /** Set when the chunk's text was recognised from a scan: the lowest confidence of its OCR'd blocks, 0–100. */
  readonly ocrConfidence?: number;
}

/** Counts tokens with the collection's embedding model (or an estimate when there is none). */
export type TokenCounter = (texts: readonly string[]) => Promise<number[]>;
