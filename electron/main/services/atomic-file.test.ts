import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic-file.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-atomic-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const tempFiles = (names: readonly string[]) => names.filter((name) => name.endsWith('.tmp'));

describe('writeFileAtomic', () => {
  it('writes the content', async () => {
    const file = path.join(dir, 'a.json');
    await writeFileAtomic(file, '{"a":1}\n');
    expect(await readFile(file, 'utf8')).toBe('{"a":1}\n');
  });

  it('writes bytes', async () => {
    const file = path.join(dir, 'a.bin');
    await writeFileAtomic(file, new Uint8Array([0, 1, 2, 255]));
    expect([...(await readFile(file))]).toEqual([0, 1, 2, 255]);
  });

  it('replaces existing content, also with something shorter', async () => {
    const file = path.join(dir, 'a.txt');
    await writeFile(file, 'the old and much longer content');
    await writeFileAtomic(file, 'new');
    expect(await readFile(file, 'utf8')).toBe('new');
  });

  it('leaves no temporary files after success', async () => {
    const file = path.join(dir, 'a.txt');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, 'two');
    const names = await readdir(dir);
    expect(tempFiles(names)).toEqual([]);
    expect(names).toEqual(['a.txt']);
  });

  it('creates missing parent directories', async () => {
    const file = path.join(dir, 'x', 'y', 'z', 'a.txt');
    await writeFileAtomic(file, 'deep');
    expect(await readFile(file, 'utf8')).toBe('deep');
    expect(await readdir(path.join(dir, 'x', 'y', 'z'))).toEqual(['a.txt']);
  });

  it('rejects when the target is a directory and leaves no temporary file', async () => {
    const target = path.join(dir, 'folder');
    await mkdir(target);
    await writeFile(path.join(target, 'inside.txt'), 'kept');

    await expect(writeFileAtomic(target, 'data')).rejects.toThrow();

    expect(await readdir(dir)).toEqual(['folder']);
    expect((await stat(target)).isDirectory()).toBe(true);
    expect(await readFile(path.join(target, 'inside.txt'), 'utf8')).toBe('kept');
  });
});
