import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { htmlDocument, markdownDocument, pdfDocument, writeDocuments } from '../../../../e2e/fixtures/documents/index.ts';
import { gv } from '../../../../e2e/fixtures/gguf/index.ts';
import { presetSpec, rerankerSpec, writeGguf } from '../../../../e2e/fixtures/gguf/writer.ts';
import { noSourcesAnswer } from './retrieval/grounding.ts';
import { createCore, type Core } from '../core.ts';
import { importModel, libraryDirFor, scanModels } from '../models/index.ts';
import { VECTOR_DIR } from '../storage/lance.ts';
import { allDocuments } from '../../../test-support/knowledge-documents.ts';

// The knowledge service over real SQLite, LanceDB, the extraction worker and the inference
// process: what a user does on the Documents screen, and what survives a restart.

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };
const ctx = { caller: { origin: 'test', isMainFrame: true }, signal: new AbortController().signal };

let dir: string;
let docs: Record<string, string>;
let embedder: string;
const cores: Core[] = [];

async function open(dataDir: string): Promise<Core> {
  const core = await createCore({ dataDir, host: HOST, watchDebounceMs: 100 });
  cores.push(core);
  const current = await core.handlers['settings.get']({}, ctx);
  if (current.ok) await core.handlers['settings.update']({ runtime: { ...current.value.runtime, threads: 1 } }, ctx);
  return core;
}

async function close(core: Core) {
  cores.splice(cores.indexOf(core), 1);
  await core.close();
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-knowledge-'));
  embedder = path.join(dir, 'embedder.gguf');
  await writeGguf(embedder, { ...presetSpec('tiny', 'Q8_0', 81), name: 'embedder', extraMetadata: [['llama.pooling_type', gv.u32(1)]] });
  docs = await writeDocuments(path.join(dir, 'docs'), {
    'atlas.pdf': await pdfDocument([
      { blocks: [{ kind: 'paragraph', text: 'The northern atlas shows the Brindlemoor fens in detail.' }] },
      { blocks: [{ kind: 'paragraph', text: 'Tide tables for the Saltmarsh estuary follow on this page.' }] },
    ]),
    'guide.md': markdownDocument({
      sections: [{ heading: 'Walking', level: 1, paragraphs: ['Bring a lantern for the Brindlemoor crossing after dusk.', 'Paths close in winter.'] }],
    }),
    'notes.html': htmlDocument({ title: 'Notes', sections: [{ heading: 'Harbour', level: 1, paragraphs: ['The Saltmarsh harbour master keeps the keys.'] }] }),
  });
}, 60_000);

