import { Parser } from 'htmlparser2';
import { DocumentError } from '../../types.ts';
import { tableLine } from '../../../../../common/table-text.ts';
import { BlockCollector, squash } from './blocks.ts';

// Elements whose text is never document content. <title> is read before <head> is skipped.
const SKIP = new Set(['script', 'style', 'noscript', 'template', 'svg', 'head', 'iframe', 'object', 'canvas', 'select', 'button', 'math']);
const BLOCK = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'body',
  'caption',
  'center',
  'dd',
  'details',
  'dialog',
  'div',
  'dl',
  'dt',
  'fieldset',
  'figcaption',
  'figure',
  'footer',
  'form',
  'header',
  'hgroup',
  'hr',
  'html',
  'legend',
  'main',
  'nav',
  'p',
  'section',
  'summary',
]);
const HEADING = /^h([1-6])$/;

type Container =
  | { kind: 'list'; depth: number; lines: string[]; counters: (number | null)[]; prefix: string }
  | { kind: 'table'; depth: number; rows: string[][]; cells: string[] };

export interface HtmlOptions {
  readonly maxDepth: number;
  /** XHTML (EPUB) is XML: self-closing tags and case matter. */
  readonly xmlMode?: boolean;
  /** Appends to an existing collector (several chapters, one document). */
  readonly collector?: BlockCollector;
  readonly page?: number | null;
  /** Renames elements before they are interpreted, so XML vocabularies (ODF) can reuse this reader. */
  readonly tagName?: (name: string, attribs: Record<string, string>) => string;
}

export interface HtmlResult {
  readonly title: string | null;
  readonly collector: BlockCollector;
}

/**
 * HTML to blocks in one streaming pass. Depth is counted while parsing, so a page of
 * 100,000 nested divs is refused at the limit rather than built into a tree first.
 */
