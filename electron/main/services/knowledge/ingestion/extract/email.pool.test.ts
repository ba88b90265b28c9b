import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pdfDocument, writeDocuments } from '../../../../../../e2e/fixtures/documents/index.ts';
import { emailDocument } from '../../../../../../e2e/fixtures/documents/email.ts';
import { createExtractorPool } from './pool.ts';

// The e-mail reader in the extraction worker, as ingestion runs it: behind the worker's egress
// guard (a message full of remote images and links makes no attempt to reach them), writing
// attachments to the folder it is given, and refusing malformed messages one by one while the
// same worker goes on reading the next file.

let dir = '';
let files: Record<string, string> = {};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'soberana-email-'));
  files = await writeDocuments(dir, {
    'remote.eml': emailDocument({
      subject: 'Newsletter',
      html: '<html><head><link rel="stylesheet" href="http://192.0.2.1/x.css"></head><body><p>Spring newsletter about lanternmoss.</p><img src="http://192.0.2.1/track.gif"><a href="https://example.invalid/">read more</a></body></html>',
      attachments: [
        {
          filename: 'report.pdf',
          mimeType: 'application/pdf',
          content: await pdfDocument([{ blocks: [{ kind: 'paragraph', text: 'Attached report text.' }] }]),
        },
        { filename: 'logo.bin', mimeType: 'application/octet-stream', content: new Uint8Array([0, 1, 2, 3, 0, 0, 0, 9]) },
      ],
    }),
    'header-bomb.eml': new TextEncoder().encode(`From: a@example.org\r\nX-Junk: ${'y'.repeat(2 * 1024 * 1024)}\r\nSubject: x\r\n\r\nbody\r\n`),
    'binary.eml': Uint8Array.from({ length: 2048 }, (_, index) => (index * 131) % 256),
    'deep.eml': new TextEncoder().encode(
      [
        'From: a@example.org',
        'Subject: deep',
        ...Array.from({ length: 300 }, (_, level) => [`Content-Type: multipart/mixed; boundary="b${level}"`, '', `--b${level}`]).flat(),
        'Content-Type: text/plain',
        '',
        'bottom',
      ].join('\r\n'),
    ),
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('e-mail in the extraction worker', () => {
  it('reads a message and writes its attachments without any attempt to reach the network', async () => {
    const blocked: unknown[] = [];
    const pool = createExtractorPool(1, { onEgressBlocked: (attempt) => blocked.push(attempt) });
    const attachmentsDir = await mkdtemp(path.join(dir, 'attachments-'));
    try {
      expect((await pool.checkEgress()).guarded).toBe(true);
      blocked.length = 0; // the check's own attempts
      const message = await pool.extract(files['remote.eml'] ?? '', undefined, { attachmentsDir });
      expect(message.format).toBe('email');
      expect(message.blocks.map((block) => block.text)).toContain('Spring newsletter about lanternmoss.');
      const [pdf, binary] = message.attachments ?? [];
      expect(pdf).toMatchObject({ name: 'report.pdf', content: null, skipped: null, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(path.dirname(pdf?.path ?? '')).toBe(attachmentsDir);
      expect(new TextDecoder('latin1').decode((await readFile(pdf?.path ?? '')).subarray(0, 5))).toBe('%PDF-');
      expect(binary).toMatchObject({ name: 'logo.bin', path: null, skipped: { reason: 'unsupported' } });
      expect(await readdir(attachmentsDir)).toHaveLength(1);
      // Without a folder, attachments are listed and nothing is written.
      const listed = await pool.extract(files['remote.eml'] ?? '');
      expect(listed.attachments?.map((attachment) => [attachment.name, attachment.path])).toEqual([
        ['report.pdf', null],
        ['logo.bin', null],
      ]);
      expect(blocked).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('refuses each malformed message with its own reason, and the next file still works', async () => {
    const pool = createExtractorPool(1);
    try {
      const failure = (name: string) =>
        pool.extract(files[name] ?? '').then(
          () => null,
          (error: unknown) => error as { reason: string; message: string },
        );
      expect(await failure('header-bomb.eml')).toMatchObject({
        reason: 'too_large',
        message: "This e-mail's headers are larger than 1 MB, so it was not read.",
      });
      expect(await failure('binary.eml')).toMatchObject({
        reason: 'corrupt',
        message: 'This file is named like an e-mail but holds binary data, not a message.',
      });
      expect(await failure('deep.eml')).toMatchObject({ reason: 'too_deep', message: 'This e-mail nests its parts too deeply to read safely.' });
      expect((await pool.extract(files['remote.eml'] ?? '')).format).toBe('email');
    } finally {
      await pool.close();
    }
  });
});
