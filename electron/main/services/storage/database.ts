import type { DatabaseSync } from 'node:sqlite';

// The handle every store works on. On its own so that migrations.ts (which sqlite.ts runs)
// and sqlite.ts (which opens the handle) need not import each other.
export type Database = DatabaseSync;
