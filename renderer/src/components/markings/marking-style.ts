import type { Marking, MarkingScheme } from '../../../../electron/common/contract/markings.ts';
import type { MarkingLanguage } from '../../../../electron/common/markings.ts';

// What the renderer adds to the shared marking helpers (electron/common/markings.ts): the
// reader's language, the machine's system high, and colours that stay readable whatever the
// policy's author chose. Pure, so it is tested alone.

export const languageOf = (language: string): MarkingLanguage => (language.startsWith('es') ? 'es' : 'en');

/** The machine's "system high": its highest allowed level and the compartments it is granted. */
export function systemHigh(scheme: MarkingScheme): Marking {
  return { level: scheme.maxLevel, compartments: [...scheme.grantedCompartments].sort() };
}

/** WCAG 2 relative luminance of a #rrggbb colour. */
export function luminance(hex: string): number {
  const channel = (offset: number) => {
    const value = Number.parseInt(hex.slice(offset, offset + 2), 16) / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

const BLACK = '#000000';
const WHITE = '#ffffff';
/** WCAG AA for text. */
const AA = 4.5;

/**
 * The text colour on a level's colour: the policy's own when it is readable there (AA), else
 * black or white, whichever reads better. A banner must stay legible whatever colour the
 * policy's author chose.
 */
export function textColourOn(background: string, preferred?: string): string {
  if (preferred !== undefined && contrastRatio(background, preferred) >= AA) return preferred;
  return contrastRatio(background, BLACK) >= contrastRatio(background, WHITE) ? BLACK : WHITE;
}

/** Background and text colours of a marking's badge or banner: the level's; a neutral grey for a level the scheme does not know. */
export function readableColours(scheme: MarkingScheme, marking: Marking): { readonly background: string; readonly color: string } {
  const level = scheme.levels.find((entry) => entry.id === marking.level);
  const background = level?.colour ?? '#5b5f68';
  return { background, color: textColourOn(background, level?.textColour) };
}
