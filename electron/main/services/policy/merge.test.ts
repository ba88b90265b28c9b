import { describe, expect, it } from 'vitest';
import { LOCKED_DOWN_POLICY, resolvePolicy, tightenPolicy } from './merge.ts';
import { DEFAULT_POLICY, PolicyDocument, type EffectivePolicy } from './schema.ts';

const KEY_A = { id: 'a', name: 'A', publicKey: 'khds2aPiL5w9YhdEFyiRK6eBPoqnjTa3paa2SxCQ3IQ=' };
const KEY_B = { id: 'b', name: 'B', publicKey: '26VqaLR7Ae7XUxdsva5Iy+e5Y8hzuywvR6BaVrxMHDI=' };
const KEY_C = { name: 'C', publicKey: '6rOnw41j1sCj7u9zOb+6osZ1e8jY+X6/0/wqr77c4ZU=' };
const H1 = '1'.repeat(64);
const H2 = '2'.repeat(64);
const H3 = '3'.repeat(64);

const doc = (value: unknown): PolicyDocument => PolicyDocument.parse({ version: 1, ...(value as object) });

/** A strict machine policy, middle of the road on every ordered key so both directions can be tried. */
const MACHINE = resolvePolicy(
  doc({
    description: 'IT',
    contact: 'ext. 1',
    bundles: { trustedKeys: [KEY_A, KEY_B], signatureThreshold: 2, allowPolicyUpdates: false, expiryGraceDays: 7 },
    models: { allowedHashes: [H1, H2], allowUnsigned: false },
    documents: { allowIngestion: false },
    pii: { ingestion: 'warn', prompts: 'redact' },
    audit: { level: 'metadata' },
    retention: { conversationDays: 90, auditDays: 365 },
    export: { allowed: false },
    settings: { theme: 'dark', runtime: { threads: 4 } },
  }),
);

function tighten(base: EffectivePolicy, user: unknown) {
  return tightenPolicy(base, doc(user), 'user', 'user.json');
}

describe('resolvePolicy', () => {
  it('is the defaults for an empty file', () => {
    expect(resolvePolicy(doc({}))).toEqual(DEFAULT_POLICY);
  });

  it('takes what the machine file says, including looser values than the defaults', () => {
    const policy = resolvePolicy(doc({ audit: { level: 'off' }, bundles: { expiryGraceDays: 365 }, models: { allowedHashes: [H1, H1] } }));
    expect(policy.audit.level).toBe('off');
    expect(policy.bundles.expiryGraceDays).toBe(365);
    expect(policy.models.allowedHashes).toEqual([H1]);
  });

  it('marks every locked setting as the machine’s', () => {
    expect(MACHINE.settingOrigins).toEqual({ theme: 'machine', 'runtime.threads': 'machine' });
  });
});

