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
  const read = async (name: string): Promise<Uint8Array> => {
    const entry = entries.get(name);
    if (entry === undefined) throw new DocumentError('corrupt', `This file is damaged: the part "${name}" is missing.`);
    try {
      const stream = await zip.openReadStreamPromise(entry);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      const joined = Buffer.concat(chunks);
      return new Uint8Array(joined.buffer, joined.byteOffset, joined.byteLength);
    } catch (error) {
      const message = (error as Error).message;
      if (/too many bytes/.test(message)) throw bomb(`A part of this file ("${name}") inflates past the ${formatBytes(entry.uncompressedSize)} it declares`);
      throw new DocumentError('corrupt', `This file is damaged: the part "${name}" can't be read (${message}).`);
    }
  };
  return {
    names: [...entries.keys()],
    has: (name) => entries.has(name),
    read,
    readText: async (name) => new TextDecoder('utf-8').decode(await read(name)),
    close: () => zip.close(),
  };
}
