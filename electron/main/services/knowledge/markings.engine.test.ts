import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { markdownDocument, writeDocuments } from '../../../../e2e/fixtures/documents/index.ts';
import { presetSpec, writeGguf } from '../../../../e2e/fixtures/gguf/writer.ts';
import type { ChatEvent, Collection, Conversation, Marking } from '../../../common/contract/index.ts';
import type { CallContext } from '../../../common/handlers.ts';
import { AppError, type Result } from '../../../common/result.ts';
import { createCore, type Core } from '../core.ts';
import type { FilePicker } from '../files.ts';
import { importModel, libraryDirFor, scanModels } from '../models/index.ts';
import { DEFAULT_SETTINGS } from '../settings.ts';
import { importKnowledgePack } from './pack.ts';
import { documentsDirFor } from './service.ts';

// Classification markings over the real core (SQLite, LanceDB, the extraction worker, the
// inference process and a generated chat model), under a machine policy of four levels that
// lets this machine hold up to RESTRICTED, grants FINANCE and LEGAL but not HR, and keeps
// FINANCE and LEGAL apart. Every collection holds the word "lantern", so a search for it
// would find them all if nothing were filtered.

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };
const ctx = (): CallContext => ({ caller: { origin: 'test', isMainFrame: true }, signal: new AbortController().signal });

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new AppError(result.error.code, result.error.message, result.error.details);
  return result.value;
}

const names = (en: string, es: string) => ({ en, es });
const POLICY = {
  version: 1,
  markings: {
    levels: [
      { id: 'PUBLIC', names: names('Public', 'Público'), colour: '#2e7d32' },
      { id: 'INTERNAL', names: names('Internal', 'Interno'), colour: '#1565c0' },
      { id: 'RESTRICTED', names: names('Restricted', 'Restringido'), colour: '#f9a825' },
      { id: 'SECRET', names: names('Secret', 'Secreto'), colour: '#c62828' },
    ],
    compartments: [
      { id: 'FINANCE', names: names('Finance', 'Finanzas') },
      { id: 'LEGAL', names: names('Legal', 'Jurídico') },
      { id: 'HR', names: names('People', 'Personal') },
    ],
    maxLevel: 'RESTRICTED',
    defaultLevel: 'PUBLIC',
    grantedCompartments: ['FINANCE', 'LEGAL'],
    separated: [['FINANCE', 'LEGAL']],
  },
};

const mark = (level: string, ...compartments: string[]): Marking => ({ level, compartments });

let dir: string;
let modelFile: string;
let policyFile: string;
let docs: Record<string, string>;
const cores: Core[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-markings-'));
  modelFile = path.join(dir, 'tiny-chat.gguf');
  await writeGguf(modelFile, { ...presetSpec('tiny', 'Q8_0', 23), contextLength: 4096 });
  policyFile = path.join(dir, 'policy.json');
  await writeFile(policyFile, JSON.stringify(POLICY));
  const doc = (word: string) =>
    markdownDocument({ sections: [{ heading: word, level: 1, paragraphs: [`The ${word} ledger lists one lantern for the watch.`] }] });
  docs = await writeDocuments(path.join(dir, 'docs'), {
    'open.md': doc('harbour'),
    'hidden.md': doc('cellar'),
    'budget.md': doc('budget'),
    'vault.md': doc('vault'),
    'staff.md': doc('staff'),
    'contracts.md': doc('contracts'),
    'accounts.md': doc('accounts'),
  });
}, 60_000);

