import type { FileHandle } from 'node:fs/promises';
import { fixedMessages, reject } from './rejections.ts';

/**
 * A strict, pull-based tar reader for bundles. It reads exactly the subset `soberana bundle
 * pack` writes and GNU tar and Python's tarfile read the same way, and refuses the rest, so
 * that what an administrator lists with `tar tvf` is what was verified:
 *
 * - POSIX ustar headers (magic "ustar\0", version "00", with the 155-byte prefix) and GNU
 *   headers (magic "ustar  \0"); no V7 headers, no compression (gzip, zstd, … are refused
 *   by their magic bytes rather than unpacked behind the caller's back);
 * - PAX per-file extended headers ('x') with a known set of keys, GNU long names ('L') and
 *   long link names ('K'), each at most once before the entry it describes;
 * - no PAX global headers ('g'): other readers apply their `path` to every later entry.
 *
 * The end is two zero blocks. A lone zero block followed by more data is refused: GNU tar and
 * tarfile stop at the first zero block, so anything after it would be invisible to them.
 */

const BLOCK = 512;
const CHUNK = 1024 * 1024;

export type TarEntryType = 'file' | 'dir' | 'hardlink' | 'symlink' | 'special';

export interface TarEntry {
  readonly type: TarEntryType;
  /** The raw typeflag, for messages. */
  readonly typeflag: string;
  /** After PAX and GNU long names; a folder's trailing "/" removed. Never cut at a NUL. */
  readonly path: string;
  readonly linkpath: string;
  readonly size: number;
  /** The entry's data, streamed from the file; read it at most once. */
  data(): AsyncIterable<Buffer>;
}

export interface TarReadOptions {
  /** Largest PAX or GNU long-name record accepted. */
  readonly maxMetaBytes: number;
  readonly signal?: AbortSignal | undefined;
}

/** PAX keys read (path, linkpath, size) or harmlessly ignored; any other key is refused. */
const PAX_KEYS = new Set([
  'path',
  'linkpath',
  'size',
  'mtime',
  'atime',
  'ctime',
  'uid',
  'gid',
  'uname',
  'gname',
  'comment',
  'SCHILY.dev',
  'SCHILY.ino',
  'SCHILY.nlink',
]);
/** Extended attributes that macOS bsdtar and star add; Soberana ignores them. */
const PAX_PREFIXES = ['SCHILY.xattr.', 'LIBARCHIVE.xattr.'];

const FILE_FLAGS = new Set(['0', '\0', '7']);
const SPECIAL_NAMES: Record<string, string> = { '3': 'character device', '4': 'block device', '6': 'FIFO', g: 'PAX global header' };

const COMPRESSED: readonly (readonly [string, Buffer])[] = [
  ['gzip', Buffer.from([0x1f, 0x8b])],
  ['zstd', Buffer.from([0x28, 0xb5, 0x2f, 0xfd])],
  ['bzip2', Buffer.from('BZh')],
  ['xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])],
];

const malformed = (details: string): never => reject('malformed_archive', fixedMessages.malformed_archive, details);
const truncated = (details: string): never => reject('truncated', fixedMessages.truncated, details);
const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(bytes: Buffer, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return malformed(`${what} is not valid UTF-8`);
  }
}

/** A NUL-terminated header field (tar's own convention for the fixed-size fields). */
function field(block: Buffer, start: number, length: number, what: string): string {
  const raw = block.subarray(start, start + length);
  const end = raw.indexOf(0);
  return text(end < 0 ? raw : raw.subarray(0, end), what);
}

/** Octal digits (space or NUL padded), or GNU base-256 for large positive values. */
export function numeric(block: Buffer, start: number, length: number, what: string): number {
  const raw = block.subarray(start, start + length);
  if (((raw[0] ?? 0) & 0x80) !== 0) {
    if (raw[0] !== 0x80) malformed(`${what}: negative or oversized base-256 number`);
    let value = 0;
    for (const byte of raw.subarray(1)) {
      value = value * 256 + byte;
      if (value > Number.MAX_SAFE_INTEGER) malformed(`${what}: number too large`);
    }
    return value;
  }
  const digits = raw
    .toString('latin1')
    .replace(/^ +/, '')
    .replace(/[ \0]+$/, '');
  if (!/^[0-7]*$/.test(digits)) malformed(`${what}: not an octal number`);
  const value = digits === '' ? 0 : parseInt(digits, 8);
  if (!Number.isSafeInteger(value)) malformed(`${what}: number too large`);
  return value;
}

