import { ApiSettings, ApiTokenCreate, type ApiScope, type ApiTokenInfo } from '../../../../electron/common/contract/api.ts';

// The Local API settings as pure data: the port and the allowed origins as the inputs hold
// them, the "New token" form, and what a token's dates mean now. Bounds come from the
// shared schemas, so the form refuses what the service would.

const PORT_SHAPE = ApiSettings.shape.port;
export const PORT_MIN = 1024;
export const PORT_MAX = 65_535;
const MAX_ORIGINS = 32;

export type ConnectionError =
  | { readonly field: 'port'; readonly kind: 'range' }
  | { readonly field: 'origins'; readonly kind: 'origin'; readonly value: string }
  | { readonly field: 'origins'; readonly kind: 'tooMany'; readonly max: number };

export type ParsedConnection =
  { readonly ok: true; readonly port: number; readonly allowedOrigins: string[] } | { readonly ok: false; readonly errors: readonly ConnectionError[] };

/**
 * An origin as browsers send it: scheme, host and port, nothing else. `http://localhost:3000/`
 * is accepted and stored without the slash; a path, a query or a user name is refused, since the
 * Origin header never carries one and the entry would match nothing.
 */
export function normalizeOrigin(text: string): string | null {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.length > 200) return null;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '' || url.hash !== '') return null;
  // The parser lower-cases the host and drops a default port, as browsers do in the header.
  return url.origin;
}

/** One origin per line; blank lines are ignored, repeats kept once. */
export function parseConnection(portText: string, originsText: string): ParsedConnection {
  const errors: ConnectionError[] = [];
  const port = Number(portText.trim());
  if (portText.trim() === '' || !PORT_SHAPE.safeParse(port).success) errors.push({ field: 'port', kind: 'range' });
  const origins: string[] = [];
  for (const line of originsText.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const origin = normalizeOrigin(line);
    if (origin === null) errors.push({ field: 'origins', kind: 'origin', value: line.trim() });
    else if (!origins.includes(origin)) origins.push(origin);
  }
  if (origins.length > MAX_ORIGINS) errors.push({ field: 'origins', kind: 'tooMany', max: MAX_ORIGINS });
  return errors.length === 0 ? { ok: true, port, allowedOrigins: origins } : { ok: false, errors };
}

/** i18next reads `:` as its namespace separator, so `models:read` has a key of its own. */
export const scopeKey = (scope: ApiScope): string => (scope === 'models:read' ? 'modelsRead' : scope);

export type Expiry = 'never' | '30' | '90' | 'date';

export interface TokenDraft {
  readonly name: string;
  readonly scopes: readonly ApiScope[];
  readonly expiry: Expiry;
  /** `YYYY-MM-DD` from the date input, when `expiry` is `date`. */
  readonly date: string;
  /** Only these collections (ids); null: every collection. */
  readonly collections: readonly string[] | null;
}

export const EMPTY_DRAFT: TokenDraft = { name: '', scopes: ['chat', 'models:read'], expiry: '90', date: '', collections: null };

export type TokenDraftError = 'name' | 'scopes' | 'date' | 'collections';

export type ParsedToken = { readonly ok: true; readonly request: ApiTokenCreate } | { readonly ok: false; readonly errors: readonly TokenDraftError[] };

const DAY_MS = 24 * 60 * 60 * 1000;

/** When a token made now with this choice expires (ISO), null for never; undefined when the date is not a future day. */
export function expiresAt(draft: Pick<TokenDraft, 'expiry' | 'date'>, now: Date): string | null | undefined {
  if (draft.expiry === 'never') return null;
  if (draft.expiry !== 'date') return new Date(now.getTime() + Number(draft.expiry) * DAY_MS).toISOString();
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(draft.date);
  if (match === null) return undefined;
  // The end of the chosen day where the user is: "expires on 1 March" still works on 1 March.
  const end = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]), 23, 59, 59);
  if (Number.isNaN(end.getTime()) || end.getDate() !== Number(match[3]) || end.getTime() <= now.getTime()) return undefined;
  return end.toISOString();
}

export function parseTokenDraft(draft: TokenDraft, now: Date): ParsedToken {
  const errors: TokenDraftError[] = [];
  if (draft.name.trim() === '' || draft.name.trim().length > 100) errors.push('name');
  if (draft.scopes.length === 0) errors.push('scopes');
  const expires = expiresAt(draft, now);
  if (expires === undefined) errors.push('date');
  // Collections matter only to the knowledge scope; without it the token reaches none anyway.
  const collections = draft.scopes.includes('knowledge') ? draft.collections : null;
  if (collections !== null && collections.length === 0) errors.push('collections');
  if (errors.length > 0) return { ok: false, errors };
  const request = ApiTokenCreate.safeParse({
    name: draft.name.trim(),
    scopes: [...draft.scopes],
    expiresAt: expires,
    collections: collections === null ? null : [...collections],
  });
  return request.success ? { ok: true, request: request.data } : { ok: false, errors: ['name'] };
}

export type TokenState = 'active' | 'expired' | 'revoked';

export function tokenState(token: Pick<ApiTokenInfo, 'expiresAt' | 'revokedAt'>, now: Date): TokenState {
  if (token.revokedAt !== null) return 'revoked';
  if (token.expiresAt !== null && Date.parse(token.expiresAt) <= now.getTime()) return 'expired';
  return 'active';
}

/** Tokens that still work first (newest first), then expired and revoked ones. */
export function sortTokens(tokens: readonly ApiTokenInfo[], now: Date): ApiTokenInfo[] {
  const rank = (token: ApiTokenInfo) => (tokenState(token, now) === 'active' ? 0 : 1);
  return [...tokens].sort((a, b) => rank(a) - rank(b) || b.createdAt.localeCompare(a.createdAt));
}
