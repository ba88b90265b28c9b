import type { PiiCandidate } from '../types.ts';

/** Every match of a global regex as a candidate. */
export function regexCandidates(pattern: RegExp, text: string): PiiCandidate[] {
  const found: PiiCandidate[] = [];
  for (const match of text.matchAll(pattern)) found.push({ start: match.index, end: match.index + match[0].length, value: match[0] });
  return found;
}

/**
 * Runs a global regex from every position a match starts at, not from the end of the
 * previous match: a greedy shape can swallow the start of the next value (two card
 * numbers in a row), and the detector cuts the match down itself.
 */
export function* overlappingMatches(pattern: RegExp, text: string): Generator<RegExpExecArray> {
  const re = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  let match: RegExpExecArray | null;
  while ((match = re.exec(text)) !== null) {
    yield match;
    re.lastIndex = match.index + 1;
  }
}
