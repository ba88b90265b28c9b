import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { htmlDocument, markdownDocument, pdfDocument, writeDocuments } from '../../../../e2e/fixtures/documents/index.ts';
import { gv } from '../../../../e2e/fixtures/gguf/index.ts';
import { presetSpec, writeGguf } from '../../../../e2e/fixtures/gguf/writer.ts';
import { AppError } from '../../../common/result.ts';
import { createCore, type Core } from '../core.ts';
import { findModelBySha256, importModel, libraryDirFor, scanModels } from '../models/index.ts';
import {
  CHUNKS_FILE,
  DOCUMENTS_FILE,
  exportKnowledgePack,
  importKnowledgePack,
  PACK_FILE,
  type ImportOptions,
  type PackChunk,
  type PackDocument,
  type PackManifest,
} from './pack.ts';
import { documentsDirFor } from './service.ts';
import { allDocuments } from '../../../test-support/knowledge-documents.ts';

// Knowledge packs over real SQLite, LanceDB, extraction and inference: a collection
// exported on one machine and imported into a fresh data folder finds the same passages,
// and a pack that is incomplete or changed is refused without leaving anything behind.

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };
const ctx = { caller: { origin: 'test', isMainFrame: true }, signal: new AbortController().signal };
const QUERIES = ['Brindlemoor', 'Saltmarsh harbour', 'tide tables estuary', 'lantern'];

let dir: string;
let embedder: string;
let hybridPack: string;
let textPack: string;
let before: { hybrid: string[][]; text: string[][] };
const cores: Core[] = [];

async function open(dataDir: string): Promise<Core> {
  const core = await createCore({ dataDir, host: HOST });
  cores.push(core);
  const current = await core.handlers['settings.get']({}, ctx);
  if (current.ok) await core.handlers['settings.update']({ runtime: { ...current.value.runtime, threads: 1 } }, ctx);
  return core;
}

async function importEmbedder(core: Core) {
  const [candidate] = (await scanModels(embedder)).candidates;
  return importModel(core.storage, libraryDirFor(core.dataDir), candidate!, { mode: 'reference' });
}

const deps = (core: Core) => ({ db: core.storage, store: core.knowledge.store, index: core.knowledge.index, documentsDir: documentsDirFor(core.dataDir) });
const installed = (core: Core) => (sha256: string) => findModelBySha256(core.storage, sha256)?.status === 'ok';
const options = (core: Core, extra: Partial<ImportOptions> = {}): ImportOptions => ({ readOnly: true, requireModel: installed(core), ...extra });

const search = (core: Core, collectionId: string) =>
  Promise.all(
    QUERIES.map(async (query) =>
      (await core.knowledge.search({ query, collectionIds: [collectionId] })).passages.map((passage) => `${passage.documentName}:${passage.page ?? '-'}`),
    ),
  );

/** What an import may leave behind: collections, stored copies, LanceDB rows. */
async function leftovers(core: Core, keys: readonly string[]) {
  const copies = await readdir(documentsDirFor(core.dataDir)).catch(() => []);
  const rows = await Promise.all(keys.map((key) => core.knowledge.index.count(key)));
  return { collections: core.knowledge.collections().length, copies: copies.length, rows: rows.reduce((sum, n) => sum + n, 0) };
}

async function refusal(run: Promise<unknown>): Promise<AppError> {
  const error = await run.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

const readJsonl = async <T>(file: string) =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as T);
const writeJsonl = (file: string, rows: readonly unknown[]) => writeFile(file, rows.map((row) => `${JSON.stringify(row)}\n`).join(''));

