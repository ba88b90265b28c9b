import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { GGUF_LIMITS } from '../gguf/index.ts';

/*
 * Reads a few metadata values (licence, provenance, chat template, split numbering) from a
 * GGUF header. The validator reports facts, not raw metadata, so this is a second, much
 * smaller reader. It also runs on split parts the validator never sees whole, so it trusts
 * nothing: every length is checked against the bytes left and the validator's limits
 * before it is used, and values that are not wanted are skipped without being read.
 */

export type MetadataValue = string | number | bigint | boolean;

export interface GgufMetadata {
  readonly version: number;
  readonly tensorCount: number;
  /** The sum of every tensor's element count in this file (for split parts, this part only). */
  readonly parameterCount: number;
  /** Only the keys asked for, and only when they hold a string, a number or a bool. */
  readonly values: ReadonlyMap<string, MetadataValue>;
}

export type MetadataResult = { readonly ok: true; readonly metadata: GgufMetadata } | { readonly ok: false; readonly message: string };

const CHUNK = 1024 * 1024;
const STRING = 8;
const ARRAY = 9;
/** Encoded size of each fixed-size value type; strings and arrays are variable. */
const FIXED_SIZE: Readonly<Record<number, number>> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

class Bad {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

/** A forward-only window over the file: reads at most one chunk ahead, and skips without reading. */
class Cursor {
  readonly handle: FileHandle;
  readonly fileSize: number;
  /** Never read past this: the header of a real model ends long before. */
  readonly limit: number;
  buffer = Buffer.alloc(CHUNK);
  base = 0;
  length = 0;
  pos = 0;

  constructor(handle: FileHandle, fileSize: number) {
    this.handle = handle;
    this.fileSize = fileSize;
    this.limit = Math.min(fileSize, GGUF_LIMITS.maxHeaderBytes);
  }

  private bounds(n: number, what: string): void {
    if (this.pos + n > this.fileSize) throw new Bad(`the file ends in the middle of its header (${what})`);
    if (this.pos + n > this.limit) throw new Bad('the header is larger than any real model needs');
  }

  async ensure(n: number, what: string): Promise<void> {
    this.bounds(n, what);
    if (this.pos >= this.base && this.pos + n <= this.base + this.length) return;
    if (n > this.buffer.length) this.buffer = Buffer.alloc(n);
    this.base = this.pos;
    this.length = 0;
    const want = Math.min(this.buffer.length, this.limit - this.pos);
    while (this.length < n) {
      const { bytesRead } = await this.handle.read(this.buffer, this.length, want - this.length, this.base + this.length);
      if (bytesRead === 0) throw new Bad(`the file ends in the middle of its header (${what})`);
      this.length += bytesRead;
    }
  }

  skip(n: number, what: string): void {
    this.bounds(n, what);
    this.pos += n;
  }

  async u32(what: string): Promise<number> {
    await this.ensure(4, what);
    const value = this.buffer.readUInt32LE(this.pos - this.base);
    this.pos += 4;
    return value;
  }

  async u64(what: string): Promise<bigint> {
    await this.ensure(8, what);
    const value = this.buffer.readBigUInt64LE(this.pos - this.base);
    this.pos += 8;
    return value;
  }

  /** A count or length as a number, refused when it could not fit in what is left of the header. */
  async count(what: string, minBytesEach: number): Promise<number> {
    const value = await this.u64(what);
    const left = BigInt(this.limit - this.pos);
    if (value * BigInt(Math.max(1, minBytesEach)) > left) throw new Bad(`${what} is larger than the file`);
    return Number(value);
  }

  async stringLength(what: string, max: number): Promise<number> {
    const length = await this.count(what, 1);
    if (length > max) throw new Bad(`${what} is longer than allowed`);
    return length;
  }

  async text(length: number, what: string): Promise<string> {
    await this.ensure(length, what);
    const at = this.pos - this.base;
    this.pos += length;
    return this.buffer.toString('utf8', at, at + length);
  }

