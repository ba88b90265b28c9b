import type { PiiDetector } from '../types.ts';
import { cardDetector } from './card.ts';
import { createDobDetector } from './dob.ts';
import { emailDetector } from './email.ts';
import { ibanDetector } from './iban.ts';
import { ipDetector } from './ip.ts';
import { phoneDetector } from './phone.ts';
import { dniDetector, nieDetector } from './spanish-id.ts';
import { ssnDetector } from './ssn.ts';

export { cardDetector, cardNumberValid } from './card.ts';
export { createDobDetector, parseDate, type DobOptions } from './dob.ts';
export { emailDetector } from './email.ts';
export { ibanDetector } from './iban.ts';
export { ipDetector } from './ip.ts';
export { phoneDetector } from './phone.ts';
export { dniDetector, nieDetector } from './spanish-id.ts';
export { ssnDetector } from './ssn.ts';

/**
 * The registry. Order is the tie-break when two types claim spans of the same length: the
 * checksummed types come first because their validators are the strictest.
 */
export const DEFAULT_DETECTORS: readonly PiiDetector[] = [
  ibanDetector,
  cardDetector,
  dniDetector,
  nieDetector,
  ssnDetector,
  emailDetector,
  ipDetector,
  createDobDetector(),
  phoneDetector,
];
