/** Caps that keep one hostile file from exhausting the machine. All optional; see DEFAULT_LIMITS. */
export interface ExtractLimits {
  /** Largest file accepted, on disk. */
  readonly maxFileBytes?: number;
  /** Largest total an archive (DOCX, EPUB…) may unpack to, by its directory and by actual inflation. */
  readonly maxUnpackedBytes?: number;
  /** Highest uncompressed:compressed ratio for one archive entry above `ratioMinBytes`. */
  readonly maxCompressionRatio?: number;
  /** Entries smaller than this are exempt from the ratio check (small XML parts compress very well). */
  readonly ratioMinBytes?: number;
  readonly maxArchiveEntries?: number;
  /** Deepest element nesting accepted in HTML and XHTML. */
  readonly maxDepth?: number;
  readonly maxPages?: number;
  /** Most non-empty cells a spreadsheet may hold (XLSX, ODS, CSV), and most an XLSX's sheets may declare by their dimensions. */
  readonly maxCells?: number;
  /** Most distinct texts an XLSX's shared strings table may hold. */
  readonly maxSharedStrings?: number;
  /** Most cell styles and number formats a spreadsheet may define. */
  readonly maxStyles?: number;
  /** Largest image (a PNG, JPEG or TIFF page, or a rendered PDF page) OCR will decode, in pixels: width × height. */
  readonly maxImagePixels?: number;
  /** Most pages a TIFF may hold. */
  readonly maxImagePages?: number;
  /** Most attachments read from one e-mail; the rest are named as not read in the message's text. */
  readonly maxAttachments?: number;
  /** Largest total of an e-mail's headers, over all its parts. */
  readonly maxEmailHeaderBytes?: number;
}

export type ResolvedLimits = Required<ExtractLimits>;

const MB = 1024 * 1024;

export const DEFAULT_LIMITS: ResolvedLimits = Object.freeze({
  maxFileBytes: 200 * MB,
  maxUnpackedBytes: 500 * MB,
  maxCompressionRatio: 100,
  ratioMinBytes: MB,
  maxArchiveEntries: 10_000,
  maxDepth: 512,
  maxPages: 5_000,
  // A million cells is a very large office sheet and still a few hundred thousand passages;
  // Excel's own ceilings (17 billion cells, 64,000 styles) are what bombs declare.
  maxCells: 1_000_000,
  maxSharedStrings: 1_000_000,
  maxStyles: 65_000,
  // 50 megapixels: an A4 page scanned at 600 dpi is 35; decoded as RGBA it is 200 MB in the OCR engine.
  maxImagePixels: 50_000_000,
  maxImagePages: 500,
  maxAttachments: 100,
  maxEmailHeaderBytes: MB,
});

export function resolveLimits(limits: ExtractLimits = {}): ResolvedLimits {
  const out: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(limits)) if (typeof value === 'number' && Number.isFinite(value) && value > 0) out[key] = value;
  return out as ResolvedLimits;
}

/** Sizes as people read them: "2.1 GB", "500 MB", "12 KB". */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${bytes} bytes`;
  const rounded = value >= 10 || Number.isInteger(value) ? Math.round(value).toString() : value.toFixed(1);
  return `${rounded} ${units[unit]}`;
}
