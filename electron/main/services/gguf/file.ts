import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { GGUF_LIMITS } from './types.ts';
import type { GgufResult } from './types.ts';
import { inspectGgufPrefix } from './validator.ts';

/** Most headers fit here; big vocabularies need a few doublings. */
const FIRST_READ_BYTES = 256 * 1024;

function unreadable(message: string): GgufResult {
  return { ok: false, rejection: { code: 'unreadable', message } };
}

function describeError(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : '';
  switch (code) {
    case 'ENOENT':
      return 'The model file could not be found. It may have been moved or deleted.';
    case 'EACCES':
    case 'EPERM':
      return 'Soberana is not allowed to read the model file. Check its permissions.';
    case 'EISDIR':
      return 'This is a folder, not a model file.';
    case 'EMFILE':
    case 'ENFILE':
      return 'Too many files are open to read the model file. Try again.';
    default:
      return `The model file could not be read${code === '' ? '' : ` (${code})`}.`;
  }
}

/** Reads `[from, to)` into `buffer`; returns how many bytes the file actually had there. */
async function readRange(handle: FileHandle, buffer: Uint8Array, from: number, to: number): Promise<number> {
  let pos = from;
  while (pos < to) {
    const { bytesRead } = await handle.read(buffer, pos, to - pos, pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
  }
  return pos;
}

/**
 * Checks a GGUF file on disk, reading only its header and tensor table: the read window
 * starts small and doubles while the parser asks for more, up to GGUF_LIMITS.maxHeaderBytes.
 * Never throws; a file that cannot be read gives `unreadable`.
 */
export async function checkGgufFile(path: string): Promise<GgufResult> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    const stats = await handle.stat({ bigint: true });
    if (!stats.isFile()) return unreadable('This is not a regular file, so it cannot be a model.');
    let fileSize = stats.size;
    const cap = fileSize < BigInt(GGUF_LIMITS.maxHeaderBytes) ? Number(fileSize) : GGUF_LIMITS.maxHeaderBytes;
    let buffer = new Uint8Array(Math.min(FIRST_READ_BYTES, cap));
    let have = await readRange(handle, buffer, 0, buffer.length);
    for (;;) {
      if (have < buffer.length) {
        // The file shrank while we read it: judge what is really there.
        fileSize = BigInt(have);
        buffer = buffer.subarray(0, have);
      }
      const outcome = inspectGgufPrefix(buffer, fileSize);
      if (outcome.ok !== 'need') return outcome;
      const next = Math.min(cap, Math.max(outcome.bytes, buffer.length * 2));
      // The parser only asks for bytes below the cap and the file size, so this cannot stall; guard anyway.
      if (next <= buffer.length) return unreadable('The model file changed while it was being checked. Try again.');
      const grown = new Uint8Array(next);
      grown.set(buffer);
      have = await readRange(handle, grown, buffer.length, next);
      buffer = grown;
    }
  } catch (error) {
    return unreadable(describeError(error));
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
