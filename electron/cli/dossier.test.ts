import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markdownDocument, writeDocuments } from '../../e2e/fixtures/documents/index.ts';
import { presetSpec, writeGguf } from '../../e2e/fixtures/gguf/writer.ts';
import type { ChatEvent, ChatMessage } from '../common/contract/index.ts';
import type { CallContext } from '../common/handlers.ts';
import { AppError, type Result } from '../common/result.ts';
import { anchorFilePath, anchorInstallationKey } from '../main/services/audit/index.ts';
import { createCore, type Core } from '../main/services/core.ts';
import type { DossierFile } from '../main/services/dossier/index.ts';
import type { FilePicker } from '../main/services/files.ts';
import { importModel, libraryDirFor, scanModels } from '../main/services/models/index.ts';
import { DEFAULT_SETTINGS } from '../main/services/settings.ts';
import { openDatabase } from '../main/services/storage/sqlite.ts';
import { runCli } from '../test-support/run-cli.ts';

// Issue 18's dossier round trip, with the real core (SQLite, the extraction worker, the
// inference process and a generated chat model) exporting an answer's evidence, and the
// built CLI in its own process verifying it: ok; then one byte of a cited passage changed in
// the data store (reported, by passage); then one byte of the dossier (bad signature).

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };
const ctx = (): CallContext => ({ caller: { origin: 'test', isMainFrame: true }, signal: new AbortController().signal });

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new AppError(result.error.code, result.error.message, result.error.details);
  return result.value;
}

let dir: string;
let dataDir: string;
let docsDir: string;
let dossierPath: string;
let dossier: DossierFile;
let answer: ChatMessage;

/** The save dialog's stand-in, as the e2e harness has: "chooses" a file in the test's folder and writes it. */
const savingPicker = (to: string): FilePicker => ({
  pickModelFile: () => Promise.resolve(null),
  pickImportFiles: () => Promise.resolve([]),
  pickDocuments: () => Promise.resolve([]),
  pickFolder: () => Promise.resolve(null),
  droppedFiles: () => Promise.resolve([]),
  pickOpenFile: () => Promise.resolve(null),
  async saveFile(defaultName, content) {
    const file = path.join(to, defaultName);
    await writeFile(file, content);
    return file;
  },
});

const cli = (...args: string[]) => runCli(args, { dataDir });

let modelFile: string;
let docs: Record<string, string>;

/**
 * A data folder where a real core answered one question from a collection and exported the
 * answer's evidence; `mark` runs on the collection before the question (markings).
 */
