import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Header, Pax } from 'tar';

/**
 * Writes bundle archives by hand with node-tar's header codec, so that the layout is
 * exactly what the reader expects (manifest.json, manifest.sig.json, then payload files;
 * nothing else) and a signature can be swapped without touching the payload bytes.
 */

const BLOCK = 512;
/** Fixed metadata: the archive's bytes depend on its contents only, not on who packed it or when. */
const EPOCH = new Date(0);

export function fileHeader(name: string, size: number): Buffer {
  const header = new Header({ path: name, mode: 0o644, uid: 0, gid: 0, size, mtime: EPOCH, type: 'File' });
  const block = Buffer.alloc(BLOCK);
  header.encode(block);
  // Paths too long for ustar's name and prefix fields travel in a PAX record before the header.
  return header.needPax ? Buffer.concat([new Pax({ path: name, size, mtime: EPOCH }).encode(), block]) : block;
}

export const padding = (size: number): Buffer => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/** Two zero blocks end a tar archive; the reader insists on them, to tell a cut-off file from a whole one. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

export interface TarSink {
  /** Appends a file entry whose bytes come from `data` (exactly `size` of them). */
  file(name: string, size: number, data: Buffer | AsyncIterable<Buffer>): Promise<void>;
  raw(bytes: Buffer | AsyncIterable<Buffer>): Promise<void>;
}

/**
 * Builds `outFile` through a temporary sibling and renames it over: a crash or an error
 * leaves the old archive (or none), never a torn one.
 */
export async function writeArchiveAtomic(outFile: string, build: (sink: TarSink) => Promise<void>, options: { endMarker: boolean }): Promise<void> {
  const temp = path.join(path.dirname(outFile), `.${path.basename(outFile)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | null = await open(temp, 'wx', 0o644);
  try {
    const out = handle;
    const raw = async (bytes: Buffer | AsyncIterable<Buffer>): Promise<number> => {
      if (Buffer.isBuffer(bytes)) {
        await out.write(bytes);
        return bytes.length;
      }
      let written = 0;
      for await (const chunk of bytes) {
        await out.write(chunk);
        written += chunk.length;
      }
      return written;
    };
    await build({
      async file(name, size, data) {
        await out.write(fileHeader(name, size));
        const written = await raw(data);
        if (written !== size) throw new Error(`${name} changed while it was packed (${written} bytes, expected ${size})`);
        await out.write(padding(size));
      },
      async raw(bytes) {
        await raw(bytes);
      },
    });
    if (options.endMarker) await out.write(END_OF_ARCHIVE);
    await out.sync();
    await out.close();
    handle = null;
    await rename(temp, outFile);
  } catch (error) {
    await handle?.close();
    await rm(temp, { force: true });
    throw error;
  }
}

const META_TYPES = new Set(['ExtendedHeader', 'GlobalExtendedHeader', 'NextFileHasLongPath', 'NextFileHasLongLinkpath', 'OldGnuLongPath', 'OldExtendedHeader']);

/** Byte offset just after the first `count` real (non-metadata) entries of a tar file. */
export async function offsetAfterEntries(file: string, count: number): Promise<number> {
  const handle = await open(file, 'r');
  try {
    let offset = 0;
    let seen = 0;
    const block = Buffer.alloc(BLOCK);
    while (seen < count) {
      const { bytesRead } = await handle.read(block, 0, BLOCK, offset);
      if (bytesRead < BLOCK) throw new Error('archive ends inside its head');
      const header = new Header(block);
      if (header.nullBlock || !header.cksumValid) throw new Error('archive head is damaged');
      offset += BLOCK + Math.ceil((header.size ?? 0) / BLOCK) * BLOCK;
      if (!META_TYPES.has(header.type)) seen += 1;
    }
    return offset;
  } finally {
    await handle.close();
  }
}

export function readFrom(file: string, start: number): AsyncIterable<Buffer> {
  return createReadStream(file, { start, highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>;
}
