import { DocumentError, type DocumentFormat, type EmailFields, type ExtractedAttachment, type ExtractedDocument, type OcrPageWords } from '../../types.ts';
import { BlockCollector } from './blocks.ts';
import { detectFormat, extensionOf, isCfb, isEncryptedOffice, isZip } from './detect.ts';
import { extractDocx } from './docx.ts';
import { extractEmail } from './email.ts';
import { extractHtml } from './html.ts';
import { formatBytes, resolveLimits, type ExtractLimits, type ResolvedLimits } from './limits.ts';
import { extractMarkdown } from './markdown.ts';
import { extractOds } from './ods.ts';
import { extractImage, type OcrSettings } from './ocr/scan.ts';
import { extractPdf } from './pdf.ts';
import { decodeText, extractCsv, extractText } from './text.ts';
import { extractXlsx } from './xlsx.ts';
import { extractEpub, extractOdt, extractPptx } from './zipped.ts';
import { openArchive, type Archive } from './zip.ts';

export { detectFormat } from './detect.ts';
export { DEFAULT_LIMITS, formatBytes, resolveLimits } from './limits.ts';
export type { ExtractLimits, ResolvedLimits } from './limits.ts';

const NAMES: Record<DocumentFormat, string> = {
  pdf: 'PDF',
  docx: 'Word',
  html: 'HTML',
  markdown: 'Markdown',
  text: 'text',
  csv: 'CSV',
  pptx: 'PowerPoint',
  xlsx: 'Excel',
  ods: 'OpenDocument spreadsheet',
  odt: 'OpenDocument',
  epub: 'EPUB',
  png: 'PNG',
  jpeg: 'JPEG',
  tiff: 'TIFF',
  email: 'e-mail',
};

interface Parsed {
  readonly title: string | null;
  readonly pageCount: number | null;
  readonly collector: BlockCollector;
  readonly ocrPages?: readonly OcrPageWords[];
  readonly email?: EmailFields;
  readonly attachments?: readonly ExtractedAttachment[];
}

/**
 * Text and structure from one document held in memory. Throws DocumentError with the
 * reason a person can act on; any other failure inside a parser is reported as corrupt.
 * Meant to run inside the extraction worker (see pool.ts), not on the main thread.
 */
export async function extractDocument(bytes: Uint8Array, fileName: string, limits?: ExtractLimits, ocr: OcrSettings = {}): Promise<ExtractedDocument> {
  const resolved = resolveLimits(limits);
  if (bytes.byteLength > resolved.maxFileBytes) throw tooLarge(bytes.byteLength, resolved.maxFileBytes);
  if (isEncryptedOffice(bytes)) throw new DocumentError('encrypted', 'This Office file is password-protected. Remove the password and add it again.');
  const format = detectFormat(fileName, bytes);
  if (format === null) throw unknownFormat(fileName, bytes);
  let parsed: Parsed & { format: DocumentFormat };
  try {
    parsed = await parse(format, bytes, fileName, resolved, ocr);
  } catch (error) {
    throw asDocumentError(error, format);
  }
  if (!parsed.collector.hasText()) throw new DocumentError('empty', `No text found in this ${NAMES[parsed.format]} file.`);
  const { email, attachments } = parsed;
  return {
    format: parsed.format,
    title: parsed.title,
    pageCount: parsed.pageCount,
    blocks: parsed.collector.blocks,
    ...(email === undefined ? {} : { email }),
    ...(attachments === undefined ? {} : { attachments }),
    ...(parsed.ocrPages === undefined || parsed.ocrPages.length === 0 ? {} : { ocrPages: parsed.ocrPages }),
  };
}

export function tooLarge(bytes: number, limit: number): DocumentError {
  return new DocumentError('too_large', `This file is ${formatBytes(bytes)}, over the ${formatBytes(limit)} limit. Split it into smaller files and add them.`);
}

function unknownFormat(fileName: string, bytes: Uint8Array): DocumentError {
  const ext = extensionOf(fileName);
  // A file named like a format we read, whose bytes are not that format, is damaged rather than foreign.
  if (ext === 'pdf') return new DocumentError('corrupt', "This PDF is damaged and can't be read. Try opening it and saving a new copy.");
  if (['docx', 'pptx', 'xlsx', 'ods', 'odt', 'epub'].includes(ext) && !isZip(bytes) && !isCfb(bytes)) {
    return new DocumentError('corrupt', `This file is damaged: it is named .${ext} but is not a valid ${ext.toUpperCase()} file.`);
  }
  if (isCfb(bytes))
    return new DocumentError('unsupported', 'Older Office formats (.doc, .xls, .ppt) are not supported. Save the file as .docx and add it again.');
  const name = ext === '' ? 'this kind of file' : `.${ext} files`;
  return new DocumentError(
    'unsupported',
    `Soberana can't read ${name}. Supported: PDF, Word (.docx), Excel (.xlsx), OpenDocument (.odt, .ods), HTML, Markdown, text, CSV, e-mail (.eml) and scanned images (PNG, JPEG, TIFF).`,
  );
}

