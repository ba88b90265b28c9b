import type { PiiDetector } from '../types.ts';
import { regexCandidates } from './scan.ts';

// The lookbehind keeps a match from starting inside a longer token, which also keeps the scan linear.
const EMAIL = /(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![\w-]|\.[A-Za-z0-9])/g;

/** Asset names such as logo@2x.png have the shape of an address and a file extension where the TLD goes. */
const FILE_EXTENSIONS = new Set([
  'png',
  'jpg',
  'jpeg',
  'gif',
  'svg',
  'webp',
  'bmp',
  'ico',
  'tif',
  'tiff',
  'pdf',
  'txt',
  'js',
  'mjs',
  'ts',
  'tsx',
  'jsx',
  'css',
  'scss',
  'html',
  'htm',
  'json',
  'xml',
  'yml',
  'yaml',
  'md',
  'zip',
  'gz',
  'tgz',
  'mp3',
  'mp4',
  'wav',
  'mov',
]);

export const emailDetector: PiiDetector = {
  type: 'email',
  label: 'e-mail address',
  find: (text) => regexCandidates(EMAIL, text),
  validate({ value }) {
    const at = value.lastIndexOf('@');
    const local = value.slice(0, at);
    const domain = value.slice(at + 1);
    if (local.startsWith('.') || local.endsWith('.') || local.includes('..') || value.length > 254) return false;
    const tld = domain.slice(domain.lastIndexOf('.') + 1).toLowerCase();
    return !FILE_EXTENSIONS.has(tld);
  },
};
