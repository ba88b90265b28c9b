import type * as PdfJsModule from 'pdfjs-dist/legacy/build/pdf.mjs';
import type { TextRun } from './pdf-layout.ts';

// Which PDF pages are scans, and their picture for OCR. A page is read by OCR when it has no
// text layer but paints an image, or when images cover most of it and its text covers little
// (a scan with a stamped page number, or a thin layer of bad OCR from the scanner).

type PdfJs = typeof PdfJsModule;
type PdfPage = Awaited<ReturnType<Awaited<ReturnType<PdfJs['getDocument']>['promise']>['getPage']>>;
type Matrix = readonly [number, number, number, number, number, number];

const IDENTITY: Matrix = [1, 0, 0, 1, 0, 0];
/** Images covering at least this share of the page make it "mostly image". */
const MOSTLY_IMAGE = 0.5;
/** A mostly-image page whose text covers less than this share is read by OCR instead. */
const LITTLE_TEXT = 0.05;
/** A page with no text at all is read when its images cover at least this share (not for a logo). */
const SOME_IMAGE = 0.1;
/** Rendering resolution for OCR: Tesseract reads best at about 300 dpi. */
export const OCR_DPI = 300;

function multiply(m: Matrix, n: readonly number[]): Matrix {
  const [a = 1, b = 0, c = 0, d = 1, e = 0, f = 0] = n;
  return [m[0] * a + m[2] * b, m[1] * a + m[3] * b, m[0] * c + m[2] * d, m[1] * c + m[3] * d, m[0] * e + m[2] * f + m[4], m[1] * e + m[3] * f + m[5]];
}

/**
 * The share of the page that images paint, following the transformation stack: an image fills
 * the unit square, so its area is the determinant of the matrix in force. Overlaps count twice
 * (capped at 1), which is fine for telling a scan from a page with a logo.
 */
export function imageCoverage(fnArray: readonly number[], argsArray: readonly unknown[], ops: PdfJs['OPS'], pageArea: number): number {
  const paints = new Set<number>([
    ops.paintImageXObject,
    ops.paintInlineImageXObject,
    ops.paintImageMaskXObject,
    ops.paintImageXObjectRepeat,
    ops.paintSolidColorImageMask,
  ]);
  const stack: Matrix[] = [];
  let ctm: Matrix = IDENTITY;
  let area = 0;
  fnArray.forEach((fn, index) => {
    const args = argsArray[index] as unknown[] | null;
    if (fn === ops.save) stack.push(ctm);
    else if (fn === ops.restore) ctm = stack.pop() ?? IDENTITY;
    else if (fn === ops.transform && Array.isArray(args)) ctm = multiply(ctm, args as number[]);
    else if (fn === ops.paintFormXObjectBegin) {
      stack.push(ctm);
      const matrix = Array.isArray(args) ? args[0] : null;
      if (Array.isArray(matrix) || ArrayBuffer.isView(matrix)) ctm = multiply(ctm, Array.from(matrix as ArrayLike<number>));
    } else if (fn === ops.paintFormXObjectEnd) ctm = stack.pop() ?? IDENTITY;
    else if (paints.has(fn)) area += Math.abs(ctm[0] * ctm[3] - ctm[1] * ctm[2]);
  });
  return pageArea <= 0 ? 0 : Math.min(1, area / pageArea);
}

/** The share of the page the text runs cover (their boxes summed). */
export function textCoverage(runs: readonly TextRun[], pageArea: number): number {
  const area = runs.reduce((sum, run) => (run.str.trim() === '' ? sum : sum + Math.abs(run.width * run.height)), 0);
  return pageArea <= 0 ? 0 : Math.min(1, area / pageArea);
}

export function isScan(images: number, text: number, hasText: boolean): boolean {
  if (!hasText) return images >= SOME_IMAGE;
  return images >= MOSTLY_IMAGE && text < LITTLE_TEXT;
}

/** Whether this page should be read by OCR (see isScan); only pages with little text pay for the operator list. */
export async function pageNeedsOcr(lib: PdfJs, page: PdfPage, runs: readonly TextRun[]): Promise<boolean> {
  const [x0 = 0, y0 = 0, x1 = 0, y1 = 0] = page.view;
  const pageArea = Math.abs((x1 - x0) * (y1 - y0));
  const hasText = runs.some((run) => run.str.trim() !== '');
  const text = textCoverage(runs, pageArea);
  if (hasText && text >= LITTLE_TEXT) return false;
  const list = await page.getOperatorList();
  return isScan(imageCoverage(list.fnArray, list.argsArray, lib.OPS, pageArea), text, hasText);
}

/** Renders the page at OCR resolution (less when that would pass the pixel limit) as a PNG. */
export async function renderForOcr(page: PdfPage, maxPixels: number): Promise<Uint8Array> {
  const { createCanvas } = await import('@napi-rs/canvas');
  const base = page.getViewport({ scale: 1 });
  const wanted = OCR_DPI / 72;
  const fit = Math.sqrt(maxPixels / Math.max(1, base.width * base.height));
  const viewport = page.getViewport({ scale: Math.min(wanted, fit) });
  const canvas = createCanvas(Math.max(1, Math.floor(viewport.width)), Math.max(1, Math.floor(viewport.height)));
  const context = canvas.getContext('2d');
  // A white page: scans with transparent areas would otherwise read as black on black.
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  await page.render({ canvas: canvas as unknown as HTMLCanvasElement, canvasContext: context as unknown as CanvasRenderingContext2D, viewport }).promise;
  return new Uint8Array(canvas.toBuffer('image/png'));
}
