import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpus, encryptedPdf, writeDocuments, type Corpus } from '../../e2e/fixtures/documents/index.ts';
import { gv } from '../../e2e/fixtures/gguf/encode.ts';
import { presetSpec, writeGguf } from '../../e2e/fixtures/gguf/writer.ts';
import type { Collection, SearchResult } from '../common/contract/index.ts';
import { createChatStore } from '../main/services/chat/store.ts';
import { DEFAULT_SETTINGS, openSettings } from '../main/services/settings.ts';
import { openDatabase } from '../main/services/storage/sqlite.ts';
import { runCli } from '../test-support/run-cli.ts';

// The knowledge commands end to end: real SQLite, real LanceDB, the real extraction worker
// and inference process, on documents and tiny models this test writes. The cases share one
// data directory and run in order, as a user would: create, ingest, search, ask.

let dir: string;
let dataDir: string;
let docs: string;
let locked: string;
let documents: Corpus;

const cli = (...args: string[]) => runCli(args, { dataDir });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-cli-knowledge-'));
  dataDir = path.join(dir, 'data');
  // Four documents, one of each format, each holding one known fact.
  documents = await corpus({ pages: 40 });
  docs = path.join(dir, 'docs');
  await writeDocuments(docs, Object.fromEntries(documents.files.map((file) => [file.name, file.bytes])));
  locked = (await writeDocuments(path.join(dir, 'hostile'), { 'locked.pdf': encryptedPdf() }))['locked.pdf']!;

  // One thread (shared 2-core machines) and short answers (the test model rarely stops by itself).
  const db = openDatabase(dataDir);
  try {
    const settings = await openSettings(db, dataDir, () => undefined);
    await settings.update({
      runtime: { ...DEFAULT_SETTINGS.runtime, threads: 1, contextSize: 4096, sampling: { ...DEFAULT_SETTINGS.runtime.sampling, maxTokens: 16 } },
    });
  } finally {
    db.close();
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const collections = () => JSON.parse(cli('knowledge', 'collections', '--json').stdout) as Collection[];
const factOf = (file: string) => documents.facts.find((fact) => fact.file === file)!;

describe('soberana knowledge', { timeout: 60_000 }, () => {
  it('says clearly when a collection does not exist, and checks its arguments', () => {
    const empty = cli('knowledge', 'collections');
    expect(empty.status).toBe(0);
    expect(empty.stdout).toContain('There are no collections.');
    expect(collections()).toEqual([]);

    const ingest = cli('knowledge', 'ingest', docs, '--collection', 'Handbook');
    expect(ingest.status).toBe(1);
    expect(ingest.stderr).toContain('There is no collection named “Handbook”. Pass --create to create it.');
    const search = cli('knowledge', 'search', '--collection', 'Nope', 'ledger', '--json');
    expect(search.status).toBe(1);
    expect(JSON.parse(search.stdout)).toMatchObject({ error: { code: 'not_found', message: 'There is no collection named “Nope”.' } });
    expect(cli('knowledge', 'ask', '--collection', 'Nope', 'Why?').stderr).toContain('There is no collection named “Nope”.');

    expect(cli('knowledge', 'search', 'ledger').status).toBe(2);
    expect(cli('knowledge', 'search', '--collection', 'Nope', '--limit', '0', 'ledger').status).toBe(2);
    expect(cli('knowledge', 'ingest', docs).status).toBe(2);
    expect(cli('knowledge', 'ingest', docs, '--collection', 'X', '--embedding-model', 'none').status).toBe(2);
    expect(cli('knowledge', 'create', '  ').status).toBe(2);
    expect(cli('knowledge', 'ingest', '--help').stdout).toContain('Usage: soberana knowledge ingest');
    expect(cli('--help').stdout).toMatch(/^ {2}knowledge collections {2}List document collections/m);
  });

  it('ingests PDF, DOCX, HTML and Markdown into a words-only collection, then skips them as unchanged', () => {
    const created = cli('knowledge', 'create', 'Handbook', '--embedding-model', 'none');
    expect(created.status, created.stderr).toBe(0);
    expect(created.stdout).toContain('created  “Handbook”  words only');
    expect(cli('knowledge', 'create', 'handbook').stderr).toContain('A collection named “handbook” already exists.');

    const first = cli('knowledge', 'ingest', docs, '--collection', 'handbook');
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^added 4, unchanged 0, failed 0 — \d+ pages in [\d.]+ s into “Handbook”$/m);
    // Not a terminal: plain progress lines, with the pace ("--" until half a second has passed: a fast run may finish sooner).
    expect(first.stderr).toMatch(/^progress: 100%, 4 of 4 files, \d+ pages, (?:[\d.]+|--) pages\/s$/m);

    const again = cli('knowledge', 'ingest', ...documents.files.map((file) => path.join(docs, file.name)), '--collection', 'Handbook', '--json');
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ added: 0, unchanged: 4, failed: 0, cancelled: 0, collection: { name: 'Handbook', documents: 4 } });

    const [handbook] = collections();
    expect(handbook).toMatchObject({ name: 'Handbook', documents: 4, failed: 0, search: 'text', embeddingModelId: null });
    expect(handbook!.chunks).toBeGreaterThan(4);
    const table = cli('knowledge', 'collections').stdout;
    expect(table).toMatch(/^NAME\s+DOCUMENTS\s+PAGES\s+PASSAGES\s+SEARCH\s+EMBEDDING MODEL$/m);
    expect(table).toMatch(new RegExp(`^Handbook\\s+4\\s+\\d+\\s+${handbook!.chunks}\\s+words only\\s+-$`, 'm'));
  });

  it('exits 1 for a file that cannot be read, printing its reason', () => {
    const run = cli('knowledge', 'ingest', locked, path.join(dir, 'not-there.pdf'), '--collection', 'Handbook');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^failed {3}.*locked\.pdf\n {2}encrypted: This PDF is password-protected\./m);
    expect(run.stderr).toMatch(/^failed {3}.*not-there\.pdf\n {2}missing: There is no such file or folder\./m);
    expect(run.stdout).toMatch(/^added 0, unchanged 0, failed 2 /m);
    expect(collections()[0]).toMatchObject({ documents: 5, failed: 1 });
  });

  it('finds each known fact’s document and page first', () => {
    for (const fact of documents.facts) {
      const run = cli('knowledge', 'search', '--collection', 'Handbook', fact.code, '--json', '--limit', '3');
      expect(run.status, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout) as SearchResult;
      expect(result.mode).toBe('text');
      const [top] = result.passages;
      expect(top, fact.code).toMatchObject({ documentName: fact.file, page: fact.page });
      expect(top!.text).toContain(fact.sentence);
      if (fact.page === null) expect(top!.headingPath.at(-1)).toBe(fact.heading);
    }
    const pdf = factOf('doc-001.pdf');
    const text = cli('knowledge', 'search', '--collection', 'Handbook', pdf.code);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^1\\. doc-001\\.pdf, page ${pdf.page} {2}\\(score [\\d.]+\\)\\n {3}.*${pdf.code}`, 'm'));
    expect(text.stderr).toMatch(/^mode=words only passages=\d+ ms=\d+$/m);
  });

  it('creates a collection on the default embedding model when ingesting with --create', async () => {
    await writeGguf(path.join(dir, 'cli-embedder.gguf'), {
      ...presetSpec('tiny', 'Q8_0', 21),
      contextLength: 512,
      extraMetadata: [['llama.pooling_type', gv.u32(1)]],
    });
    expect(cli('models', 'import', path.join(dir, 'cli-embedder.gguf'), '--mode', 'reference').status).toBe(0);

    const run = cli('knowledge', 'ingest', path.join(docs, 'doc-001.pdf'), '--collection', 'Vectors', '--create');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain('created  “Vectors”  words and meaning with cli-embedder');
    expect(run.stdout).toMatch(/^added 1, unchanged 0, failed 0 — 10 pages /m);
    const vectors = collections().find((collection) => collection.name === 'Vectors');
    expect(vectors).toMatchObject({ documents: 1, pages: 10, search: 'hybrid', embeddingModelName: 'cli-embedder' });
    expect(cli('knowledge', 'collections').stdout).toMatch(/^Vectors\s+1\s+10\s+\d+\s+words and meaning\s+cli-embedder$/m);

    // Both collections at once: one search per embedding model, fused.
    const pdf = factOf('doc-001.pdf');
    const both = cli('knowledge', 'search', '--collection', 'Vectors', '--collection', 'Handbook', pdf.code, '--json');
    expect(both.status, both.stderr).toBe(0);
    const result = JSON.parse(both.stdout) as SearchResult;
    expect(result.mode).toBe('hybrid');
    expect(new Set(result.passages.map((passage) => passage.collectionId)).size).toBe(2);
    expect(result.passages.filter((passage) => passage.text.includes(pdf.code)).map((passage) => passage.page)).toEqual([pdf.page, pdf.page]);
  });

  it('answers from a collection, streaming, then lists its sources; the conversation is the app’s', async () => {
    // quietEnd: the random model never ends its turn, so the answer cannot be empty by chance (its first token the end of turn).
    await writeGguf(path.join(dir, 'cli-chat.gguf'), { ...presetSpec('tiny', 'Q8_0', 11), contextLength: 4096, quietEnd: true });
    expect(cli('models', 'import', path.join(dir, 'cli-chat.gguf'), '--mode', 'reference').status).toBe(0);
    const pdf = factOf('doc-001.pdf');

    const run = cli('knowledge', 'ask', '--collection', 'Handbook', `Which ledger has the registry code ${pdf.code}?`);
    expect(run.status, run.stderr).toBe(0);
    const [answer, sources] = run.stdout.split('\nSources (words only):\n');
    expect(answer!.trim().length).toBeGreaterThan(0);
    expect(sources!.split('\n')[0]).toBe(`[1] doc-001.pdf, page ${pdf.page}`);
    expect(run.stderr).toMatch(/tokens=\d+ tokens_per_s=[\d.]+ sources=\d+ status=(complete|interrupted)/);

    const id = /conversation=([0-9a-f]{16})/.exec(run.stderr)?.[1] ?? '';
    const db = openDatabase(dataDir);
    try {
      const thread = createChatStore(db).thread(id);
      expect(thread.conversation.knowledge).toEqual({ collectionIds: [collections().find((c) => c.name === 'Handbook')!.id], documentsOnly: false });
      expect(thread.messages[1]?.sources[0]).toMatchObject({ documentName: 'doc-001.pdf', page: pdf.page });
    } finally {
      db.close();
    }

    // Nothing relevant, documents only: the model is not asked, and says so.
    const refused = cli('knowledge', 'ask', '--collection', 'Handbook', '--documents-only', '--json', 'zebra xylophone?');
    expect(refused.status, refused.stderr).toBe(0);
    const json = JSON.parse(refused.stdout) as { answer: string; sources: unknown[]; notices: { kind: string }[] };
    expect(json.sources).toEqual([]);
    expect(json.answer).toContain('I could not find anything about this in the attached collections');
    expect(json.notices.map((notice) => notice.kind)).toContain('noSources');
  });
});
