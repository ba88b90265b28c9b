import { z } from 'zod';

// The local API (OpenAI- and Ollama-compatible, loopback only) as the Settings screen and
// the command line see it: its tokens and whether it is listening. The HTTP shapes the
// clients speak live with the server (electron/server/), not here.

/** What a token may do. `models:read` lists models; the others call the endpoints of the same name. */
export const API_SCOPES = ['chat', 'embeddings', 'knowledge', 'models:read'] as const;
export const ApiScope = z.enum(API_SCOPES);
export type ApiScope = z.infer<typeof ApiScope>;

/** The default port: beside Ollama's 11434, so that neither takes the other's. */
export const DEFAULT_API_PORT = 11435;

export const ApiSettings = z.object({
  /** Off by default: nothing listens until the user (or a policy lock) turns it on. */
  enabled: z.boolean(),
  port: z.number().int().min(1024).max(65_535),
  /** Browser origins (`http://localhost:3000`) whose requests are served; none by default. */
  allowedOrigins: z.array(z.string().trim().min(1).max(200)).max(32),
});
export type ApiSettings = z.infer<typeof ApiSettings>;

export const ApiTokenInfo = z.object({
  id: z.string(),
  name: z.string(),
  scopes: z.array(ApiScope),
  createdAt: z.string(),
  /** ISO date-time, or null for a token that does not expire. */
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  /** The collections this token may search and answer from; null: every collection. */
  collections: z.array(z.string()).nullable(),
  /** The first characters of the token, to tell tokens apart; never enough to use it. */
  prefix: z.string(),
});
export type ApiTokenInfo = z.infer<typeof ApiTokenInfo>;

export const ApiTokenCreate = z
  .object({
    name: z.string().trim().min(1).max(100),
    scopes: z.array(ApiScope).min(1).max(API_SCOPES.length),
    /** ISO date-time in the future, or null for no expiry. */
    expiresAt: z.iso.datetime({ offset: true }).nullable(),
    /** Collection ids the token may use with the `knowledge` scope; null or absent: every collection. */
    collections: z.array(z.string().min(1).max(64)).max(1000).nullable().optional(),
  })
  .strict();
export type ApiTokenCreate = z.infer<typeof ApiTokenCreate>;

/** The token itself is shown once, here; only its hash is kept. */
export const ApiTokenCreated = z.object({ token: z.string(), info: ApiTokenInfo });
export type ApiTokenCreated = z.infer<typeof ApiTokenCreated>;

export const ApiStatus = z.object({
  /** `off`: not enabled; `forbidden`: the policy does not allow it; `listening`; `failed`: enabled but could not start. */
  state: z.enum(['off', 'forbidden', 'listening', 'failed']),
  /** Where it listens, e.g. `http://127.0.0.1:11435`. */
  addresses: z.array(z.string()),
  port: z.number().int(),
  /** Why it is not listening, in words for people. */
  problem: z.string().nullable(),
  /** The scopes the policy lets tokens use (null: all). */
  allowedScopes: z.array(ApiScope).nullable(),
  /** True when this process cannot serve (no server wired in, e.g. a command that does not serve). */
  unavailable: z.boolean(),
});
export type ApiStatus = z.infer<typeof ApiStatus>;