afterEach(async () => {
  for (const core of cores.splice(0)) await core.close();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('knowledge service', () => {
  it('rebuilds a deleted index at the next start, says so, and finds the same passages', async () => {
    const dataDir = await mkdtemp(path.join(dir, 'data-'));
    let core = await open(dataDir);
    const [candidate] = (await scanModels(embedder)).candidates;
    const model = await importModel(core.storage, libraryDirFor(dataDir), candidate!, { mode: 'reference' });
    const hybrid = await core.knowledge.createCollection('Maps', model.id);
    const text = await core.knowledge.createCollection('Plain', null);
    await core.knowledge.addPaths(hybrid.id, Object.values(docs));
    await core.knowledge.addPaths(text.id, Object.values(docs));
    await core.knowledge.idle();
    const queries = ['Brindlemoor', 'Saltmarsh harbour', 'tide tables estuary', 'lantern'];
    const search = (c: Core) =>
      Promise.all(
        queries.flatMap((query) =>
          [hybrid.id, text.id].map((id) =>
            c.knowledge.search({ query, collectionIds: [id] }).then((r) => r.passages.map((p) => `${p.documentName}:${p.page ?? '-'}:${p.chunkId}`)),
          ),
        ),
      );
    const before = await search(core);
    expect(before.every((list) => list.length > 0)).toBe(true);
    expect(core.knowledge.notices()).toEqual([]);
    await close(core);

    await rm(path.join(dataDir, VECTOR_DIR), { recursive: true, force: true });
    core = await open(dataDir);
    expect(core.knowledge.notices().join(' ')).toMatch(/rebuilt/);
    expect(await search(core)).toEqual(before);
    const page = (await core.knowledge.search({ query: 'tide tables estuary', collectionIds: [text.id] })).passages[0];
    expect([page?.documentName, page?.page]).toEqual(['atlas.pdf', 2]);
  }, 120_000);

  it('skips unchanged files, replaces changed ones, and removes a document with its passages', async () => {
    const dataDir = await mkdtemp(path.join(dir, 'data-'));
    const core = await open(dataDir);
    const collection = await core.knowledge.createCollection('Notes', null);
    const file = path.join(dir, 'changing.md');
    await writeFile(file, '# Log\n\nThe first entry mentions quartzfern.\n');
    await core.knowledge.addPaths(collection.id, [file]);
    await core.knowledge.idle();
    await core.knowledge.addPaths(collection.id, [file]);
    await core.knowledge.idle();
    expect(core.knowledge.queue.progress()).toMatchObject({ skipped: 1, done: 0 });

    await writeFile(file, '# Log\n\nThe second entry mentions emberlily instead.\n');
    await core.knowledge.addPaths(collection.id, [file]);
    await core.knowledge.idle();
    const find = async (query: string) => (await core.knowledge.search({ query, collectionIds: [collection.id] })).passages.length;
    expect(await find('quartzfern')).toBe(0);
    expect(await find('emberlily')).toBe(1);
    const [document] = allDocuments(core.knowledge, collection.id);
    expect(document).toMatchObject({ status: 'indexed', name: 'changing.md' });

    await core.knowledge.removeDocument(document!.id);
    expect(allDocuments(core.knowledge, collection.id)).toEqual([]);
    expect(await find('emberlily')).toBe(0);
    expect(await core.knowledge.index.count('fts')).toBe(0);
  }, 60_000);

  // A change is picked up after the watcher's debounce, then extracted and indexed: seconds
  // on a quiet machine, much more on a busy shared one. The wait is generous, the check exact.
  const WATCH_WAIT_MS = 45_000;

  it(
    'watches a folder: new, changed and removed files',
    async () => {
      const dataDir = await mkdtemp(path.join(dir, 'data-'));
      const core = await open(dataDir);
      const collection = await core.knowledge.createCollection('Inbox', null);
      const folder = await mkdtemp(path.join(dir, 'watched-'));
      await writeFile(path.join(folder, 'a.md'), 'Alpha mentions the word copperwing.');
      await core.knowledge.addPaths(collection.id, [folder], true);
      await core.knowledge.idle();
      expect(core.knowledge.collections()[0]?.watched.map((watched) => watched.path)).toEqual([folder]);
      const names = () =>
        allDocuments(core.knowledge, collection.id)
          .filter((document) => document.status === 'indexed')
          .map((document) => document.name)
          .sort();
      expect(names()).toEqual(['a.md']);

      await writeFile(path.join(folder, 'b.txt'), 'Bravo mentions the word silverfin.');
      await expect.poll(names, { timeout: WATCH_WAIT_MS }).toEqual(['a.md', 'b.txt']);

      await writeFile(path.join(folder, 'a.md'), 'Alpha now mentions goldleaf.');
      const later = new Date(Date.now() + 5_000);
      await utimes(path.join(folder, 'a.md'), later, later);
      const hits = async (query: string) => (await core.knowledge.search({ query, collectionIds: [collection.id] })).passages.length;
      await expect.poll(() => hits('goldleaf'), { timeout: WATCH_WAIT_MS }).toBe(1);
      expect(await hits('copperwing')).toBe(0);

      await rm(path.join(folder, 'b.txt'));
      await expect.poll(names, { timeout: WATCH_WAIT_MS }).toEqual(['a.md']);
      expect(await hits('silverfin')).toBe(0);

      // A file it cannot read is listed as skipped, once, and leaves when the file does.
      const skipped = () =>
        allDocuments(core.knowledge, collection.id, { status: 'skipped' }).map((document) => `${document.name}: ${document.error?.message}`);
      await writeFile(path.join(folder, 'tool.exe'), 'not a document');
      await expect.poll(skipped, { timeout: WATCH_WAIT_MS }).toEqual([expect.stringMatching(/^tool\.exe: Soberana cannot read \.exe files\./)]);
      expect(core.knowledge.collections()[0]).toMatchObject({ failed: 0, pending: 0 });
      await rm(path.join(folder, 'tool.exe'));
      await expect.poll(skipped, { timeout: WATCH_WAIT_MS }).toEqual([]);
    },
    6 * WATCH_WAIT_MS,
  );

  it('lists unreadable files of an added folder as skipped and retries failed documents of a folder', async () => {
    const dataDir = await mkdtemp(path.join(dir, 'data-'));
    const core = await open(dataDir);
    const collection = await core.knowledge.createCollection('Retry', null);
    const folder = await mkdtemp(path.join(dir, 'retry-'));
    await mkdir(path.join(folder, 'old'));
    await mkdir(path.join(folder, 'new'));
    await writeFile(path.join(folder, 'old', 'empty.md'), '');
    await writeFile(path.join(folder, 'new', 'blank.md'), '');
    await writeFile(path.join(folder, 'old', 'tool.exe'), 'MZ');
    const added = await core.knowledge.addPaths(collection.id, [folder]);
    expect(added).toMatchObject({ queued: 2, unsupported: [], skipped: [{ path: path.join(folder, 'old', 'tool.exe'), reason: 'unsupported' }] });
    await core.knowledge.idle();
    // Added again: still one row per path.
    await core.knowledge.addPaths(collection.id, [folder]);
    await core.knowledge.idle();
    const tree = core.knowledge.folders(collection.id);
    expect(tree.root).toBe(folder);
    expect(tree.folders.map((entry) => [entry.path, entry.counts])).toEqual([
      ['', { indexed: 0, pending: 0, failed: 2, skipped: 1 }],
      ['new', { indexed: 0, pending: 0, failed: 1, skipped: 0 }],
      ['old', { indexed: 0, pending: 0, failed: 1, skipped: 1 }],
    ]);
    await writeFile(path.join(folder, 'old', 'empty.md'), 'Now the old note mentions quillfeather.');
    await writeFile(path.join(folder, 'new', 'blank.md'), 'The new note mentions driftwood.');
    expect(core.knowledge.retryFailed(collection.id, 'old')).toBe(1);
    await core.knowledge.idle();
    const status = () =>
      Object.fromEntries(allDocuments(core.knowledge, collection.id).map((document) => [`${document.folder}/${document.name}`, document.status]));
    expect(status()).toEqual({ 'old/empty.md': 'indexed', 'new/blank.md': 'failed', 'old/tool.exe': 'skipped' });
    expect(core.knowledge.retryFailed(collection.id)).toBe(1);
    await core.knowledge.idle();
    expect(status()).toMatchObject({ 'new/blank.md': 'indexed', 'old/tool.exe': 'skipped' });
    expect(core.knowledge.retryFailed(collection.id)).toBe(0);
  });

  it('changing the embedding model re-indexes every document with the new vectors', async () => {
    const dataDir = await mkdtemp(path.join(dir, 'data-'));
    const core = await open(dataDir);
    const collection = await core.knowledge.createCollection('Switch', null);
    await core.knowledge.addPaths(collection.id, Object.values(docs));
    await core.knowledge.idle();
    expect((await core.knowledge.search({ query: 'Brindlemoor', collectionIds: [collection.id] })).mode).toBe('text');
    const [candidate] = (await scanModels(embedder)).candidates;
    const model = await importModel(core.storage, libraryDirFor(dataDir), candidate!, { mode: 'reference' });
    const updated = await core.knowledge.updateCollection(collection.id, { embeddingModelId: model.id });
    expect(updated.search).toBe('hybrid');
    await core.knowledge.idle();
    expect(allDocuments(core.knowledge, collection.id).map((document) => document.status)).toEqual(['indexed', 'indexed', 'indexed']);
    const key = core.knowledge.store.collection(collection.id).embeddingKey;
    const chunks = allDocuments(core.knowledge, collection.id).reduce((sum, document) => sum + document.chunks, 0);
    expect(await core.knowledge.index.count(key)).toBe(chunks);
    expect(await core.knowledge.index.count('fts')).toBe(0);
    const result = await core.knowledge.search({ query: 'Brindlemoor', collectionIds: [collection.id] });
    expect(result.mode).toBe('hybrid');
    expect(result.passages[0]?.snippet).toMatch(/Brindlemoor/);
  }, 120_000);

  it('reranks with a reranking model from the library, and answers only from the documents when asked', async () => {
    const dataDir = await mkdtemp(path.join(dir, 'data-'));
    const core = await open(dataDir);
    const reranker = path.join(dir, 'reranker.gguf');
    const chat = path.join(dir, 'chat.gguf');
    await writeGguf(reranker, rerankerSpec(5));
    await writeGguf(chat, { ...presetSpec('tiny', 'Q8_0', 6), contextLength: 4096 });
    for (const file of [reranker, chat]) {
      const [candidate] = (await scanModels(file)).candidates;
      await importModel(core.storage, libraryDirFor(dataDir), candidate!, { mode: 'reference' });
    }
    const collection = await core.knowledge.createCollection('Field notes', null);
    await core.knowledge.addPaths(collection.id, Object.values(docs));
    await core.knowledge.idle();
    // Counts the calls and passes them on to the real ranking context.
    const rank = core.runtime.rank.bind(core.runtime);
    let ranked = 0;
    core.runtime.rank = async (...args) => {
      ranked += 1;
      return rank(...args);
    };
    const result = await core.knowledge.search({ query: 'Saltmarsh harbour', collectionIds: [collection.id] });
    expect(result.passages.length).toBeGreaterThan(0);
    expect(ranked).toBe(1);
    const found = await core.knowledge.retrieveForChat('Saltmarsh harbour', [collection.id], 1000);
    expect(found.relevant).toBe(true);

    const conversation = await core.handlers['chat.create']({}, ctx);
    if (!conversation.ok) throw new Error(conversation.error.message);
    const id = conversation.value.id;
    const settings = { ...conversation.value.settings, sampling: { ...conversation.value.settings.sampling, maxTokens: 8 } };
    await core.handlers['chat.update']({ id, settings, knowledge: { collectionIds: [collection.id], documentsOnly: true } }, ctx);
    const send = async (content: string) => {
      const events: { type: string }[] = [];
      const stream = core.handlers['chat.send']({ conversationId: id, content }, ctx);
      for await (const event of stream as AsyncIterable<{ type: string }>) events.push(event);
      return events;
    };
    // Nothing in the collection holds these words: a refusal, and the model is never asked.
    const refused = await send('quasar nebula zeppelin');
    const done = refused.find((event) => event.type === 'done') as unknown as { message: { content: string; stats: unknown; sources: unknown[] } };
    expect(done.message.content).toBe(noSourcesAnswer());
    expect(done.message.stats).toBeNull();
    expect(refused.some((event) => event.type === 'notice')).toBe(true);
    // A question the documents answer gets its sources and a real answer.
    const answered = await send('Who keeps the keys of the Saltmarsh harbour?');
    const sources = answered.find((event) => event.type === 'sources') as unknown as { sources: { documentName: string }[] };
    expect(sources.sources.map((source) => source.documentName)).toContain('notes.html');
    const final = answered.find((event) => event.type === 'done') as unknown as { message: { stats: unknown; sources: unknown[] } };
    expect(final.message.stats).not.toBeNull();
    expect(final.message.sources.length).toBeGreaterThan(0);
  }, 120_000);

  it('cancelling a run leaves no document half in the index', async () => {
    const dataDir = await mkdtemp(path.join(dir, 'data-'));
    const core = await open(dataDir);
    const collection = await core.knowledge.createCollection('Cancel', null);
    const many: Record<string, Uint8Array> = {};
    for (let i = 0; i < 40; i += 1)
      many[`n${i}.md`] = markdownDocument({ sections: [{ heading: `Note ${i}`, level: 1, paragraphs: [`Entry ${i} mentions cancelword${i}.`] }] });
    const paths = await writeDocuments(path.join(dir, 'many'), many);
    await core.knowledge.addPaths(collection.id, Object.values(paths));
    core.knowledge.queue.cancel();
    await core.knowledge.idle();
    const documents = allDocuments(core.knowledge, collection.id);
    expect(documents.every((document) => document.status === 'indexed')).toBe(true);
    const rows = await core.knowledge.index.countByDocument('fts');
    for (const document of documents) expect(rows.get(document.id)).toBe(document.chunks);
    expect([...rows.keys()].every((id) => documents.some((document) => document.id === id))).toBe(true);
    expect(core.knowledge.queue.progress().active).toBe(false);
  }, 60_000);
});
