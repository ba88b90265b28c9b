import { describe, expect, it } from 'vitest';
import type { MarkingScheme } from '../../../../electron/common/contract/markings.ts';
import { contrastRatio, languageOf, readableColours, systemHigh, textColourOn } from './marking-style.ts';

const scheme: MarkingScheme = {
  levels: [
    { id: 'PUBLIC', names: { en: 'Public', es: 'Público' }, colour: '#2e7d32' },
    { id: 'INTERNAL', names: { en: 'Internal', es: 'Interno' }, colour: '#1565c0', textColour: '#ffffff' },
    // A text colour that is unreadable on its background: the renderer must not use it.
    { id: 'RESTRICTED', names: { en: 'Restricted', es: 'Restringido' }, colour: '#f9a825', textColour: '#ffffff' },
    { id: 'SECRET', names: { en: 'Secret', es: 'Secreto' }, colour: '#b71c1c' },
  ],
  compartments: [
    { id: 'FINANCE', names: { en: 'Finance', es: 'Finanzas' } },
    { id: 'HEALTH', names: { en: 'Health', es: 'Salud' } },
  ],
  maxLevel: 'RESTRICTED',
  defaultLevel: 'INTERNAL',
  grantedCompartments: ['HEALTH', 'FINANCE'],
  separated: [],
  allowLowering: false,
};

describe('marking display', () => {
  it('takes system high from the scheme, compartments sorted, and the language from i18n', () => {
    expect(systemHigh(scheme)).toEqual({ level: 'RESTRICTED', compartments: ['FINANCE', 'HEALTH'] });
    expect(languageOf('es-ES')).toBe('es');
    expect(languageOf('fr')).toBe('en');
  });

  it('keeps every level’s text at WCAG AA contrast, overriding a policy’s unreadable text colour', () => {
    for (const level of scheme.levels) {
      const { background, color } = readableColours(scheme, { level: level.id, compartments: [] });
      expect(background).toBe(level.colour);
      expect(contrastRatio(background, color)).toBeGreaterThanOrEqual(4.5);
    }
    // Readable: the policy's choice stands.
    expect(textColourOn('#1565c0', '#ffffff')).toBe('#ffffff');
    // White on amber is about 1.9:1; black is chosen instead.
    expect(textColourOn('#f9a825', '#ffffff')).toBe('#000000');
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 5);
    // A level the scheme does not know: grey, still readable.
    const unknown = readableColours(scheme, { level: 'TOPAZ', compartments: [] });
    expect(contrastRatio(unknown.background, unknown.color)).toBeGreaterThanOrEqual(4.5);
  });
});
