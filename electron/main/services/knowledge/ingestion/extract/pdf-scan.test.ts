import { describe, expect, it } from 'vitest';
import { imageCoverage, isScan, textCoverage } from './pdf-scan.ts';

// pdf.js operator codes used here (OPS in pdf.js): save 10, restore 11, transform 12, paintImageXObject 85.
const OPS = { save: 10, restore: 11, transform: 12, paintImageXObject: 85, paintFormXObjectBegin: 74, paintFormXObjectEnd: 75 } as never;
const PAGE = 612 * 792;

describe('which PDF pages are scans', () => {
  it('measures how much of the page images paint, following the transformation stack', () => {
    // A full-page image, then a small logo inside save/restore.
    const fn = [10, 12, 85, 11, 10, 12, 85, 11];
    const args = [null, [612, 0, 0, 792, 0, 0], ['img1', 1, 1], null, null, [61.2, 0, 0, 79.2, 10, 10], ['img2', 1, 1], null];
    expect(imageCoverage(fn, args, OPS, PAGE)).toBeCloseTo(1, 5);
    expect(imageCoverage([10, 12, 85, 11], [null, [61.2, 0, 0, 79.2, 10, 10], ['logo', 1, 1], null], OPS, PAGE)).toBeCloseTo(0.01, 5);
    // Nested transforms multiply: half the width, then half the height.
    expect(
      imageCoverage(
        [12, 12, 85],
        [
          [0.5, 0, 0, 1, 0, 0],
          [612, 0, 0, 396, 0, 0],
          ['img', 1, 1],
        ],
        OPS,
        PAGE,
      ),
    ).toBeCloseTo(0.25, 5);
  });

  it('measures how much of the page the text covers', () => {
    const run = (width: number, height: number, str = 'x') => ({ str, transform: [1, 0, 0, 1, 0, 0], width, height, hasEOL: false });
    expect(textCoverage([run(100, 10), run(50, 10, '  ')], PAGE)).toBeCloseTo(1000 / PAGE, 8);
  });

  it('reads a page by OCR when it has no text but an image, or is mostly image with little text', () => {
    expect(isScan(0.95, 0, false)).toBe(true);
    expect(isScan(0.05, 0, false)).toBe(false); // a blank page with a logo
    expect(isScan(0.9, 0.01, true)).toBe(true); // a scan with a stamped page number
    expect(isScan(0.9, 0.2, true)).toBe(false); // a real text layer over a background image
    expect(isScan(0.2, 0.01, true)).toBe(false); // a text page with a figure
  });
});
