import { createRequire } from 'node:module';
import path from 'node:path';
import { createCanvas, GlobalFonts, type Canvas } from '@napi-rs/canvas';

// Page images with known text, made by the tests and bench:ocr: text set in a font shipped in
// node_modules (pdf.js's Liberation Sans), at a chosen resolution, optionally degraded like a
// real scan (speckle noise, a slight skew, JPEG artefacts).

const require = createRequire(import.meta.url);
const FONT_FAMILY = 'SoberanaScanSans';
let registered = false;

function registerFont(): void {
  if (registered) return;
  const fonts = path.join(path.dirname(require.resolve('pdfjs-dist/package.json')), 'standard_fonts');
  if (GlobalFonts.registerFromPath(path.join(fonts, 'LiberationSans-Regular.ttf'), FONT_FAMILY) === null) throw new Error('could not load Liberation Sans');
  registered = true;
}

export interface PageOptions {
  readonly lines: readonly string[];
  /** Resolution the page is "scanned" at; the text is 12 pt. */
  readonly dpi?: number;
  /** Page width in inches (default: 8.27, A4). */
  readonly widthInches?: number;
  /** Share of pixels flipped to random grey (0–1). */
  readonly noise?: number;
  /** Rotation of the page, in degrees. */
  readonly skewDegrees?: number;
  /** Encode as JPEG at this quality (0–100) instead of PNG. */
  readonly jpegQuality?: number;
  /** Seed for the noise, so a run is repeatable. */
  readonly seed?: number;
}

/** A small deterministic random source (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RenderedPage {
  readonly bytes: Uint8Array;
  readonly width: number;
  readonly height: number;
}

function drawPage(options: PageOptions): Canvas {
  registerFont();
  const dpi = options.dpi ?? 300;
  const px = (points: number): number => Math.round((points * dpi) / 72);
  const width = Math.round((options.widthInches ?? 8.27) * dpi);
  const lineHeight = px(18);
  const height = px(72) * 2 + lineHeight * options.lines.length;
  const canvas = createCanvas(width, height);
  const g = canvas.getContext('2d');
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, width, height);
  g.save();
  if (options.skewDegrees !== undefined && options.skewDegrees !== 0) {
    g.translate(width / 2, height / 2);
    g.rotate((options.skewDegrees * Math.PI) / 180);
    g.translate(-width / 2, -height / 2);
  }
  g.fillStyle = '#111111';
  g.font = `${px(12)}px ${FONT_FAMILY}`;
  g.textBaseline = 'alphabetic';
  options.lines.forEach((line, index) => g.fillText(line, px(72), px(72) + lineHeight * (index + 1) - px(4)));
  g.restore();
  if (options.noise !== undefined && options.noise > 0) {
    const next = random(options.seed ?? 1);
    const image = g.getImageData(0, 0, width, height);
    const data = image.data;
    for (let i = 0; i < data.length; i += 4) {
      if (next() >= options.noise) continue;
      const grey = Math.floor(next() * 256);
      data[i] = grey;
      data[i + 1] = grey;
      data[i + 2] = grey;
    }
    g.putImageData(image, 0, 0);
  }
  return canvas;
}

/** Renders the lines as a page image (PNG, or JPEG when `jpegQuality` is set). */
export function renderPage(options: PageOptions): RenderedPage {
  const canvas = drawPage(options);
  const { width, height } = canvas;
  const bytes = options.jpegQuality === undefined ? canvas.toBuffer('image/png') : canvas.toBuffer('image/jpeg', options.jpegQuality);
  return { bytes: new Uint8Array(bytes), width, height };
}

/** Greyscale pixels of a rendered page, for writing TIFFs (one byte per pixel, 0 black). */
export function greyPixels(options: PageOptions): { readonly width: number; readonly height: number; readonly pixels: Uint8Array } {
  const canvas = drawPage(options);
  const rgba = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const pixels = new Uint8Array(canvas.width * canvas.height);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rgba[i * 4] ?? 255;
  return { width: canvas.width, height: canvas.height, pixels };
}

/**
 * An uncompressed 8-bit greyscale TIFF, little-endian, one directory per page.
 */
export function greyTiff(pages: readonly { readonly width: number; readonly height: number; readonly pixels: Uint8Array }[]): Uint8Array {
  const ENTRIES = 9;
  const ifdSize = 2 + ENTRIES * 12 + 4;
  const total = 8 + pages.reduce((sum, page) => sum + ifdSize + page.pixels.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set([0x49, 0x49, 0x2a, 0x00]);
  let at = 8;
  view.setUint32(4, at, true);
  pages.forEach((page, index) => {
    const ifd = at;
    const dataAt = ifd + ifdSize;
    const entries: [number, number, number][] = [
      [256, 4, page.width], // ImageWidth
      [257, 4, page.height], // ImageLength
      [258, 3, 8], // BitsPerSample
      [259, 3, 1], // Compression: none
      [262, 3, 1], // Photometric: black is zero
      [273, 4, dataAt], // StripOffsets
      [277, 3, 1], // SamplesPerPixel
      [278, 4, page.height], // RowsPerStrip
      [279, 4, page.pixels.length], // StripByteCounts
    ];
    view.setUint16(ifd, ENTRIES, true);
    entries.forEach(([tag, type, value], i) => {
      const entry = ifd + 2 + i * 12;
      view.setUint16(entry, tag, true);
      view.setUint16(entry + 2, type, true);
      view.setUint32(entry + 4, 1, true);
      if (type === 3) view.setUint16(entry + 8, value, true);
      else view.setUint32(entry + 8, value, true);
    });
    out.set(page.pixels, dataAt);
    at = dataAt + page.pixels.length;
    view.setUint32(ifd + 2 + ENTRIES * 12, index === pages.length - 1 ? 0 : at, true);
  });
  return out;
}

/** A PNG that is only a header declaring `width` × `height` (a decompression bomb's claim) and an end. */
export function pngHeaderOnly(width: number, height: number): Uint8Array {
  const out = new Uint8Array(8 + 25 + 12);
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(out.buffer);
  view.setUint32(8, 13);
  out.set(
    [...'IHDR'].map((c) => c.charCodeAt(0)),
    12,
  );
  view.setUint32(16, width);
  view.setUint32(20, height);
  out.set([8, 0, 0, 0, 0], 24); // 8-bit greyscale
  view.setUint32(33, 0);
  out.set(
    [...'IEND'].map((c) => c.charCodeAt(0)),
    37,
  );
  return out;
}
