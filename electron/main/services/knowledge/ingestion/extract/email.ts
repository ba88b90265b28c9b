import PostalMime, { type Address, type Attachment, type Email } from 'postal-mime';
import { DocumentError, type EmailFields, type ExtractedAttachment } from '../../types.ts';
import { BlockCollector } from './blocks.ts';
import { detectFormat, extensionOf } from './detect.ts';
import { extractHtml } from './html.ts';
import { formatBytes, type ResolvedLimits } from './limits.ts';
import { looksBinary } from './text.ts';

// E-mail (RFC 822/MIME, .eml) through postal-mime: the subject heads the message, a block of
// fields (from, to, cc, date) follows, then the body (plain text, or HTML through the HTML
// reader). Attachments are handed back with their bytes, for the worker to store as files of
// their own: each becomes a child document of this message (see ingestion/attachments.ts).

export interface EmailResult {
  readonly title: string | null;
  readonly collector: BlockCollector;
  readonly email: EmailFields;
  readonly attachments: readonly ExtractedAttachment[];
}

/** A part without a name gets one from its type, so its format can be told and its citation read. */
const EXTENSION_OF_TYPE: Record<string, string> = {
  'application/pdf': 'pdf',
  'text/plain': 'txt',
  'text/html': 'html',
  'text/markdown': 'md',
  'text/csv': 'csv',
  'message/rfc822': 'eml',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
};

function mailbox(address: Address): string {
  if (address.group !== undefined) return `${address.name}: ${address.group.map(mailbox).join(', ')}`;
  if (address.name === '' || address.name === address.address) return address.address;
  return `${address.name} <${address.address}>`;
}

const addresses = (list: readonly Address[] | undefined): string[] => (list ?? []).map(mailbox).filter((text) => text.trim() !== '');

/** A name that is safe as the end of a file name and readable in a citation. */
export function attachmentName(attachment: Pick<Attachment, 'filename' | 'mimeType'>, index: number): string {
  const given = (attachment.filename ?? '')
    .replace(/[\\/]/g, '_')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
    .slice(0, 200);
  if (given !== '' && extensionOf(given) !== '') return given;
  const extension = EXTENSION_OF_TYPE[attachment.mimeType.toLowerCase()];
  const base = given === '' ? `attachment-${index + 1}` : given;
  return extension === undefined ? base : `${base}.${extension}`;
}

/** Declared multipart boundaries whose closing delimiter never comes: the message was cut or damaged. */
function unclosedBoundaries(raw: string): number {
  let unclosed = 0;
  for (const match of raw.matchAll(/boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))/gi)) {
    const boundary = match[1] ?? match[2] ?? '';
    if (boundary !== '' && !raw.includes(`--${boundary}--`)) unclosed += 1;
  }
  return unclosed;
}

function bodyText(out: BlockCollector, text: string): void {
  for (const paragraph of text.replace(/\r\n?/g, '\n').split(/\n[ \t]*\n/)) {
    const lines = paragraph
      .split('\n')
      .map((line) => line.replace(/[ \t\u00a0]+/g, ' ').trim())
      .filter((line) => line !== '');
    out.add('paragraph', lines.join('\n'));
  }
}

function toBytes(content: Attachment['content']): Uint8Array {
  if (typeof content === 'string') return new TextEncoder().encode(content);
  return content instanceof Uint8Array ? content : new Uint8Array(content);
}

