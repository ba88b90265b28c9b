import { dniLetterValid } from '../checks.ts';
import type { PiiDetector } from '../types.ts';
import { regexCandidates } from './scan.ts';

// Only a dash or nothing before the letter: "12345678 y ..." (Spanish "and") must not read as a DNI.
const DNI = /(?<![\w.-])(?:\d{8}|\d{2}\.\d{3}\.\d{3})-?[A-Za-z](?!\w)/g;
const NIE = /(?<![\w.-])[XYZxyz]-?\d{7}-?[A-Za-z](?!\w)/g;

export const dniDetector: PiiDetector = {
  type: 'dni',
  label: 'Spanish DNI',
  find: (text) => regexCandidates(DNI, text),
  validate: ({ value }) => dniLetterValid(value.replace(/\D/g, ''), value.slice(-1)),
};

export const nieDetector: PiiDetector = {
  type: 'nie',
  label: 'Spanish NIE',
  find: (text) => regexCandidates(NIE, text),
  validate({ value }) {
    const prefix = String('XYZ'.indexOf(value[0]!.toUpperCase()));
    return dniLetterValid(prefix + value.replace(/\D/g, ''), value.slice(-1));
  },
};
