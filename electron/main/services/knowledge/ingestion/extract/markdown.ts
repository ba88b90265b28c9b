import { tableLine } from '../../../../../common/table-text.ts';
import { BlockCollector, squash } from './blocks.ts';

// A small line-based Markdown reader: enough structure for retrieval (headings, paragraphs,
// lists, code, tables), not a renderer. Nothing here recurses, so hostile nesting is harmless.

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const ATX = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const SETEXT = /^ {0,3}(=+|-+)[ \t]*$/;
const THEMATIC = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const LIST_ITEM = /^([ \t]*)([-*+]|\d{1,9}[.)])(?:[ \t]+(.*))?$/;
const TABLE_DELIMITER = /^ *\|? *:?-+:? *(?:\| *:?-+:? *)*\|? *$/;
const QUOTE = /^ {0,3}> ?/;

/** Markdown inline syntax to plain text: links keep their words, emphasis marks go. */
export function plainInline(text: string): string {
  return squash(
    text
      .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
      .replace(/\[([^\]]+)\]\[[^\]]*\]/g, '$1')
      .replace(/<((?:https?|mailto):[^>\s]+)>/g, '$1')
      .replace(/<\/?[a-zA-Z][^>]*>/g, '')
      .replace(/(`+)(.+?)\1/g, '$2')
      .replace(/(\*\*|__)(?=\S)(.+?)(?<=\S)\1/g, '$2')
      .replace(/(^|[^\w*])\*(?=\S)(.+?)(?<=\S)\*(?!\w)/g, '$1$2')
      .replace(/(^|\W)_(?=\S)(.+?)(?<=\S)_(?!\w)/g, '$1$2')
      .replace(/~~(?=\S)(.+?)(?<=\S)~~/g, '$1')
      .replace(/\\([\\`*_{}[\]()#+\-.!|>~])/g, '$1'),
  );
}

function tableCells(line: string): string[] {
  const cells = line.trim().split(/(?<!\\)\|/);
  if (cells[0]?.trim() === '') cells.shift();
  if (cells.length > 0 && cells.at(-1)?.trim() === '') cells.pop();
  return cells.map(plainInline);
}

function indentWidth(whitespace: string): number {
  return whitespace.replace(/\t/g, '    ').length;
}

export interface MarkdownResult {
  readonly title: string | null;
  readonly collector: BlockCollector;
}

export function extractMarkdown(source: string): MarkdownResult {
  const out = new BlockCollector();
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  let paragraph: string[] = [];
  let list: string[] = [];
  let blankBefore = false;
  let i = 0;

  const flushParagraph = () => {
    out.add('paragraph', plainInline(paragraph.join(' ')));
    paragraph = [];
  };
  const flushList = () => {
    out.add('list', list.join('\n'));
    list = [];
  };
  const flush = () => {
    flushParagraph();
    flushList();
  };

  // YAML front matter is metadata, not text.
  if (lines[0] === '---') {
    const end = lines.findIndex((line, index) => index > 0 && index < 200 && (line === '---' || line === '...'));
    if (end > 0) i = end + 1;
  }

  for (; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '') {
      flushParagraph();
      blankBefore = true;
      continue;
    }
    const wasBlank = blankBefore;
    blankBefore = false;

    const fence = FENCE.exec(line);
    if (fence !== null && !(fence[1]?.startsWith('`') === true && (fence[2] ?? '').includes('`'))) {
      flush();
      const marker = fence[1] ?? '```';
      const code: string[] = [];
      for (i++; i < lines.length; i++) {
        const inner = lines[i] ?? '';
        const close = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(inner)?.[1];
        if (close !== undefined && close[0] === marker[0] && close.length >= marker.length) break;
        code.push(inner);
      }
      out.add('code', code.join('\n'));
      continue;
    }

    const atx = ATX.exec(line);
    if (atx !== null) {
      flush();
      out.heading(plainInline(atx[2] ?? ''), atx[1]?.length ?? 1);
      continue;
    }

    const setext = SETEXT.exec(line);
    if (setext !== null && paragraph.length > 0 && list.length === 0) {
      const text = plainInline(paragraph.join(' '));
      paragraph = [];
      out.heading(text, setext[1]?.startsWith('=') === true ? 1 : 2);
      continue;
    }

    if (THEMATIC.test(line)) {
      flush();
      continue;
    }

    if (line.includes('|') && TABLE_DELIMITER.test(lines[i + 1] ?? '') && (lines[i + 1] ?? '').includes('-')) {
      flush();
      // Written as a table (common/table-text.ts): the first row is the header the chunker repeats.
      const rows = [tableLine(tableCells(line))];
      for (i += 2; i < lines.length; i++) {
        const row = lines[i] ?? '';
        if (row.trim() === '' || !row.includes('|')) {
          i--;
          break;
        }
        rows.push(tableLine(tableCells(row)));
      }
      out.add('table', rows.join('\n'));
      continue;
    }

    const item = LIST_ITEM.exec(line);
    if (item !== null && (paragraph.length === 0 || list.length > 0 || !/^\d/.test(item[2] ?? ''))) {
      flushParagraph();
      const level = Math.floor(indentWidth(item[1] ?? '') / 2);
      const marker = /^\d/.test(item[2] ?? '') ? (item[2] ?? '1.') : '-';
      list.push(`${'  '.repeat(level)}${marker} ${plainInline(item[3] ?? '')}`);
      continue;
    }
    if (list.length > 0 && (!wasBlank || /^[ \t]{2,}/.test(line))) {
      // A continuation of the last item: indented, or a lazy line right under it.
      list[list.length - 1] = `${list.at(-1) ?? ''} ${plainInline(line)}`;
      continue;
    }
    if (list.length > 0) flushList();

    if (paragraph.length === 0 && /^(?: {4}|\t)/.test(line)) {
      const code: string[] = [];
      for (; i < lines.length; i++) {
        const inner = lines[i] ?? '';
        if (inner.trim() !== '' && !/^(?: {4}|\t)/.test(inner)) break;
        code.push(inner.replace(/^(?: {4}|\t)/, ''));
      }
      i--;
      out.add('code', code.join('\n'));
      continue;
    }

    paragraph.push(line.replace(QUOTE, ''));
  }
  flush();
  return { title: out.firstHeading(), collector: out };
}
