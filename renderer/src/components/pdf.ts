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

/** Renders one page into the canvas and marks the text items that belong to the passage. */
export async function renderPage(doc: PDFDocumentProxy, pageNumber: number, canvas: HTMLCanvasElement, width: number, passage: string | null): Promise<void> {
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
  if (passage === null) return;
  const wanted = normalize(passage);
  const content = await page.getTextContent();
  context.fillStyle = 'rgba(255, 200, 0, 0.35)';
  for (const item of content.items) {
    if (!('str' in item)) continue;
    const text = normalize(item.str);
    if (text.length < 3 || !wanted.includes(text)) continue;
    const [, , c, d, e, f] = lib.Util.transform(viewport.transform, item.transform) as number[];
    const height = Math.hypot(c ?? 0, d ?? 0);
    context.fillRect(e ?? 0, (f ?? 0) - height, item.width * viewport.scale, height * 1.15);
  }
}