interface Header {
  readonly typeflag: string;
  readonly path: string;
  readonly linkpath: string;
  readonly size: number;
}

function parseHeader(block: Buffer, first: boolean): Header {
  if (first) {
    for (const [name, magic] of COMPRESSED) {
      if (block.subarray(0, magic.length).equals(magic)) malformed(`${name}-compressed; a bundle is an uncompressed tar archive`);
    }
  }
  let sum = 8 * 0x20;
  for (let index = 0; index < BLOCK; index += 1) if (index < 148 || index >= 156) sum += block[index] ?? 0;
  if (numeric(block, 148, 8, 'header checksum') !== sum) malformed('header checksum does not match');
  const magic = block.toString('latin1', 257, 265);
  const posix = magic === 'ustar\u000000';
  if (!posix && magic !== 'ustar  \0') malformed('not a ustar or GNU tar header');
  const name = field(block, 0, 100, 'entry name');
  const prefix = posix ? field(block, 345, 155, 'entry name prefix') : '';
  return {
    typeflag: String.fromCharCode(block[156] ?? 0),
    path: prefix === '' ? name : `${prefix}/${name}`,
    linkpath: field(block, 157, 100, 'link name'),
    size: numeric(block, 124, 12, 'entry size'),
  };
}

/** PAX records, "<length> <key>=<value>\n" each, covering the data exactly. */
export function parsePax(bytes: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < bytes.length) {
    const space = bytes.indexOf(0x20, at);
    const lengthText = space < 0 ? '' : bytes.toString('latin1', at, space);
    if (!/^[1-9][0-9]{0,8}$/.test(lengthText)) malformed('PAX record without a valid length');
    const end = at + Number(lengthText);
    if (end > bytes.length || bytes[end - 1] !== 0x0a) malformed('PAX record length does not match its data');
    const record = text(bytes.subarray(space + 1, end - 1), 'PAX record');
    const equals = record.indexOf('=');
    if (equals <= 0) malformed('PAX record without a key');
    const key = record.slice(0, equals);
    if (!PAX_KEYS.has(key) && !PAX_PREFIXES.some((prefix) => key.startsWith(prefix))) {
      reject(
        'unsupported_entry',
        `The bundle uses a tar extension Soberana does not read (PAX "${key}"). Bundles are plain tar archives made by "soberana bundle pack". Do not install it.`,
        `PAX key ${key}`,
      );
    }
    if (records.has(key)) malformed(`PAX key "${key}" given twice`);
    // The value is kept whole: a NUL inside a path is refused by the path check, never cut off.
    records.set(key, record.slice(equals + 1));
    at = end;
  }
  return records;
}

async function readExact(handle: FileHandle, position: number, length: number, what: string): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) truncated(`the archive ends inside ${what}`);
    done += bytesRead;
  }
  return buffer;
}

/**
 * Reads one chunk ahead: the next chunk is read on libuv's thread pool while the caller
 * hashes this one, so the read costs no time of its own.
 */
async function* dataOf(handle: FileHandle, position: number, size: number, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  const readAt = (done: number) => {
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK, size - done));
    const reading = handle.read(buffer, 0, buffer.length, position + done).then(({ bytesRead }) => buffer.subarray(0, bytesRead));
    // Handled here too: when the caller stops early, a read ahead that fails must not go unhandled.
    reading.catch(() => undefined);
    return reading;
  };
  let done = 0;
  let next: Promise<Buffer> | null = size > 0 ? readAt(0) : null;
  try {
    while (next !== null) {
      signal?.throwIfAborted();
      const chunk = await next;
      next = null;
      if (chunk.length === 0) truncated('the archive ends inside an entry');
      done += chunk.length;
      if (done < size) next = readAt(done);
      yield chunk;
    }
  } finally {
    // The handle may be closed once the caller is done: no read may still be under way.
    await next?.catch(() => undefined);
  }
}

