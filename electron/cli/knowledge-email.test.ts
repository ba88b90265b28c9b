import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pdfDocument, writeDocuments } from '../../e2e/fixtures/documents/index.ts';
import { emailDocument } from '../../e2e/fixtures/documents/email.ts';
import type { SearchResult } from '../common/contract/index.ts';
import { runCli } from '../test-support/run-cli.ts';

// `soberana knowledge ingest` on e-mail, with the built CLI: a message and its attachments are
// added with the same progress and summary as other files, a malformed message fails alone
// with its reason, and a word found only in an attachment is cited as that attachment.

let dir: string;
let dataDir: string;
let mail: string;

const cli = (...args: string[]) => runCli(args, { dataDir });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-cli-email-'));
  dataDir = path.join(dir, 'data');
  mail = path.join(dir, 'mail');
  await writeDocuments(mail, {
    'offer.eml': emailDocument({
      subject: 'Offer for the depot',
      text: 'The offer is attached.',
      attachments: [
        {
          filename: 'offer.pdf',
          mimeType: 'application/pdf',
          content: await pdfDocument([{ blocks: [{ kind: 'paragraph', text: 'Delivery to the quillbarrow depot.' }] }]),
        },
        { filename: 'terms.txt', mimeType: 'text/plain', content: 'Payment within thirty days.' },
      ],
    }),
    'broken.eml': new TextEncoder().encode(`From: a@example.org\r\nX-Junk: ${'q'.repeat(2 * 1024 * 1024)}\r\nSubject: x\r\n\r\nbody\r\n`),
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('soberana knowledge ingest on e-mail', { timeout: 120_000 }, () => {
  it('adds a message and its attachments, fails a malformed message with its reason, and cites an attachment', () => {
    const run = cli('knowledge', 'ingest', mail, '--collection', 'Mail', '--create', '--embedding-model', 'none');
    expect(run.status, run.stderr).toBe(1);
    // The message and its two attachments are added; the malformed message fails alone.
    expect(run.stdout).toMatch(/^added 3, unchanged 0, failed 1 /m);
    expect(run.stderr).toMatch(/^failed {3}.*broken\.eml\n {2}too_large: This e-mail's headers are larger than 1 MB, so it was not read\./m);
    expect(run.stderr).toMatch(/^progress: 100%, 4 of 4 files, \d+ pages, (?:[\d.]+|--) pages\/s$/m);

    const search = cli('knowledge', 'search', '--collection', 'Mail', 'quillbarrow', '--json');
    expect(search.status, search.stderr).toBe(0);
    const [passage] = (JSON.parse(search.stdout) as SearchResult).passages;
    expect(passage).toMatchObject({ documentName: 'offer.pdf (attachment of “Offer for the depot”)', page: 1 });

    const again = cli('knowledge', 'ingest', path.join(mail, 'offer.eml'), '--collection', 'Mail', '--json');
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ added: 0, unchanged: 1, failed: 0 });
  });
});
