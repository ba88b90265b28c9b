import { describe, expect, it } from 'vitest';
import { DocumentError } from '../../types.ts';
import { extractDocument, resolveLimits } from './index.ts';
import { attachmentName, extractEmail } from './email.ts';

// The e-mail reader on messages written here, as mail programs write them: headers, MIME
// parts, encodings, attachments, and the damaged and hostile kinds.

const CRLF = '\r\n';
const eml = (lines: readonly string[]) => new TextEncoder().encode(lines.join(CRLF));
const b64 = (text: string | Uint8Array) => Buffer.from(text).toString('base64');

function multipart(headers: readonly string[], parts: readonly (readonly string[])[], boundary = 'XYZ-boundary', close = true): Uint8Array {
  const lines = [...headers, `Content-Type: multipart/mixed; boundary="${boundary}"`, 'MIME-Version: 1.0', ''];
  for (const part of parts) lines.push(`--${boundary}`, ...part);
  if (close) lines.push(`--${boundary}--`, '');
  return eml(lines);
}

const HEADERS = [
  'From: Ana Ruiz <ana@example.org>',
  'To: Team <team@example.org>, bob@example.org',
  'Cc: "Carla M." <carla@example.org>',
  'Date: Tue, 5 Mar 2024 14:30:00 +0100',
  'Subject: =?UTF-8?Q?Presupuesto_de_se=C3=B1alizaci=C3=B3n?=',
];

