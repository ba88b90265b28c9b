import { DocumentError } from '../../types.ts';
import type { ResolvedLimits } from './limits.ts';

// Images as documents: PNG, JPEG and TIFF. Their size is read from the headers alone, before
// a single pixel is decoded, so a decompression bomb (a small file declaring a huge picture,
// or a TIFF declaring a thousand pages) is refused for what it claims to be.

export type ImageFormat = 'png' | 'jpeg' | 'tiff';

export interface ImagePage {
  readonly width: number;
  readonly height: number;
  /** TIFF only: where this page's directory (IFD) starts. */
  readonly ifdOffset?: number;
}

export interface ImageInfo {
  readonly format: ImageFormat;
  readonly pages: readonly ImagePage[];
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function imageFormatOf(bytes: Uint8Array): ImageFormat | null {
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (
    (bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 0x2a && bytes[3] === 0) ||
    (bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0 && bytes[3] === 0x2a)
  )
    return 'tiff';
  return null;
}

const NAMES: Record<ImageFormat, string> = { png: 'PNG', jpeg: 'JPEG', tiff: 'TIFF' };

function damaged(format: ImageFormat, detail: string): DocumentError {
  return new DocumentError('corrupt', `This ${NAMES[format]} image is damaged (${detail}). Try opening it and saving a new copy.`);
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function pngSize(bytes: Uint8Array): ImagePage {
  // The IHDR chunk comes first: length (4), "IHDR" (4), width (4), height (4), big-endian.
  if (bytes.length < 24 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') throw damaged('png', 'no IHDR header');
  const data = view(bytes);
  return { width: data.getUint32(16), height: data.getUint32(20) };
}

// Start-of-frame markers carry the size; C4 (Huffman tables), C8 and CC are not frames.
const isStartOfFrame = (marker: number): boolean => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

function jpegSize(bytes: Uint8Array): ImagePage {
  const data = view(bytes);
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw damaged('jpeg', 'a marker is missing');
    const marker = bytes[at + 1] ?? 0;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) {
      at += 2; // markers without a length
      continue;
    }
    const length = data.getUint16(at + 2);
    if (isStartOfFrame(marker)) {
      if (at + 9 > bytes.length) break;
      return { height: data.getUint16(at + 5), width: data.getUint16(at + 7) };
    }
    if (length < 2) throw damaged('jpeg', 'a segment has no length');
    at += 2 + length;
  }
  throw damaged('jpeg', 'no frame header');
}

const TIFF_WIDTH = 256;
const TIFF_HEIGHT = 257;

/** Walks a TIFF's chain of directories (one per page), reading each page's size, up to the page limit. */
function tiffPages(bytes: Uint8Array, limits: ResolvedLimits): ImagePage[] {
  if (bytes.length < 8) throw damaged('tiff', 'too short');
  const data = view(bytes);
  const little = bytes[0] === 0x49;
  const u16 = (at: number): number => data.getUint16(at, little);
  const u32 = (at: number): number => data.getUint32(at, little);
  const pages: ImagePage[] = [];
  const seen = new Set<number>();
  let offset = u32(4);
  while (offset !== 0) {
    if (seen.has(offset)) throw damaged('tiff', 'its page list loops');
    seen.add(offset);
    if (offset + 2 > bytes.length) throw damaged('tiff', 'a page directory lies outside the file');
    const count = u16(offset);
    if (offset + 2 + count * 12 + 4 > bytes.length) throw damaged('tiff', 'a page directory is cut short');
    let width = 0;
    let height = 0;
    for (let i = 0; i < count; i++) {
      const entry = offset + 2 + i * 12;
      const tag = u16(entry);
      if (tag !== TIFF_WIDTH && tag !== TIFF_HEIGHT) continue;
      // SHORT (3) or LONG (4), stored in the entry itself.
      const value = u16(entry + 2) === 3 ? u16(entry + 8) : u32(entry + 8);
      if (tag === TIFF_WIDTH) width = value;
      else height = value;
    }
    pages.push({ width, height, ifdOffset: offset });
    if (pages.length > limits.maxImagePages) {
      throw new DocumentError(
        'too_large',
        `This TIFF holds more than ${limits.maxImagePages.toLocaleString('en-US')} pages, over the limit for one image file. Split it into smaller files and add them.`,
      );
    }
    offset = u32(offset + 2 + count * 12);
  }
  if (pages.length === 0) throw damaged('tiff', 'it has no pages');
  return pages;
}

/**
 * The image's format and the size of each page, from its headers only. Refuses pictures over
 * the pixel limit (decompression bombs) and TIFFs over the page limit, each with its own reason.
 */
export function probeImage(bytes: Uint8Array, limits: ResolvedLimits): ImageInfo {
  const format = imageFormatOf(bytes);
  if (format === null) throw new DocumentError('corrupt', 'This image is damaged: its first bytes are not those of a PNG, JPEG or TIFF file.');
  if (format === 'tiff' && bytes[2] === 0x2b)
    throw new DocumentError('unsupported', 'BigTIFF images are not supported. Save it as an ordinary TIFF or PDF and add it again.');
  const pages = format === 'png' ? [pngSize(bytes)] : format === 'jpeg' ? [jpegSize(bytes)] : tiffPages(bytes, limits);
  pages.forEach((page, index) => {
    if (page.width === 0 || page.height === 0) throw damaged(format, `page ${index + 1} declares no size`);
    const pixels = page.width * page.height;
    if (pixels > limits.maxImagePixels) {
      const where = pages.length > 1 ? `Page ${index + 1} of this TIFF` : `This ${NAMES[format]} image`;
      throw new DocumentError(
        'too_large',
        `${where} declares ${page.width.toLocaleString('en-US')} × ${page.height.toLocaleString('en-US')} pixels (${megapixels(pixels)} megapixels), over the ${megapixels(limits.maxImagePixels)}-megapixel limit, so it was not decoded. Scan it at a lower resolution and add it again.`,
      );
    }
  });
  return { format, pages };
}

function megapixels(pixels: number): string {
  const value = pixels / 1_000_000;
  return value >= 10 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}

/**
 * One page of a TIFF as a file of its own for the OCR engine, which reads a TIFF's first page:
 * the same bytes with the header pointing at that page's directory.
 */
export function tiffPage(bytes: Uint8Array, page: ImagePage): Uint8Array {
  if (page.ifdOffset === undefined) return bytes;
  const copy = bytes.slice();
  view(copy).setUint32(4, page.ifdOffset, copy[0] === 0x49);
  return copy;
}