/** The attachments to read: inline images the HTML shows (logos, signatures) are not documents. */
function attachmentsOf(email: Email, limits: ResolvedLimits): { attachments: ExtractedAttachment[]; omitted: number } {
  const parts = email.attachments.filter((attachment) => attachment.related !== true);
  const attachments = parts.slice(0, limits.maxAttachments).map((attachment, index): ExtractedAttachment => {
    const name = attachmentName(attachment, index);
    const content = toBytes(attachment.content);
    const base = { name, mimeType: attachment.mimeType, bytes: content.byteLength, path: null, sha256: null };
    if (content.byteLength > limits.maxFileBytes) {
      const message = `This attachment is ${formatBytes(content.byteLength)}, over the ${formatBytes(limits.maxFileBytes)} limit.`;
      return { ...base, content: null, skipped: { reason: 'too_large', message } };
    }
    if (detectFormat(name, content) === null) {
      const extension = extensionOf(name);
      const what = extension === '' ? `this kind of attachment (${attachment.mimeType})` : `.${extension} attachments`;
      return { ...base, content: null, skipped: { reason: 'unsupported', message: `Soberana can't read ${what}.` } };
    }
    return { ...base, content, skipped: null };
  });
  return { attachments, omitted: Math.max(0, parts.length - limits.maxAttachments) };
}

/** Reads one .eml message. Header bombs and nesting beyond the limits fail with their own reason. */
export async function extractEmail(bytes: Uint8Array, limits: ResolvedLimits): Promise<EmailResult> {
  // Mail is text (8-bit at most); NULs and control bytes mean some other file wearing the name.
  if (looksBinary(bytes)) throw new DocumentError('corrupt', 'This file is named like an e-mail but holds binary data, not a message.');
  let email: Email;
  try {
    email = await PostalMime.parse(bytes, {
      attachmentEncoding: 'arraybuffer',
      // Attached messages stay attachments: each becomes a document of its own, within the depth limit.
      forceRfc822Attachments: true,
      maxNestingDepth: Math.min(limits.maxDepth, 100),
      maxHeadersSize: limits.maxEmailHeaderBytes,
    });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    if (/header size/i.test(detail))
      throw new DocumentError('too_large', `This e-mail's headers are larger than ${formatBytes(limits.maxEmailHeaderBytes)}, so it was not read.`);
    if (/nesting depth/i.test(detail)) throw new DocumentError('too_deep', 'This e-mail nests its parts too deeply to read safely.');
    throw new DocumentError('corrupt', `This e-mail can't be read (${detail}).`);
  }
  const subject = (email.subject ?? '').replace(/\s+/g, ' ').trim();
  const date = email.headers.find((header) => header.key === 'date')?.value.trim() ?? '';
  const fields: EmailFields = {
    from: addresses(email.from === undefined ? undefined : [email.from]).join(', '),
    to: addresses(email.to),
    cc: addresses(email.cc),
    date: email.date ?? null,
    subject,
  };
  if (email.headers.length === 0) throw new DocumentError('corrupt', 'This file is named like an e-mail but has no message headers.');
  const out = new BlockCollector();
  out.heading(subject === '' ? '(no subject)' : subject, 1);
  const lines = [
    fields.from === '' ? null : `From: ${fields.from}`,
    fields.to.length === 0 ? null : `To: ${fields.to.join(', ')}`,
    fields.cc.length === 0 ? null : `Cc: ${fields.cc.join(', ')}`,
    date === '' ? null : `Date: ${date}`,
  ].filter((line) => line !== null);
  out.add('paragraph', lines.join('\n'));
  const damaged = unclosedBoundaries(new TextDecoder('latin1').decode(bytes.subarray(0, 4 * 1024 * 1024)));
  if (damaged > 0) out.add('paragraph', 'Note: this message is damaged (a MIME part is not closed), so only part of it may have been read.');
  if (email.text !== undefined && email.text.trim() !== '') bodyText(out, email.text);
  else if (email.html !== undefined) extractHtml(email.html, { maxDepth: limits.maxDepth, collector: out });
  const { attachments, omitted } = attachmentsOf(email, limits);
  if (omitted > 0) {
    out.add(
      'paragraph',
      `Note: this message has ${attachments.length + omitted} attachments; only the first ${limits.maxAttachments} were read (the limit per message).`,
    );
  }
  if (attachments.length > 0) out.add('paragraph', `Attachments: ${attachments.map((attachment) => attachment.name).join(', ')}`);
  return { title: subject === '' ? null : subject, collector: out, email: fields, attachments };
}
