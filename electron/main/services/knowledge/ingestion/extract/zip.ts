import { Buffer } from 'node:buffer';
import yauzl from 'yauzl';
import { DocumentError } from '../../types.ts';
import { formatBytes, type ResolvedLimits } from './limits.ts';

/** A ZIP whose directory passed the guard; entries are inflated on demand, with their sizes enforced. */
export interface Archive {
  readonly names: readonly string[];
  has(name: string): boolean;
  read(name: string): Promise<Uint8Array>;
  readText(name: string): Promise<string>;
  /** Inflates a part piece by piece; `onChunk` returning false stops early (to read a part's head without inflating it all). */
  stream(name: string, onChunk: (chunk: Uint8Array) => boolean | void): Promise<void>;
  close(): void;
}

const bomb = (message: string) => new DocumentError('zip_bomb', `${message}; it may be a zip bomb.`);

/**
 * Reads the central directory and refuses unsafe archives before any parser sees them:
 * too many entries, a declared total over the limit, or an entry that expands too much.
 * Declared sizes can lie, so every read also counts the bytes actually inflated (yauzl
 * fails a stream that produces more than its entry declared).
 */
export async function openArchive(bytes: Uint8Array, limits: ResolvedLimits): Promise<Archive> {
  let zip: yauzl.ZipFile;
  try {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    zip = await yauzl.fromBufferPromise(buffer, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false });
  } catch (error) {
    throw new DocumentError('corrupt', `This file is damaged: its zip structure can't be read (${(error as Error).message}).`);
  }
  try {
    if (zip.entryCount > limits.maxArchiveEntries) {
      throw bomb(`This file holds ${zip.entryCount.toLocaleString('en-US')} parts, over the ${limits.maxArchiveEntries.toLocaleString('en-US')} limit`);
    }
    const entries = new Map<string, yauzl.Entry>();
    let total = 0;
    for await (const entry of zip.eachEntry()) {
      if (entry.isEncrypted()) throw new DocumentError('encrypted', 'This file is password-protected. Remove the password and add it again.');
      total += entry.uncompressedSize;
      entries.set(entry.fileName, entry);
    }
    // The total first: it is the number that tells a person what is wrong.
    if (total > limits.maxUnpackedBytes) throw bomb(`This file unpacks to ${formatBytes(total)}, over the ${formatBytes(limits.maxUnpackedBytes)} limit`);
    for (const entry of entries.values()) {
      if (entry.uncompressedSize <= limits.ratioMinBytes) continue;
      const ratio = entry.uncompressedSize / Math.max(1, entry.compressedSize);
      if (ratio > limits.maxCompressionRatio) {
        throw bomb(
          `A part of this file expands ${Math.round(ratio).toLocaleString('en-US')}:1 (to ${formatBytes(entry.uncompressedSize)}), over the ${limits.maxCompressionRatio}:1 limit`,
        );
      }
    }
    return archive(zip, entries);
  } catch (error) {
    zip.close();
    if (error instanceof DocumentError) throw error;
    throw new DocumentError('corrupt', `This file is damaged: its zip structure can't be read (${(error as Error).message}).`);
  }
}

function archive(zip: yauzl.ZipFile, entries: Map<string, yauzl.Entry>): Archive {
  const stream = async (name: string, onChunk: (chunk: Uint8Array) => boolean | void): Promise<void> => {
    const entry = entries.get(name);
    if (entry === undefined) throw new DocumentError('corrupt', `This file is damaged: the part "${name}" is missing.`);
    let inflating: NodeJS.ReadableStream & { destroy(): void };
    try {
      inflating = (await zip.openReadStreamPromise(entry)) as typeof inflating;
    } catch (error) {
      throw new DocumentError('corrupt', `This file is damaged: the part "${name}" can't be read (${(error as Error).message}).`);
    }
    try {
      for await (const chunk of inflating) {
        const bytes = chunk as Buffer;
        if (onChunk(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)) === false) break;
      }
    } catch (error) {
      if (error instanceof DocumentError) throw error;
      const message = (error as Error).message;
      if (/too many bytes/.test(message)) throw bomb(`A part of this file ("${name}") inflates past the ${formatBytes(entry.uncompressedSize)} it declares`);
      throw new DocumentError('corrupt', `This file is damaged: the part "${name}" can't be read (${message}).`);
    } finally {
      inflating.destroy();
    }
  };
  const read = async (name: string): Promise<Uint8Array> => {
    const chunks: Uint8Array[] = [];
    await stream(name, (chunk) => void chunks.push(chunk));
    const joined = Buffer.concat(chunks);
    return new Uint8Array(joined.buffer, joined.byteOffset, joined.byteLength);
  };
  return {
    names: [...entries.keys()],
    has: (name) => entries.has(name),
    read,
    stream,
    readText: async (name) => new TextDecoder('utf-8').decode(await read(name)),
    close: () => zip.close(),
  };
}
