import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import {
  csvDocument,
  docxDocument,
  htmlDocument,
  markdownDocument,
  pdfDocument,
  textDocument,
  type Section,
} from '../../../../../../e2e/fixtures/documents/index.ts';
import type { ExtractedBlock } from '../../types.ts';
import { detectFormat, extractDocument } from './index.ts';

const sections: Section[] = [
  { heading: 'Harbor Report', level: 1, paragraphs: ['The copper shipment arrived on Tuesday morning.', 'Inspectors counted forty crates.'] },
  { heading: 'Findings', level: 2, paragraphs: ['Two crates were damaged by water.'] },
  { heading: 'Next Steps', level: 2, paragraphs: ['The clerk files the claim by Friday.'] },
];

const textOf = (blocks: readonly ExtractedBlock[]) => blocks.map((b) => b.text).join('\n');
const find = (blocks: readonly ExtractedBlock[], text: string) => blocks.find((b) => b.text.includes(text));

describe('detectFormat', () => {
  it('trusts magic bytes over the name and falls back to the extension', async () => {
    expect(detectFormat('x.txt', await pdfDocument([{ blocks: [{ kind: 'paragraph', text: 'x' }] }]))).toBe('pdf');
    expect(detectFormat('renamed.zip', docxDocument([{ text: 'x' }]))).toBe('docx');
    expect(detectFormat('notes.MD', new TextEncoder().encode('# hi'))).toBe('markdown');
    expect(detectFormat('notes.markdown', new Uint8Array())).toBe('markdown');
    expect(detectFormat('a.htm', new Uint8Array())).toBe('html');
    expect(detectFormat('a.csv', new Uint8Array())).toBe('csv');
    expect(detectFormat('a.txt', new Uint8Array())).toBe('text');
    expect(detectFormat('page', new TextEncoder().encode('  <!DOCTYPE html><p>x'))).toBe('html');
    expect(detectFormat('a.bin', new Uint8Array([1, 2, 3]))).toBeNull();
    expect(detectFormat('plain.zip', zipSync({ 'a.txt': new Uint8Array([65]) }))).toBeNull();
  });
});

