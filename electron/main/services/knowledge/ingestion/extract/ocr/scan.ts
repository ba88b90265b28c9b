import { DocumentError, type OcrPageWords } from '../../../types.ts';
import type { BlockCollector } from '../blocks.ts';
import { probeImage, tiffPage, type ImageFormat } from '../image.ts';
import type { ResolvedLimits } from '../limits.ts';
import { DEFAULT_OCR_LANGUAGES, ocrEngine, type OcrLanguage } from './engine.ts';

/** How a file's scanned pages are read: in which languages, and whom to tell as each page is done. */
export interface OcrSettings {
  readonly languages?: readonly OcrLanguage[];
  /** Called after each recognised page: pages done so far, of `total` to recognise. */
  readonly onPage?: (done: number, total: number) => void;
}

/** What recognising a file's pages added: the words and boxes of each page, kept for the viewer. */
export class ScanPages {
  readonly pages: OcrPageWords[] = [];
  #settings: OcrSettings;
  #done = 0;

  constructor(settings: OcrSettings = {}) {
    this.#settings = settings;
  }

  /** Recognises one page image and adds its paragraphs to `collector`, flagged with their confidence. */
  async read(image: Uint8Array, page: number, total: number, collector: BlockCollector): Promise<void> {
    const engine = await ocrEngine(this.#settings.languages ?? DEFAULT_OCR_LANGUAGES);
    const result = await engine.recognize(image).catch((error: unknown) => {
      throw recognitionError(error, page);
    });
    for (const paragraph of result.paragraphs) collector.recognised(paragraph.text, page, paragraph.confidence);
    if (result.words.length > 0) this.pages.push({ page, width: result.width, height: result.height, words: result.words });
    this.#done += 1;
    this.#settings.onPage?.(this.#done, total);
  }
}

function recognitionError(error: unknown, page: number): DocumentError {
  const message = error instanceof Error ? error.message : String(error);
  // The WebAssembly engine aborts when it cannot grow its memory any further.
  if (/abort|out of memory|OOM|memory access out of bounds/i.test(message)) {
    return new DocumentError(
      'out_of_memory',
      `Recognising the text of page ${page} needed more memory than allowed, so it was stopped. Scan it at a lower resolution and add it again.`,
    );
  }
  if (/read image/i.test(message)) return new DocumentError('corrupt', `Page ${page} of this image can't be decoded. Try opening it and saving a new copy.`);
  return new DocumentError('corrupt', `The text of page ${page} couldn't be recognised (${message}).`);
}

export interface ImageResult {
  readonly format: ImageFormat;
  readonly pageCount: number;
  readonly ocrPages: readonly OcrPageWords[];
}

/** A PNG, JPEG or TIFF: its size checked from the headers, then each page recognised. */
export async function extractImage(bytes: Uint8Array, limits: ResolvedLimits, collector: BlockCollector, settings: OcrSettings = {}): Promise<ImageResult> {
  const info = probeImage(bytes, limits);
  const scans = new ScanPages(settings);
  const total = info.pages.length;
  for (const [index, page] of info.pages.entries()) {
    await scans.read(info.format === 'tiff' ? tiffPage(bytes, page) : bytes, index + 1, total, collector);
  }
  if (!collector.hasText()) {
    throw new DocumentError('empty', 'No text was recognised in this image. If it holds text, scan it again at 300 dpi, straight and in focus.');
  }
  return { format: info.format, pageCount: total, ocrPages: scans.pages };
}
