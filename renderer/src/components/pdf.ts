import type * as PdfJs from 'pdfjs-dist';
import type { PDFDocumentProxy } from 'pdfjs-dist';

// pdf.js loads on first use: most sessions never open a PDF, and it is a large bundle.
// Scripting stays off and nothing is evaluated (`isEvalSupported: false`), which the strict
// CSP would refuse anyway; the document comes as bytes, never by URL.

let library: Promise<typeof PdfJs> | null = null;

async function pdfjs() {
  library ??= Promise.all([import('pdfjs-dist'), import('pdfjs-dist/build/pdf.worker.min.mjs?url')]).then(([lib, worker]) => {
    lib.GlobalWorkerOptions.workerSrc = worker.default;
    return lib;
  });
  return library;
}

/**
 * pdf.js 6 never evaluates code (the `isEvalSupported` switch is gone with the code path it
 * guarded); the option is still passed so that an older build swapped in stays safe.
 */
const SAFE_OPTIONS: Record<string, unknown> = { isEvalSupported: false, enableScripting: false, useSystemFonts: false, stopAtErrors: false };

export interface OpenedPdf {
  readonly doc: PDFDocumentProxy;
  destroy(): Promise<void>;
}

export async function openPdf(base64: string): Promise<OpenedPdf> {
  const lib = await pdfjs();
  const binary = atob(base64);
  const data = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) data[i] = binary.charCodeAt(i);
  const task = lib.getDocument({ ...SAFE_OPTIONS, data });
  return { doc: await task.promise, destroy: () => task.destroy() };
}

const normalize = (text: string) => text.toLowerCase().replace(/\s+/g, ' ').trim();

/** A scanned page's words as OCR read them, with boxes in the pixels of the image it read. */
export interface ScanWords {
  readonly width: number;
  readonly height: number;
  readonly words: readonly { readonly text: string; readonly box: readonly [number, number, number, number] }[];
}

/** The boxes of the scan's words that belong to the passage, scaled to a canvas of this size. */
export function scanMarks(scan: ScanWords, passage: string, canvasWidth: number, canvasHeight: number): [number, number, number, number][] {
  const wanted = new Set(normalize(passage).split(' ').map(bare));
  const sx = scan.width > 0 ? canvasWidth / scan.width : 0;
  const sy = scan.height > 0 ? canvasHeight / scan.height : 0;
  return scan.words
    .filter((word) => {
      const text = bare(normalize(word.text));
      return text.length >= 2 && wanted.has(text);
    })
    .map(({ box: [left, top, w, h] }) => [left * sx, top * sy, w * sx, h * sy]);
}

/** A word without the punctuation around it. */
const bare = (word: string) => word.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');

/**
 * Renders one page into the canvas and marks the passage's words: the text items of a PDF's
 * text layer, or, on a scanned page, the words OCR read there (`scan`). The canvas's
 * data-marked attribute counts the marks.
 */
export async function renderPage(
  doc: PDFDocumentProxy,
  pageNumber: number,
  canvas: HTMLCanvasElement,
  width: number,
  passage: string | null,
  scan: ScanWords | null = null,
): Promise<void> {
  const lib = await pdfjs();
  const page = await doc.getPage(pageNumber);
  const base = page.getViewport({ scale: 1 });
  const scale = Math.max(0.5, width / base.width);
  const ratio = window.devicePixelRatio || 1;
  const viewport = page.getViewport({ scale: scale * ratio });
  canvas.width = Math.floor(viewport.width);
  canvas.height = Math.floor(viewport.height);
  canvas.style.width = `${Math.floor(viewport.width / ratio)}px`;
  canvas.style.height = `${Math.floor(viewport.height / ratio)}px`;
  const context = canvas.getContext('2d');
  if (context === null) return;
  await page.render({ canvas, canvasContext: context, viewport }).promise;
  canvas.dataset.marked = '0';
  if (passage === null) return;
  if (scan !== null) {
    context.fillStyle = 'rgba(255, 200, 0, 0.35)';
    const marks = scanMarks(scan, passage, canvas.width, canvas.height);
    for (const [x, y, w, h] of marks) context.fillRect(x, y, w, h);
    canvas.dataset.marked = String(marks.length);
    return;
  }
  const wanted = normalize(passage);
  let marked = 0;
  const content = await page.getTextContent();
  context.fillStyle = 'rgba(255, 200, 0, 0.35)';
  for (const item of content.items) {
    if (!('str' in item)) continue;
    const text = normalize(item.str);
    if (text.length < 3 || !wanted.includes(text)) continue;
    const [, , c, d, e, f] = lib.Util.transform(viewport.transform, item.transform) as number[];
    const height = Math.hypot(c ?? 0, d ?? 0);
    context.fillRect(e ?? 0, (f ?? 0) - height, item.width * viewport.scale, height * 1.15);
    marked += 1;
  }
  canvas.dataset.marked = String(marked);
}
