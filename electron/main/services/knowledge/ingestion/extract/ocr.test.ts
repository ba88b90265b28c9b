import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { greyPixels, greyTiff, pngHeaderOnly, renderPage } from '../../../../../test-support/scanned-pages.ts';
import { DocumentError } from '../../types.ts';
import { probeImage } from './image.ts';
import { extractDocument, resolveLimits } from './index.ts';
import { createExtractor } from './pool.ts';

// OCR runs Tesseract (WebAssembly) on a busy 2-core machine: each test reads one small page,
// and the timeouts are generous.
const SLOW = 180_000;

const ENGLISH = ['The quarterly budget review', 'is held on Tuesday morning.'];
const SPANISH = ['La reunión del comité', 'será el jueves próximo.'];

/** A one-page PDF whose only content is a picture of the text: no text layer at all. */
async function scannedPdf(lines: readonly string[]): Promise<Uint8Array> {
  const page = renderPage({ lines, dpi: 200, widthInches: 6 });
  const pdf = await PDFDocument.create();
  const image = await pdf.embedPng(page.bytes);
  const width = (page.width / 200) * 72;
  const height = (page.height / 200) * 72;
  pdf.addPage([width, height]).drawImage(image, { x: 0, y: 0, width, height });
  return pdf.save();
}

async function failure(promise: Promise<unknown>): Promise<DocumentError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DocumentError);
  return error as DocumentError;
}

describe('OCR of images and scanned PDFs', () => {
  it(
    'reads the words of a PNG scan, flags its passages as recognised and keeps each word box',
    async () => {
      const page = renderPage({ lines: [...ENGLISH, ...SPANISH], dpi: 200, widthInches: 6 });
      const pages: [number, number][] = [];
      const doc = await extractDocument(page.bytes, 'letter.png', {}, { onPage: (done, total) => pages.push([done, total]) });
      expect(doc.format).toBe('png');
      expect(doc.pageCount).toBe(1);
      const text = doc.blocks.map((b) => b.text).join(' ');
      for (const word of ['quarterly', 'budget', 'Tuesday', 'reunión', 'comité', 'jueves', 'próximo']) expect(text).toContain(word);
      expect(doc.blocks.every((b) => b.page === 1 && (b.ocrConfidence ?? 0) > 50)).toBe(true);
      expect(pages).toEqual([[1, 1]]);
      const words = doc.ocrPages?.[0]?.words ?? [];
      const budget = words.find((w) => w.text === 'budget');
      expect(budget?.box[2]).toBeGreaterThan(0);
      expect(doc.ocrPages?.[0]?.width).toBe(page.width);
    },
    SLOW,
  );

  it(
    'renders a PDF page that has no text layer and recognises it',
    async () => {
      const doc = await extractDocument(await scannedPdf(ENGLISH), 'scan.pdf');
      expect(doc.format).toBe('pdf');
      const text = doc.blocks.map((b) => b.text).join(' ');
      expect(text).toContain('quarterly budget review');
      expect(doc.blocks.every((b) => typeof b.ocrConfidence === 'number')).toBe(true);
      expect(doc.ocrPages?.map((p) => p.page)).toEqual([1]);
    },
    SLOW,
  );

  it(
    'reads by OCR a page that is a full-page image with only a stamped line of text, and keeps text pages as they are',
    async () => {
      const page = renderPage({ lines: ENGLISH, dpi: 200, widthInches: 6 });
      const pdf = await PDFDocument.create();
      const image = await pdf.embedPng(page.bytes);
      const width = (page.width / 200) * 72;
      const height = (page.height / 200) * 72;
      const scan = pdf.addPage([width, height]);
      scan.drawImage(image, { x: 0, y: 0, width, height });
      scan.drawText('Ref 7', { x: 4, y: 4, size: 6 });
      pdf.addPage([width, height]).drawText('A typed page about the harbour.', { x: 20, y: height / 2, size: 12 });
      const doc = await extractDocument(await pdf.save(), 'mixed.pdf');
      const first = doc.blocks.filter((b) => b.page === 1);
      expect(first.map((b) => b.text).join(' ')).toContain('quarterly budget review');
      expect(first.every((b) => typeof b.ocrConfidence === 'number')).toBe(true);
      expect(doc.blocks.filter((b) => b.page === 2)).toEqual([expect.objectContaining({ text: 'A typed page about the harbour.' })]);
      expect(doc.blocks.find((b) => b.page === 2)).not.toHaveProperty('ocrConfidence');
      expect(doc.ocrPages?.map((p) => p.page)).toEqual([1]);
    },
    SLOW,
  );

  it(
    'reads the second page of a multi-page TIFF as page 2',
    async () => {
      const tiff = greyTiff([
        greyPixels({ lines: ['First page of the file.'], dpi: 150, widthInches: 5 }),
        greyPixels({ lines: SPANISH, dpi: 150, widthInches: 5 }),
      ]);
      const doc = await extractDocument(tiff, 'archive.tif');
      expect(doc.format).toBe('tiff');
      expect(doc.pageCount).toBe(2);
      expect(
        doc.blocks
          .filter((b) => b.page === 2)
          .map((b) => b.text)
          .join(' '),
      ).toContain('jueves');
      expect(
        doc.blocks
          .filter((b) => b.page === 1)
          .map((b) => b.text)
          .join(' '),
      ).toContain('First page');
    },
    SLOW,
  );
});