/** Stack overflows mean nesting too deep for a recursive parser; anything else unexpected is damage. */
function asDocumentError(error: unknown, format: DocumentFormat): DocumentError {
  if (error instanceof DocumentError) return error;
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return new DocumentError('too_deep', `This ${NAMES[format]} file nests too deeply to read safely.`);
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new DocumentError('corrupt', `This ${NAMES[format]} file can't be read (${detail}). Try opening it and saving a new copy.`);
}

async function parse(
  format: DocumentFormat,
  bytes: Uint8Array,
  fileName: string,
  limits: ResolvedLimits,
  ocr: OcrSettings,
): Promise<Parsed & { format: DocumentFormat }> {
  switch (format) {
    case 'pdf':
      return { format, ...(await extractPdf(bytes, limits, ocr)) };
    case 'png':
    case 'jpeg':
    case 'tiff': {
      const collector = new BlockCollector();
      const image = await extractImage(bytes, limits, collector, ocr);
      return { format: image.format, title: null, pageCount: image.pageCount, collector, ocrPages: image.ocrPages };
    }
    case 'html': {
      const { title, collector } = extractHtml(decodeText(bytes), { maxDepth: limits.maxDepth });
      return { format, title, pageCount: null, collector };
    }
    case 'markdown': {
      const { title, collector } = extractMarkdown(decodeText(bytes));
      return { format, title, pageCount: null, collector };
    }
    case 'text':
      return { format, title: null, pageCount: null, collector: extractText(decodeText(bytes)) };
    case 'csv':
      return { format, title: null, pageCount: null, collector: extractCsv(decodeText(bytes), limits.maxCells) };
    case 'email':
      return { format, pageCount: null, ...(await extractEmail(bytes, limits)) };
    case 'docx':
    case 'pptx':
    case 'xlsx':
    case 'ods':
    case 'odt':
    case 'epub':
      return parseArchive(format, bytes, fileName, limits);
  }
}

async function parseArchive(guess: DocumentFormat, bytes: Uint8Array, fileName: string, limits: ResolvedLimits): Promise<Parsed & { format: DocumentFormat }> {
  if (isCfb(bytes)) throw unknownFormat(fileName, bytes);
  const archive = await openArchive(bytes, limits);
  try {
    const format = await refineZipFormat(archive, guess);
    switch (format) {
      case 'docx':
        return { format, pageCount: null, ...(await extractDocx(archive, limits)) };
      case 'pptx':
        return { format, ...(await extractPptx(archive, limits)) };
      case 'odt':
        return { format, pageCount: null, ...(await extractOdt(archive, limits)) };
      case 'epub':
        return { format, pageCount: null, ...(await extractEpub(archive, limits)) };
      case 'xlsx':
        return { format, pageCount: null, ...(await extractXlsx(archive, limits)) };
      case 'ods':
        return { format, pageCount: null, ...(await extractOds(archive, limits)) };
      default:
        throw new DocumentError('unsupported', `${NAMES[format]} files are not supported yet. Export it as PDF or CSV and add that instead.`);
    }
  } finally {
    archive.close();
  }
}

/** The directory is the truth about what a ZIP holds; the name and header only guessed. */
async function refineZipFormat(archive: Archive, guess: DocumentFormat): Promise<DocumentFormat> {
  if (archive.has('word/document.xml')) return 'docx';
  if (archive.has('ppt/presentation.xml')) return 'pptx';
  if (archive.has('xl/workbook.xml')) return 'xlsx';
  if (archive.has('mimetype')) {
    const mimetype = (await archive.readText('mimetype')).trim();
    if (mimetype === 'application/epub+zip') return 'epub';
    if (mimetype === 'application/vnd.oasis.opendocument.text') return 'odt';
    if (mimetype === 'application/vnd.oasis.opendocument.spreadsheet') return 'ods';
  }
  if (archive.has('content.xml') && (guess === 'odt' || guess === 'ods')) return guess;
  if (archive.has('META-INF/container.xml') && guess === 'epub') return 'epub';
  throw new DocumentError('corrupt', `This file is named like a ${NAMES[guess]} file but doesn't contain one.`);
}
