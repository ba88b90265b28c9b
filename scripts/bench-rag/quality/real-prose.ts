import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { uniform } from '../../../e2e/fixtures/gguf/prng.ts';

// Real prose for the pasted-quote half of the set: long texts that ship in node_modules, read
// when the set is built (nothing is copied into this repository) and laid out as multi-page
// PDFs. Licence texts and a manual-like README repeat the same words on page after page
// ("License", "Work", "covered work", "entry", "zipfile"), which is what makes a pasted
// sentence hard to place by word counts alone.
//
// Sources, and why they may be used this way:
// - node_modules/typescript/LICENSE.txt: the Apache License 2.0 text (the licence text itself
//   is published by the ASF for verbatim reuse).
// - node_modules/jszip/LICENSE.markdown, from "GNU GENERAL PUBLIC LICENSE": the GPLv3 text
//   ("Everyone is permitted to copy and distribute verbatim copies of this license document").
// - node_modules/yauzl/README.md: yauzl's manual, MIT licensed with the package.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface ProseSource {
  readonly name: string;
  readonly file: string;
  readonly from?: string;
  readonly quotes: number;
  readonly markdown: boolean;
}

export const PROSE_SOURCES: readonly ProseSource[] = [
  { name: 'apache-license-2.0.pdf', file: 'node_modules/typescript/LICENSE.txt', quotes: 10, markdown: false },
  { name: 'gnu-gpl-3.0.pdf', file: 'node_modules/jszip/LICENSE.markdown', from: 'GNU GENERAL PUBLIC LICENSE', quotes: 15, markdown: true },
  { name: 'yauzl-manual.pdf', file: 'node_modules/yauzl/README.md', quotes: 15, markdown: true },
];

/** The prose document whose quotes are held out of tuning. */
export const HELD_OUT_PROSE = 'yauzl-manual.pdf';

export interface ProseDocument {
  readonly name: string;
  /** Paragraphs per page. */
  readonly pages: readonly (readonly string[])[];
}

export interface Quote {
  readonly document: string;
  readonly page: number;
  readonly text: string;
}

const PAGE_CHARS = 2200;

/** Characters Helvetica's WinAnsi encoding can draw; typographic ones become their ASCII kin. */
function drawable(text: string): string {
  return text
    .replace(/[‘’]/gu, "'")
    .replace(/[“”]/gu, '"')
    .replace(/[–—]/gu, '-')
    .replace(/…/gu, '...')
    .replace(/[^\x20-\x7E\xA0-\xFF]/gu, ' ');
}

function paragraphsOf(source: ProseSource): string[] {
  let text = readFileSync(path.join(ROOT, source.file), 'utf8');
  if (source.from !== undefined) {
    const at = text.indexOf(source.from);
    if (at < 0) throw new Error(`${source.file} no longer holds "${source.from}"`);
    text = text.slice(at);
  }
  if (source.markdown) {
    text = text
      .replace(/```[\s\S]*?```/gu, '\n\n')
      .replace(/!?\[([^\]]*)\]\([^)]*\)/gu, '$1')
      .replace(/[`*_]+/gu, '')
      .replace(/^#+\s*/gmu, '')
      .replace(/^\s*[-=]{3,}\s*$/gmu, '');
  }
  return text
    .split(/\n\s*\n/u)
    .map((paragraph) => drawable(paragraph).replace(/\s+/gu, ' ').trim())
    .filter((paragraph) => /\p{L}{3}/u.test(paragraph))
    .flatMap((paragraph) => splitLong(paragraph));
}

/** Paragraphs longer than half a page are cut at sentence ends, so pages fill evenly. */
function splitLong(paragraph: string): string[] {
  if (paragraph.length <= PAGE_CHARS / 2) return [paragraph];
  const sentences = paragraph.match(/[^.!?]+[.!?]*\s*/gu) ?? [paragraph];
  const out: string[] = [];
  let current = '';
  for (const sentence of sentences) {
    if (current !== '' && current.length + sentence.length > PAGE_CHARS / 2) {
      out.push(current.trim());
      current = '';
    }
    current += sentence;
  }
  if (current.trim() !== '') out.push(current.trim());
  // A "sentence" longer than a page (a list run together) is cut at spaces.
  return out.flatMap((piece) =>
    piece.length <= PAGE_CHARS ? [piece] : (piece.match(new RegExp(`.{1,${PAGE_CHARS / 2}}(\\s|$)`, 'gu')) ?? [piece]).map((s) => s.trim()),
  );
}

function paginate(paragraphs: readonly string[]): string[][] {
  const pages: string[][] = [];
  let page: string[] = [];
  let chars = 0;
  for (const paragraph of paragraphs) {
    if (page.length > 0 && chars + paragraph.length > PAGE_CHARS) {
      pages.push(page);
      page = [];
      chars = 0;
    }
    page.push(paragraph);
    chars += paragraph.length;
  }
  if (page.length > 0) pages.push(page);
  return pages;
}

export function proseDocuments(): ProseDocument[] {
  return PROSE_SOURCES.map((source) => ({ name: source.name, pages: paginate(paragraphsOf(source)) }));
}

const words = (text: string): string[] => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/**
 * Quotes of 5 to 10 words from random pages, each found (as a word sequence) on exactly one
 * page of all the prose documents, so that its page is the one right answer.
 */
export function sampleQuotes(documents: readonly ProseDocument[], seed = 16): Quote[] {
  const pageWords = documents.flatMap((document) => document.pages.map((paragraphs) => ` ${words(paragraphs.join(' ')).join(' ')} `));
  const random = uniform(seed);
  const quotes: Quote[] = [];
  for (const source of PROSE_SOURCES) {
    const document = documents.find((candidate) => candidate.name === source.name) as ProseDocument;
    const seen = new Set<string>();
    let tries = 0;
    while (quotes.filter((quote) => quote.document === source.name).length < source.quotes) {
      if (++tries > 10_000) throw new Error(`could not sample quotes from ${source.name}`);
      const page = Math.floor(random() * document.pages.length);
      const tokens = (document.pages[page] as string[]).join(' ').split(' ');
      const length = 5 + Math.floor(random() * 6);
      if (tokens.length < length) continue;
      const start = Math.floor(random() * (tokens.length - length + 1));
      const text = tokens
        .slice(start, start + length)
        .join(' ')
        .replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
      const key = ` ${words(text).join(' ')} `;
      if (words(text).length !== length || words(text).filter((word) => word.length >= 4).length < 3 || seen.has(key)) continue;
      if (pageWords.filter((holder) => holder.includes(key)).length !== 1) continue;
      seen.add(key);
      quotes.push({ document: source.name, page: page + 1, text });
    }
  }
  return quotes;
}