describe('extractEmail', () => {
  it('makes sender, recipients, date and subject fields of the document, and the plain body its text', async () => {
    const bytes = eml([...HEADERS, 'Content-Type: text/plain; charset=utf-8', '', 'The signage budget is 4,200 euros.', '', 'Regards,', 'Ana']);
    const document = await extractDocument(bytes, 'budget.eml');
    expect(document.format).toBe('email');
    expect(document.title).toBe('Presupuesto de señalización');
    expect(document.email).toEqual({
      from: 'Ana Ruiz <ana@example.org>',
      to: ['Team <team@example.org>', 'bob@example.org'],
      cc: ['Carla M. <carla@example.org>'],
      date: '2024-03-05T13:30:00.000Z',
      subject: 'Presupuesto de señalización',
    });
    expect(document.blocks[0]).toMatchObject({ kind: 'heading', text: 'Presupuesto de señalización', headingPath: ['Presupuesto de señalización'] });
    expect(document.blocks[1]?.text).toBe(
      'From: Ana Ruiz <ana@example.org>\nTo: Team <team@example.org>, bob@example.org\nCc: Carla M. <carla@example.org>\nDate: Tue, 5 Mar 2024 14:30:00 +0100',
    );
    const body = document.blocks.slice(2);
    expect(body.map((block) => block.text)).toEqual(['The signage budget is 4,200 euros.', 'Regards,\nAna']);
    // Each passage of the body carries the subject in its heading path.
    expect(body.every((block) => block.headingPath[0] === 'Presupuesto de señalización')).toBe(true);
    expect(document.attachments).toEqual([]);
  });

  it('reads an HTML-only body through the HTML reader, quoted-printable and Latin-1 decoded', async () => {
    const bytes = eml([
      'From: a@example.org',
      'Subject: Minutes',
      'Content-Type: text/html; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      '<html><body><h2>Acta</h2><p>Reuni=F3n del comit=E9</p><script>steal()</script><table><tr><td>Item</td><td>Cost</td></tr></table></body></html>',
    ]);
    const document = await extractDocument(bytes, 'minutes.eml');
    const texts = document.blocks.map((block) => block.text);
    expect(texts).toContain('Reunión del comité');
    expect(texts.join('\n')).toMatch(/Item[^\n]*Cost/);
    expect(texts.join(' ')).not.toContain('steal');
    expect(document.blocks.find((block) => block.text === 'Reunión del comité')?.headingPath).toEqual(['Minutes', 'Acta']);
  });

  it('hands back attachments with their bytes, names made up from their type when missing, and skips inline images and unreadable kinds', async () => {
    const bytes = multipart(HEADERS, [
      ['Content-Type: text/plain; charset=utf-8', '', 'See the attached files.', ''],
      [
        'Content-Type: text/plain; name="notes.txt"',
        'Content-Disposition: attachment; filename="notes.txt"',
        'Content-Transfer-Encoding: base64',
        '',
        b64('zeppelin notes'),
        '',
      ],
      ['Content-Type: text/csv', 'Content-Disposition: attachment', '', 'a,b', '1,2', ''],
      [
        'Content-Type: application/x-msdownload; name="setup.exe"',
        'Content-Disposition: attachment; filename="setup.exe"',
        'Content-Transfer-Encoding: base64',
        '',
        b64(new Uint8Array([0x4d, 0x5a, 0, 0, 1, 2])),
        '',
      ],
      ['Content-Type: image/png', 'Content-ID: <logo@x>', 'Content-Disposition: inline', 'Content-Transfer-Encoding: base64', '', b64('png'), ''],
    ]);
    const document = await extractDocument(bytes, 'files.eml');
    const attachments = document.attachments ?? [];
    expect(attachments.map((attachment) => attachment.name)).toEqual(['notes.txt', 'attachment-2.csv', 'setup.exe', 'attachment-4']);
    expect(new TextDecoder().decode(attachments[0]?.content ?? new Uint8Array())).toBe('zeppelin notes');
    expect(attachments[0]?.skipped).toBeNull();
    expect(attachments[1]?.skipped).toBeNull();
    expect(attachments[2]).toMatchObject({ content: null, skipped: { reason: 'unsupported', message: "Soberana can't read .exe attachments." } });
    expect(document.blocks.at(-1)?.text).toBe('Attachments: notes.txt, attachment-2.csv, setup.exe, attachment-4');
  });

  it('keeps an attached message as an attachment (a document of its own), not inlined', async () => {
    const inner = ['From: x@example.org', 'Subject: Inner', 'Content-Type: text/plain', '', 'inner body words'].join(CRLF);
    const bytes = multipart(HEADERS, [
      ['Content-Type: text/plain', '', 'Forwarding.', ''],
      ['Content-Type: message/rfc822', 'Content-Disposition: attachment; filename="fwd.eml"', '', inner, ''],
    ]);
    const document = await extractDocument(bytes, 'fwd.eml');
    expect(document.blocks.map((block) => block.text).join(' ')).not.toContain('inner body words');
    expect(document.attachments?.map((attachment) => [attachment.name, attachment.skipped])).toEqual([['fwd.eml', null]]);
  });

  it('reads a message with a broken boundary as far as it goes and says so', async () => {
    const bytes = multipart(HEADERS, [['Content-Type: text/plain', '', 'First part survives.', '']], 'cut', false);
    const document = await extractDocument(bytes, 'cut.eml');
    const texts = document.blocks.map((block) => block.text);
    expect(texts).toContain('First part survives.');
    expect(texts).toContain('Note: this message is damaged (a MIME part is not closed), so only part of it may have been read.');
  });

  it('refuses a huge header with its own reason', async () => {
    const bytes = eml(['From: a@example.org', `X-Padding: ${'a'.repeat(2 * 1024 * 1024)}`, 'Subject: big', '', 'body']);
    const error = await extractDocument(bytes, 'big.eml').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DocumentError);
    expect(error).toMatchObject({ reason: 'too_large', message: "This e-mail's headers are larger than 1 MB, so it was not read." });
  });

  it('reads the first attachments of a message that has thousands, and says how many were left', async () => {
    const parts = Array.from({ length: 3000 }, (_, index) => [
      'Content-Type: text/plain',
      `Content-Disposition: attachment; filename="part-${index}.txt"`,
      '',
      `attachment ${index}`,
      '',
    ]);
    const bytes = multipart(HEADERS, [['Content-Type: text/plain', '', 'Many files.', ''], ...parts]);
    const document = await extractDocument(bytes, 'many.eml', { maxAttachments: 50 });
    expect(document.attachments).toHaveLength(50);
    expect(document.blocks.map((block) => block.text)).toContain(
      'Note: this message has 3000 attachments; only the first 50 were read (the limit per message).',
    );
  });

  it('refuses an attachment over the size limit without holding its bytes', async () => {
    const bytes = multipart(HEADERS, [
      ['Content-Type: text/plain', '', 'Big file attached.', ''],
      ['Content-Type: text/plain', 'Content-Disposition: attachment; filename="big.txt"', '', 'x'.repeat(5000), ''],
    ]);
    const result = await extractEmail(bytes, resolveLimits({ maxFileBytes: 4096 }));
    expect(result.attachments[0]).toMatchObject({ name: 'big.txt', content: null, skipped: { reason: 'too_large' } });
  });

  it('calls a file with no headers and no body damaged, and binary garbage too', async () => {
    await expect(extractDocument(new Uint8Array(0), 'empty.eml')).rejects.toMatchObject({ reason: expect.stringMatching(/corrupt|empty/) });
    const garbage = Uint8Array.from({ length: 4096 }, (_, index) => (index * 7919) % 256);
    const error = await extractDocument(garbage, 'garbage.eml').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DocumentError);
  });

  it('names attachments safely', () => {
    expect(attachmentName({ filename: '../../etc/passwd', mimeType: 'text/plain' }, 0)).toBe('.._.._etc_passwd');
    expect(attachmentName({ filename: null, mimeType: 'application/pdf' }, 2)).toBe('attachment-3.pdf');
    expect(attachmentName({ filename: 'report', mimeType: 'application/octet-stream' }, 0)).toBe('report');
  });
});
