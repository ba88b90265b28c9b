import { Buffer } from 'node:buffer';
import mammoth from 'mammoth';
import { Parser } from 'htmlparser2';
import { DocumentError } from '../../types.ts';
import type { BlockCollector } from './blocks.ts';
import { extractHtml } from './html.ts';
import type { ResolvedLimits } from './limits.ts';
import type { Archive } from './zip.ts';

/** Refuses XML nested deeper than the limit; mammoth converts its tree recursively and would overflow the stack. */
export function checkXmlDepth(xml: string, maxDepth: number): void {
  let depth = 0;
  const parser = new Parser(
    {
      onopentag() {
        if (++depth > maxDepth) throw new DocumentError('too_deep', `The document's XML nests deeper than ${maxDepth} levels.`);
      },
      onclosetag() {
        depth--;
      },
    },
    { xmlMode: true, decodeEntities: false },
  );
  parser.write(xml);
  parser.end();
}

function decodeXmlText(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** dc:title from docProps/core.xml (OOXML) or meta.xml (ODF), when present. */
export async function coreTitle(archive: Archive, part: string): Promise<string | null> {
  if (!archive.has(part)) return null;
  const match = /<dc:title[^>]*>([^<]*)<\/dc:title>/.exec(await archive.readText(part));
  const title = decodeXmlText(match?.[1] ?? '').trim();
  return title === '' ? null : title;
}

/**
 * Word via mammoth, which maps heading styles to h1–h6, then the HTML extractor. Mammoth
 * gets our guarded archive instead of the raw bytes, so it never unzips anything itself.
 */
export async function extractDocx(archive: Archive, limits: ResolvedLimits): Promise<{ title: string | null; collector: BlockCollector }> {
  if (!archive.has('word/document.xml')) throw new DocumentError('corrupt', 'This Word file is damaged: it has no document body.');
  checkXmlDepth(await archive.readText('word/document.xml'), limits.maxDepth);
  const normalize = (name: string) => name.replace(/^\/+/, '');
  const file = {
    exists: (name: string) => archive.has(normalize(name)),
    read: async (name: string, encoding?: string) => {
      const bytes = await archive.read(normalize(name));
      if (encoding === 'base64') return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
      if (encoding !== undefined) return new TextDecoder(encoding).decode(bytes);
      return bytes;
    },
  };
  // Images are irrelevant to text, and reading them would inflate the largest parts for nothing.
  const noImages = mammoth.images.imgElement(() => Promise.resolve({ src: '' }));
  // mammoth accepts an opened zip as { file } (lib/unzip.js), though its typings list only path/buffer.
  const input = { file } as unknown as Parameters<typeof mammoth.convertToHtml>[0];
  const result = await mammoth.convertToHtml(input, { convertImage: noImages, ignoreEmptyParagraphs: true });
  const { collector } = extractHtml(result.value, { maxDepth: limits.maxDepth });
  return { title: (await coreTitle(archive, 'docProps/core.xml')) ?? collector.firstHeading(), collector };
}