describe('tightenPolicy: a user file can only tighten', () => {
  const loosen: [string, unknown][] = [
    ['bundles.trustedKeys', { bundles: { trustedKeys: [KEY_A, KEY_B, KEY_C] } }],
    ['bundles.trustedKeys', { bundles: { trustedKeys: null } }],
    ['bundles.signatureThreshold', { bundles: { signatureThreshold: 1 } }],
    ['bundles.allowPolicyUpdates', { bundles: { allowPolicyUpdates: true } }],
    ['bundles.expiryGraceDays', { bundles: { expiryGraceDays: 30 } }],
    ['models.allowedHashes', { models: { allowedHashes: [H1, H2, H3] } }],
    ['models.allowedHashes', { models: { allowedHashes: null } }],
    ['models.allowUnsigned', { models: { allowUnsigned: true } }],
    ['documents.allowIngestion', { documents: { allowIngestion: true } }],
    ['pii.ingestion', { pii: { ingestion: 'off' } }],
    ['pii.prompts', { pii: { prompts: 'warn' } }],
    ['audit.level', { audit: { level: 'off' } }],
    ['retention.conversationDays', { retention: { conversationDays: 365 } }],
    ['retention.conversationDays', { retention: { conversationDays: null } }],
    ['retention.auditDays', { retention: { auditDays: 30 } }],
    ['retention.auditDays', { retention: { auditDays: 1 } }],
    ['export.allowed', { export: { allowed: true } }],
    ['storage.allowDataDirOverride', { storage: { allowDataDirOverride: true } }],
    ['settings.theme', { settings: { theme: 'light' } }],
    ['settings.runtime.threads', { settings: { runtime: { threads: 16 } } }],
  ];

  it.each(loosen)('ignores an attempt to loosen %s, and says so', (path, user) => {
    const { policy, ignored } = tighten(MACHINE, user);
    expect(policy).toEqual(MACHINE);
    expect(ignored).toEqual([expect.stringContaining(`user.json: ${path} `)]);
  });

  it('keeps the machine’s description and contact', () => {
    expect(tighten(MACHINE, { description: 'mine', contact: 'me' }).policy).toEqual(MACHINE);
  });

  it('takes every stricter value', () => {
    const { policy, ignored } = tighten(MACHINE, {
      bundles: { trustedKeys: [{ name: 'renamed', publicKey: KEY_B.publicKey }], expiryGraceDays: 1 },
      models: { allowedHashes: [H2] },
      pii: { ingestion: 'block', prompts: 'block' },
      audit: { level: 'full' },
      retention: { conversationDays: 7, auditDays: 3650 },
      settings: { language: 'es', runtime: { sampling: { temperature: 0 } } },
    });
    expect(ignored).toEqual([]);
    expect(policy.bundles).toEqual({ trustedKeys: [KEY_B], signatureThreshold: 2, allowPolicyUpdates: false, expiryGraceDays: 1 });
    expect(tighten(MACHINE, { bundles: { signatureThreshold: 3 } }).policy.bundles.signatureThreshold).toBe(3);
    expect(policy.models).toEqual({ allowedHashes: [H2], allowUnsigned: false });
    expect(policy.pii).toEqual({ ingestion: 'block', prompts: 'block' });
    expect(policy.audit.level).toBe('full');
    expect(policy.retention).toEqual({ conversationDays: 7, auditDays: 3650 });
    expect(tighten(MACHINE, { retention: { auditDays: null } }).policy.retention.auditDays).toBeNull();
    expect(policy.settings).toEqual({ theme: 'dark', language: 'es', runtime: { threads: 4, sampling: { temperature: 0 } } });
    expect(policy.settingOrigins).toEqual({ theme: 'machine', 'runtime.threads': 'machine', language: 'user', 'runtime.sampling.temperature': 'user' });
  });

  it('turns off what the defaults allow', () => {
    const { policy, ignored } = tighten(DEFAULT_POLICY, {
      bundles: { allowPolicyUpdates: false },
      models: { allowUnsigned: false },
      documents: { allowIngestion: false },
      export: { allowed: false },
    });
    expect(ignored).toEqual([]);
    expect([policy.bundles.allowPolicyUpdates, policy.models.allowUnsigned, policy.documents.allowIngestion, policy.export.allowed]).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it('treats null lists as "any": a user list narrows them, and keeps the machine’s names', () => {
    const { policy } = tighten(DEFAULT_POLICY, { bundles: { trustedKeys: [KEY_C] }, models: { allowedHashes: [H3] } });
    expect(policy.bundles.trustedKeys).toEqual([KEY_C]);
    expect(policy.models.allowedHashes).toEqual([H3]);
  });

  it('keeps only the part of a partly looser list that the machine allows', () => {
    const { policy, ignored } = tighten(MACHINE, { bundles: { trustedKeys: [KEY_A, KEY_C] }, models: { allowedHashes: [H1, H3] } });
    expect(policy.bundles.trustedKeys).toEqual([KEY_A]);
    expect(policy.models.allowedHashes).toEqual([H1]);
    expect(ignored).toHaveLength(2);
  });

  it('accepts a value equal to the machine’s without a note', () => {
    expect(tighten(MACHINE, { audit: { level: 'metadata' }, settings: { theme: 'dark' }, models: { allowUnsigned: false } }).ignored).toEqual([]);
  });

  // Issue 12, finding 2: {"retention":{"auditDays":1}} in the user file purged 201 sealed records.
  it('never shortens audit retention: a user file asking for 1 day keeps the machine’s, and says so', () => {
    for (const machine of [DEFAULT_POLICY, resolvePolicy(doc({})), resolvePolicy(doc({ retention: { auditDays: 365 } }))]) {
      const { policy, ignored } = tighten(machine, { retention: { auditDays: 1 } });
      expect(policy.retention.auditDays).toBe(machine.retention.auditDays);
      expect(ignored).toEqual([expect.stringContaining('retention.auditDays 1 is ignored because it would loosen the policy')]);
    }
  });

  it('treats absent keys as "no opinion", not as defaults', () => {
    const machine = resolvePolicy(doc({ audit: { level: 'off' } }));
    expect(tighten(machine, { export: { allowed: false } }).policy.audit.level).toBe('off');
  });
});

describe('LOCKED_DOWN_POLICY', () => {
  it('allows nothing new in or out, and deletes nothing', () => {
    expect(LOCKED_DOWN_POLICY).toMatchObject({
      bundles: { trustedKeys: [], allowPolicyUpdates: false, expiryGraceDays: 0 },
      models: { allowUnsigned: false, allowedHashes: null },
      documents: { allowIngestion: false },
      pii: { ingestion: 'block', prompts: 'block' },
      audit: { level: 'full' },
      retention: { conversationDays: null, auditDays: null },
      export: { allowed: false },
      storage: { allowDataDirOverride: false },
      settings: {},
    });
  });
});
