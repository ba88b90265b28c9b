import { AppError } from '../../../common/result.ts';
import type { Database } from './sqlite.ts';

/** One row of `app_events`. `data` is whatever JSON the writer stored for that type. */
export interface AppEventRecord {
  readonly id: number;
  /** ISO 8601 in UTC, so that text order is time order. */
  readonly at: string;
  readonly type: string;
  readonly data: unknown;
}

export interface ListEventsOptions {
  readonly type?: string;
  /** How many to return, newest first; defaults to 100. */
  readonly limit?: number;
}

export const DEFAULT_EVENT_LIMIT = 100;
export const MAX_EVENT_LIMIT = 10_000;

/** Appends one event and returns its id. Call it inside `transaction` to tie it to other writes. */
export function appendEvent(db: Database, type: string, data: unknown, at: Date = new Date()): number {
  if (type.length === 0) throw new AppError('bad_request', 'An event needs a type.');
  const json = JSON.stringify(data);
  // JSON.stringify returns undefined for undefined, functions and symbols: nothing a reader could get back.
  if (typeof json !== 'string') throw new AppError('bad_request', 'Event data must be JSON.', `type ${type}`);
  const result = db.prepare('INSERT INTO app_events (at, type, data) VALUES (?, ?, ?)').run(at.toISOString(), type, json);
  return Number(result.lastInsertRowid);
}

export function listEvents(db: Database, options: ListEventsOptions = {}): AppEventRecord[] {
  const limit = options.limit ?? DEFAULT_EVENT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENT_LIMIT) {
    throw new AppError('bad_request', 'That event limit is not valid.', `limit must be an integer from 1 to ${MAX_EVENT_LIMIT}; got ${limit}`);
  }
  // By type, the order follows the (type, at) index so that a long log is not sorted on every call;
  // ties (and a clock that stepped back) fall back to id, which is commit order.
  const rows = (options.type === undefined
    ? db.prepare('SELECT id, at, type, data FROM app_events ORDER BY id DESC LIMIT ?').all(limit)
    : db.prepare('SELECT id, at, type, data FROM app_events WHERE type = ? ORDER BY at DESC, id DESC LIMIT ?').all(options.type, limit)) as unknown as {
    id: number;
    at: string;
    type: string;
    data: string;
  }[];
  return rows.map((row) => ({ id: row.id, at: row.at, type: row.type, data: JSON.parse(row.data) as unknown }));
}
