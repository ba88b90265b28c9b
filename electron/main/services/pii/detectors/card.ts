import { luhnValid } from '../checks.ts';
import type { PiiCandidate, PiiDetector } from '../types.ts';
import { overlappingMatches } from './scan.ts';

const CARD_SHAPE = /(?<![\w-])\d(?:[ -]?\d){12,18}/g;
/** The digits of an account code ("ES37 5393 2608 …", valid or not) often pass Luhn by chance; they are not a card. */
const INSIDE_IBAN_SHAPE = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4}){0,8} ?$/;

/** Issuer prefixes (IIN ranges) and the lengths each network issues. */
const NETWORKS: readonly { readonly prefix: RegExp; readonly lengths: readonly number[] }[] = [
  { prefix: /^4/, lengths: [13, 16, 19] }, // Visa
  { prefix: /^(?:5[1-5]|222[1-9]|22[3-9]\d|2[3-6]\d\d|27[01]\d|2720)/, lengths: [16] }, // Mastercard
  { prefix: /^3[47]/, lengths: [15] }, // American Express
  { prefix: /^(?:6011|64[4-9]|65)/, lengths: [16, 17, 18, 19] }, // Discover
  { prefix: /^35(?:2[89]|[3-8]\d)/, lengths: [16, 17, 18, 19] }, // JCB
  { prefix: /^3(?:0[0-5]|[689])/, lengths: [14, 15, 16, 17, 18, 19] }, // Diners Club
  { prefix: /^62/, lengths: [16, 17, 18, 19] }, // UnionPay
  { prefix: /^220[0-4]/, lengths: [16, 17, 18, 19] }, // Mir
  { prefix: /^(?:5018|5020|5038|5893|6304|6759|676[1-3])/, lengths: [13, 14, 15, 16, 17, 18, 19] }, // Maestro
];

/**
 * Every length from 13 to 19 digits that ends on a boundary (not mid-group) is a candidate:
 * a number followed by a year or another number still yields its own span, and the overlap
 * resolution keeps the longest one that passes.
 */
function find(text: string): PiiCandidate[] {
  const found: PiiCandidate[] = [];
  for (const match of overlappingMatches(CARD_SHAPE, text)) {
    let digits = 0;
    const shape = match[0];
    for (let i = 0; i < shape.length; i++) {
      if (shape[i] === ' ' || shape[i] === '-') continue;
      digits += 1;
      const next = text[match.index + i + 1];
      if (digits >= 13 && (next === undefined || !/\d/.test(next)) && !(next === '-' && /\d/.test(text[match.index + i + 2] ?? ''))) {
        found.push({ start: match.index, end: match.index + i + 1, value: shape.slice(0, i + 1) });
      }
    }
  }
  return found;
}

export function cardNumberValid(value: string): boolean {
  // Mixed separators ("4111 1111-1111 1111") are not how anyone writes a card number.
  if (value.includes(' ') && value.includes('-')) return false;
  const digits = value.replace(/[ -]/g, '');
  if (!luhnValid(digits)) return false;
  return NETWORKS.some((network) => network.prefix.test(digits) && network.lengths.includes(digits.length));
}

export const cardDetector: PiiDetector = {
  type: 'card',
  label: 'payment card number',
  find,
  validate: ({ start, value }, text) => cardNumberValid(value) && !INSIDE_IBAN_SHAPE.test(text.slice(Math.max(0, start - 48), start)),
};
