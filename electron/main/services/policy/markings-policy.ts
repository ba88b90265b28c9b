import type { MarkingScheme } from '../../../common/contract/index.ts';
import type { PolicyMarkings } from './schema.ts';

// The `markings` group of the policy: the first machine source defines the scheme, every
// later source (and the user file) may only tighten it. The schema has already checked that
// a group with levels is complete and refers only to what it lists.

/** The scheme a defining file sets; null when it has no levels (nothing to tighten yet). */
export function resolveMarkings(group: PolicyMarkings | undefined): MarkingScheme | null {
  if (group?.levels === undefined || group.maxLevel === undefined || group.defaultLevel === undefined) return null;
  const compartments = group.compartments ?? [];
  return {
    levels: group.levels.map((level) => ({ ...level, names: { ...level.names } })),
    compartments: compartments.map((compartment) => ({ ...compartment, names: { ...compartment.names } })),
    maxLevel: group.maxLevel,
    defaultLevel: group.defaultLevel,
    grantedCompartments: [...new Set(group.grantedCompartments ?? compartments.map((compartment) => compartment.id))],
    separated: uniquePairs(group.separated ?? []),
    allowLowering: group.allowLowering ?? false,
  };
}

function pairKey([a, b]: readonly [string, string]): string {
  return [a, b].sort().join('\u0000');
}

function uniquePairs(pairs: readonly (readonly [string, string])[]): [string, string][] {
  const seen = new Set<string>();
  const out: [string, string][] = [];
  for (const pair of pairs) {
    const key = pairKey(pair);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push([pair[0], pair[1]]);
  }
  return out;
}

/**
 * `base` tightened by a later file's group. Each value that would loosen it, or that only the
 * defining file may set, is noted in `ignored` and left out.
 */
export function tightenMarkings(base: MarkingScheme | null, group: PolicyMarkings | undefined, label: string, ignored: string[]): MarkingScheme | null {
  if (group === undefined) return base;
  if (base === null) {
    ignored.push(`${label}: markings is ignored because the machine policy defines no marking scheme; only the machine policy can define one.`);
    return null;
  }
  const levelIds = base.levels.map((level) => level.id);
  const defining = (['levels', 'compartments', 'defaultLevel'] as const).filter((key) => group[key] !== undefined);
  if (defining.length > 0)
    ignored.push(
      `${label}: markings.${defining.join(', markings.')} ${defining.length === 1 ? 'is' : 'are'} ignored: only the machine policy that defines the scheme sets them.`,
    );

  let maxLevel = base.maxLevel;
  if (group.maxLevel !== undefined) {
    const wanted = levelIds.indexOf(group.maxLevel);
    if (wanted === -1) ignored.push(`${label}: markings.maxLevel ${group.maxLevel} is ignored: it is not one of the levels (${levelIds.join(', ')}).`);
    else if (wanted > levelIds.indexOf(base.maxLevel))
      ignored.push(`${label}: markings.maxLevel ${group.maxLevel} is ignored because it would loosen the policy; ${base.maxLevel} stays in force.`);
    else maxLevel = group.maxLevel;
  }

  let granted = base.grantedCompartments;
  if (group.grantedCompartments !== undefined) {
    const wanted = new Set(group.grantedCompartments);
    const extra = group.grantedCompartments.filter((id) => !base.grantedCompartments.includes(id));
    if (extra.length > 0)
      ignored.push(
        `${label}: markings.grantedCompartments ${extra.join(', ')} ${extra.length === 1 ? 'is' : 'are'} ignored because the policy does not grant ${extra.length === 1 ? 'it' : 'them'}.`,
      );
    granted = base.grantedCompartments.filter((id) => wanted.has(id));
  }

  const known = new Set(base.compartments.map((compartment) => compartment.id));
  const addedPairs = (group.separated ?? []).filter(([a, b]) => {
    const ok = known.has(a) && known.has(b);
    if (!ok) ignored.push(`${label}: markings.separated [${a}, ${b}] is ignored: ${known.has(a) ? b : a} is not one of the compartments.`);
    return ok;
  });

  let allowLowering = base.allowLowering;
  if (group.allowLowering !== undefined) {
    if (group.allowLowering && !base.allowLowering)
      ignored.push(`${label}: markings.allowLowering true is ignored because it would loosen the policy; false stays in force.`);
    else allowLowering = group.allowLowering;
  }

  return { ...base, maxLevel, grantedCompartments: granted, separated: uniquePairs([...base.separated, ...addedPairs]), allowLowering };
}
