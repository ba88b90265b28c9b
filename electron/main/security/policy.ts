import path from 'node:path';
import type { Caller } from '../../common/handlers.ts';

// Every security decision as a pure function, so that the Electron wiring is a few
// lines and each rule has a unit test. URL checks compare parsed parts exactly;
// path checks compare segments. Nothing here uses startsWith on a URL or a path.

export const APP_SCHEME = 'app';
export const APP_HOST = 'soberana';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

function parseUrl(raw: string): URL | null {
  try {
    return new URL(raw);
  } catch {
    return null;
  }
}

/**
 * `scheme://host[:port]`, or null. Node's URL reports "null" as the origin of schemes it
 * does not know (like `app:`), so the origin is built from the parsed parts.
 */
export function originOf(raw: string): string | null {
  const url = parseUrl(raw);
  if (url === null || url.host === '') return null;
  return `${url.protocol}//${url.host}`;
}

export function callerFromFrame(frameUrl: string, isMainFrame: boolean): Caller {
  return { origin: originOf(frameUrl) ?? 'null', isMainFrame };
}

/** Only the main frame of a trusted origin may use the app interface. */
export function isTrustedCaller(caller: Caller, trustedOrigins: readonly string[]): boolean {
  return caller.isMainFrame && caller.origin !== 'null' && trustedOrigins.includes(caller.origin);
}

export interface RequestPolicy {
  /** The Vite dev server's origin; set in development only. */
  readonly devServerOrigin?: string | undefined;
}

/** The session cancels every request for which this returns false. */
export function isAllowedRequest(raw: string, policy: RequestPolicy = {}): boolean {
  const url = parseUrl(raw);
  if (url === null) return false;
  if (url.protocol === `${APP_SCHEME}:`) return url.host === APP_HOST;
  const dev = policy.devServerOrigin === undefined ? null : parseUrl(policy.devServerOrigin);
  if (dev === null) return false;
  // Developer tools load their own front end; they only exist in development.
  if (url.protocol === 'devtools:') return true;
  // The dev server also carries Vite's hot-reload socket on the same host and port.
  const sameHostPort = url.hostname === dev.hostname && url.port === dev.port;
  if (url.protocol === dev.protocol) return sameHostPort;
  const socketScheme = dev.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.protocol === socketScheme && sameHostPort;
}

/** The renderer never navigates: it is a single page. Reloads are not navigations. */
export function isAllowedNavigation(_raw: string): boolean {
  return false;
}

export function contentSecurityPolicy(policy: RequestPolicy = {}): string {
  const dev = policy.devServerOrigin;
  const devSocket = dev === undefined ? '' : ` ${dev.replace(/^http/, 'ws')}`;
  const directives = [
    `default-src 'self'`,
    // Vite's dev server injects an inline preamble for React refresh; production has none.
    dev === undefined ? `script-src 'self'` : `script-src 'self' 'unsafe-inline'`,
    dev === undefined ? `style-src 'self'` : `style-src 'self' 'unsafe-inline'`,
    `img-src 'self' data: blob:`,
    `font-src 'self'`,
    `connect-src 'self'${devSocket}`,
    `worker-src 'self' blob:`,
    `object-src 'none'`,
    `frame-src 'none'`,
    `frame-ancestors 'none'`,
    `base-uri 'none'`,
    `form-action 'none'`,
  ];
  return directives.join('; ');
}

/**
 * Resolves a URL path against a root folder, or returns null when it would leave it.
 * Segments are compared one by one after resolution, so `..`, encoded separators and
 * sibling folders that share a prefix (`/app` vs `/app-evil`) are all refused.
 */
export function resolveInside(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const absoluteRoot = path.resolve(root);
  const candidate = path.resolve(absoluteRoot, `.${path.sep}${decoded}`);
  return isWithin(absoluteRoot, candidate) ? candidate : null;
}

export function isWithin(root: string, candidate: string): boolean {
  const rel = path.relative(path.resolve(root), path.resolve(candidate));
  if (rel === '') return true;
  if (path.isAbsolute(rel)) return false; // another drive on Windows
  return rel.split(path.sep)[0] !== '..';
}

// 127.0.0.0/8, also when written as an IPv4-mapped IPv6 address, and ::1.
const LOOPBACK = /^(?:(?:::ffff:)?127(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}|::1)$/i;

export function isLoopbackAddress(address: string | undefined): boolean {
  return address !== undefined && LOOPBACK.test(address);
}
