import type { Database } from './database.ts';

/**
 * One step of the schema. `version` numbers run 1, 2, 3… with no gaps; each step is applied
 * in its own transaction together with the `user_version` bump, so a crash or an error leaves
 * the database at the previous version, never halfway.
 *
 * Never edit a migration that has shipped: databases in the field already ran it. Add a new
 * one instead.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** SQL (may hold several statements) or a synchronous function for data rewrites. */
  readonly up: string | ((db: Database) => void);
}
