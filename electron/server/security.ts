// The browser-facing defences of the local API, as pure functions: where it may listen,
// which Host headers it answers (DNS rebinding), which Origins it serves (CORS). They hold
// no rule about tokens or scopes; those live in services/api/.

/** The only addresses the API ever binds: IPv4 and IPv6 loopback, as literals (no name to resolve). */
export const LOOPBACK_BIND_HOSTS = ['127.0.0.1', '::1'] as const;
export type LoopbackBindHost = (typeof LOOPBACK_BIND_HOSTS)[number];

/**
 * Throws unless `host` is one of LOOPBACK_BIND_HOSTS. Deliberately narrower than "loopback":
 * no `localhost` (a name, which a hosts file may point anywhere), no `0.0.0.0` or `::`
 * (every interface), no other 127/8 address. The egress guard refuses non-loopback
 * listening too; this check is the server's own, whatever any caller passes.
 */
export function assertLoopbackBind(host: string): asserts host is LoopbackBindHost {
  if (!(LOOPBACK_BIND_HOSTS as readonly string[]).includes(host)) {
    throw new Error(`The local API listens only on 127.0.0.1 and ::1; it refuses to bind ${JSON.stringify(host)}.`);
  }
}

/** How a bound address is written in a URL: `http://127.0.0.1:11435`, `http://[::1]:11435`. */
export function addressUrl(host: LoopbackBindHost, port: number): string {
  return host === '::1' ? `http://[::1]:${port}` : `http://${host}:${port}`;
}

/**
 * The Host header must name the loopback address and the port the server listens on. A page
 * on evil.example whose name was re-pointed at 127.0.0.1 (DNS rebinding) sends
 * `Host: evil.example:PORT`, and is refused here before anything else is read.
 */
export function isAllowedHost(hostHeader: string | undefined, port: number): boolean {
  if (hostHeader === undefined) return false;
  const host = hostHeader.trim().toLowerCase();
  return host === `127.0.0.1:${port}` || host === `[::1]:${port}` || host === `localhost:${port}`;
}

/** An origin as browsers send it: scheme, host and port, no path, no trailing slash. */
export function normalizeOrigin(origin: string): string {
  const trimmed = origin.trim().toLowerCase();
  return trimmed.endsWith('/') ? trimmed.slice(0, -1) : trimmed;
}

export type OriginVerdict =
  /** No Origin header: not a browser's cross-origin request (scripts, curl, SDKs). */
  | { readonly kind: 'none' }
  /** An allow-listed origin: served, with CORS headers naming it alone. */
  | { readonly kind: 'allowed'; readonly origin: string }
  | { readonly kind: 'refused'; readonly origin: string };

/**
 * Requests that carry an Origin come from a web page; they are served only for origins the
 * user listed in Settings (`settings.api.allowedOrigins`). `Origin: null` (sandboxed frames,
 * file: pages) is refused unless listed verbatim, which Settings would never suggest.
 */
export function checkOrigin(originHeader: string | undefined, allowedOrigins: readonly string[]): OriginVerdict {
  if (originHeader === undefined) return { kind: 'none' };
  const origin = normalizeOrigin(originHeader);
  return allowedOrigins.some((allowed) => normalizeOrigin(allowed) === origin) ? { kind: 'allowed', origin: originHeader.trim() } : { kind: 'refused', origin };
}

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;

/**
 * CORS headers for an allowed origin. No `Access-Control-Allow-Credentials`: the API takes no
 * cookies, only a bearer token the page's script adds. Requested headers are echoed when each
 * is a valid header name (SDKs add their own, e.g. `x-stainless-*`): the token is the check.
 */
export function corsHeaders(origin: string, requestedHeaders?: string): Record<string, string> {
  const headers: Record<string, string> = { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
  if (requestedHeaders === undefined) return headers;
  const names = requestedHeaders
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  const echoed = names.length > 0 && names.length <= 50 && names.every((name) => HEADER_NAME.test(name)) ? names.join(', ') : 'Authorization, Content-Type';
  return {
    ...headers,
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Allow-Headers': echoed,
    'Access-Control-Max-Age': '600',
  };
}

/** The token from `Authorization: Bearer <token>`, or null when the header is absent or another scheme. */
export function bearerToken(authorization: string | undefined): string | null {
  if (authorization === undefined) return null;
  const match = /^Bearer[ \t]+(\S{1,512})[ \t]*$/i.exec(authorization);
  return match?.[1] ?? null;
}