afterEach(async () => {
  await Promise.all(cores.splice(0).map((core) => core.close()));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function setUp() {
  const dataDir = await mkdtemp(path.join(dir, 'data-'));
  const saved = await mkdtemp(path.join(dir, 'saved-'));
  const picker: FilePicker = {
    pickModelFile: async () => null,
    pickImportFiles: async () => [],
    pickDocuments: async () => [],
    pickFolder: async () => null,
    droppedFiles: async () => [],
    pickOpenFile: async () => null,
    saveFile: async (name, content) => {
      const target = path.join(saved, name);
      await writeFile(target, content);
      return target;
    },
  };
  const core = await createCore({ dataDir, host: HOST, policyFile, filePicker: picker });
  cores.push(core);
  const runtime = DEFAULT_SETTINGS.runtime;
  unwrap(
    await core.handlers['settings.update']({ runtime: { ...runtime, threads: 1, contextSize: 4096, sampling: { ...runtime.sampling, maxTokens: 4 } } }, ctx()),
  );
  const h = core.handlers;
  /** A collection marked before its document is added, so the document inherits the marking. */
  const collection = async (name: string, file: string, marking: Marking | null): Promise<Collection> => {
    const created = await core.knowledge.createCollection(name, null);
    if (marking !== null) unwrap(await h['knowledge.setMarking']({ target: 'collection', id: created.id, marking }, ctx()));
    await core.knowledge.addPaths(created.id, [docs[file]!]);
    return created;
  };
  const open = await collection('Open', 'open.md', null);
  await core.knowledge.addPaths(open.id, [docs['hidden.md']!]);
  const budget = await collection('Budget', 'budget.md', mark('RESTRICTED'));
  const vault = await collection('Vault', 'vault.md', mark('SECRET'));
  const staff = await collection('Staff', 'staff.md', mark('INTERNAL', 'HR'));
  const legal = await collection('Legal', 'contracts.md', mark('INTERNAL', 'LEGAL'));
  const finance = await collection('Finance', 'accounts.md', mark('INTERNAL', 'FINANCE'));
  await core.knowledge.idle();
  const documentsOf = async (collectionId: string) => unwrap(await h['knowledge.documents']({ collectionId }, ctx())).documents;
  const documentId = async (collectionId: string, name: string) => (await documentsOf(collectionId)).find((document) => document.name === name)!.id;
  const audit = async (type: string) =>
    unwrap(await h['audit.list']({ type, limit: 500 }, ctx())).records.map((record) => record.data as Record<string, unknown>);
  return { core, h, saved, open, budget, vault, staff, legal, finance, documentsOf, documentId, audit };
}

async function withModel(core: Core, dataDir: string) {
  await core.runtime.start();
  const [candidate] = (await scanModels(modelFile)).candidates;
  await importModel(core.storage, libraryDirFor(dataDir), candidate!, { mode: 'reference' });
}

const collect = async (stream: AsyncIterable<unknown>) => {
  const events: ChatEvent[] = [];
  for await (const event of stream) events.push(event as ChatEvent);
  return events;
};

describe('classification markings', () => {
  it('marks collections and the documents added to them, and never retrieves what this machine may not hold', { timeout: 180_000 }, async () => {
    const { core, h, open, budget, vault, staff, legal, finance, documentsOf, documentId, audit } = await setUp();
    const marks = Object.fromEntries(unwrap(await h['knowledge.collections']({}, ctx())).collections.map((c) => [c.name, c.marking]));
    expect(marks).toEqual({
      Open: mark('PUBLIC'),
      Budget: mark('RESTRICTED'),
      Vault: mark('SECRET'),
      Staff: mark('INTERNAL', 'HR'),
      Legal: mark('INTERNAL', 'LEGAL'),
      Finance: mark('INTERNAL', 'FINANCE'),
    });
    // Added after the collection was marked: the document took its marking.
    const [budgetDocument] = await documentsOf(budget.id);
    expect(budgetDocument!.marking).toEqual(mark('RESTRICTED'));

    // One document of the open collection is marked above system high on its own.
    const cellar = await documentId(open.id, 'hidden.md');
    unwrap(await h['knowledge.setMarking']({ target: 'document', id: cellar, marking: mark('SECRET') }, ctx()));

    const everything = [open.id, budget.id, vault.id, staff.id, legal.id, finance.id];
    const found = unwrap(await h['knowledge.search']({ query: 'lantern', collectionIds: everything, limit: 50 }, ctx())).passages;
    expect(found.map((passage) => passage.documentName).sort()).toEqual(['accounts.md', 'budget.md', 'contracts.md', 'open.md']);
    const byName = Object.fromEntries(found.map((passage) => [passage.documentName, passage.marking]));
    expect(byName).toEqual({
      'open.md': mark('PUBLIC'),
      'budget.md': mark('RESTRICTED'),
      'contracts.md': mark('INTERNAL', 'LEGAL'),
      'accounts.md': mark('INTERNAL', 'FINANCE'),
    });
    // Asked by their own words, the hidden ones are still not found; chat's retrieval is the same path.
    for (const word of ['vault', 'staff', 'cellar']) {
      expect(unwrap(await h['knowledge.search']({ query: word, collectionIds: everything }, ctx())).passages).toEqual([]);
      expect((await core.knowledge.retrieveForChat(word, everything, 2000)).passages).toEqual([]);
    }
    // Nor can the viewer show them.
    const viewed = await Promise.resolve()
      .then(() => h['knowledge.view']({ documentId: cellar }, ctx()))
      .catch((error: unknown) => error);
    expect(viewed).toMatchObject({ code: 'forbidden' });
    expect(unwrap(await h['knowledge.view']({ documentId: await documentId(open.id, 'open.md') }, ctx())).marking).toEqual(mark('PUBLIC'));

    // A document may not be marked below its collection.
    const below = await Promise.resolve()
      .then(() => h['knowledge.setMarking']({ target: 'document', id: budgetDocument!.id, marking: mark('INTERNAL') }, ctx()))
      .catch((error: unknown) => error);
    expect(below).toMatchObject({ code: 'bad_request', message: expect.stringContaining('below its collection') });

    // Lowering is an administrator's action this policy does not allow: refused and recorded; raising is recorded.
    const lowered = await Promise.resolve()
      .then(() => h['knowledge.setMarking']({ target: 'collection', id: budget.id, marking: mark('PUBLIC') }, ctx()))
      .catch((error: unknown) => error);
    expect(lowered).toMatchObject({ code: 'forbidden', message: expect.stringContaining('allowLowering') });
    expect(await audit('action.refused')).toContainEqual(expect.objectContaining({ action: 'knowledge.lowerMarking' }));
    expect(await audit('marking.changed')).toContainEqual({ target: 'collection', id: budget.id, from: null, to: 'RESTRICTED', lowered: false });
    // The open collection was never marked, so neither was its document (null: the default level).
    expect(await audit('marking.changed')).toContainEqual({ target: 'document', id: cellar, from: null, to: 'SECRET', lowered: false });
    // Raising a collection raises its documents with it.
    const raised = unwrap(await h['knowledge.setMarking']({ target: 'collection', id: legal.id, marking: mark('RESTRICTED', 'LEGAL') }, ctx()));
    expect(raised.marking).toEqual(mark('RESTRICTED', 'LEGAL'));
    expect((await documentsOf(legal.id))[0]!.marking).toEqual(mark('RESTRICTED', 'LEGAL'));
    // A marking outside the scheme is refused.
    const unknown = await Promise.resolve()
      .then(() => h['knowledge.setMarking']({ target: 'collection', id: open.id, marking: mark('TOP', 'FINANCE') }, ctx()))
      .catch((error: unknown) => error);
    expect(unknown).toMatchObject({ code: 'bad_request', message: expect.stringContaining('unknown level TOP') });
  });

  it(
    'marks an answer and its conversation with what they saw, records it, exports it, and keeps separated compartments apart',
    { timeout: 240_000 },
    async () => {
      const { core, h, saved, open, budget, vault, legal, finance, audit } = await setUp();
      await withModel(core, core.dataDir);
      const conversation: Conversation = unwrap(await h['chat.create']({}, ctx()));
      unwrap(await h['chat.update']({ id: conversation.id, knowledge: { collectionIds: [open.id, budget.id, vault.id], documentsOnly: false } }, ctx()));
      const events = await collect(h['chat.send']({ conversationId: conversation.id, content: 'What does the budget ledger list?' }, ctx()));
      const sources = events.flatMap((event) => (event.type === 'sources' ? event.sources : []));
      expect(sources.map((source) => source.documentName)).toContain('budget.md');
      expect(sources.map((source) => source.documentName)).not.toContain('vault.md');
      const done = events.at(-1);
      expect(done?.type).toBe('done');
      const answer = done?.type === 'done' ? done.message : null;
      expect(answer!.marking).toEqual(mark('RESTRICTED'));
      const thread = unwrap(await h['chat.get']({ id: conversation.id }, ctx()));
      expect(thread.conversation.marking).toEqual(mark('RESTRICTED'));
      expect(unwrap(await h['chat.list']({}, ctx())).conversations.find((c) => c.id === conversation.id)!.marking).toEqual(mark('RESTRICTED'));
      expect(await audit('chat.turn')).toContainEqual(expect.objectContaining({ conversationId: conversation.id, marking: 'RESTRICTED' }));

      // The export: its name starts with the marking's tag, its first line says it.
      const exported = unwrap(await h['chat.export']({ id: conversation.id, format: 'markdown' }, ctx()));
      expect(path.basename(exported.path!)).toMatch(/^RESTRICTED-/);
      expect((await readFile(exported.path!, 'utf8')).split('\n')[0]).toBe('**RESTRICTED**');
      const json = unwrap(await h['chat.export']({ id: conversation.id, format: 'json' }, ctx()));
      expect(JSON.parse(await readFile(json.path!, 'utf8'))).toMatchObject({ marking: 'RESTRICTED' });
      expect(path.dirname(json.path!)).toBe(saved);

      // FINANCE and LEGAL may not meet in one question: refused before anything is saved, naming them.
      const mixed: Conversation = unwrap(await h['chat.create']({}, ctx()));
      unwrap(await h['chat.update']({ id: mixed.id, knowledge: { collectionIds: [legal.id, finance.id], documentsOnly: false } }, ctx()));
      const refused = await collect(h['chat.send']({ conversationId: mixed.id, content: 'lantern' }, ctx())).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: 'forbidden', message: expect.stringContaining('FINANCE and LEGAL') });
      expect(unwrap(await h['chat.get']({ id: mixed.id }, ctx())).messages).toEqual([]);

      // Nor one after the other in the same conversation: it remembers the highest it has seen.
      const serial: Conversation = unwrap(await h['chat.create']({}, ctx()));
      unwrap(await h['chat.update']({ id: serial.id, knowledge: { collectionIds: [finance.id], documentsOnly: false } }, ctx()));
      await collect(h['chat.send']({ conversationId: serial.id, content: 'What do the accounts list?' }, ctx()));
      expect(unwrap(await h['chat.get']({ id: serial.id }, ctx())).conversation.marking).toEqual(mark('INTERNAL', 'FINANCE'));
      unwrap(await h['chat.update']({ id: serial.id, knowledge: { collectionIds: [legal.id], documentsOnly: false } }, ctx()));
      const second = await collect(h['chat.send']({ conversationId: serial.id, content: 'And the contracts?' }, ctx())).catch((error: unknown) => error);
      expect(second).toMatchObject({ code: 'forbidden', message: expect.stringContaining('FINANCE and LEGAL') });
    },
  );

  it('a knowledge pack carries its markings in pack.json, and an import restores them', { timeout: 180_000 }, async () => {
    const { core, h, open, budget, documentId } = await setUp();
    // A document of the collection marked higher on its own travels with its own marking.
    const cellar = await documentId(open.id, 'hidden.md');
    unwrap(await h['knowledge.setMarking']({ target: 'document', id: cellar, marking: mark('RESTRICTED', 'FINANCE') }, ctx()));
    const out = path.join(await mkdtemp(path.join(dir, 'pack-')), 'open-pack');
    await core.knowledge.exportPack(open.id, out);
    const manifest = JSON.parse(await readFile(path.join(out, 'pack.json'), 'utf8'));
    expect(manifest.marking).toEqual(mark('RESTRICTED', 'FINANCE'));
    expect(manifest.collection.marking).toEqual(mark('PUBLIC'));
    const lines = (await readFile(path.join(out, 'documents.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(Object.fromEntries(lines.map((line) => [line.name, line.marking]))).toEqual({
      'open.md': mark('PUBLIC'),
      'hidden.md': mark('RESTRICTED', 'FINANCE'),
    });

    const imported = await importKnowledgePack(
      { db: core.storage, store: core.knowledge.store, index: core.knowledge.index, documentsDir: documentsDirFor(core.dataDir) },
      out,
      { readOnly: true, name: 'Imported', requireModel: () => false },
    );
    const collections = unwrap(await h['knowledge.collections']({}, ctx())).collections;
    expect(collections.find((collection) => collection.id === imported)!.marking).toEqual(mark('PUBLIC'));
    const documents = unwrap(await h['knowledge.documents']({ collectionId: imported }, ctx())).documents;
    expect(Object.fromEntries(documents.map((document) => [document.name, document.marking]))).toEqual({
      'open.md': mark('PUBLIC'),
      'hidden.md': mark('RESTRICTED', 'FINANCE'),
    });
    // The budget pack says RESTRICTED: the highest of what it holds.
    const budgetOut = path.join(path.dirname(out), 'budget-pack');
    await core.knowledge.exportPack(budget.id, budgetOut);
    expect(JSON.parse(await readFile(path.join(budgetOut, 'pack.json'), 'utf8')).marking).toEqual(mark('RESTRICTED'));
  });
});
