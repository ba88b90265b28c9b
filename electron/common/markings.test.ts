import { describe, expect, it } from 'vitest';
import type { MarkingScheme } from './contract/markings.ts';
import {
  compareLevels,
  contrastText,
  dominates,
  effectiveMarking,
  formatMarking,
  highest,
  markingFileTag,
  markingProblems,
  markingText,
  permitted,
  separatedPairsIn,
} from './markings.ts';

const names = (en: string, es: string) => ({ en, es });
const SCHEME: MarkingScheme = {
  levels: [
    { id: 'PUBLIC', names: names('Public', 'Público'), colour: '#2e7d32' },
    { id: 'INTERNAL', names: names('Internal', 'Interno'), colour: '#1565c0' },
    { id: 'RESTRICTED', names: names('Restricted', 'Restringido'), colour: '#f9a825' },
    { id: 'SECRET', names: names('Secret', 'Secreto'), colour: '#c62828' },
  ],
  compartments: [
    { id: 'FINANCE', names: names('Finance', 'Finanzas') },
    { id: 'LEGAL', names: names('Legal', 'Jurídico') },
  ],
  maxLevel: 'RESTRICTED',
  defaultLevel: 'PUBLIC',
  grantedCompartments: ['FINANCE'],
  separated: [['FINANCE', 'LEGAL']],
  allowLowering: false,
};

describe('markings', () => {
  it('order levels by the scheme, with a level it does not know above them all', () => {
    expect(compareLevels(SCHEME, 'PUBLIC', 'SECRET')).toBe(-1);
    expect(compareLevels(SCHEME, 'SECRET', 'INTERNAL')).toBe(1);
    expect(compareLevels(SCHEME, 'RESTRICTED', 'RESTRICTED')).toBe(0);
    expect(compareLevels(SCHEME, 'TOP', 'SECRET')).toBe(1);
  });

  it('take the highest level and every compartment; nothing at all is the default level', () => {
    expect(highest(SCHEME, [{ level: 'INTERNAL', compartments: ['LEGAL'] }, null, { level: 'RESTRICTED', compartments: ['FINANCE', 'LEGAL'] }])).toEqual({
      level: 'RESTRICTED',
      compartments: ['FINANCE', 'LEGAL'],
    });
    expect(highest(SCHEME, [])).toEqual({ level: 'PUBLIC', compartments: [] });
    expect(effectiveMarking(SCHEME, null)).toEqual({ level: 'PUBLIC', compartments: [] });
  });

  it('dominate by level and compartments together', () => {
    expect(dominates(SCHEME, { level: 'SECRET', compartments: ['FINANCE'] }, { level: 'INTERNAL', compartments: ['FINANCE'] })).toBe(true);
    expect(dominates(SCHEME, { level: 'SECRET', compartments: [] }, { level: 'INTERNAL', compartments: ['FINANCE'] })).toBe(false);
    expect(dominates(SCHEME, { level: 'INTERNAL', compartments: ['FINANCE'] }, { level: 'RESTRICTED', compartments: [] })).toBe(false);
  });

  it('permit only what is at or below system high, in granted compartments, and of a known level', () => {
    expect(permitted(SCHEME, { level: 'RESTRICTED', compartments: ['FINANCE'] })).toBe(true);
    expect(permitted(SCHEME, { level: 'SECRET', compartments: [] })).toBe(false);
    expect(permitted(SCHEME, { level: 'PUBLIC', compartments: ['LEGAL'] })).toBe(false);
    expect(permitted(SCHEME, { level: 'TOP', compartments: [] })).toBe(false);
  });

  it('find the separated pairs a set of compartments holds', () => {
    expect(separatedPairsIn(SCHEME, ['LEGAL', 'FINANCE'])).toEqual([['FINANCE', 'LEGAL']]);
    expect(separatedPairsIn(SCHEME, ['FINANCE'])).toEqual([]);
  });

  it('write a marking for records, people and file names', () => {
    const marking = { level: 'RESTRICTED', compartments: ['LEGAL', 'FINANCE', 'LEGAL'] };
    expect(markingText(marking)).toBe('RESTRICTED // FINANCE / LEGAL');
    expect(markingText({ level: 'PUBLIC', compartments: [] })).toBe('PUBLIC');
    expect(formatMarking(SCHEME, marking, 'es')).toBe('Restringido // Finanzas / Jurídico');
    expect(formatMarking(SCHEME, { level: 'TOP', compartments: [] }, 'en')).toBe('TOP');
    expect(markingFileTag(marking)).toBe('RESTRICTED-FINANCE-LEGAL');
  });

  it('name what a marking gets wrong under the scheme', () => {
    expect(markingProblems(SCHEME, { level: 'TOP', compartments: ['HR'] })).toEqual([
      'unknown level TOP (levels: PUBLIC, INTERNAL, RESTRICTED, SECRET)',
      'unknown compartment HR',
    ]);
    expect(markingProblems(SCHEME, { level: 'SECRET', compartments: ['LEGAL'] })).toEqual([]);
  });

  it('pick black or white text for contrast', () => {
    expect(contrastText('#f9a825')).toBe('#000000');
    expect(contrastText('#1565c0')).toBe('#ffffff');
  });
});
