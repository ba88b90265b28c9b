import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { presetSpec, writeGguf } from '../../../../e2e/fixtures/gguf/writer.ts';
import { openDatabase, type Database } from '../storage/sqlite.ts';
import { importModel } from './import.ts';
import { libraryDirFor } from './library.ts';
import { scanModels } from './scan.ts';
import type { ImportProgress } from './types.ts';

// A bundle's installer has hashed a payload against its signed manifest as it staged it, and
// imports it by reference with that hash (verifiedSha256), so the file is not read twice.

let dir: string;
let db: Database;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-import-verified-'));
  db = openDatabase(path.join(dir, 'data'));
});
afterEach(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

async function tinyModel(): Promise<{ file: string; sha256: string }> {
  const file = path.join(dir, 'tiny.gguf');
  await writeGguf(file, presetSpec('tiny', 'F16', 3));
  return {
    file,
    sha256: createHash('sha256')
      .update(await readFile(file))
      .digest('hex'),
  };
}

describe('import by reference with a hash already verified', () => {
  it('records the hash it was given without reading the file again, and reports the bytes as done', async () => {
    const { file, sha256 } = await tinyModel();
    const [candidate] = (await scanModels(file)).candidates;
    // A hash other than the file's: had the import read the file, it would have recorded the real one.
    const given = 'A'.repeat(64);
    const progress: ImportProgress[] = [];
    const record = await importModel(db, libraryDirFor(path.join(dir, 'data')), candidate!, {
      mode: 'reference',
      verifiedSha256: given,
      onProgress: (update) => progress.push(update),
    });
    expect(record.sha256).toBe(given.toLowerCase());
    expect(record.sha256).not.toBe(sha256);
    expect(progress.at(-1)).toMatchObject({ bytesDone: candidate!.sizeBytes, bytesTotal: candidate!.sizeBytes });
  });

  it('is ignored for a copy, which hashes what it writes', async () => {
    const { file, sha256 } = await tinyModel();
    const [candidate] = (await scanModels(file)).candidates;
    const record = await importModel(db, libraryDirFor(path.join(dir, 'data')), candidate!, { mode: 'copy', verifiedSha256: 'b'.repeat(64) });
    expect(record.sha256).toBe(sha256);
  });
});