async function tampered(name: string, change: (pack: string) => Promise<void>): Promise<string> {
  const copy = path.join(dir, 'tampered', name);
  await cp(hybridPack, copy, { recursive: true });
  await change(copy);
  return copy;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-pack-'));
  embedder = path.join(dir, 'embedder.gguf');
  await writeGguf(embedder, { ...presetSpec('tiny', 'Q8_0', 81), name: 'embedder', extraMetadata: [['llama.pooling_type', gv.u32(1)]] });
  const docs = await writeDocuments(path.join(dir, 'docs'), {
    'atlas.pdf': await pdfDocument([
      { blocks: [{ kind: 'paragraph', text: 'The northern atlas shows the Brindlemoor fens in detail.' }] },
      { blocks: [{ kind: 'paragraph', text: 'Tide tables for the Saltmarsh estuary follow on this page.' }] },
    ]),
    'guide.md': markdownDocument({
      sections: [{ heading: 'Walking', level: 1, paragraphs: ['Bring a lantern for the Brindlemoor crossing after dusk.', 'Paths close in winter.'] }],
    }),
    'notes.html': htmlDocument({ title: 'Notes', sections: [{ heading: 'Harbour', level: 1, paragraphs: ['The Saltmarsh harbour master keeps the keys.'] }] }),
  });

  // The machine that makes the packs: one collection with the embedding model, one by words only.
  const core = await open(path.join(dir, 'source'));
  const model = await importEmbedder(core);
  const hybrid = await core.knowledge.createCollection('Maps', model.id);
  const text = await core.knowledge.createCollection('Plain', null);
  await core.knowledge.addPaths(hybrid.id, Object.values(docs));
  await core.knowledge.addPaths(text.id, Object.values(docs));
  await core.knowledge.idle();
  before = { hybrid: await search(core, hybrid.id), text: await search(core, text.id) };
  expect([...before.hybrid, ...before.text].every((list) => list.length > 0)).toBe(true);

  const exportDeps = { db: core.storage, store: core.knowledge.store, documentsDir: documentsDirFor(core.dataDir) };
  hybridPack = path.join(dir, 'packs', 'maps');
  textPack = path.join(dir, 'packs', 'plain');
  const progress: number[] = [];
  const summary = await exportKnowledgePack(exportDeps, hybrid.id, hybridPack, (p) => progress.push(p.done));
  expect(summary).toMatchObject({ collection: 'Maps', documents: 3, embedding: { sha256: model.sha256, modelName: model.displayName } });
  expect(progress).toEqual([1, 2, 3]);
  await exportKnowledgePack(exportDeps, text.id, textPack);
  await core.close();
  cores.splice(0);
}, 180_000);

