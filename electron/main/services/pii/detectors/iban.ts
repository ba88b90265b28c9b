import { IBAN_LENGTHS, ibanValid } from '../checks.ts';
import type { PiiCandidate, PiiDetector } from '../types.ts';
import { overlappingMatches } from './scan.ts';

const IBAN_SHAPE = /(?<![A-Za-z0-9])([A-Z]{2})\d{2}(?: ?[A-Z0-9]){11,30}/g;

/**
 * The shape is greedy (groups of four, or none) and would run into a following upper-case
 * word, so each match is cut where the country's length is reached; the cut must fall on a
 * boundary, or the text is a longer code that merely starts like an IBAN.
 */
function find(text: string): PiiCandidate[] {
  const found: PiiCandidate[] = [];
  for (const match of overlappingMatches(IBAN_SHAPE, text)) {
    const expected = IBAN_LENGTHS[match[1]!];
    if (expected === undefined) continue;
    let count = 0;
    let end = -1;
    for (let i = 0; i < match[0].length; i++) {
      if (match[0][i] === ' ') continue;
      count += 1;
      if (count === expected) {
        end = i + 1;
        break;
      }
    }
    if (end < 0) continue;
    const next = text[match.index + end];
    if (next !== undefined && /[A-Za-z0-9]/.test(next)) continue;
    found.push({ start: match.index, end: match.index + end, value: match[0].slice(0, end) });
  }
  return found;
}

export const ibanDetector: PiiDetector = {
  type: 'iban',
  label: 'IBAN',
  find,
  validate: ({ value }) => ibanValid(value.replace(/ /g, '')),
};
