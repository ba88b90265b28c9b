import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { docxDocument, pdfDocument } from '../../../../e2e/fixtures/documents/index.ts';
import { emailDocument } from '../../../../e2e/fixtures/documents/email.ts';
import { createCore, type Core } from '../core.ts';
import { allDocuments } from '../../../test-support/knowledge-documents.ts';
import { MAX_ATTACHMENT_DEPTH } from './ingestion/attachments.ts';
import { documentsDirFor } from './service.ts';

// E-mails through the real knowledge service (SQLite, LanceDB, the extraction worker): the
// message's fields and body, its attachments as child documents that cite it, removal with
// its attachments, the depth limit, and malformed messages that fail alone.

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };

let dir: string;
const cores: Core[] = [];
const dataDirs = new Map<Core, string>();

async function open(): Promise<Core> {
  const dataDir = await mkdtemp(path.join(dir, 'data-'));
  const core = await createCore({ dataDir, host: HOST });
  cores.push(core);
  dataDirs.set(core, dataDir);
  return core;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-email-'));
});

afterEach(async () => {
  for (const core of cores.splice(0)) await core.close();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('e-mail in the knowledge service', () => {
  it('indexes a message and its PDF, Word and text attachments as child documents that cite it; removing the message removes them', async () => {
    const core = await open();
    const collection = await core.knowledge.createCollection('Mail', null);
    const file = path.join(dir, 'quarterly.eml');
    await writeFile(
      file,
      emailDocument({
        subject: 'Quarterly figures',
        cc: ['Carla <carla@example.org>'],
        text: 'Please find the figures attached.',
        attachments: [
          {
            filename: 'figures.pdf',
            mimeType: 'application/pdf',
            content: await pdfDocument([{ blocks: [{ kind: 'paragraph', text: 'Revenue from marrowfinch sales rose.' }] }]),
          },
          {
            filename: 'plan.docx',
            mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
            content: docxDocument([{ text: 'The plan names the cobaltwren warehouse.' }]),
          },
          { filename: 'notes.txt', mimeType: 'text/plain', content: 'Notes about the tinderoak audit.' },
          { filename: 'tool.exe', mimeType: 'application/octet-stream', content: new Uint8Array([0x4d, 0x5a, 0, 0, 3, 0]) },
        ],
      }),
    );
    await core.knowledge.addPaths(collection.id, [file]);
    await core.knowledge.idle();

    const documents = allDocuments(core.knowledge, collection.id);
    const message = documents.find((document) => document.name === 'quarterly.eml');
    expect(message).toMatchObject({ status: 'indexed', format: 'email', parentId: null });
    const children = documents.filter((document) => document.parentId === message?.id);
    expect(children.map((document) => [document.name, document.status, document.format]).sort()).toEqual([
      ['figures.pdf (attachment of “Quarterly figures”)', 'indexed', 'pdf'],
      ['notes.txt (attachment of “Quarterly figures”)', 'indexed', 'text'],
      ['plan.docx (attachment of “Quarterly figures”)', 'indexed', 'docx'],
      ['tool.exe (attachment of “Quarterly figures”)', 'skipped', 'exe'],
    ]);
    expect(children.find((document) => document.status === 'skipped')?.error).toEqual({
      reason: 'unsupported',
      message: "Soberana can't read .exe attachments.",
    });
    // Attachments sit in their message's folder.
    expect(new Set(documents.map((document) => document.folder))).toEqual(new Set(['']));

    const search = async (query: string) => (await core.knowledge.search({ query, collectionIds: [collection.id] })).passages;
    const [passage] = await search('marrowfinch');
    expect(passage).toMatchObject({ documentName: 'figures.pdf (attachment of “Quarterly figures”)', page: 1, format: 'pdf' });
    expect((await search('cobaltwren'))[0]?.documentName).toBe('plan.docx (attachment of “Quarterly figures”)');
    // The message's own passages carry its subject in their heading path, and its fields in its text.
    const [own] = await search('figures attached');
    expect(own).toMatchObject({ documentName: 'quarterly.eml', headingPath: ['Quarterly figures'] });
    const view = await core.knowledge.view(message!.id);
    expect(view.chunks.map((chunk) => chunk.text).join('\n')).toContain(
      'From: Ana Ruiz <ana@example.org>\nTo: team@example.org\nCc: Carla <carla@example.org>',
    );

    const storedBefore = await readdir(documentsDirFor(dataDirs.get(core)!));
    expect(storedBefore).toHaveLength(4);
    await core.knowledge.removeDocument(message!.id);
    expect(allDocuments(core.knowledge, collection.id)).toEqual([]);
    expect(await search('marrowfinch')).toEqual([]);
    expect(await search('tinderoak')).toEqual([]);
    expect(await core.knowledge.index.count('fts')).toBe(0);
    expect(await readdir(documentsDirFor(dataDirs.get(core)!))).toEqual([]);
  }, 120_000);

  it(`reads messages attached to messages ${MAX_ATTACHMENT_DEPTH} deep and lists a deeper one as skipped`, async () => {
    const core = await open();
    const collection = await core.knowledge.createCollection('Nested', null);
    let inner = emailDocument({ subject: 'Level 4', text: 'The deepest message mentions glimmerholt.' });
    for (let level = 3; level >= 0; level--) {
      inner = emailDocument({
        subject: `Level ${level}`,
        text: `Level ${level} mentions sprucewillow${level}.`,
        attachments: [{ filename: `level-${level + 1}.eml`, mimeType: 'message/rfc822', content: inner }],
      });
    }
    const file = path.join(dir, 'nested.eml');
    await writeFile(file, inner);
    await core.knowledge.addPaths(collection.id, [file]);
    await core.knowledge.idle();
    const documents = allDocuments(core.knowledge, collection.id);
    expect(documents.map((document) => [document.name, document.status]).sort()).toEqual([
      ['level-1.eml (attachment of “Level 0”)', 'indexed'],
      ['level-2.eml (attachment of “Level 1”)', 'indexed'],
      ['level-3.eml (attachment of “Level 2”)', 'indexed'],
      ['level-4.eml (attachment of “Level 3”)', 'skipped'],
      ['nested.eml', 'indexed'],
    ]);
    expect(documents.find((document) => document.status === 'skipped')?.error?.reason).toBe('too_deep');
    const found = await core.knowledge.search({ query: 'sprucewillow3', collectionIds: [collection.id] });
    expect(found.passages[0]?.documentName).toBe('level-3.eml (attachment of “Level 2”)');
    // Removing the top message removes the whole chain.
    await core.knowledge.removeDocument(documents.find((document) => document.name === 'nested.eml')!.id);
    expect(allDocuments(core.knowledge, collection.id)).toEqual([]);
  }, 120_000);

  it('fails a damaged attachment under its message, and Retry failed reads it again from its stored copy', async () => {
    const core = await open();
    const collection = await core.knowledge.createCollection('Retry', null);
    const file = path.join(dir, 'damaged.eml');
    await writeFile(
      file,
      emailDocument({
        subject: 'Scans',
        text: 'One file is damaged.',
        attachments: [{ filename: 'broken.pdf', mimeType: 'application/pdf', content: '%PDF-1.7\nthis is not really a PDF' }],
      }),
    );
    await core.knowledge.addPaths(collection.id, [file]);
    await core.knowledge.idle();
    const attachment = () => allDocuments(core.knowledge, collection.id).find((document) => document.parentId !== null);
    expect(attachment()).toMatchObject({ name: 'broken.pdf (attachment of “Scans”)', status: 'failed', error: { reason: 'corrupt' } });
    expect(core.knowledge.retryFailed(collection.id)).toBe(1);
    await core.knowledge.idle();
    // Read again from Soberana's copy (the attachment has no file of its own), so it fails for the same reason, not as missing.
    expect(attachment()).toMatchObject({ status: 'failed', error: { reason: 'corrupt' } });
    expect(allDocuments(core.knowledge, collection.id)).toHaveLength(2);
  }, 120_000);

  it('fails a malformed message with its own reason, indexes nothing of it, and reads the next file', async () => {
    const core = await open();
    const collection = await core.knowledge.createCollection('Hostile', null);
    const huge = path.join(dir, 'huge-header.eml');
    await writeFile(huge, `From: a@example.org\r\nX-Junk: ${'z'.repeat(3 * 1024 * 1024)}\r\nSubject: Junk\r\n\r\nwhisperkelp body\r\n`);
    const empty = path.join(dir, 'nothing.eml');
    await writeFile(empty, '\r\n\r\n');
    const many = path.join(dir, 'many.eml');
    await writeFile(
      many,
      emailDocument({
        subject: 'Thousands',
        text: 'A message with far too many attachments.',
        attachments: Array.from({ length: 2000 }, (_, index) => ({
          filename: `part-${index}.txt`,
          mimeType: 'text/plain',
          content: `part ${index} says hazelquill`,
        })),
      }),
    );
    const good = path.join(dir, 'good.eml');
    await writeFile(good, emailDocument({ subject: 'Fine', text: 'The good message mentions ravenmoss.' }));
    await core.knowledge.addPaths(collection.id, [huge, empty, many, good]);
    await core.knowledge.idle();
    const documents = allDocuments(core.knowledge, collection.id);
    const byName = (name: string) => documents.find((document) => document.name === name);
    expect(byName('huge-header.eml')).toMatchObject({
      status: 'failed',
      chunks: 0,
      error: { reason: 'too_large', message: "This e-mail's headers are larger than 1 MB, so it was not read." },
    });
    expect(byName('nothing.eml')).toMatchObject({ status: 'failed', chunks: 0, error: { reason: 'corrupt' } });
    expect(byName('good.eml')).toMatchObject({ status: 'indexed' });
    expect(byName('many.eml')).toMatchObject({ status: 'indexed' });
    // The first 100 attachments are read; the message says the rest were not.
    expect(documents.filter((document) => document.parentId === byName('many.eml')?.id)).toHaveLength(100);
    const note = await core.knowledge.search({ query: 'only the first 100 were read', collectionIds: [collection.id] });
    expect(note.passages[0]?.documentName).toBe('many.eml');
    const search = async (query: string) => (await core.knowledge.search({ query, collectionIds: [collection.id] })).passages;
    expect(await search('whisperkelp')).toEqual([]);
    expect((await search('ravenmoss'))[0]?.documentName).toBe('good.eml');
  }, 180_000);
});
