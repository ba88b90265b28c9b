import { createRequire } from 'node:module';
import path from 'node:path';
import type * as PdfJsModule from 'pdfjs-dist/legacy/build/pdf.mjs';
import { DocumentError, type OcrPageWords } from '../../types.ts';
import { BlockCollector } from './blocks.ts';
import type { ResolvedLimits } from './limits.ts';
import { ScanPages, type OcrSettings } from './ocr/scan.ts';
import { headingLevels, linesOf, pageBlocks, trailingTable, type Paragraph, type TextRun } from './pdf-layout.ts';
import { pageNeedsOcr, renderForOcr } from './pdf-scan.ts';

type PdfJs = typeof PdfJsModule;
let pdfjs: Promise<PdfJs> | null = null;

// Loaded on first use: importing the extractor (say, for detectFormat) shouldn't cost pdf.js.
function loadPdfJs(): Promise<PdfJs> {
  pdfjs ??= import('pdfjs-dist/legacy/build/pdf.mjs');
  return pdfjs;
}

/**
 * Local folders for CMaps (CJK text) and the standard fonts. Under Node, pdf.js reads these
 * with fs; given nothing, it would not fetch either, but some text would come out wrong.
 */
function pdfjsDataDirs(): { cMapUrl?: string; standardFontDataUrl?: string } {
  try {
    const root = path.dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
    return { cMapUrl: path.join(root, 'cmaps') + path.sep, standardFontDataUrl: path.join(root, 'standard_fonts') + path.sep };
  } catch {
    return {};
  }
}

export interface PdfResult {
  readonly title: string | null;
  readonly pageCount: number;
  readonly collector: BlockCollector;
  /** Words and boxes of the pages read by OCR; empty when every page had a text layer. */
  readonly ocrPages: readonly OcrPageWords[];
}

function loadError(error: unknown): DocumentError {
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'PasswordException') return new DocumentError('encrypted', 'This PDF is password-protected. Remove the password and add it again.');
  if (name === 'InvalidPDFException') return new DocumentError('corrupt', "This PDF is damaged and can't be read. Try opening it and saving a new copy.");
  return new DocumentError('corrupt', `This PDF can't be read (${(error as Error | null)?.message ?? String(error)}). Try opening it and saving a new copy.`);
}

export async function extractPdf(bytes: Uint8Array, limits: ResolvedLimits, ocr: OcrSettings = {}): Promise<PdfResult> {
  const lib = await loadPdfJs();
  const task = lib.getDocument({
    // pdf.js may detach the buffer it is given; the caller's bytes stay usable.
    data: bytes.slice(),
    ...pdfjsDataDirs(),
    cMapPacked: true,
    // pdf.js 6 no longer has isEvalSupported: it never compiles fonts with eval/new Function.
    disableFontFace: true,
    useSystemFonts: false,
    stopAtErrors: false,
    isOffscreenCanvasSupported: false,
    disableAutoFetch: true,
    disableStream: true,
    disableRange: true,
    enableXfa: false,
    verbosity: 0,
  });
  let doc: Awaited<typeof task.promise>;
  try {
    doc = await task.promise;
  } catch (error) {
    await task.destroy().catch(() => undefined);
    throw loadError(error);
  }
  try {
    const pageCount = doc.numPages;
    if (pageCount > limits.maxPages) {
      throw new DocumentError(
        'too_large',
        `This PDF has ${pageCount.toLocaleString('en-US')} pages, over the ${limits.maxPages.toLocaleString('en-US')}-page limit. Split it and add the parts.`,
      );
    }
    const pages: Paragraph[][] = [];
    /** Pages without a usable text layer, read by OCR below. */
    const scanned = new Set<number>();
    let failed = 0;
    for (let number = 1; number <= pageCount; number++) {
      try {
        const page = await doc.getPage(number);
        const content = await page.getTextContent({ includeMarkedContent: false });
        const runs = content.items.filter((item): item is TextRun & typeof item => 'str' in item);
        if (await pageNeedsOcr(lib, page, runs)) {
          scanned.add(number);
          pages.push([]);
        } else {
          // A table going on over a page break keeps its header on the next page.
          pages.push(pageBlocks(linesOf(runs), trailingTable(pages.at(-1) ?? [])));
        }
        page.cleanup();
      } catch (error) {
        // One broken page shouldn't cost the others; a file where every page breaks is corrupt.
        if (error instanceof DocumentError) throw error;
        failed++;
        pages.push([]);
      }
    }
    if (failed === pageCount && pageCount > 0)
      throw new DocumentError('corrupt', "This PDF is damaged and its pages can't be read. Try opening it and saving a new copy.");
    const levelOf = headingLevels(pages.flat());
    const out = new BlockCollector();
    const scans = new ScanPages(ocr);
    for (const [index, paragraphs] of pages.entries()) {
      if (scanned.has(index + 1)) {
        const page = await doc.getPage(index + 1);
        await scans.read(await renderForOcr(page, limits.maxImagePixels), index + 1, scanned.size, out);
        page.cleanup();
      }
      for (const p of paragraphs) {
        if (p.table !== undefined) {
          out.add('table', p.text, index + 1);
          continue;
        }
        const level = p.lines <= 3 && p.text.length <= 200 ? levelOf(p.size) : null;
        if (level === null) out.add('paragraph', p.text, index + 1);
        else out.heading(p.text, level, index + 1);
      }
    }
    if (!out.hasText()) {
      const why = scanned.size > 0 ? 'Its pages are scans and no text was recognised on them.' : 'Its pages hold neither text nor scanned images.';
      throw new DocumentError('empty', `No text found in this PDF. ${why}`);
    }
    const info = (await doc.getMetadata().catch(() => null))?.info as { Title?: unknown } | undefined;
    const title = typeof info?.Title === 'string' && info.Title.trim() !== '' ? info.Title.trim() : null;
    return { title, pageCount, collector: out, ocrPages: scans.pages };
  } finally {
    await task.destroy().catch(() => undefined);
  }
}
