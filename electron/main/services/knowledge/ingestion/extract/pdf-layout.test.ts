import { describe, expect, it } from 'vitest';
import { linesOf, pageBlocks, paragraphsOf, trailingTable, type TextRun } from './pdf-layout.ts';

const run = (str: string, x: number, y: number, width: number, hasEOL = false, size = 10): TextRun => ({
  str,
  transform: [size, 0, 0, size, x, y],
  width,
  height: size,
  hasEOL,
});

describe('PDF layout', () => {
  it('adds a space where runs are apart and none where they touch', () => {
    const lines = linesOf([run('Hel', 0, 700, 15), run('lo', 15, 700, 10), run('world', 30, 700, 25)]);
    expect(lines.map((l) => l.text)).toEqual(['Hello world']);
  });

  it('breaks lines on end-of-line marks and baseline jumps, and undoes hyphenation', () => {
    const lines = linesOf([run('an inter-', 0, 700, 40, true), run('national port', 0, 688, 60), run('next', 0, 676, 20)]);
    expect(lines.map((l) => l.text)).toEqual(['an inter-', 'national port', 'next']);
    expect(paragraphsOf(lines).map((p) => p.text)).toEqual(['an international port next']);
  });

  it('starts a paragraph at a wide gap or a size change', () => {
    const lines = linesOf([
      run('Title', 0, 760, 50, true, 18),
      run('body one', 0, 730, 200, true),
      run('body two', 0, 718, 200, true),
      run('new para', 0, 690, 200),
    ]);
    expect(paragraphsOf(lines).map((p) => p.text)).toEqual(['Title', 'body one body two', 'new para']);
  });

  /** Rows drawn cell by cell at the given column lefts, 14 points apart, as pdf.js reports them. */
  const rowsAt = (rows: readonly string[][], lefts: readonly number[], top = 700): TextRun[] =>
    rows.flatMap((cells, r) =>
      cells.flatMap((cell, c) => (cell === '' ? [] : [run(cell, lefts[c] ?? 0, top - r * 14, cell.length * 5, c === cells.length - 1)])),
    );
  const kinds = (runs: TextRun[]) => pageBlocks(linesOf(runs)).map((p) => (p.table === undefined ? `p: ${p.text}` : `t: ${p.text}`));

  it('reads a table from cells aligned in columns, its first row the header', () => {
    const table = [
      ['Region', 'Quarter', 'Revenue', 'Units'],
      ['North', 'Q1', '1,200', '34'],
      ['South', 'Q1', '980', '21'],
      ['East', 'Q2', '', '17'],
      ['West', 'Q2', '1,410', '40'],
    ];
    const runs = [run('Sales by region are below.', 56, 730, 130, true), ...rowsAt(table, [56, 160, 260, 360]), run('Prose follows the table.', 56, 610, 120)];
    expect(kinds(runs)).toEqual([
      'p: Sales by region are below.',
      't: | Region | Quarter | Revenue | Units |\n| North | Q1 | 1,200 | 34 |\n| South | Q1 | 980 | 21 |\n| East | Q2 |  | 17 |\n| West | Q2 | 1,410 | 40 |',
      'p: Prose follows the table.',
    ]);
  });

  it('leaves a two-column page as prose, even when each line crosses both columns', () => {
    const left = [
      'The harbour master opened the gates before dawn',
      'so that the first ships could enter on the tide,',
      'and the pilots waited at the breakwater for them',
      'while the crews made the lines ready to throw.',
    ];
    const right = [
      'Trade in copper grew every year of the decade',
      'and the warehouses along the quay were filled',
      'with crates that the clerks counted one by one',
      'before the buyers came down from the city.',
    ];
    const runs = left.flatMap((text, i) => [run(text, 56, 700 - i * 14, 240), run(right[i] ?? '', 316, 700 - i * 14, 240, true)]);
    expect(pageBlocks(linesOf(runs)).some((p) => p.table !== undefined)).toBe(false);
  });

  it('leaves a numbered list as a list, markers apart from their items', () => {
    const items = ['Open the gates', 'Count the crates', 'File the claim', 'Pay the pilots'];
    const runs = items.flatMap((text, i) => [run(`${i + 1}.`, 56, 700 - i * 14, 8), run(text, 80, 700 - i * 14, 80, true)]);
    expect(pageBlocks(linesOf(runs)).some((p) => p.table !== undefined)).toBe(false);
    const bullets = items.flatMap((text, i) => [run('•', 56, 700 - i * 14, 4), run(text, 72, 700 - i * 14, 80, true)]);
    expect(pageBlocks(linesOf(bullets)).some((p) => p.table !== undefined)).toBe(false);
  });

  it('keeps a table over a page break as two tables, each with the header row', () => {
    const lefts = [56, 200, 320];
    const header = ['Item', 'Weight', 'Price'];
    const first = pageBlocks(linesOf(rowsAt([header, ['Bolt', '2 kg', '$4'], ['Nut', '1 kg', '$2'], ['Washer', '1 kg', '$1']], lefts, 100)));
    expect(first.map((p) => p.text)).toEqual(['| Item | Weight | Price |\n| Bolt | 2 kg | $4 |\n| Nut | 1 kg | $2 |\n| Washer | 1 kg | $1 |']);
    const carried = trailingTable(first);
    // The next page goes on without repeating the header: it is carried over.
    const second = pageBlocks(
      linesOf([
        run('Page 2', 56, 760, 30, true),
        ...rowsAt(
          [
            ['Hinge', '3 kg', '$9'],
            ['Chain', '5 kg', '$12'],
          ],
          lefts,
        ),
      ]),
      carried,
    );
    expect(second.map((p) => p.text)).toEqual(['Page 2', '| Item | Weight | Price |\n| Hinge | 3 kg | $9 |\n| Chain | 5 kg | $12 |']);
    // ...or repeats it, which is not doubled.
    const repeated = pageBlocks(linesOf(rowsAt([header, ['Hinge', '3 kg', '$9'], ['Chain', '5 kg', '$12']], lefts)), carried);
    expect(repeated.map((p) => p.text)).toEqual(['| Item | Weight | Price |\n| Hinge | 3 kg | $9 |\n| Chain | 5 kg | $12 |']);
    // Without a table before it, two rows of figures are not a table.
    expect(
      pageBlocks(
        linesOf(
          rowsAt(
            [
              ['Hinge', '3 kg', '$9'],
              ['Chain', '5 kg', '$12'],
            ],
            lefts,
          ),
        ),
      ).some((p) => p.table !== undefined),
    ).toBe(false);
  });
});
