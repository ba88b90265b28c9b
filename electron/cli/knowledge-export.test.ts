import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markdownDocument, writeDocuments } from '../../e2e/fixtures/documents/index.ts';
import { createCore } from '../main/services/core.ts';
import type { PackManifest, PackSummary } from '../main/services/knowledge/pack.ts';
import { runCli } from '../test-support/run-cli.ts';

// `soberana knowledge export` end to end: a words-only collection made with the real
// service, exported by the CLI in its own process.

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };

let dir: string;
let dataDir: string;

const cli = (...args: string[]) => runCli(args, { dataDir });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-cli-export-'));
  dataDir = path.join(dir, 'data');
  const docs = await writeDocuments(path.join(dir, 'docs'), {
    'a.md': markdownDocument({ sections: [{ heading: 'Alpha', level: 1, paragraphs: ['Alpha mentions copperwing.'] }] }),
    'b.md': markdownDocument({ sections: [{ heading: 'Bravo', level: 1, paragraphs: ['Bravo mentions silverfin.'] }] }),
  });
  const core = await createCore({ dataDir, host: HOST });
  try {
    const collection = await core.knowledge.createCollection('Field Notes', null);
    await core.knowledge.addPaths(collection.id, Object.values(docs));
    await core.knowledge.idle();
  } finally {
    await core.close();
  }
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('soberana knowledge export', { timeout: 60_000 }, () => {
  it('writes a pack with progress and a summary', async () => {
    const out = path.join(dir, 'pack');
    const run = cli('knowledge', 'export', '--collection', 'field notes', '--out', out);
    expect(run.stderr).toContain('progress: 100%, 2 of 2 documents');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^exported “Field Notes”: 2 documents, 2 passages, \d+ B of files \(words only\) to /u);
    expect((await readdir(out)).sort()).toEqual(['chunks.jsonl', 'documents.jsonl', 'files', 'pack.json']);
    const manifest = JSON.parse(await readFile(path.join(out, 'pack.json'), 'utf8')) as PackManifest;
    expect(manifest).toMatchObject({ format: 1, collection: { name: 'Field Notes', embedding: null }, documents: 2, chunks: 2 });
  });

  it('refuses a folder that is not empty, and says so', async () => {
    const out = path.join(dir, 'busy');
    await mkdir(out);
    await writeFile(path.join(out, 'keep.txt'), 'mine');
    const run = cli('knowledge', 'export', '--collection', 'Field Notes', '--out', out);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('already exists and is not empty');
    expect(await readdir(out)).toEqual(['keep.txt']);
    expect((await readdir(dir)).filter((name) => name.endsWith('.partial'))).toEqual([]);
  });

  it('prints JSON, and checks its arguments', () => {
    const out = path.join(dir, 'json-pack');
    const run = cli('knowledge', 'export', '--collection', 'Field Notes', '--out', out, '--json');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      dir: out,
      collection: 'Field Notes',
      documents: 2,
      chunks: 2,
      embedding: null,
    } satisfies Partial<PackSummary>);

    const missing = cli('knowledge', 'export', '--collection', 'Nope', '--out', path.join(dir, 'nope'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('There is no collection named “Nope”.');
    expect(cli('knowledge', 'export', '--collection', 'Field Notes').status).toBe(2);
    expect(cli('knowledge', 'export', '--out', path.join(dir, 'x')).status).toBe(2);
  });
});
