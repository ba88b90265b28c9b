import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { isWithin, resolveInside } from './policy.ts';

// Serves the built renderer, for the app:// protocol in Electron and for the e2e
// harness's loopback HTTP server alike.

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

export function contentTypeFor(filePath: string): string {
  return CONTENT_TYPES[path.extname(filePath).toLowerCase()] ?? 'application/octet-stream';
}

export type RendererFile = { readonly status: 200; readonly body: Buffer; readonly contentType: string } | { readonly status: 403 | 404 };

/** Reads `urlPath` from `root`; `/` is `index.html`. Symlinks leading outside are refused. */
export async function readRendererFile(root: string, urlPath: string): Promise<RendererFile> {
  const wanted = urlPath === '/' || urlPath === '' ? '/index.html' : urlPath;
  const resolved = resolveInside(root, wanted);
  if (resolved === null) return { status: 403 };
  try {
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(resolved)]);
    if (!isWithin(realRoot, realFile)) return { status: 403 };
    const body = await readFile(realFile);
    return { status: 200, body, contentType: contentTypeFor(realFile) };
  } catch {
    return { status: 404 };
  }
}

/** Headers every renderer response carries, besides the CSP. */
export const RENDERER_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=(), bluetooth=()',
};