describe('extractDocument', () => {
  it('PDF: text per page, paragraphs rejoined, headings by font size', async () => {
    const long =
      'This paragraph is long enough to wrap over several lines of the page, and every word must come back whole: nothing glued together and nothing split in the middle of a word, across the line breaks.';
    const bytes = await pdfDocument(
      [
        {
          blocks: [
            { kind: 'heading', text: 'Chapter One' },
            { kind: 'paragraph', text: long },
            { kind: 'paragraph', text: 'The first page ends here.' },
          ],
        },
        { blocks: [{ kind: 'paragraph', text: 'Page two continues the chapter.' }] },
        {
          blocks: [
            { kind: 'heading', text: 'Chapter Two' },
            { kind: 'paragraph', text: 'The third page has its own heading.' },
          ],
        },
      ],
      { title: 'Annual Review' },
    );
    const doc = await extractDocument(bytes, 'review.pdf');
    expect(doc).toMatchObject({ format: 'pdf', title: 'Annual Review', pageCount: 3 });
    expect(find(doc.blocks, 'This paragraph')).toMatchObject({ kind: 'paragraph', text: long, page: 1, headingPath: ['Chapter One'] });
    expect(find(doc.blocks, 'first page ends')).toMatchObject({ text: 'The first page ends here.', page: 1 });
    expect(find(doc.blocks, 'Page two')).toMatchObject({ page: 2, headingPath: ['Chapter One'] });
    expect(find(doc.blocks, 'Chapter Two')).toMatchObject({ kind: 'heading', level: 1, page: 3 });
    expect(find(doc.blocks, 'third page')).toMatchObject({ page: 3, headingPath: ['Chapter Two'] });
  });

  it('DOCX: heading styles become the heading path; the core title is the title', async () => {
    const doc = await extractDocument(
      docxDocument(
        sections.flatMap((s) => [{ heading: s.level, text: s.heading }, ...s.paragraphs.map((text) => ({ text }))]),
        { title: 'Port Memo' },
      ),
      'memo.docx',
    );
    expect(doc).toMatchObject({ format: 'docx', title: 'Port Memo', pageCount: null });
    expect(find(doc.blocks, 'Findings')).toMatchObject({ kind: 'heading', level: 2, headingPath: ['Harbor Report', 'Findings'] });
    expect(find(doc.blocks, 'damaged by water')).toMatchObject({ kind: 'paragraph', page: null, headingPath: ['Harbor Report', 'Findings'] });
    expect(find(doc.blocks, 'clerk files')?.headingPath).toEqual(['Harbor Report', 'Next Steps']);
  });

  it('HTML: title, headings, lists and tables; scripts, styles and the like are dropped', async () => {
    const doc = await extractDocument(
      htmlDocument({
        title: 'Harbor & Co',
        sections,
        list: ['alpha', 'beta'],
        table: [
          ['Crate', 'State'],
          ['1', 'dry'],
          ['2', 'wet'],
        ],
      }),
      'page.html',
    );
    expect(doc.title).toBe('Harbor & Co');
    expect(find(doc.blocks, 'Findings')).toMatchObject({ kind: 'heading', level: 2 });
    expect(find(doc.blocks, 'copper')).toMatchObject({ kind: 'paragraph', headingPath: ['Harbor Report'] });
    expect(find(doc.blocks, 'alpha')).toMatchObject({ kind: 'list', text: '- alpha\n- beta' });
    expect(find(doc.blocks, 'Crate')).toMatchObject({ kind: 'table', text: '| Crate | State |\n| 1 | dry |\n| 2 | wet |' });
    expect(textOf(doc.blocks)).not.toMatch(/hidden|color: red|do not index/);
  });

  it('HTML: nested lists, line breaks and inline markup', async () => {
    const html = '<p>one<br>two <b>bold</b>text</p><ol><li>first<ul><li>inner</li></ul></li><li>second</li></ol><pre>  keep\n    spacing</pre>';
    const doc = await extractDocument(new TextEncoder().encode(html), 'frag.html');
    expect(doc.blocks.map((b) => [b.kind, b.text])).toEqual([
      ['paragraph', 'one\ntwo boldtext'],
      ['list', '1. first\n  - inner\n2. second'],
      ['code', '  keep\n    spacing'],
    ]);
  });

  it('Markdown: ATX and setext headings, lists, code and tables', async () => {
    const doc = await extractDocument(
      markdownDocument({
        sections,
        list: ['**alpha** item', 'beta `item`'],
        code: 'let x = 1;\n\nlet y = 2;',
        table: [
          ['Crate', 'State'],
          ['1', 'dry'],
        ],
      }),
      'notes.md',
    );
    expect(doc).toMatchObject({ format: 'markdown', title: 'Harbor Report' });
    // "Findings" is a setext heading in the fixture; "Next Steps" an ATX one.
    expect(find(doc.blocks, 'Findings')).toMatchObject({ kind: 'heading', level: 2, headingPath: ['Harbor Report', 'Findings'] });
    expect(find(doc.blocks, 'clerk')?.headingPath).toEqual(['Harbor Report', 'Next Steps']);
    expect(find(doc.blocks, 'alpha')).toMatchObject({ kind: 'list', text: '- alpha item\n- beta item' });
    expect(find(doc.blocks, 'let x')).toMatchObject({ kind: 'code', text: 'let x = 1;\n\nlet y = 2;' });
    expect(find(doc.blocks, 'Crate')).toMatchObject({ kind: 'table', text: '| Crate | State |\n| 1 | dry |' });
  });

  it('Markdown: front matter is skipped and "---" after a blank line is a rule, not a heading', async () => {
    const md = '---\ntitle: x\n---\nIntro line.\n\n---\n\nAfter rule.\n';
    const doc = await extractDocument(new TextEncoder().encode(md), 'a.md');
    expect(doc.blocks.map((b) => [b.kind, b.text])).toEqual([
      ['paragraph', 'Intro line.'],
      ['paragraph', 'After rule.'],
    ]);
  });

  it('text: paragraphs split on blank lines; Windows-1252 is decoded', async () => {
    const doc = await extractDocument(textDocument(['First line\nsecond line', 'Next paragraph']), 'a.txt');
    expect(doc.blocks.map((b) => b.text)).toEqual(['First line\nsecond line', 'Next paragraph']);
    const latin = await extractDocument(new Uint8Array([0x63, 0x61, 0x66, 0xe9]), 'b.txt');
    expect(latin.blocks[0]?.text).toBe('café');
  });

  it('CSV: one table block, header first, rows numbered in a "#" column', async () => {
    const rows = [['id', 'city', 'note']];
    for (let i = 1; i <= 45; i++) rows.push([String(i), `City ${i}`, i === 7 ? 'has, a comma and "quotes" | a bar' : '']);
    const doc = await extractDocument(csvDocument(rows), 'cities.csv');
    expect(doc.blocks).toHaveLength(1);
    const lines = doc.blocks[0]?.text.split('\n') ?? [];
    expect(doc.blocks[0]?.kind).toBe('table');
    expect(lines).toHaveLength(46);
    expect(lines[0]).toBe('| # | id | city | note |');
    expect(lines[7]).toBe('| 8 | 7 | City 7 | has, a comma and "quotes" \\| a bar |');
    expect(lines[45]).toBe('| 46 | 45 | City 45 |  |');
  });

  it('EPUB, ODT and PPTX read from the guarded archive', async () => {
    const enc = new TextEncoder();
    const epub = zipSync({
      mimetype: [enc.encode('application/epub+zip'), { level: 0 }],
      'META-INF/container.xml': enc.encode('<container><rootfiles><rootfile full-path="OEBPS/book.opf"/></rootfiles></container>'),
      'OEBPS/book.opf': enc.encode(
        '<package><metadata><dc:title>Sea Book</dc:title></metadata><manifest><item id="c1" href="one.xhtml"/><item id="c2" href="two.xhtml"/></manifest><spine><itemref idref="c2"/><itemref idref="c1"/></spine></package>',
      ),
      'OEBPS/one.xhtml': enc.encode('<html><body><h1>One</h1><p>Chapter one text.</p></body></html>'),
      'OEBPS/two.xhtml': enc.encode('<html><body><h1>Two</h1><p>Chapter two text.</p></body></html>'),
    });
    const book = await extractDocument(epub, 'book.epub');
    expect(book).toMatchObject({ format: 'epub', title: 'Sea Book' });
    expect(book.blocks.map((b) => b.text)).toEqual(['Two', 'Chapter two text.', 'One', 'Chapter one text.']);

    const odt = zipSync({
      mimetype: [enc.encode('application/vnd.oasis.opendocument.text'), { level: 0 }],
      'content.xml': enc.encode(
        '<office:document-content><office:body><office:text><text:h text:outline-level="1">Plan</text:h><text:p>Body <text:span>text</text:span>.</text:p><text:h text:outline-level="2">Detail</text:h><text:list><text:list-item><text:p>item</text:p></text:list-item></text:list></office:text></office:body></office:document-content>',
      ),
    });
    const plan = await extractDocument(odt, 'plan.odt');
    expect(plan.blocks.map((b) => [b.kind, b.text, b.headingPath.join('/')])).toEqual([
      ['heading', 'Plan', 'Plan'],
      ['paragraph', 'Body text.', 'Plan'],
      ['heading', 'Detail', 'Plan/Detail'],
      ['list', '- item', 'Plan/Detail'],
    ]);

    const slide = (title: string, body: string) =>
      enc.encode(
        `<p:sld><p:cSld><p:spTree><p:sp><p:nvSpPr><p:nvPr><p:ph type="title"/></p:nvPr></p:nvSpPr><p:txBody><a:p><a:r><a:t>${title}</a:t></a:r></a:p></p:txBody></p:sp><p:sp><p:txBody><a:p><a:r><a:t>${body}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>`,
      );
    const pptx = zipSync({
      '[Content_Types].xml': enc.encode('<Types/>'),
      'ppt/presentation.xml': enc.encode(
        '<p:presentation><p:sldIdLst><p:sldId id="256" r:id="rId2"/><p:sldId id="257" r:id="rId1"/></p:sldIdLst></p:presentation>',
      ),
      'ppt/_rels/presentation.xml.rels': enc.encode(
        '<Relationships><Relationship Id="rId1" Target="slides/slide1.xml"/><Relationship Id="rId2" Target="slides/slide2.xml"/></Relationships>',
      ),
      'ppt/slides/slide1.xml': slide('Second', 'shown second'),
      'ppt/slides/slide2.xml': slide('First', 'shown first'),
    });
    const deck = await extractDocument(pptx, 'deck.pptx');
    expect(deck).toMatchObject({ format: 'pptx', pageCount: 2 });
    expect(deck.blocks.map((b) => [b.text, b.page])).toEqual([
      ['First', 1],
      ['shown first', 1],
      ['Second', 2],
      ['shown second', 2],
    ]);
  });
});
