import path from 'node:path/posix';
import { Parser } from 'htmlparser2';
import { DocumentError } from '../../types.ts';
import { BlockCollector } from './blocks.ts';
import { coreTitle } from './docx.ts';
import { extractHtml } from './html.ts';
import type { ResolvedLimits } from './limits.ts';
import type { Archive } from './zip.ts';

// The other ZIP-based formats, read from the guarded archive with the same streaming XML
// parser: PPTX (slides as pages), ODT (mapped onto the HTML reader) and EPUB (XHTML chapters).

interface Element {
  readonly name: string;
  readonly attribs: Record<string, string>;
}

const localName = (name: string) => name.slice(name.indexOf(':') + 1);

/** The elements of an XML part with the given local names, in document order, depth-limited. */
function elements(xml: string, names: ReadonlySet<string>, maxDepth: number): Element[] {
  const found: Element[] = [];
  let depth = 0;
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        if (++depth > maxDepth) throw new DocumentError('too_deep', `The document's XML nests deeper than ${maxDepth} levels.`);
        if (names.has(localName(name))) found.push({ name: localName(name), attribs });
      },
      onclosetag() {
        depth--;
      },
    },
    { xmlMode: true },
  );
  parser.write(xml);
  parser.end();
  return found;
}

function relationships(xml: string, maxDepth: number): Map<string, string> {
  return new Map(elements(xml, new Set(['Relationship']), maxDepth).map((e) => [e.attribs.Id ?? '', e.attribs.Target ?? '']));
}

function resolvePart(base: string, target: string): string {
  return path.normalize(path.join(path.dirname(base), decodeURIComponent(target.split('#')[0] ?? ''))).replace(/^\/+/, '');
}

/** One shape's paragraphs from a slide: a:t runs joined, a:p as lines. */
function slideShapes(xml: string, maxDepth: number): { title: boolean; text: string }[] {
  const shapes: { title: boolean; text: string }[] = [];
  let depth = 0;
  let shape: { title: boolean; lines: string[]; line: string } | null = null;
  let inText = false;
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        if (++depth > maxDepth) throw new DocumentError('too_deep', `The presentation's XML nests deeper than ${maxDepth} levels.`);
        const local = localName(name);
        if (local === 'sp' || local === 'graphicFrame') shape ??= { title: false, lines: [], line: '' };
        else if (local === 'ph' && shape !== null && /title/i.test(attribs.type ?? '')) shape.title = true;
        else if (local === 't' && name.startsWith('a:')) inText = true;
        else if (local === 'br' && shape !== null) shape.line += ' ';
      },
      ontext(text) {
        if (inText && shape !== null) shape.line += text;
      },
      onclosetag(name) {
        depth--;
        const local = localName(name);
        if (local === 't') inText = false;
        else if (local === 'p' && name.startsWith('a:') && shape !== null) {
          const line = shape.line.replace(/\s+/g, ' ').trim();
          if (line !== '') shape.lines.push(line);
          shape.line = '';
        } else if ((local === 'sp' || local === 'graphicFrame') && shape !== null) {
          shapes.push({ title: shape.title, text: shape.lines.join('\n') });
          shape = null;
        }
      },
    },
    { xmlMode: true },
  );
  parser.write(xml);
  parser.end();
  return shapes;
}

/** Slides in presentation order, each a page; a slide's title placeholder becomes its heading. */
export async function extractPptx(archive: Archive, limits: ResolvedLimits): Promise<{ title: string | null; pageCount: number; collector: BlockCollector }> {
  const presentation = 'ppt/presentation.xml';
  const rels = relationships(await archive.readText('ppt/_rels/presentation.xml.rels'), limits.maxDepth);
  const ids = elements(await archive.readText(presentation), new Set(['sldId']), limits.maxDepth);
  const slides = ids
    .map((e) => rels.get(e.attribs['r:id'] ?? ''))
    .filter((t): t is string => t !== undefined)
    .map((t) => resolvePart(presentation, t));
  if (slides.length > limits.maxPages) {
    throw new DocumentError(
      'too_large',
      `This presentation has ${slides.length.toLocaleString('en-US')} slides, over the ${limits.maxPages.toLocaleString('en-US')}-page limit.`,
    );
  }
  const out = new BlockCollector();
  for (const [index, slide] of slides.entries()) {
    if (!archive.has(slide)) continue;
    for (const shape of slideShapes(await archive.readText(slide), limits.maxDepth)) {
      if (shape.title) out.heading(shape.text, 1, index + 1);
      else out.add('paragraph', shape.text, index + 1);
    }
  }
  return { title: await coreTitle(archive, 'docProps/core.xml'), pageCount: slides.length, collector: out };
}

// ODF text elements as the HTML elements the HTML reader already understands.
function odfTag(name: string, attribs: Record<string, string>): string {
  switch (name) {
    case 'text:h':
      return `h${Math.min(6, Math.max(1, Number(attribs['text:outline-level'] ?? '1') || 1))}`;
    case 'text:p':
      return 'p';
    case 'text:list':
      return 'ul';
    case 'text:list-item':
    case 'text:list-header':
      return 'li';
    case 'table:table':
      return 'table';
    case 'table:table-row':
      return 'tr';
    case 'table:table-cell':
      return 'td';
    case 'text:line-break':
      return 'br';
    case 'office:annotation':
    case 'text:tracked-changes':
    case 'office:scripts':
    case 'office:font-face-decls':
    case 'office:automatic-styles':
      return 'script';
    default:
      return 'span';
  }
}

export async function extractOdt(archive: Archive, limits: ResolvedLimits): Promise<{ title: string | null; collector: BlockCollector }> {
  const { collector } = extractHtml(await archive.readText('content.xml'), { maxDepth: limits.maxDepth, xmlMode: true, tagName: odfTag });
  return { title: (await coreTitle(archive, 'meta.xml')) ?? collector.firstHeading(), collector };
}

/** EPUB: container.xml names the package; its spine orders the XHTML chapters. */
export async function extractEpub(archive: Archive, limits: ResolvedLimits): Promise<{ title: string | null; collector: BlockCollector }> {
  const rootfile = elements(await archive.readText('META-INF/container.xml'), new Set(['rootfile']), limits.maxDepth)[0]?.attribs['full-path'];
  if (rootfile === undefined || !archive.has(rootfile)) throw new DocumentError('corrupt', 'This EPUB is damaged: its package file is missing.');
  const opf = await archive.readText(rootfile);
  const parts = elements(opf, new Set(['item', 'itemref']), limits.maxDepth);
  const hrefs = new Map(parts.filter((e) => e.name === 'item').map((e) => [e.attribs.id ?? '', e.attribs.href ?? '']));
  const spine = parts.filter((e) => e.name === 'itemref').map((e) => hrefs.get(e.attribs.idref ?? ''));
  const collector = new BlockCollector();
  for (const href of spine) {
    if (href === undefined || href === '') continue;
    const part = resolvePart(rootfile, href);
    if (archive.has(part)) extractHtml(await archive.readText(part), { maxDepth: limits.maxDepth, collector });
  }
  const title = /<dc:title[^>]*>([^<]*)<\/dc:title>/.exec(opf)?.[1]?.trim();
  return { title: title === undefined || title === '' ? collector.firstHeading() : title, collector };
}
