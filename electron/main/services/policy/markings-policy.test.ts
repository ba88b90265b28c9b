import { describe, expect, it } from 'vitest';
import { resolvePolicy, tightenPolicy, lockDown } from './merge.ts';
import { validatePolicyText, type PolicyDocument } from './schema.ts';

// The policy's marking scheme: the machine file defines it, every later file may only tighten it.

const names = (en: string) => ({ en, es: `${en} (es)` });
const MACHINE = {
  version: 1,
  markings: {
    levels: [
      { id: 'PUBLIC', names: names('Public'), colour: '#2e7d32' },
      { id: 'INTERNAL', names: names('Internal'), colour: '#1565c0' },
      { id: 'SECRET', names: names('Secret'), colour: '#c62828', textColour: '#ffffff' },
    ],
    compartments: [
      { id: 'FINANCE', names: names('Finance') },
      { id: 'LEGAL', names: names('Legal') },
    ],
    maxLevel: 'INTERNAL',
    defaultLevel: 'PUBLIC',
  },
};

function parse(doc: unknown): PolicyDocument {
  const result = validatePolicyText(JSON.stringify(doc));
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return result.policy;
}

describe('the markings group of the policy', () => {
  it('resolves the machine file: every compartment granted by default, lowering off', () => {
    const scheme = resolvePolicy(parse(MACHINE)).markings!;
    expect(scheme.levels.map((level) => level.id)).toEqual(['PUBLIC', 'INTERNAL', 'SECRET']);
    expect(scheme).toMatchObject({
      maxLevel: 'INTERNAL',
      defaultLevel: 'PUBLIC',
      grantedCompartments: ['FINANCE', 'LEGAL'],
      separated: [],
      allowLowering: false,
    });
    expect(resolvePolicy(parse({ version: 1 })).markings).toBeNull();
  });

  it('names each mistake where it is', () => {
    const problems = (markings: unknown) => {
      const result = validatePolicyText(JSON.stringify({ version: 1, markings }));
      return result.ok ? [] : result.problems;
    };
    expect(problems({ ...MACHINE.markings, maxLevel: 'TOP' })).toEqual(['markings.maxLevel: TOP is not one of the levels (PUBLIC, INTERNAL, SECRET)']);
    expect(problems({ ...MACHINE.markings, defaultLevel: 'SECRET' })).toEqual([
      'markings.defaultLevel: SECRET is above maxLevel INTERNAL: new material could never be used on this machine',
    ]);
    expect(problems({ ...MACHINE.markings, separated: [['FINANCE', 'HR']], grantedCompartments: ['LEGAL', 'NOPE'] })).toEqual([
      'markings.grantedCompartments[1]: NOPE is not one of the compartments',
      'markings.separated[0]: HR is not one of the compartments',
    ]);
    expect(problems({ ...MACHINE.markings, levels: [MACHINE.markings.levels[0], MACHINE.markings.levels[0]] })).toContain(
      'markings.levels[1].id: the same id as levels[0]',
    );
    expect(problems({ ...MACHINE.markings, levels: [{ ...MACHINE.markings.levels[0], id: 'public' }, MACHINE.markings.levels[1]] })[0]).toMatch(
      /^markings\.levels\[0\]\.id: must be upper case/,
    );
    expect(problems({ maxLevel: 'PUBLIC', defaultLevel: 'PUBLIC' })).toEqual([
      'markings.defaultLevel: needs levels: only the file that lists the levels can set the default level',
    ]);
  });

  it('lets a user file only tighten it, and says what it ignored', () => {
    const base = resolvePolicy(parse({ ...MACHINE, markings: { ...MACHINE.markings, allowLowering: true } }));
    const lower = tightenPolicy(
      base,
      parse({ version: 1, markings: { maxLevel: 'PUBLIC', grantedCompartments: ['LEGAL', 'HR'], separated: [['FINANCE', 'LEGAL']], allowLowering: false } }),
      'user',
      'user.json',
    );
    expect(lower.policy.markings).toMatchObject({
      maxLevel: 'PUBLIC',
      grantedCompartments: ['LEGAL'],
      separated: [['FINANCE', 'LEGAL']],
      allowLowering: false,
    });
    expect(lower.ignored).toEqual(['user.json: markings.grantedCompartments HR is ignored because the policy does not grant it.']);
    const looser = tightenPolicy(lower.policy, parse({ version: 1, markings: { maxLevel: 'SECRET', allowLowering: true } }), 'user', 'user.json');
    expect(looser.policy.markings).toEqual(lower.policy.markings);
    expect(looser.ignored).toEqual([
      'user.json: markings.maxLevel SECRET is ignored because it would loosen the policy; PUBLIC stays in force.',
      'user.json: markings.allowLowering true is ignored because it would loosen the policy; false stays in force.',
    ]);
    // Only the machine file defines a scheme.
    const none = tightenPolicy(resolvePolicy(parse({ version: 1 })), parse(MACHINE), 'user', 'user.json');
    expect(none.policy.markings).toBeNull();
    expect(none.ignored).toEqual([
      'user.json: markings is ignored because the machine policy defines no marking scheme; only the machine policy can define one.',
    ]);
  });

  it('stays as it is under the lockdown', () => {
    const base = resolvePolicy(parse(MACHINE));
    expect(lockDown(base).markings).toEqual(base.markings);
  });
});