async function answeredAndExported(
  into: string,
  options: { policyFile?: string; mark?: (core: Core, collectionId: string) => Promise<void> } = {},
): Promise<{ dossierPath: string; dossier: DossierFile; answer: ChatMessage }> {
  const core = await createCore({
    dataDir: into,
    host: HOST,
    filePicker: savingPicker(dir),
    ...(options.policyFile === undefined ? {} : { policyFile: options.policyFile }),
  });
  try {
    const runtime = DEFAULT_SETTINGS.runtime;
    unwrap(
      await core.handlers['settings.update'](
        { runtime: { ...runtime, threads: 1, contextSize: 4096, sampling: { ...runtime.sampling, maxTokens: 8 } } },
        ctx(),
      ),
    );
    await core.runtime.start();
    const [candidate] = (await scanModels(modelFile)).candidates;
    await importModel(core.storage, libraryDirFor(into), candidate!, { mode: 'reference' });
    const collection = await core.knowledge.createCollection('Harbour', null);
    await core.knowledge.addPaths(collection.id, Object.values(docs));
    await core.knowledge.idle();
    await options.mark?.(core, collection.id);
    const conversation = unwrap(await core.handlers['chat.create']({ title: 'Lantern count' }, ctx()));
    unwrap(
      await core.handlers['chat.update'](
        { id: conversation.id, knowledge: { collectionIds: [collection.id], documentsOnly: false, pinnedDocuments: [] } },
        ctx(),
      ),
    );
    const events: ChatEvent[] = [];
    for await (const event of core.handlers['chat.send']({ conversationId: conversation.id, content: 'How many lanterns were issued?' }, ctx())) {
      events.push(event as ChatEvent);
    }
    const done = events.at(-1);
    if (done?.type !== 'done') throw new Error(`no answer: ${JSON.stringify(events.at(-1))}`);
    const saved = unwrap(await core.handlers['chat.exportEvidence']({ messageId: done.message.id }, ctx()));
    expect(saved.saved).toBe(true);
    return { dossierPath: saved.path!, dossier: JSON.parse(await readFile(saved.path!, 'utf8')) as DossierFile, answer: done.message };
  } finally {
    await core.close();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-dossier-'));
  dataDir = path.join(dir, 'data');
  modelFile = path.join(dir, 'tiny-chat.gguf');
  await writeGguf(modelFile, { ...presetSpec('tiny', 'Q8_0', 17), contextLength: 4096 });
  docsDir = path.join(dir, 'docs');
  docs = await writeDocuments(docsDir, {
    'lanterns.md': markdownDocument({
      sections: [{ heading: 'Lanterns', level: 1, paragraphs: ['The ledger lists three lanterns issued to the Brindlemoor watch in the spring.'] }],
    }),
    'ferries.md': markdownDocument({
      sections: [{ heading: 'Ferries', level: 1, paragraphs: ['A fourth lantern went to the Saltmarsh ferry, whose lanterns are counted apart.'] }],
    }),
  });
  ({ dossierPath, dossier, answer } = await answeredAndExported(dataDir));
}, 240_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('answer dossiers', { timeout: 120_000 }, () => {
  it('hold the answer, its question, model, passages with hashes and the turn’s audit record, signed by a key the anchor names', async () => {
    const { body, signature } = dossier;
    expect(path.basename(dossierPath)).toBe('evidence-Lantern count.json');
    expect(body.answer).toMatchObject({ messageId: answer.id, text: answer.content });
    expect(body.question.text).toBe('How many lanterns were issued?');
    expect(body.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(body.passages.length).toBeGreaterThan(0);
    expect(body.passages.map((passage) => passage.chunkId)).toEqual(answer.sources.map((source) => source.chunkId));
    for (const passage of body.passages) expect(passage.documentSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(body.audit.records).toHaveLength(1);
    expect(body.audit.records[0]).toMatchObject({ type: 'chat.turn' });
    // The key is the installation's: named by the anchor, and by the audit log's installation.key record.
    const anchored = anchorInstallationKey(await readFile(anchorFilePath(dataDir), 'utf8'));
    expect(anchored).toMatchObject({ publicKey: signature.publicKey, keyId: signature.keyId });
    const db = openDatabase(dataDir);
    try {
      const record = db.prepare("SELECT data FROM audit_records WHERE type = 'installation.key'").all() as { data: string }[];
      expect(record.map((row) => JSON.parse(row.data) as unknown)).toEqual([{ publicKey: signature.publicKey, keyId: signature.keyId }]);
      const exported = db.prepare("SELECT data FROM audit_records WHERE type = 'export'").all() as { data: string }[];
      expect(exported.map((row) => JSON.parse(row.data) as unknown)).toContainEqual({ what: 'dossier', format: 'json', items: body.passages.length });
    } finally {
      db.close();
    }
  });

  it('verify: ok against the data store and against the documents themselves', () => {
    const run = cli('dossier', 'verify', dossierPath);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('signature  good');
    expect(run.stdout).toContain("is the audit anchor's installation key");
    expect(run.stdout).toContain(`${dossier.body.passages.length} of ${dossier.body.passages.length} match the data store`);
    const offline = cli('dossier', 'verify', dossierPath, '--documents', docsDir, '--json');
    expect(offline.status, offline.stdout).toBe(0);
    expect(JSON.parse(offline.stdout)).toMatchObject({ ok: true, signature: { ok: true }, passages: dossier.body.passages.map(() => ({ ok: true })) });
  });

  it('verify --documents: a document changed by one byte is reported, by passage; one that is gone too', async () => {
    const copies = path.join(dir, 'copies');
    await mkdir(copies);
    const target = dossier.body.passages[0]!;
    for (const [name, file] of Object.entries(docs)) {
      const bytes = await readFile(file);
      if (name === target.documentName) bytes.writeUInt8(bytes.readUInt8(bytes.length - 2) ^ 1, bytes.length - 2);
      await writeFile(path.join(copies, name), bytes);
    }
    const run = cli('dossier', 'verify', dossierPath, '--documents', copies);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`\\[${target.n}\\] MISMATCH  “${target.documentName}”: document_changed`, 'u'));
    await rm(path.join(copies, target.documentName));
    const gone = cli('dossier', 'verify', dossierPath, '--documents', copies);
    expect(gone.status).toBe(1);
    expect(gone.stderr).toMatch(new RegExp(`\\[${target.n}\\] MISMATCH  “${target.documentName}”: document_not_found`, 'u'));
  });

  it('verify: one byte of a cited passage changed in the data store is reported, by passage', () => {
    const target = dossier.body.passages[0]!;
    const db = openDatabase(dataDir);
    try {
      const { text } = db.prepare('SELECT text FROM chunks WHERE id = ?').get(target.chunkId) as { text: string };
      const at = text.lastIndexOf('three');
      expect(at).toBeGreaterThanOrEqual(0);
      const changed = `${text.slice(0, at)}T${text.slice(at + 1)}`;
      db.prepare('UPDATE chunks SET text = ? WHERE id = ?').run(changed, target.chunkId);
      const run = cli('dossier', 'verify', dossierPath);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('signature  good');
      expect(run.stderr).toMatch(new RegExp(`\\[${target.n}\\] MISMATCH  “${target.documentName}”: text_changed`, 'u'));
      // The other passages still match, and say so.
      for (const other of dossier.body.passages.filter((passage) => passage.n !== target.n)) expect(run.stderr).toContain(`[${other.n}] ok`);
      db.prepare('UPDATE chunks SET text = ? WHERE id = ?').run(text, target.chunkId);
    } finally {
      db.close();
    }
    expect(cli('dossier', 'verify', dossierPath).status).toBe(0);
  });

  it('verify: one byte of the dossier changed is a bad signature', async () => {
    const text = await readFile(dossierPath, 'utf8');
    const at = text.indexOf('How many lanterns');
    const edited = path.join(dir, 'edited.json');
    await writeFile(edited, `${text.slice(0, at)}W${text.slice(at + 1)}`);
    const run = cli('dossier', 'verify', edited);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('BAD SIGNATURE');
    expect(run.stderr).toContain('changed after it was signed');
    // A byte that breaks the JSON itself is as bad.
    const broken = path.join(dir, 'broken.json');
    await writeFile(broken, `[${text.slice(1)}`);
    expect(cli('dossier', 'verify', broken)).toMatchObject({ status: 1, stderr: expect.stringContaining('BAD SIGNATURE') as unknown });
  });
});

describe('answer dossiers under a marking scheme', { timeout: 240_000 }, () => {
  it('carry the answer’s, the conversation’s and each passage’s marking, and the file name starts with the highest', async () => {
    const policyFile = path.join(dir, 'managed', 'policy.json');
    await mkdir(path.dirname(policyFile), { recursive: true });
    await writeFile(
      policyFile,
      JSON.stringify({
        version: 1,
        description: 'Dossier markings test',
        contact: 'it@example.test',
        markings: {
          levels: [
            { id: 'PUBLIC', names: { en: 'Public', es: 'Público' }, colour: '#2e7d32' },
            { id: 'INTERNAL', names: { en: 'Internal', es: 'Interno' }, colour: '#1565c0' },
            { id: 'RESTRICTED', names: { en: 'Restricted', es: 'Restringido' }, colour: '#f9a825' },
            { id: 'SECRET', names: { en: 'Secret', es: 'Secreto' }, colour: '#b71c1c' },
          ],
          maxLevel: 'RESTRICTED',
          defaultLevel: 'INTERNAL',
        },
      }),
    );
    const marked = path.join(dir, 'marked');
    const restricted = { level: 'RESTRICTED', compartments: [] };
    const exported = await answeredAndExported(marked, {
      policyFile,
      mark: async (core, collectionId) => {
        unwrap(await core.handlers['knowledge.setMarking']({ target: 'collection', id: collectionId, marking: restricted }, ctx()));
      },
    });
    const { body } = exported.dossier;
    expect(path.basename(exported.dossierPath)).toBe('RESTRICTED-evidence-Lantern count.json');
    expect(body.marking).toEqual(restricted);
    expect(body.answer.marking).toEqual(restricted);
    expect(body.conversation.marking).toEqual(restricted);
    expect(body.passages.length).toBeGreaterThan(0);
    for (const passage of body.passages) expect(passage.marking).toEqual(restricted);
    const run = runCli(['dossier', 'verify', exported.dossierPath], { dataDir: marked });
    expect(run.status, run.stderr).toBe(0);
  });
});
