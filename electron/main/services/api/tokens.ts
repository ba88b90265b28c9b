import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { API_SCOPES, type ApiScope, type ApiTokenCreate, type ApiTokenCreated, type ApiTokenInfo } from '../../../common/contract/api.ts';
import { AppError } from '../../../common/result.ts';
import type { Gate } from '../domain/gate.ts';
import type { EffectivePolicy } from '../policy/schema.ts';
import type { Database } from '../storage/sqlite.ts';
import { createTokenStore, tokenInfo, type StoredToken } from './tokens-store.ts';
import type { ApiPrincipal } from './types.ts';

// The local API's tokens: made (shown once), listed, revoked, and checked on every request.
// A token is 'sob_' and 32 random bytes; only its SHA-256 is kept, so a copy of the database
// cannot be used to call the API. The policy's `api.scopes` narrows every token's scopes when
// it is checked, so a policy tightened later applies to tokens made before it.

export const TOKEN_PREFIX = 'sob_';
/** Characters of the token kept in clear, to tell tokens apart: 'sob_' and 6 of its 43 random ones. */
const SHOWN_CHARS = 10;
/** A token is longer than this only if it is not ours; it is refused before hashing. */
const MAX_BEARER_CHARS = 200;
/** last_used_at is written at most this often per token: a busy script must not write the database at every request. */
const TOUCH_EVERY_MS = 60_000;

export interface ApiTokens {
  list(): ApiTokenInfo[];
  create(input: ApiTokenCreate): ApiTokenCreated;
  revoke(id: string): ApiTokenInfo;
  /**
   * Whom the bearer token speaks for, if it is valid and has `scope` once the policy narrowed it.
   * Throws AppError `unauthorized` (missing, wrong, revoked, expired) or `forbidden` (scope).
   * `name` on the error's details is the token's name when the token itself was known.
   */
  verify(bearer: string | null, scope: ApiScope): ApiPrincipal;
}

export interface ApiTokenDeps {
  readonly db: Database;
  readonly gate: Gate;
  readonly policy: () => EffectivePolicy;
  /** Whether a collection exists, for a token restricted to some. */
  readonly collectionExists: (id: string) => boolean;
  readonly now?: () => Date;
}

const hashOf = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** The scopes a token has under the policy in force: its own, less those the policy does not grant. */
export function grantedScopes(scopes: readonly ApiScope[], policy: EffectivePolicy): ApiScope[] {
  const allowed = policy.api.scopes;
  return scopes.filter((scope) => allowed === null || allowed.includes(scope));
}

/** A refusal that knows which token it was about (for the audit record), when the token itself was valid. */
export class TokenRefusal extends AppError {
  readonly tokenName: string | null;
  constructor(code: 'unauthorized' | 'forbidden', message: string, tokenName: string | null) {
    super(code, message);
    this.tokenName = tokenName;
  }
}

export function createApiTokens(deps: ApiTokenDeps): ApiTokens {
  const store = createTokenStore(deps.db);
  const now = deps.now ?? (() => new Date());

  /** Compares the hash with every stored one in constant time, without stopping at a match, so timing tells nothing. */
  const find = (bearer: string): StoredToken | null => {
    const hash = hashOf(bearer);
    let found: StoredToken | null = null;
    for (const token of store.list()) {
      const stored = Buffer.from(token.tokenHash, 'hex');
      if (stored.length === hash.length && timingSafeEqual(stored, hash)) found = token;
    }
    return found;
  };

  return {
    list: () => store.list().map(tokenInfo),

    create(input) {
      // The policy's api.allowed, and an audit log that can record it, before anything else.
      deps.gate.check('api.tokens.create');
      const policy = deps.policy();
      const scopes = [...new Set(input.scopes)].sort((a, b) => API_SCOPES.indexOf(a) - API_SCOPES.indexOf(b));
      const refused = scopes.filter((scope) => !grantedScopes([scope], policy).includes(scope));
      if (refused.length > 0)
        throw new AppError(
          'forbidden',
          `This machine's policy does not let API tokens use ${refused.map((scope) => `"${scope}"`).join(', ')}. Choose among: ${(policy.api.scopes ?? API_SCOPES).join(', ') || 'none'}.`,
        );
      const at = now();
      if (input.expiresAt !== null && Date.parse(input.expiresAt) <= at.getTime()) throw new AppError('bad_request', 'The expiry date must be in the future.');
      const collections = input.collections === undefined || input.collections === null ? null : [...new Set(input.collections)];
      const unknown = (collections ?? []).filter((id) => !deps.collectionExists(id));
      if (unknown.length > 0) throw new AppError('not_found', 'A collection this token should be limited to does not exist.', unknown.join(', '));
      const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
      const stored: StoredToken = {
        id: randomBytes(8).toString('hex'),
        name: input.name,
        tokenHash: hashOf(token).toString('hex'),
        prefix: token.slice(0, SHOWN_CHARS),
        scopes,
        collections,
        createdAt: at.toISOString(),
        expiresAt: input.expiresAt === null ? null : new Date(input.expiresAt).toISOString(),
        revokedAt: null,
        lastUsedAt: null,
      };
      store.insert(stored);
      deps.gate.changed('api.tokens.create', input.name);
      return { token, info: tokenInfo(stored) };
    },

    revoke(id) {
      deps.gate.check('api.tokens.revoke');
      const token = store.byId(id);
      if (token === null) throw new AppError('not_found', 'That API token does not exist.', `token ${id}`);
      if (token.revokedAt !== null) return tokenInfo(token);
      store.revoke(id, now().toISOString());
      deps.gate.changed('api.tokens.revoke', token.name);
      return tokenInfo(store.byId(id) ?? token);
    },

    verify(bearer, scope) {
      if (bearer === null || bearer.trim() === '')
        throw new TokenRefusal('unauthorized', 'This request has no API token. Send one as "Authorization: Bearer <token>".', null);
      const token = bearer.length > MAX_BEARER_CHARS ? null : find(bearer.trim());
      if (token === null) throw new TokenRefusal('unauthorized', 'This API token is not valid.', null);
      if (token.revokedAt !== null) throw new TokenRefusal('unauthorized', 'This API token was revoked.', token.name);
      const at = now();
      if (token.expiresAt !== null && Date.parse(token.expiresAt) <= at.getTime())
        throw new TokenRefusal('unauthorized', `This API token expired on ${token.expiresAt.slice(0, 10)}.`, token.name);
      const policy = deps.policy();
      const scopes = grantedScopes(token.scopes, policy);
      if (!scopes.includes(scope))
        throw new TokenRefusal(
          'forbidden',
          token.scopes.includes(scope)
            ? `This machine's policy does not let API tokens use the "${scope}" scope.`
            : `This API token does not have the "${scope}" scope.`,
          token.name,
        );
      if (token.lastUsedAt === null || at.getTime() - Date.parse(token.lastUsedAt) >= TOUCH_EVERY_MS) store.touch(token.id, at.toISOString());
      return { tokenId: token.id, name: token.name, scopes, collections: token.collections };
    },
  };
}
