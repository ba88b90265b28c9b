import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StagedWriter } from './staged-writer.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-staged-writer-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('StagedWriter', () => {
  it('writes chunks handed over without waiting, in order, past a background flush, and the file holds exactly them', async () => {
    const file = path.join(dir, 'out.bin');
    const handle = await open(file, 'wx');
    // Uneven chunks, more than one background flush's worth (64 MB) in all.
    const chunks = Array.from({ length: 70 }, (_, index) => randomBytes(1024 * 1024 + index * 7));
    const writer = new StagedWriter(handle);
    try {
      for (const chunk of chunks) await writer.write(chunk);
      await writer.finish();
    } finally {
      await writer.settled();
      await handle.close();
    }
    expect((await readFile(file)).equals(Buffer.concat(chunks))).toBe(true);
  });

  it('reports a failed write on the next call instead of letting it go unhandled', async () => {
    const file = path.join(dir, 'read-only.bin');
    await writeFile(file, '');
    // Opened for reading: every write fails (EBADF).
    const handle = await open(file, 'r');
    const writer = new StagedWriter(handle);
    try {
      await writer.write(Buffer.alloc(1024, 1));
      await expect(writer.write(Buffer.alloc(1024, 2))).rejects.toMatchObject({ code: 'EBADF' });
      await expect(writer.finish()).rejects.toMatchObject({ code: 'EBADF' });
    } finally {
      await writer.settled();
      await handle.close();
    }
  });
});