  async scalar(type: number): Promise<MetadataValue> {
    const size = FIXED_SIZE[type]!;
    await this.ensure(size, 'a value');
    const at = this.pos - this.base;
    this.pos += size;
    const b = this.buffer;
    switch (type) {
      case 0:
        return b.readUInt8(at);
      case 1:
        return b.readInt8(at);
      case 2:
        return b.readUInt16LE(at);
      case 3:
        return b.readInt16LE(at);
      case 4:
        return b.readUInt32LE(at);
      case 5:
        return b.readInt32LE(at);
      case 6:
        return b.readFloatLE(at);
      case 7:
        return b.readUInt8(at) !== 0;
      case 10:
        return safe(b.readBigUInt64LE(at));
      case 11:
        return safe(b.readBigInt64LE(at));
      default:
        return b.readDoubleLE(at);
    }
  }
}

function safe(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

async function skipValue(c: Cursor, type: number, depth: number): Promise<void> {
  const fixed = FIXED_SIZE[type];
  if (fixed !== undefined) return c.skip(fixed, 'a value');
  if (type === STRING) return c.skip(await c.stringLength('a string', GGUF_LIMITS.maxStringBytes), 'a string');
  if (type !== ARRAY) throw new Bad(`unknown value type ${type}`);
  if (depth >= GGUF_LIMITS.maxArrayDepth) throw new Bad('arrays are nested too deeply');
  const elementType = await c.u32('an array type');
  const elementFixed = FIXED_SIZE[elementType];
  if (elementFixed !== undefined) return c.skip(elementFixed * (await c.count('an array length', elementFixed)), 'an array');
  if (elementType !== STRING && elementType !== ARRAY) throw new Bad(`unknown array type ${elementType}`);
  // Each string or nested array takes at least 8 bytes, so the loop is bounded by the header's size.
  const n = await c.count('an array length', 8);
  for (let i = 0; i < n; i++) await skipValue(c, elementType, depth + 1);
}

/**
 * Reads the GGUF header of `filePath` and returns the string, number and bool values of
 * the `wanted` keys that are present. Never throws: an unreadable or malformed header
 * gives `{ ok: false }` with a short reason.
 */
export async function readGgufMetadata(filePath: string, wanted: ReadonlySet<string>): Promise<MetadataResult> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(filePath, 'r');
    const stats = await handle.stat();
    if (!stats.isFile()) return { ok: false, message: 'it is not a regular file' };
    const c = new Cursor(handle, stats.size);
    await c.ensure(4, 'the signature');
    if (c.buffer.toString('latin1', 0, 4) !== 'GGUF') return { ok: false, message: 'it does not start with the GGUF signature' };
    c.pos = 4;
    const version = await c.u32('the version');
    if (version !== 2 && version !== 3) return { ok: false, message: `GGUF version ${version} is not supported` };
    const tensorCount = await c.u64('the tensor count');
    if (tensorCount > BigInt(GGUF_LIMITS.maxTensors)) return { ok: false, message: 'it claims too many tensors' };
    const keyCount = await c.u64('the key count');
    if (keyCount > BigInt(GGUF_LIMITS.maxKeys)) return { ok: false, message: 'it claims too many metadata keys' };
    const values = new Map<string, MetadataValue>();
    for (let i = 0; i < Number(keyCount); i++) {
      const key = await c.text(await c.stringLength('a key', GGUF_LIMITS.maxKeyBytes), 'a key');
      const type = await c.u32('a value type');
      if (wanted.has(key) && type === STRING) values.set(key, await c.text(await c.stringLength('a string', GGUF_LIMITS.maxStringBytes), 'a string'));
      else if (wanted.has(key) && FIXED_SIZE[type] !== undefined) values.set(key, await c.scalar(type));
      else await skipValue(c, type, 0);
    }
    let parameters = 0n;
    for (let i = 0; i < Number(tensorCount); i++) {
      c.skip(await c.stringLength('a tensor name', GGUF_LIMITS.maxTensorNameBytes), 'a tensor name');
      const dims = await c.u32('a tensor rank');
      if (dims < 1 || dims > GGUF_LIMITS.maxDims) throw new Bad('a tensor has an impossible number of dimensions');
      let elements = 1n;
      for (let d = 0; d < dims; d++) {
        const dim = await c.u64('a tensor dimension');
        if (dim < 1n || dim > BigInt(GGUF_LIMITS.maxDim)) throw new Bad('a tensor has an impossible dimension');
        elements *= dim;
      }
      c.skip(4 + 8, 'a tensor type and offset');
      parameters += elements;
    }
    return { ok: true, metadata: { version, tensorCount: Number(tensorCount), parameterCount: Number(parameters), values } };
  } catch (error) {
    if (error instanceof Bad) return { ok: false, message: error.message };
    const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : 'error';
    return { ok: false, message: `it could not be read (${code})` };
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

export function stringOf(metadata: GgufMetadata, key: string): string | null {
  const value = metadata.values.get(key);
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

export function integerOf(metadata: GgufMetadata, key: string): number | null {
  const value = metadata.values.get(key);
  return typeof value === 'number' && Number.isInteger(value) ? value : null;
}
