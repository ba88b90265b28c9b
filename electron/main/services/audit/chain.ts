import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

// The audit log's cryptography, in one place so that the writer, verify and the export
// checker cannot drift apart. docs/audit.md describes the same formulas for a SIEM.

/** The `prev` of the very first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** Keys are 32 random bytes. */
export const KEY_BYTES = 32;

/**
 * JSON with object keys sorted (by UTF-16 code units, as `Array.prototype.sort` does) and no
 * whitespace, so that the same value always hashes the same on any machine. Refuses what
 * JSON cannot represent faithfully instead of silently dropping it.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonicalJson: numbers must be finite');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Uint8Array, message: string): Buffer {
  return createHmac('sha256', key).update(message, 'utf8').digest();
}

/** The fields a record's hash covers; `prev` is the previous record's hash. */
export interface RecordFields {
  readonly seq: number;
  readonly at: string;
  readonly user: string;
  readonly type: string;
  readonly data: unknown;
  readonly prev: string;
}

export function recordHash(fields: RecordFields): string {
  const { seq, at, user, type, data, prev } = fields;
  return sha256Hex(canonicalJson({ seq, at, user, type, data, prev }));
}

/** K(i+1) = HMAC(K(i), label). One-way: holding K(i+1) tells nothing about K(i). */
export function nextKey(key: Uint8Array): Buffer {
  return hmac(key, 'soberana/audit/ratchet');
}

/** Walks the ratchet from the anchor K0 to K(period). */
export function keyForPeriod(anchor: Uint8Array, period: number): Buffer {
  let key: Buffer = Buffer.from(anchor);
  for (let i = 0; i < period; i += 1) {
    const next = nextKey(key);
    key.fill(0);
    key = next;
  }
  return key;
}

/** A public name for the anchor: lets a verifier tell "wrong anchor" from "tampered log" without revealing K0. */
export function anchorId(anchor: Uint8Array): string {
  return hmac(anchor, 'soberana/audit/anchor').toString('hex');
}

export interface CheckpointFields {
  readonly period: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly chainHash: string;
}

/** HMAC(K(period), chain hash ‖ period), with the range bound in as well. */
export function checkpointMac(key: Uint8Array, checkpoint: CheckpointFields): string {
  return hmac(key, `soberana/audit/checkpoint|${checkpoint.chainHash}|${checkpoint.period}|${checkpoint.firstSeq}|${checkpoint.lastSeq}`).toString('hex');
}

/** MAC over the key file's counters, under a subkey so it can never collide with a checkpoint MAC. */
export function stateMac(key: Uint8Array, state: unknown): string {
  return hmac(hmac(key, 'soberana/audit/state'), canonicalJson(state)).toString('hex');
}

/** Constant-time comparison of two hex strings (false when either is malformed). */
export function sameHex(a: string, b: string): boolean {
  if (a.length !== b.length || !/^[0-9a-f]*$/.test(a) || !/^[0-9a-f]*$/.test(b)) return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}
