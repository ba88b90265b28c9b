import { spawn } from 'node:child_process';
import { rm, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docxDocument, htmlDocument, markdownDocument, pdfDocument, writeDocuments } from '../../../../e2e/fixtures/documents/index.ts';
import { gv } from '../../../../e2e/fixtures/gguf/index.ts';
import { presetSpec, writeGguf } from '../../../../e2e/fixtures/gguf/writer.ts';
import { createCore, type Core } from '../core.ts';
import { DATABASE_FILE } from '../storage/sqlite.ts';
import { allDocuments } from '../../../test-support/knowledge-documents.ts';

// kill -9 of the main process in the middle of a 100-file ingest, then a restart on the
// same data directory: the journal and LanceDB must agree, no document may be half in the
// index, and the rest of the files must get indexed without being added again.

const INGESTER = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../test-support/knowledge-crash-ingester.ts');
const FILES = 100;
const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };

let dir: string;
let folder: string;
let model: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-ingest-crash-'));
  model = path.join(dir, 'embedder.gguf');
  await writeGguf(model, { ...presetSpec('tiny', 'Q8_0', 71), name: 'embedder', extraMetadata: [['llama.pooling_type', gv.u32(1)]] });
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < FILES; i += 1) {
    const word = `crashword${i}`;
    const paragraphs = [
      `Document ${i} records the ${word} ledger and its keeper.`,
      `The second paragraph of document ${i} talks about archives and budgets at some length so that chunks have body.`,
    ];
    const name = `doc-${String(i).padStart(3, '0')}`;
    if (i % 4 === 0)
      files[`${name}.pdf`] = await pdfDocument([
        { blocks: [{ kind: 'heading', text: `Ledger ${i}` }, ...paragraphs.map((text) => ({ kind: 'paragraph' as const, text }))] },
        { blocks: [{ kind: 'paragraph', text: paragraphs[1]! }] },
      ]);
    else if (i % 4 === 1) files[`${name}.docx`] = docxDocument([{ heading: 1, text: `Ledger ${i}` }, ...paragraphs.map((text) => ({ text }))]);
    else if (i % 4 === 2) files[`${name}.html`] = htmlDocument({ title: `Ledger ${i}`, sections: [{ heading: `Ledger ${i}`, level: 1, paragraphs }] });
    else files[`${name}.md`] = markdownDocument({ sections: [{ heading: `Ledger ${i}`, level: 1, paragraphs }] });
  }
  folder = path.join(dir, 'inbox');
  await writeDocuments(folder, files);
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the ingester and SIGKILLs it once `after` documents are past extraction (embedded or indexed). */
function runAndKill(dataDir: string, after: number): Promise<{ counts: Record<string, number>; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-warnings', INGESTER, dataDir, folder, model], { stdio: ['ignore', 'pipe', 'pipe'] });
    let counts: Record<string, number> = {};
    let pending = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const parts = (pending + chunk).split('\n');
      pending = parts.pop() ?? '';
      for (const part of parts) {
        const line = JSON.parse(part) as Record<string, number> & { finished?: boolean };
        if (line.finished === undefined) counts = line;
      }
      if ((counts.embedded ?? 0) + (counts.indexed ?? 0) >= after) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve({ counts, signal, stderr }));
  });
}

async function agreement(core: Core) {
  const knowledge = core.knowledge;
  const [collection] = knowledge.collections();
  const documents = allDocuments(knowledge, collection!.id);
  const key = knowledge.store.collection(collection!.id).embeddingKey;
  const rows = await knowledge.index.countByDocument(key);
  const counts = knowledge.store.chunkCounts(documents.map((document) => document.id));
  return { collection: collection!, documents, rows, counts };
}

describe('ingestion survives kill -9', () => {
  it('agrees with itself after the kill, then resumes and finishes the rest', async () => {
    const dataDir = path.join(dir, 'data');
    const killed = await runAndKill(dataDir, 30);
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    // Killed mid-run: some documents past extraction, the rest still queued or extracted.
    expect((killed.counts.embedded ?? 0) + (killed.counts.indexed ?? 0)).toBeGreaterThanOrEqual(30);
    expect(killed.counts.indexed ?? 0).toBeLessThan(FILES);
    expect((killed.counts.queued ?? 0) + (killed.counts.extracted ?? 0)).toBeGreaterThan(0);

    const core = await createCore({ dataDir, host: HOST });
    try {
      const ctx = { caller: { origin: 'test', isMainFrame: true }, signal: new AbortController().signal };
      const current = await core.handlers['settings.get']({}, ctx);
      if (current.ok) await core.handlers['settings.update']({ runtime: { ...current.value.runtime, threads: 1 } }, ctx);
      // Straight after recovery, before the resumed work finishes: what is indexed is whole in LanceDB,
      // and nothing unfinished is searchable.
      const early = await agreement(core);
      expect(early.documents).toHaveLength(FILES);
      for (const document of early.documents) {
        const inIndex = early.rows.get(document.id) ?? 0;
        if (document.status === 'indexed') expect(inIndex, document.name).toBe(early.counts.get(document.id));
      }

      await core.knowledge.idle();
      const late = await agreement(core);
      expect(late.documents.map((document) => document.status)).toEqual(Array(FILES).fill('indexed'));
      for (const document of late.documents) expect(late.rows.get(document.id) ?? 0, document.name).toBe(late.counts.get(document.id));
      const total = [...late.counts.values()].reduce((sum, count) => sum + count, 0);
      expect(await core.knowledge.index.count(core.knowledge.store.collection(late.collection.id).embeddingKey)).toBe(total);

      // Every file is findable, including those the killed run never reached.
      for (const i of [0, 37, 98, 99]) {
        const result = await core.knowledge.search({ query: `crashword${i}`, collectionIds: [late.collection.id], limit: 3 });
        expect(result.passages[0]?.documentName).toMatch(new RegExp(`doc-0*${i}\\.`));
      }
    } finally {
      await core.close();
    }
    expect(DATABASE_FILE).toBeTruthy();
  }, 240_000);
});