describe('image bombs', () => {
  const limits = resolveLimits();

  it('refuses a tiny PNG that declares a huge picture, from its header alone', async () => {
    const bomb = pngHeaderOnly(100_000, 100_000);
    expect(bomb.byteLength).toBeLessThan(100);
    const error = await failure(extractDocument(bomb, 'bomb.png'));
    expect(error.reason).toBe('too_large');
    expect(error.message).toMatch(/100,000 × 100,000 pixels \(10,000 megapixels\), over the 50-megapixel limit/);
  });

  it('refuses a TIFF with a thousand pages, with its own reason', async () => {
    const tiny = { width: 1, height: 1, pixels: new Uint8Array([255]) };
    const tiff = greyTiff(Array.from({ length: 1000 }, () => tiny));
    const error = await failure(extractDocument(tiff, 'pages.tiff'));
    expect(error.reason).toBe('too_large');
    expect(error.message).toMatch(/more than 500 pages/);
  });

  it('refuses a TIFF page whose declared size is a bomb, naming the page', () => {
    const tiny = { width: 1, height: 1, pixels: new Uint8Array([255]) };
    const tiff = greyTiff([tiny, { ...tiny, width: 60_000, height: 60_000 }]);
    expect(() => probeImage(tiff, limits)).toThrow(/Page 2 of this TIFF declares 60,000 × 60,000 pixels/);
  });

  it('reports a TIFF whose page list loops as damaged', () => {
    const tiny = { width: 1, height: 1, pixels: new Uint8Array([255]) };
    const tiff = greyTiff([tiny]);
    // Point the only directory's "next" at itself.
    new DataView(tiff.buffer).setUint32(8 + 2 + 9 * 12, 8, true);
    expect(() => probeImage(tiff, limits)).toThrow(/loops/);
  });

  it('reads JPEG and PNG sizes from their headers', () => {
    const jpeg = renderPage({ lines: ['x'], dpi: 72, widthInches: 2, jpegQuality: 80 });
    expect(probeImage(jpeg.bytes, limits).pages).toEqual([{ width: jpeg.width, height: jpeg.height }]);
    expect(probeImage(pngHeaderOnly(640, 480), limits)).toEqual({ format: 'png', pages: [{ width: 640, height: 480 }] });
  });
});

describe('OCR in the extraction worker', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'soberana-ocr-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(
    'runs with the worker egress guard on and reaches for nothing; a refused bomb leaves the worker reading the next file',
    async () => {
      const blocked: unknown[] = [];
      const extractor = createExtractor({ onEgressBlocked: (attempt) => blocked.push(attempt), timeoutMs: SLOW, ocrPageTimeoutMs: SLOW });
      try {
        const bomb = path.join(dir, 'bomb.png');
        const tiffBomb = path.join(dir, 'thousand.tif');
        const scan = path.join(dir, 'scan.pdf');
        await writeFile(bomb, pngHeaderOnly(80_000, 80_000));
        await writeFile(tiffBomb, greyTiff(Array.from({ length: 1000 }, () => ({ width: 1, height: 1, pixels: new Uint8Array([255]) }))));
        await writeFile(scan, await scannedPdf(SPANISH));
        expect((await failure(extractor.extract(bomb))).message).toMatch(/megapixel limit/);
        expect((await failure(extractor.extract(tiffBomb))).message).toMatch(/more than 500 pages/);
        const pages: number[] = [];
        const doc = await extractor.extract(scan, undefined, { ocrLanguages: ['spa'], onPage: (done) => pages.push(done) });
        expect(doc.blocks.map((b) => b.text).join(' ')).toContain('jueves próximo');
        expect(doc.blocks.every((b) => typeof b.ocrConfidence === 'number')).toBe(true);
        expect(pages).toEqual([1]);
        // The guard refuses and reports every attempt; OCR made none (its data and engine are local files).
        expect(blocked).toEqual([]);
        const check = await extractor.checkEgress();
        expect(check.guarded).toBe(true);
      } finally {
        await extractor.close();
      }
    },
    SLOW * 2,
  );
});