afterEach(async () => {
  for (const core of cores.splice(0)) await core.close();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('knowledge packs', () => {
  it('writes pack.json, one line per document and passage, and the documents’ copies', async () => {
    const manifest = JSON.parse(await readFile(path.join(hybridPack, PACK_FILE), 'utf8')) as PackManifest;
    expect(manifest).toMatchObject({
      format: 1,
      collection: { name: 'Maps', embedding: { dimensions: expect.any(Number) as number, modelName: 'embedder' } },
      documents: 3,
    });
    const documents = await readJsonl<PackDocument>(path.join(hybridPack, DOCUMENTS_FILE));
    const chunks = await readJsonl<PackChunk>(path.join(hybridPack, CHUNKS_FILE));
    expect(documents.map((document) => document.name).sort()).toEqual(['atlas.pdf', 'guide.md', 'notes.html']);
    expect(documents.find((document) => document.name === 'atlas.pdf')).toMatchObject({ format: 'pdf', pageCount: 2 });
    for (const document of documents) expect(document.file).toBe(`files/${document.sha256.slice(0, 16)}-${document.name}`);
    expect(await readdir(path.join(hybridPack, 'files'))).toHaveLength(3);
    expect(chunks).toHaveLength(manifest.chunks);
    expect(Buffer.from(chunks[0]!.vector!, 'base64').byteLength).toBe(manifest.collection.embedding!.dimensions * 4);
    expect(await readdir(path.dirname(hybridPack))).toEqual(['maps', 'plain']);

    const text = JSON.parse(await readFile(path.join(textPack, PACK_FILE), 'utf8')) as PackManifest;
    expect(text.collection).toEqual({ name: 'Plain', embedding: null });
    expect((await readJsonl<PackChunk>(path.join(textPack, CHUNKS_FILE))).every((chunk) => chunk.vector === null)).toBe(true);
  });

  it('refuses an existing folder that is not empty, and leaves no partial pack', async () => {
    const core = await open(path.join(dir, 'source'));
    const [collection] = core.knowledge.collections();
    const exportDeps = { db: core.storage, store: core.knowledge.store, documentsDir: documentsDirFor(core.dataDir) };
    const error = await refusal(exportKnowledgePack(exportDeps, collection!.id, hybridPack));
    expect(error.message).toMatch(/already exists and is not empty/);
    expect((await readdir(path.dirname(hybridPack))).sort()).toEqual(['maps', 'plain']);

    // An empty folder is fine: it becomes the pack.
    const empty = path.join(dir, 'packs-empty', 'pack');
    await mkdir(empty, { recursive: true });
    await exportKnowledgePack(exportDeps, collection!.id, empty);
    expect((await readdir(empty)).sort()).toEqual([CHUNKS_FILE, DOCUMENTS_FILE, 'files', PACK_FILE].sort());
    expect(await readdir(path.dirname(empty))).toEqual(['pack']);
  }, 60_000);

  it('imports into a fresh data folder only with the embedding model, and then finds the same passages', async () => {
    const core = await open(path.join(dir, 'fresh'));
    const manifest = JSON.parse(await readFile(path.join(hybridPack, PACK_FILE), 'utf8')) as PackManifest;
    const key = manifest.collection.embedding!.sha256;

    const refused = await refusal(importKnowledgePack(deps(core), hybridPack, options(core)));
    expect(refused.code).toBe('bad_request');
    expect(refused.message).toBe(
      `This knowledge pack needs the embedding model “embedder” (sha256 ${key.slice(0, 12)}…), which is not installed. Install the bundle that carries it, or import the model first.`,
    );
    expect(await leftovers(core, [key])).toEqual({ collections: 0, copies: 0, rows: 0 });

    const model = await importEmbedder(core);
    expect(model.sha256).toBe(key);
    const stages = new Set<string>();
    const id = await importKnowledgePack(deps(core), hybridPack, options(core, { onProgress: (progress) => stages.add(progress.stage) }));
    expect([...stages]).toEqual(['verify', 'store', 'index']);
    const [imported] = core.knowledge.collections();
    expect(imported).toMatchObject({
      id,
      name: 'Maps',
      readOnly: true,
      search: 'hybrid',
      embeddingModelId: model.id,
      documents: 3,
      chunks: manifest.chunks,
      pending: 0,
    });
    expect(allDocuments(core.knowledge, id).every((document) => document.status === 'indexed')).toBe(true);
    expect(await core.knowledge.index.count(key)).toBe(manifest.chunks);
    expect(await search(core, id)).toEqual(before.hybrid);
    // The copies came along: the viewer opens the PDF.
    const atlas = allDocuments(core.knowledge, id).find((document) => document.name === 'atlas.pdf')!;
    expect((await core.knowledge.view(atlas.id)).pdfBase64).not.toBeNull();
    await expect(core.knowledge.addPaths(id, [embedder])).rejects.toMatchObject({ code: 'forbidden' });

    // The same pack again is a second collection, under a free name.
    const again = await importKnowledgePack(deps(core), hybridPack, options(core, { readOnly: false }));
    expect(core.knowledge.collections().find((collection) => collection.id === again)).toMatchObject({ name: 'Maps (2)', readOnly: false });
  }, 120_000);

  it('imports a words-only pack without any model', async () => {
    const core = await open(path.join(dir, 'no-models'));
    const id = await importKnowledgePack(deps(core), textPack, options(core, { requireModel: () => false, name: 'Handbook' }));
    expect(core.knowledge.collections()).toMatchObject([{ id, name: 'Handbook', search: 'text', embeddingModelId: null, readOnly: true, documents: 3 }]);
    expect(await search(core, id)).toEqual(before.text);
  }, 60_000);

  it('refuses a tampered pack and leaves nothing behind', async () => {
    const core = await open(path.join(dir, 'tampered-target'));
    await importEmbedder(core);
    const key = (JSON.parse(await readFile(path.join(hybridPack, PACK_FILE), 'utf8')) as PackManifest).collection.embedding!.sha256;
    const chunksOf = (pack: string) => readJsonl<PackChunk>(path.join(pack, CHUNKS_FILE));
    const documentsOf = (pack: string) => readJsonl<PackDocument>(path.join(pack, DOCUMENTS_FILE));

    const cases: [string, (pack: string) => Promise<void>, RegExp][] = [
      [
        'short-vector',
        async (pack) => {
          const chunks = await chunksOf(pack);
          chunks[1] = { ...chunks[1]!, vector: Buffer.from(chunks[1]!.vector!, 'base64').subarray(4).toString('base64') };
          await writeJsonl(path.join(pack, CHUNKS_FILE), chunks);
        },
        /chunks\.jsonl line 2: the vector is not \d+ finite float32 values/,
      ],
      [
        'missing-document',
        async (pack) => {
          const chunks = await chunksOf(pack);
          chunks[0] = { ...chunks[0]!, documentId: 'not-in-the-pack' };
          await writeJsonl(path.join(pack, CHUNKS_FILE), chunks);
        },
        /not-in-the-pack, which is not in documents\.jsonl/,
      ],
      [
        'changed-file',
        async (pack) => {
          // The last document's file, so the copies of the first two were made and must go.
          const last = (await documentsOf(pack)).at(-1)!;
          const file = path.join(pack, last.file!);
          const bytes = await readFile(file);
          bytes[bytes.length - 2] = bytes[bytes.length - 2]! ^ 0xff;
          await writeFile(file, bytes);
        },
        /does not match its recorded SHA-256/,
      ],
      [
        'offsets',
        async (pack) => {
          const chunks = await chunksOf(pack);
          chunks[0] = { ...chunks[0]!, end: chunks[0]!.start + chunks[0]!.text.length + 1 };
          await writeJsonl(path.join(pack, CHUNKS_FILE), chunks);
        },
        /offsets that fit the passage text/,
      ],
      [
        'escaping-path',
        async (pack) => {
          const documents = await documentsOf(pack);
          documents[0] = { ...documents[0]!, file: '../../secret.txt' };
          await writeJsonl(path.join(pack, DOCUMENTS_FILE), documents);
        },
        /a file under files\//,
      ],
      [
        'extra-field',
        async (pack) => {
          const manifest = JSON.parse(await readFile(path.join(pack, PACK_FILE), 'utf8')) as PackManifest;
          await writeFile(path.join(pack, PACK_FILE), JSON.stringify({ ...manifest, run: 'this' }));
        },
        /pack\.json: .*run/,
      ],
    ];
    for (const [name, change, details] of cases) {
      const error = await refusal(importKnowledgePack(deps(core), await tampered(name, change), options(core)));
      expect(error.code, name).toBe('bad_request');
      expect(`${error.message} ${error.details ?? ''}`, name).toMatch(details);
      expect(await leftovers(core, [key]), name).toEqual({ collections: 0, copies: 0, rows: 0 });
    }

    // A failure after the rows are written (here: optimize) takes them out again.
    const failing = { ...deps(core), index: { ...core.knowledge.index, optimize: () => Promise.reject(new Error('disk full')) } };
    await expect(importKnowledgePack(failing, hybridPack, options(core))).rejects.toThrow('disk full');
    expect(await leftovers(core, [key])).toEqual({ collections: 0, copies: 0, rows: 0 });
  }, 120_000);
});
