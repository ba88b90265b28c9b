import { z } from 'zod';
import { ApiScope, type ApiTokenInfo } from '../../../common/contract/api.ts';
import type { Database } from '../storage/sqlite.ts';

// The local API's tokens as stored: never the token, only its SHA-256 (api_tokens, migration 18).

/** A token row with what verifying it needs: its hash. */
export interface StoredToken extends ApiTokenInfo {
  readonly tokenHash: string;
}

interface TokenRow {
  id: string;
  name: string;
  token_hash: string;
  prefix: string;
  scopes: string;
  collections: string | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

const COLUMNS = 'id, name, token_hash, prefix, scopes, collections, created_at, expires_at, revoked_at, last_used_at';
const Scopes = z.array(ApiScope);
const Collections = z.array(z.string()).nullable();

function parse<T>(schema: z.ZodType<T>, json: string | null, fallback: T): T {
  if (json === null) return fallback;
  try {
    const parsed = schema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : fallback;
  } catch {
    return fallback;
  }
}

function toToken(row: TokenRow): StoredToken {
  return {
    id: row.id,
    name: row.name,
    tokenHash: row.token_hash,
    prefix: row.prefix,
    // A row no longer readable grants nothing: no scopes, and no collections.
    scopes: parse(Scopes, row.scopes, []),
    collections: row.collections === null ? null : parse(Collections, row.collections, []),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

/** What the contract shows of a token: everything but its hash. */
export function tokenInfo(token: StoredToken): ApiTokenInfo {
  const { tokenHash: _hash, ...info } = token;
  return info;
}

export interface TokenStore {
  /** Newest first. */
  list(): StoredToken[];
  byId(id: string): StoredToken | null;
  insert(token: StoredToken): void;
  revoke(id: string, at: string): void;
  touch(id: string, at: string): void;
}

export function createTokenStore(db: Database): TokenStore {
  return {
    list: () => (db.prepare(`SELECT ${COLUMNS} FROM api_tokens ORDER BY created_at DESC, id`).all() as unknown as TokenRow[]).map(toToken),
    byId(id) {
      const row = db.prepare(`SELECT ${COLUMNS} FROM api_tokens WHERE id = ?`).get(id) as TokenRow | undefined;
      return row === undefined ? null : toToken(row);
    },
    insert(token) {
      db.prepare(
        'INSERT INTO api_tokens (id, name, token_hash, prefix, scopes, collections, created_at, expires_at, revoked_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(
        token.id,
        token.name,
        token.tokenHash,
        token.prefix,
        JSON.stringify(token.scopes),
        token.collections === null ? null : JSON.stringify(token.collections),
        token.createdAt,
        token.expiresAt,
        token.revokedAt,
        token.lastUsedAt,
      );
    },
    revoke(id, at) {
      db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id);
    },
    touch(id, at) {
      db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(at, id);
    },
  };
}
