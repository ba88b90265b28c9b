import type { Marking, MarkingScheme } from './contract/markings.ts';

// Pure helpers over markings, shared by the services and the renderer. A level or a
// compartment the scheme does not know (the policy changed since the item was marked)
// counts as above everything and granted to no one: unknown material stays hidden.

export type MarkingLanguage = 'en' | 'es';

/** The level's position, lowest 0; a level the scheme does not list ranks above every level. */
export function levelRank(scheme: MarkingScheme, level: string): number {
  const index = scheme.levels.findIndex((entry) => entry.id === level);
  return index === -1 ? Number.POSITIVE_INFINITY : index;
}

/** Negative when a is lower than b, 0 when equal, positive when higher (unknown levels are highest). */
export function compareLevels(scheme: MarkingScheme, a: string, b: string): number {
  const ra = levelRank(scheme, a);
  const rb = levelRank(scheme, b);
  return ra === rb ? 0 : ra < rb ? -1 : 1;
}

/** Sorted, unique compartments: one spelling per marking, so markings compare as JSON. */
export function normaliseMarking(marking: Marking): Marking {
  return { level: marking.level, compartments: [...new Set(marking.compartments)].sort() };
}

/** The default level with no compartment: what an unmarked record is. */
export function defaultMarking(scheme: MarkingScheme): Marking {
  return { level: scheme.defaultLevel, compartments: [] };
}

/** A stored marking as it counts: null is the scheme's default. */
export function effectiveMarking(scheme: MarkingScheme, stored: Marking | null | undefined): Marking {
  return stored === null || stored === undefined ? defaultMarking(scheme) : normaliseMarking(stored);
}

/** The highest level and every compartment of the markings; the default marking when there are none. */
export function highest(scheme: MarkingScheme, markings: readonly (Marking | null | undefined)[]): Marking {
  let level = scheme.levels[0]?.id ?? scheme.defaultLevel;
  const compartments = new Set<string>();
  let any = false;
  for (const stored of markings) {
    const marking = effectiveMarking(scheme, stored);
    if (!any || compareLevels(scheme, marking.level, level) > 0) level = marking.level;
    any = true;
    for (const compartment of marking.compartments) compartments.add(compartment);
  }
  if (!any) return defaultMarking(scheme);
  return { level, compartments: [...compartments].sort() };
}

/** a dominates b: at least b's level and every one of b's compartments. */
export function dominates(scheme: MarkingScheme, a: Marking, b: Marking): boolean {
  return compareLevels(scheme, a.level, b.level) >= 0 && b.compartments.every((compartment) => a.compartments.includes(compartment));
}

export function sameMarking(a: Marking, b: Marking): boolean {
  const x = normaliseMarking(a);
  const y = normaliseMarking(b);
  return x.level === y.level && x.compartments.length === y.compartments.length && x.compartments.every((item, index) => item === y.compartments[index]);
}

/** Whether this machine may show material so marked: at or below system high, and in granted compartments only. */
export function permitted(scheme: MarkingScheme, marking: Marking): boolean {
  return (
    levelRank(scheme, marking.level) <= levelRank(scheme, scheme.maxLevel) &&
    marking.compartments.every((compartment) => scheme.grantedCompartments.includes(compartment))
  );
}

/** The scheme's separated pairs that all occur in these compartments (each pair once, as the policy wrote it). */
export function separatedPairsIn(scheme: MarkingScheme, compartments: readonly string[]): [string, string][] {
  const present = new Set(compartments);
  return scheme.separated.filter(([a, b]) => present.has(a) && present.has(b)).map(([a, b]) => [a, b]);
}

/** What is wrong with a marking under this scheme (unknown level or compartment); empty when it is valid. */
export function markingProblems(scheme: MarkingScheme, marking: Marking): string[] {
  const problems: string[] = [];
  if (!scheme.levels.some((level) => level.id === marking.level))
    problems.push(`unknown level ${marking.level} (levels: ${scheme.levels.map((level) => level.id).join(', ')})`);
  for (const compartment of marking.compartments) {
    if (!scheme.compartments.some((entry) => entry.id === compartment)) problems.push(`unknown compartment ${compartment}`);
  }
  return problems;
}

/** Language-independent text for records and headers: "RESTRICTED // FINANCE / LEGAL". */
export function markingText(marking: Marking): string {
  const { level, compartments } = normaliseMarking(marking);
  return compartments.length === 0 ? level : `${level} // ${compartments.join(' / ')}`;
}

/** What a person reads, in their language: the scheme's names ("Restricted // Finance"); ids for anything unknown. */
export function formatMarking(scheme: MarkingScheme, marking: Marking, lang: MarkingLanguage): string {
  const { level, compartments } = normaliseMarking(marking);
  const levelName = scheme.levels.find((entry) => entry.id === level)?.names[lang] ?? level;
  const names = compartments.map((id) => scheme.compartments.find((entry) => entry.id === id)?.names[lang] ?? id);
  return names.length === 0 ? levelName : `${levelName} // ${names.join(' / ')}`;
}

/** For the start of a file name: "RESTRICTED-FINANCE-LEGAL" (ids are already file-safe). */
export function markingFileTag(marking: Marking): string {
  const { level, compartments } = normaliseMarking(marking);
  return [level, ...compartments].join('-');
}

/** The level's colours for a banner or badge; grey for a level the scheme does not know. */
export function markingColours(scheme: MarkingScheme, marking: Marking): { background: string; text: string } {
  const level = scheme.levels.find((entry) => entry.id === marking.level);
  const background = level?.colour ?? '#616161';
  return { background, text: level?.textColour ?? contrastText(background) };
}

/** Black or white, whichever reads better on the colour (WCAG relative luminance). */
export function contrastText(hex: string): string {
  const channel = (offset: number): number => {
    const value = parseInt(hex.slice(offset, offset + 2), 16) / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  return luminance > 0.179 ? '#000000' : '#ffffff';
}
