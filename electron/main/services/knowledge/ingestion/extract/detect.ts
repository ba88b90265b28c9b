import { Buffer } from 'node:buffer';
import type { DocumentFormat } from '../../types.ts';
import { imageFormatOf } from './image.ts';

const CFB_MAGIC = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

const BY_EXTENSION: Record<string, DocumentFormat> = {
  pdf: 'pdf',
  docx: 'docx',
  pptx: 'pptx',
  xlsx: 'xlsx',
  odt: 'odt',
  ods: 'ods',
  epub: 'epub',
  md: 'markdown',
  markdown: 'markdown',
  txt: 'text',
  text: 'text',
  csv: 'csv',
  html: 'html',
  htm: 'html',
  xhtml: 'html',
  png: 'png',
  jpg: 'jpeg',
  jpeg: 'jpeg',
  tif: 'tiff',
  tiff: 'tiff',
  eml: 'email',
};
const ZIP_FORMATS = new Set<DocumentFormat>(['docx', 'pptx', 'xlsx', 'ods', 'odt', 'epub']);
const OOXML_FORMATS = new Set<DocumentFormat>(['docx', 'pptx', 'xlsx']);

/** The format a file's name suggests, before its bytes are read; null for names Soberana does not know. */
export function formatByName(fileName: string): DocumentFormat | null {
  return BY_EXTENSION[extensionOf(fileName)] ?? null;
}

export function extensionOf(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot + 1).toLowerCase();
}

function startsWith(bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  return prefix.every((b, i) => bytes[at + i] === b);
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, Math.min(end, bytes.length)));
}

export function isZip(bytes: Uint8Array): boolean {
  return startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06]);
}

export function isCfb(bytes: Uint8Array): boolean {
  return startsWith(bytes, CFB_MAGIC);
}

/** A password-protected OOXML file is a CFB container with EncryptionInfo/EncryptedPackage streams. */
export function isEncryptedOffice(bytes: Uint8Array): boolean {
  if (!isCfb(bytes)) return false;
  const needle = Uint8Array.from([...'EncryptionInfo'].flatMap((c) => [c.charCodeAt(0), 0]));
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(needle) !== -1;
}

/** ODF and EPUB store their MIME type, uncompressed, as the first entry. */
function zipMimetype(head: Uint8Array): string | null {
  if (head.length < 30) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const nameLength = view.getUint16(26, true);
  const extraLength = view.getUint16(28, true);
  if (latin1(head, 30, 30 + nameLength) !== 'mimetype' || view.getUint16(8, true) !== 0) return null;
  const start = 30 + nameLength + extraLength;
  return latin1(head, start, start + Math.min(view.getUint32(18, true), 100));
}

function zipFormat(head: Uint8Array, byName: DocumentFormat | undefined): DocumentFormat | null {
  const mimetype = zipMimetype(head);
  if (mimetype === 'application/epub+zip') return 'epub';
  if (mimetype === 'application/vnd.oasis.opendocument.text') return 'odt';
  if (mimetype === 'application/vnd.oasis.opendocument.spreadsheet') return 'ods';
  // Entry names sit in clear text in the local headers near the start.
  const text = latin1(head, 0, 64 * 1024);
  if (text.includes('word/')) return 'docx';
  if (text.includes('ppt/')) return 'pptx';
  if (text.includes('xl/')) return 'xlsx';
  return byName !== undefined && ZIP_FORMATS.has(byName) ? byName : null;
}

/**
 * The format of a file from its first bytes (magic numbers win) and then its name.
 * `head` may be the whole file or just its start (a few KB is enough).
 */
export function detectFormat(fileName: string, head: Uint8Array): DocumentFormat | null {
  const byName = BY_EXTENSION[extensionOf(fileName)];
  if (latin1(head, 0, 1024).includes('%PDF-')) return 'pdf';
  const image = imageFormatOf(head);
  if (image !== null) return image;
  if (isZip(head)) return zipFormat(head, byName);
  // CFB is also legacy .doc/.xls/.ppt; only an OOXML name makes it (likely) an encrypted OOXML file.
  if (isCfb(head)) return byName !== undefined && OOXML_FORMATS.has(byName) ? byName : null;
  if (byName !== undefined && !ZIP_FORMATS.has(byName) && byName !== 'pdf') return byName;
  const start = latin1(head, 0, 512)
    .replace(/^\uFEFF|^\xEF\xBB\xBF/, '')
    .trimStart()
    .toLowerCase();
  if (start.startsWith('<!doctype html') || start.startsWith('<html')) return 'html';
  return null;
}
