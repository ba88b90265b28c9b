import { digitsOf } from '../checks.ts';
import type { PiiCandidate, PiiDetector } from '../types.ts';

/*
 * Three shapes, each anchored so that a longer run of digits never yields a phone number:
 * international (+ country code, E.164 length), Spanish national (nine digits starting
 * 6, 7, 8 or 9, bare or in the usual groupings) and US national ((xxx) xxx-xxxx, xxx-xxx-xxxx).
 */
const INTERNATIONAL = /(?<![\w+])\+[1-9]\d{0,3}(?:[ -]?\(\d{1,4}\))?(?:[ -]?\d{1,14})?(?:[ -]\d{1,10}){0,6}(?![\w+]|[ -]?\d)/g;
const SPANISH =
  /(?<![\w+./-]|\d[ -])(?:[6789]\d{8}|[6789]\d{2}([ -])\d{3}\1\d{3}|[6789]\d{2}([ -])\d{2}\2\d{2}\2\d{2}|[89]\d([ -])\d{3}\3\d{2}\3\d{2})(?![\w/]|[.,-]\d|[ -]\d)/g;
const US = /(?<![\w+./-]|\d[ -])(?:1[ -])?(?:\(\d{3}\) ?\d{3}[ -]\d{4}|\d{3}([.-])\d{3}\1\d{4})(?![\w/]|[.,-]\d|[ -]\d)/g;

/** Words before a national-format number that make it an order, invoice or account number rather than a phone. */
const NOT_A_PHONE_BEFORE =
  /(?:#|\bn[ºo°]\.?|\bn[uú]m(?:ber|ero)?\.?|\border|\binvoice|\bref(?:erence|erencia)?\.?|\bticket|\bpedido|\bfactura|\bid|\baccount|\bcuenta|\bexpediente|\btracking|\bserial|\bsku|\blote|\bbatch|\bpo)\s*[:#]?\s*$/i;

function national(candidate: PiiCandidate, text: string): boolean {
  const before = text.slice(Math.max(0, candidate.start - 24), candidate.start);
  return !NOT_A_PHONE_BEFORE.test(before);
}

export const phoneDetector: PiiDetector = {
  type: 'phone',
  label: 'phone number',
  find: (text) =>
    [INTERNATIONAL, SPANISH, US].flatMap((pattern) => [...text.matchAll(pattern)].map((m) => ({ start: m.index, end: m.index + m[0].length, value: m[0] }))),
  validate(candidate, text) {
    const { value } = candidate;
    if (value.startsWith('+')) {
      // A "(0)" trunk prefix is written but not dialled from abroad, so it is not part of E.164's 15.
      const digits = digitsOf(value.replace(/\(0\)/, ''));
      if (value.startsWith('+1') && digits.length === 11) return nanpValid(digits.slice(1));
      return digits.length >= 8 && digits.length <= 15;
    }
    const digits = digitsOf(value);
    if (digits.length === 9) return national(candidate, text);
    const ten = digits.length === 11 ? digits.slice(1) : digits;
    return ten.length === 10 && nanpValid(ten) && national(candidate, text);
  },
};

/** North American numbering: area and exchange start 2-9, and N11 codes are services, not areas. */
function nanpValid(ten: string): boolean {
  return /^[2-9]\d\d[2-9]\d{6}$/.test(ten) && !/^[2-9]11/.test(ten);
}
