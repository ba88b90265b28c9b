import { ssnValid } from '../checks.ts';
import type { PiiDetector } from '../types.ts';
import { regexCandidates } from './scan.ts';

// Dashes or spaces, the same both times; a bare nine-digit run is too often something else.
const SSN = /(?<![\w-]|\d )\d{3}([- ])\d{2}\1\d{4}(?!\w|[- ]\d)/g;

export const ssnDetector: PiiDetector = {
  type: 'ssn',
  label: 'US Social Security number',
  find: (text) => regexCandidates(SSN, text),
  validate({ value }) {
    const [area = '', group = '', serial = ''] = value.split(/[- ]/);
    return ssnValid(area, group, serial);
  },
};
