import { calendarDateValid } from '../checks.ts';
import type { PiiCandidate, PiiDetector } from '../types.ts';
import { regexCandidates } from './scan.ts';

const MONTHS: Readonly<Record<string, number>> = {
  january: 1,
  february: 2,
  march: 3,
  april: 4,
  may: 5,
  june: 6,
  july: 7,
  august: 8,
  september: 9,
  october: 10,
  november: 11,
  december: 12,
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  sept: 9,
  oct: 10,
  nov: 11,
  dec: 12,
  enero: 1,
  febrero: 2,
  marzo: 3,
  abril: 4,
  mayo: 5,
  junio: 6,
  julio: 7,
  agosto: 8,
  septiembre: 9,
  setiembre: 9,
  octubre: 10,
  noviembre: 11,
  diciembre: 12,
  ene: 1,
  abr: 4,
  ago: 8,
  dic: 12,
};
// Longest first, so "march" is not taken as "mar" followed by junk.
const MONTH = Object.keys(MONTHS)
  .sort((a, b) => b.length - a.length)
  .join('|');
const DAY = String.raw`\d{1,2}(?:st|nd|rd|th|º)?`;

const NUMERIC_DMY = String.raw`\d{1,2}([/.-])\d{1,2}\1\d{4}`;
const NUMERIC_YMD = String.raw`\d{4}([/.-])\d{1,2}\2\d{1,2}`;
const DAY_MONTH = String.raw`${DAY}(?:\s+de|\s+of)?\s+(?:${MONTH})\.?,?(?:\s+del?)?\s+\d{4}`;
const MONTH_DAY = String.raw`(?:${MONTH})\.?\s+${DAY},?\s+\d{4}`;
const DATE = new RegExp(String.raw`(?<![\w./-])(?:${NUMERIC_DMY}|${NUMERIC_YMD}|${DAY_MONTH}|${MONTH_DAY})(?![\w]|[./-]\d)`, 'gi');

interface Ymd {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/** The date a matched string names. Numeric dates are read day first; month first only when day first is impossible (03/25/1984). */
export function parseDate(value: string): Ymd | null {
  let m = /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})$/.exec(value);
  if (m !== null) {
    const [a, b, year] = [Number(m[1]), Number(m[3]), Number(m[4])];
    if (calendarDateValid(year, b, a)) return { year, month: b, day: a };
    return calendarDateValid(year, a, b) ? { year, month: a, day: b } : null;
  }
  m = /^(\d{4})([/.-])(\d{1,2})\2(\d{1,2})$/.exec(value);
  if (m !== null) return checked(Number(m[1]), Number(m[3]), Number(m[4]));
  const words = value.toLowerCase().replace(/[.,]/g, ' ');
  m = /^(\d{1,2})(?:st|nd|rd|th|º)?\s+(?:(?:de|of)\s+)?([a-z]+)\s+(?:del?\s+)?(\d{4})$/.exec(words);
  if (m !== null) return checked(Number(m[3]), MONTHS[m[2]!] ?? 0, Number(m[1]));
  m = /^([a-z]+)\s+(\d{1,2})(?:st|nd|rd|th|º)?\s+(\d{4})$/.exec(words);
  if (m !== null) return checked(Number(m[3]), MONTHS[m[1]!] ?? 0, Number(m[2]));
  return null;
}

function checked(year: number, month: number, day: number): Ymd | null {
  return calendarDateValid(year, month, day) ? { year, month, day } : null;
}

/** Words that make a date someone's date of birth, in English and Spanish. */
const BIRTH =
  /(?<!\p{L})(?:born|dob|d\.o\.b|date of birth|birth ?date|birthday|b-day|fecha de nacimiento|f\. ?nac|fecha nac|nacid[oa]s?|naci[oó]|nacimiento|cumpleaños)(?!\p{L})/giu;
/** A keyword in an earlier sentence or paragraph is about something else. */
const BREAK = /[.!?]\s+[\p{Lu}¿¡]|\n\s*\n/u;

export interface DobOptions {
  /** How far before the date (from the keyword's end) the keyword may be. */
  readonly before?: number;
  /** How far after the date (to the keyword's start) it may be: "12/03/1984 (date of birth)". */
  readonly after?: number;
  readonly minYear?: number;
  readonly maxYear?: number;
}

function hasBirthContext(candidate: PiiCandidate, text: string, before: number, after: number): boolean {
  const from = Math.max(0, candidate.start - before - 24);
  const head = text.slice(from, candidate.start);
  for (const match of head.matchAll(BIRTH)) {
    const gap = head.slice(match.index + match[0].length);
    if (gap.length <= before && !BREAK.test(gap)) return true;
  }
  const tail = text.slice(candidate.end, candidate.end + after + 24);
  for (const match of tail.matchAll(BIRTH)) {
    // With the keyword's first letter: ". DOB" after the date starts the next sentence.
    if (match.index <= after && !BREAK.test(tail.slice(0, match.index + 1))) return true;
  }
  return false;
}

/**
 * A date is flagged only as a date of birth: it must be a real calendar date, in a year a
 * living person could be born in, with a birth keyword near it in the same sentence.
 * `maxYear` defaults to the current year, read once when the detector is made.
 */
export function createDobDetector(options: DobOptions = {}): PiiDetector {
  const before = options.before ?? 40;
  const after = options.after ?? 24;
  const minYear = options.minYear ?? 1900;
  const maxYear = options.maxYear ?? new Date().getFullYear();
  return {
    type: 'dob',
    label: 'date of birth',
    find: (text) => regexCandidates(DATE, text),
    validate(candidate, text) {
      const date = parseDate(candidate.value);
      if (date === null || date.year < minYear || date.year > maxYear) return false;
      return hasBirthContext(candidate, text, before, after);
    },
  };
}