export function extractHtml(html: string, options: HtmlOptions): HtmlResult {
  const out = options.collector ?? new BlockCollector();
  const page = options.page ?? null;
  let depth = 0;
  let skipAt = 0;
  let skipped = '';
  let inTitle = false;
  let title = '';
  let buf = '';
  let heading: { level: number; depth: number } | null = null;
  let pre: number | null = null;
  let container: Container | null = null;
  const renamed: string[] = [];

  const flushParagraph = () => {
    const text = buf
      .split('\n')
      .map(squash)
      .filter((line) => line !== '')
      .join('\n');
    buf = '';
    out.add('paragraph', text, page);
  };
  const finishLine = (c: Extract<Container, { kind: 'list' }>) => {
    const text = squash(buf);
    buf = '';
    if (text !== '') c.lines.push(c.prefix + text);
  };
  // Text outside any cell (stray, in broken HTML) becomes a cell of its own; an empty cell
  // keeps its place, so values stay under their column's header.
  const finishCell = (c: Extract<Container, { kind: 'table' }>, closing: boolean) => {
    const text = squash(buf);
    buf = '';
    if (closing || text !== '') c.cells.push(text);
  };
  const finishRow = (c: Extract<Container, { kind: 'table' }>) => {
    finishCell(c, false);
    if (c.cells.some((cell) => cell !== '')) c.rows.push(c.cells);
    c.cells = [];
  };

  const parser = new Parser(
    {
      onopentag(rawName, attribs) {
        const name = options.tagName?.(rawName, attribs) ?? rawName;
        if (options.tagName !== undefined) renamed.push(name);
        depth++;
        if (depth > options.maxDepth) throw new DocumentError('too_deep', `The HTML nests deeper than ${options.maxDepth} levels.`);
        // Only the document's own <title>, not an SVG's.
        if (name === 'title' && title === '' && (skipAt === 0 || skipped === 'head')) inTitle = true;
        if (skipAt !== 0) return;
        if (SKIP.has(name)) {
          skipAt = depth;
          skipped = name;
          return;
        }
        if (container !== null) {
          openInContainer(container, name);
          return;
        }
        if (pre !== null) {
          if (name === 'br') buf += '\n';
          return;
        }
        const level = HEADING.exec(name)?.[1];
        if (level !== undefined && heading === null) {
          flushParagraph();
          heading = { level: Number(level), depth };
        } else if (name === 'pre' && heading === null) {
          flushParagraph();
          pre = depth;
        } else if ((name === 'ul' || name === 'ol') && heading === null) {
          flushParagraph();
          container = { kind: 'list', depth, lines: [], counters: [name === 'ol' ? 0 : null], prefix: '' };
        } else if (name === 'table' && heading === null) {
          flushParagraph();
          container = { kind: 'table', depth, rows: [], cells: [] };
        } else if (name === 'br') {
          buf += '\n';
        } else if (heading !== null) {
          if (BLOCK.has(name) || name === 'li') buf += ' ';
        } else if (BLOCK.has(name) || name === 'li') {
          flushParagraph();
        }
      },
      ontext(text) {
        if (inTitle) {
          title += text;
          return;
        }
        if (skipAt !== 0) return;
        buf += pre !== null ? text : text.replace(/\s+/g, ' ');
      },
      onclosetag(rawName) {
        const name = options.tagName === undefined ? rawName : (renamed.pop() ?? rawName);
        try {
          if (name === 'title') inTitle = false;
          if (skipAt !== 0) {
            if (skipAt === depth) skipAt = 0;
            return;
          }
          if (container !== null) {
            if (container.depth === depth) {
              closeContainer(container);
              container = null;
            } else closeInContainer(container, name);
            return;
          }
          if (pre === depth) {
            out.add('code', buf, page);
            buf = '';
            pre = null;
          } else if (heading !== null && heading.depth === depth) {
            out.heading(buf, heading.level, page);
            buf = '';
            heading = null;
          } else if (pre === null && heading === null && BLOCK.has(name)) flushParagraph();
        } finally {
          depth--;
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: !options.xmlMode, xmlMode: options.xmlMode ?? false, recognizeSelfClosing: true },
  );

  function openInContainer(c: Container, name: string): void {
    if (c.kind === 'list') {
      if (name === 'li') {
        finishLine(c);
        const level = c.counters.length - 1;
        const counter = c.counters[level];
        const marker = counter === null || counter === undefined ? '-' : `${counter + 1}.`;
        if (counter !== null && counter !== undefined) c.counters[level] = counter + 1;
        c.prefix = `${'  '.repeat(level)}${marker} `;
      } else if (name === 'ul' || name === 'ol') {
        finishLine(c);
        c.counters.push(name === 'ol' ? 0 : null);
      } else if (name === 'br' || BLOCK.has(name) || HEADING.test(name)) buf += ' ';
      return;
    }
    if (name === 'tr') finishRow(c);
    else if (name === 'td' || name === 'th') finishCell(c, false);
    else if (name === 'br' || BLOCK.has(name)) buf += ' ';
  }

  function closeInContainer(c: Container, name: string): void {
    if (c.kind === 'list') {
      if (name === 'li') finishLine(c);
      else if (name === 'ul' || name === 'ol') {
        finishLine(c);
        c.counters.pop();
      }
      return;
    }
    if (name === 'tr') finishRow(c);
    else if (name === 'td' || name === 'th') finishCell(c, true);
  }

  function closeContainer(c: Container): void {
    if (c.kind === 'list') {
      finishLine(c);
      out.add('list', c.lines.join('\n'), page);
    } else {
      finishRow(c);
      // Written as a table (common/table-text.ts): the first row is the header the chunker repeats.
      out.add('table', c.rows.map(tableLine).join('\n'), page);
    }
  }

  parser.write(html);
  parser.end();
  // Unclosed trailing text (e.g. a fragment without </p>).
  if (pre !== null) out.add('code', buf, page);
  else flushParagraph();
  const cleanTitle = squash(title);
  return { title: cleanTitle === '' ? null : cleanTitle, collector: out };
}
