import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashFiles, startHasher } from './hash-worker.ts';
import { copyVerified, sampleOffsets } from './kernel-copy.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-kernel-copy-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Bytes that differ at every position modulo 251, so a shifted or truncated copy cannot match. */
function pattern(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i + seed) % 251;
  return bytes;
}

async function source(name: string, bytes: Buffer): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return file;
}

describe('hashFiles', () => {
  it('hashes several files as one stream on a worker thread, reporting every byte', async () => {
    const parts = [pattern(0, 1), pattern(1, 2), pattern(3 * 1024 * 1024 + 17, 3), pattern(5 * 1024 * 1024, 4)];
    const files = await Promise.all(parts.map((bytes, i) => source(`hash-${i}`, bytes)));
    let reported = 0;
    const result = await hashFiles(files, { onBytes: (n) => (reported += n) });
    const expected = createHash('sha256');
    for (const bytes of parts) expected.update(bytes);
    const total = parts.reduce((sum, bytes) => sum + bytes.length, 0);
    expect(result).toEqual({ sha256: expected.digest('hex'), bytes: total });
    expect(reported).toBe(total);
  });

  it('rejects with the system code for a missing file, and with cancelled on abort', async () => {
    await expect(hashFiles([path.join(dir, 'absent')])).rejects.toMatchObject({ code: 'ENOENT' });
    const controller = new AbortController();
    const file = await source('hash-cancel', pattern(16 * 1024 * 1024, 5));
    const hashing = hashFiles([file], { signal: controller.signal, onBytes: () => controller.abort() });
    await expect(hashing).rejects.toMatchObject({ code: 'cancelled', message: 'The import was cancelled.' });
  });
});

describe('startHasher', () => {
  it('starts a thread ahead that hashes once when given files, and can be closed unused', async () => {
    const file = await source('ahead', pattern(2 * 1024 * 1024 + 5, 12));
    const hasher = startHasher();
    const result = await hasher.hash([file]);
    expect(result.sha256).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
    await expect(hasher.hash([file])).rejects.toThrow('hashes once');
    const unused = startHasher();
    unused.close();
    const cancelled = startHasher();
    await expect(cancelled.hash([file], { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'cancelled' });
  });
});

describe('copyVerified', () => {
  it('copies every file exactly, hashes the sources and makes the copies the app’s own files', async () => {
    const parts = [pattern(1, 6), pattern(64 * 1024 + 1, 7), pattern(9 * 1024 * 1024 + 3, 8)];
    const sources = await Promise.all(parts.map((bytes, i) => source(`copy-src-${i}`, bytes)));
    await chmod(sources[2]!, 0o400);
    const targets = parts.map((_, i) => path.join(dir, `copy-dst-${i}`));
    let reported = 0;
    const result = await copyVerified(sources, targets, { onBytes: (n) => (reported += n) });
    const expected = createHash('sha256');
    for (const bytes of parts) expected.update(bytes);
    expect(result).toEqual({ sha256: expected.digest('hex'), sizes: parts.map((bytes) => bytes.length) });
    for (let i = 0; i < parts.length; i++) {
      expect(readFileSync(targets[i]!).equals(parts[i]!)).toBe(true);
      expect(statSync(targets[i]!).mode & 0o777).toBe(0o644);
    }
    expect(reported).toBe(parts.reduce((sum, bytes) => sum + bytes.length, 0));
  });

  it('never overwrites an existing target', async () => {
    const from = await source('exists-src', pattern(100, 9));
    const target = path.join(dir, 'exists-dst');
    await writeFile(target, 'old');
    await expect(copyVerified([from], [target])).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(target, 'utf8')).toBe('old');
  });

  it('stops with cancelled and reports nothing after the cancel', async () => {
    const from = await source('cancel-src', pattern(32 * 1024 * 1024, 10));
    const controller = new AbortController();
    let afterAbort = 0;
    const copying = copyVerified([from], [path.join(dir, 'cancel-dst')], {
      signal: controller.signal,
      onBytes: () => {
        if (controller.signal.aborted) afterAbort++;
        controller.abort();
      },
    });
    await expect(copying).rejects.toMatchObject({ code: 'cancelled' });
    expect(afterAbort).toBe(0);
  });

  it('refuses an already cancelled copy before writing anything', async () => {
    const from = await source('pre-cancel-src', pattern(10, 11));
    const target = path.join(dir, 'pre-cancel-dst');
    await expect(copyVerified([from], [target], { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'cancelled' });
    expect(existsSync(target)).toBe(false);
  });
});

describe('sampleOffsets', () => {
  it('covers the first and last blocks and spreads the rest, inside the file', () => {
    expect(sampleOffsets(0)).toEqual([]);
    expect(sampleOffsets(10)).toEqual([0]);
    const size = 1_000_000_007;
    const offsets = sampleOffsets(size);
    expect(offsets).toHaveLength(17);
    expect(offsets[0]).toBe(0);
    expect(offsets.at(-1)).toBe(size - 64 * 1024);
    expect(offsets.every((offset, i) => i === 0 || offset > offsets[i - 1]!)).toBe(true);
  });
});
