import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHUNK_BYTES, hashInto, ProgressMeter } from './stream.ts';
import type { ByteProgress } from './types.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-stream-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('hashInto', () => {
  it.each([0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, 2 * CHUNK_BYTES + 17])('hashes %i bytes exactly', async (size) => {
    const source = path.join(dir, `source-${size}`);
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4096) bytes[i] = (i / 4096) & 0xff;
    await writeFile(source, bytes);
    const expected = createHash('sha256').update(bytes).digest('hex');

    const hash = createHash('sha256');
    const seen: number[] = [];
    expect(await hashInto(source, hash, { onBytes: (n) => seen.push(n) })).toBe(size);
    expect(hash.digest('hex')).toBe(expected);
    expect(seen.reduce((a, b) => a + b, 0)).toBe(size);
  });

  it('stops with cancelled when the signal fires', async () => {
    const source = path.join(dir, 'cancel-src');
    await writeFile(source, Buffer.alloc(3 * CHUNK_BYTES));
    const controller = new AbortController();
    await expect(
      hashInto(source, createHash('sha256'), { signal: controller.signal, onBytes: () => controller.abort(), what: 'The check' }),
    ).rejects.toMatchObject({
      code: 'cancelled',
      message: 'The check was cancelled.',
    });
  });
});

describe('ProgressMeter', () => {
  it('smooths the speed, estimates the time left and reports at most every 100 ms or 1%', () => {
    let now = 0;
    const reports: ByteProgress[] = [];
    const meter = new ProgressMeter(
      1000 * 1000,
      (p) => reports.push(p),
      () => now,
    );
    // 1% of the total exactly: reported at once, speed not yet known.
    meter.add(10_000);
    expect(reports.at(-1)).toEqual({ bytesDone: 10_000, bytesTotal: 1_000_000, bytesPerSecond: 0, secondsLeft: null });
    // Small steps within 100 ms are not reported.
    now = 50;
    meter.add(100);
    expect(reports).toHaveLength(1);
    // 250 ms in: the first sample sets the speed (40,400 bytes/s here)...
    now = 250;
    meter.add(0);
    expect(reports.at(-1)!.bytesPerSecond).toBe(40_400);
    // ...and a sudden burst moves it only part of the way.
    now = 500;
    meter.add(100_000);
    const speed = reports.at(-1)!.bytesPerSecond;
    expect(speed).toBeGreaterThan(40_400);
    expect(speed).toBeLessThan(400_000);
    expect(reports.at(-1)!.secondsLeft).toBeCloseTo((1_000_000 - 110_100) / speed, 1);
    meter.add(1_000_000 - 110_100);
    meter.finish();
    expect(reports.at(-1)).toMatchObject({ bytesDone: 1_000_000, secondsLeft: 0 });
  });
});