const isZero = (block: Buffer): boolean => block.every((byte) => byte === 0);
const padded = (size: number): number => Math.ceil(size / BLOCK) * BLOCK;

function entryType(typeflag: string): TarEntryType {
  if (FILE_FLAGS.has(typeflag)) return 'file';
  if (typeflag === '5') return 'dir';
  if (typeflag === '1') return 'hardlink';
  if (typeflag === '2') return 'symlink';
  return 'special';
}

/** Describes a typeflag Soberana refuses, for messages. */
export const specialName = (typeflag: string): string => SPECIAL_NAMES[typeflag] ?? `type "${typeflag.replace(/[^\x20-\x7e]/g, '?')}"`;

/**
 * The archive's entries, in order, up to the end-of-archive marker (data after it is never
 * read). Metadata entries are folded into the entry they describe.
 */
export async function* tarEntries(handle: FileHandle, options: TarReadOptions): AsyncGenerator<TarEntry> {
  let position = 0;
  let pax: Map<string, string> | null = null;
  let longPath: string | null = null;
  let longLink: string | null = null;
  for (;;) {
    options.signal?.throwIfAborted();
    const block = await readExact(handle, position, BLOCK, 'a header');
    if (isZero(block)) {
      if (!isZero(await readExact(handle, position + BLOCK, BLOCK, 'its end-of-archive marker')))
        malformed('a lone zero block before more entries (other tar readers stop there)');
      if (pax !== null || longPath !== null || longLink !== null) malformed('an extended header with no entry after it');
      return;
    }
    const header = parseHeader(block, position === 0);
    const dataAt = position + BLOCK;
    position = dataAt + padded(header.size);
    const { typeflag } = header;
    if (typeflag === 'x' || typeflag === 'L' || typeflag === 'K') {
      if (header.size > options.maxMetaBytes) malformed(`an extended header of ${header.size} bytes (at most ${options.maxMetaBytes})`);
      const bytes = await readExact(handle, dataAt, header.size, 'an extended header');
      if (typeflag === 'x') {
        if (pax !== null) malformed('two PAX headers for one entry');
        pax = parsePax(bytes);
      } else {
        if ((typeflag === 'L' ? longPath : longLink) !== null) malformed('two GNU long names for one entry');
        // GNU writes the name NUL-terminated; only trailing NULs are padding.
        const name = text(bytes.subarray(0, bytes.length - (bytes.toString('latin1').match(/\0*$/)?.[0].length ?? 0)), 'GNU long name');
        if (typeflag === 'L') longPath = name;
        else longLink = name;
      }
      continue;
    }
    if (typeflag === 'g') {
      reject(
        'unsupported_entry',
        `The bundle holds a PAX global header, which other tar programs apply to every later entry, so they would list different names than Soberana checks. Bundles made by "soberana bundle pack" have none. Do not install it.`,
        'PAX global header (typeflag g)',
      );
    }
    if (pax?.has('path') === true && longPath !== null) malformed('both a PAX path and a GNU long name for one entry');
    if (pax?.has('linkpath') === true && longLink !== null) malformed('both a PAX linkpath and a GNU long link name for one entry');
    let size = header.size;
    const paxSize = pax?.get('size');
    if (paxSize !== undefined) {
      if (!/^(0|[1-9][0-9]{0,15})$/.test(paxSize) || !Number.isSafeInteger(Number(paxSize))) malformed(`PAX size "${paxSize}" is not a whole number`);
      size = Number(paxSize);
      position = dataAt + padded(size);
    }
    const type = entryType(typeflag);
    let path = pax?.get('path') ?? longPath ?? header.path;
    const linkpath = pax?.get('linkpath') ?? longLink ?? header.linkpath;
    pax = null;
    longPath = null;
    longLink = null;
    if (type === 'dir') {
      // Directories carry no data; a size would make readers disagree about where the next header is.
      if (size !== 0) malformed(`folder entry "${path}" declares ${size} bytes of data`);
      if (path.endsWith('/')) path = path.slice(0, -1);
    }
    if ((type === 'file' || type === 'dir') && linkpath !== '') malformed(`"${path}" is not a link but has a link name`);
    yield { type, typeflag, path, linkpath, size, data: () => dataOf(handle, dataAt, size, options.signal) };
  }
}
