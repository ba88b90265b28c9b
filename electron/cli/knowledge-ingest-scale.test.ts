import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-support/run-cli.ts';

// Issue 15: `knowledge ingest` counted from the progress report, which lists only the last
// 300 files, and said "added 300" for 3,000. The built CLI on 3,000 small text files in
// nested folders, with two files it cannot read and one that fails: the summary counts each
// file, in text and JSON, and a second run finds all 3,000 unchanged.

const FILES = 3000;
let dir: string;
let dataDir: string;
let archive: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-cli-ingest-scale-'));
  dataDir = path.join(dir, 'data');
  archive = path.join(dir, 'archive');
  for (let at = 0; at < FILES; at += 1) {
    const folder = path.join(archive, `year-${at % 5}`, `month-${at % 12}`);
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, `note-${at}.txt`), `Note ${at}. The archive keeps record ${at * 7} for the office.\n`);
  }
  // Two files Soberana cannot read (listed as skipped) and one document that fails (not a real Word file).
  await writeFile(path.join(archive, 'year-0', 'drawing.dwg'), Buffer.from('AC1032 not a document'));
  await writeFile(path.join(archive, 'year-1', 'month-1', 'setup.exe'), Buffer.from('MZ not a document'));
  await writeFile(path.join(archive, 'year-2', 'broken.docx'), Buffer.from('this is not a zip archive at all'));
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('soberana knowledge ingest at archive scale', () => {
  it('counts 3,000 added, 2 skipped and 1 failed, then 3,000 unchanged', { timeout: 900_000 }, () => {
    const first = runCli(['knowledge', 'ingest', archive, '--collection', 'Archive', '--create', '--embedding-model', 'none'], {
      dataDir,
      timeoutMs: 420_000,
    });
    expect(first.stdout).toMatch(new RegExp(`^added ${FILES}, unchanged 0, failed 1, skipped 2 — \\d+ pages in [\\d.]+ s into “Archive”$`, 'm'));
    expect(first.stderr).toMatch(/skipped {2}.*drawing\.dwg\n {2}unsupported: Soberana cannot read \.dwg files\./);
    expect(first.stderr).toMatch(/skipped {2}.*setup\.exe\n {2}unsupported: Soberana cannot read \.exe files\./);
    expect(first.stderr).toMatch(/failed {3}.*broken\.docx\n {2}\w+: /);
    expect(first.status).toBe(1);

    const again = runCli(['knowledge', 'ingest', archive, '--collection', 'Archive', '--json'], { dataDir, timeoutMs: 420_000 });
    const summary = JSON.parse(again.stdout) as {
      added: number;
      unchanged: number;
      failed: number;
      skipped: number;
      cancelled: number;
      files: { state: string }[];
    };
    // The failed file is tried again and fails again; the skipped ones stay listed, once each.
    expect(summary).toMatchObject({ added: 0, unchanged: FILES, failed: 1, skipped: 2, cancelled: 0 });
    expect(summary.files).toHaveLength(FILES + 3);
    const collections = JSON.parse(runCli(['knowledge', 'collections', '--json'], { dataDir }).stdout) as { name: string; documents: number; failed: number }[];
    expect(collections).toMatchObject([{ name: 'Archive', documents: FILES + 3, failed: 1 }]);
  });
});
