import { PDFDocument, StandardFonts } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { chunkDocument, estimateTokenCounter } from '../chunk.ts';
import { extractDocument } from './index.ts';

/** A PDF whose pages hold a sentence, a table drawn cell by cell, and another sentence. */
async function tablePdf(pages: readonly { rows: readonly string[][]; before?: string }[]): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  for (const spec of pages) {
    const page = doc.addPage([612, 792]);
    let y = 720;
    if (spec.before !== undefined) {
      page.drawText(spec.before, { x: 56, y, size: 11, font });
      y -= 30;
    }
    spec.rows.forEach((cells, r) => {
      cells.forEach((cell, c) => page.drawText(cell, { x: 56 + c * 120, y, size: 10, font: r === 0 && spec.before !== undefined ? bold : font }));
      y -= 16;
    });
    page.drawText('The figures are in thousands of dollars.', { x: 56, y: y - 20, size: 11, font });
  }
  return doc.save({ useObjectStreams: false });
}

describe('PDF tables', () => {
  it('keeps a drawn table as a table block, and its passages as rows under the header', async () => {
    const header = ['Region', 'Quarter', 'Revenue', 'Units'];
    const bytes = await tablePdf([
      {
        before: 'Sales by region for the first half of the year.',
        rows: [header, ['North', 'Q1', '1,200', '34'], ['South', 'Q1', '980', '21'], ['East', 'Q2', '760', '17']],
      },
      // The table goes on over the page break without repeating its header.
      {
        rows: [
          ['West', 'Q2', '1,410', '40'],
          ['Central', 'Q2', '650', '12'],
        ],
      },
    ]);
    const doc = await extractDocument(bytes, 'sales.pdf');
    const tables = doc.blocks.filter((b) => b.kind === 'table');
    expect(tables.map((b) => [b.page, b.text])).toEqual([
      [1, '| Region | Quarter | Revenue | Units |\n| North | Q1 | 1,200 | 34 |\n| South | Q1 | 980 | 21 |\n| East | Q2 | 760 | 17 |'],
      [2, '| Region | Quarter | Revenue | Units |\n| West | Q2 | 1,410 | 40 |\n| Central | Q2 | 650 | 12 |'],
    ]);
    expect(doc.blocks.find((b) => b.text.startsWith('Sales by region'))).toMatchObject({ kind: 'paragraph', page: 1 });

    const chunks = await chunkDocument(doc.blocks, { maxTokens: 200, overlapTokens: 0, countTokens: estimateTokenCounter });
    const page2 = chunks.find((c) => c.text.includes('Central'));
    expect(page2?.text).toContain('| Region | Quarter | Revenue | Units |\n| West | Q2 | 1,410 | 40 |');
    expect(chunks.find((c) => c.text.includes('North'))?.text).toContain('| Region | Quarter | Revenue | Units |\n| North | Q1 | 1,200 | 34 |');
  });
});
