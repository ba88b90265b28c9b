import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validatePolicyText } from './schema.ts';

const KEY_A = 'khds2aPiL5w9YhdEFyiRK6eBPoqnjTa3paa2SxCQ3IQ=';
const KEY_B = '26VqaLR7Ae7XUxdsva5Iy+e5Y8hzuywvR6BaVrxMHDI=';
const HASH = 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb';

function problems(doc: unknown): readonly string[] {
  return validatePolicyText(typeof doc === 'string' ? doc : JSON.stringify(doc)).problems;
}

describe('validatePolicyText', () => {
  it('accepts the example policy in docs/', () => {
    const text = readFileSync(new URL('../../../../docs/policy.example.json', import.meta.url), 'utf8');
    const result = validatePolicyText(text);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('accepts every policy in docs/policy.md, whose example is the example file', () => {
    const example: unknown = JSON.parse(readFileSync(new URL('../../../../docs/policy.example.json', import.meta.url), 'utf8'));
    const markdown = readFileSync(new URL('../../../../docs/policy.md', import.meta.url), 'utf8');
    const blocks = [...markdown.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    // The settings block is a fragment of a policy, shown as it would appear in one.
    const texts = blocks.map((block) => (block.trimStart().startsWith('"settings"') ? `{ "version": 1, ${block} }` : block));
    for (const text of texts) expect(validatePolicyText(text).problems, text).toEqual([]);
    expect(texts.map((text) => JSON.parse(text) as unknown)).toContainEqual(example);
  });

  it('accepts the smallest policy', () => {
    expect(validatePolicyText('{"version": 1}')).toEqual({ ok: true, policy: { version: 1 }, problems: [] });
  });

  it('accepts every key, and normalizes hashes to lower case', () => {
    const result = validatePolicyText(
      JSON.stringify({
        $schema: 'anything',
        version: 1,
        description: 'IT',
        contact: 'ext. 1',
        bundles: {
          trustedKeys: [
            { id: 'a', name: 'A', publicKey: KEY_A },
            { name: 'B', publicKey: KEY_B },
          ],
          signatureThreshold: 2,
          allowPolicyUpdates: false,
          expiryGraceDays: 0,
        },
        models: { allowedHashes: [HASH.toUpperCase()], allowUnsigned: false },
        documents: { allowIngestion: false },
        pii: { ingestion: 'block', prompts: 'redact' },
        audit: { level: 'full' },
        retention: { conversationDays: 30, auditDays: null },
        export: { allowed: false },
        settings: {
          theme: 'dark',
          language: 'es',
          sidebarWidth: 300,
          runtime: { gpuLayers: 'auto', contextSize: 4096, threads: 4, sampling: { temperature: 0 } },
        },
      }),
    );
    expect(result.problems).toEqual([]);
    expect(result.ok && result.policy.models?.allowedHashes).toEqual([HASH]);
  });

  it('accepts a byte-order mark', () => {
    expect(validatePolicyText('\uFEFF{"version": 1}').ok).toBe(true);
  });

  it('explains text that is not JSON', () => {
    expect(problems('{"version": 1,}')[0]).toMatch(/^not valid JSON: /);
    expect(problems('')).toEqual(['the file is empty; a policy needs at least {"version": 1}']);
    expect(problems('   \n')).toHaveLength(1);
  });

  it('needs the version it understands', () => {
    expect(problems({})).toEqual([expect.stringMatching(/^version: must be 1/)]);
    expect(problems({ version: 2 })).toEqual([expect.stringMatching(/^version: must be 1/)]);
    expect(problems([])).toEqual([expect.stringMatching(/^\(top level\): /)]);
    expect(problems(null)).toHaveLength(1);
  });

  it('names the path of a value of the wrong type', () => {
    expect(problems({ version: 1, models: { allowUnsigned: 'no' } })).toEqual([expect.stringMatching(/^models\.allowUnsigned: .*boolean/)]);
    expect(problems({ version: 1, pii: { prompts: 'mask' } })).toEqual([expect.stringMatching(/^pii\.prompts: .*"redact"/)]);
    expect(problems({ version: 1, audit: { level: 'verbose' } })).toEqual([expect.stringMatching(/^audit\.level: /)]);
    expect(problems({ version: 1, retention: { conversationDays: 0 } })).toEqual([expect.stringMatching(/^retention\.conversationDays: /)]);
    expect(problems({ version: 1, retention: { auditDays: 1.5 } })).toEqual([expect.stringMatching(/^retention\.auditDays: /)]);
    expect(problems({ version: 1, bundles: { expiryGraceDays: -1 } })).toEqual([expect.stringMatching(/^bundles\.expiryGraceDays: /)]);
    expect(problems({ version: 1, bundles: { signatureThreshold: 0 } })).toEqual([expect.stringMatching(/^bundles\.signatureThreshold: /)]);
    expect(problems({ version: 1, models: { allowedHashes: [HASH, 'abc'] } })).toEqual(['models.allowedHashes[1]: must be a SHA-256 in hex (64 characters)']);
  });

  it('rejects keys that are not raw 32-byte Ed25519 keys in canonical base64', () => {
    const bad = [
      'khds2aPiL5w9YhdEFyiRK6eBPoqnjTa3paa2SxCQ3I=', // 31 bytes
      Buffer.alloc(33).toString('base64'),
      'khds2aPiL5w9YhdEFyiRK6eBPoqnjTa3paa2SxCQ3IR=', // non-canonical padding bits
      'khds2aPiL5w9YhdEFyiRK6eBPoqnjTa3paa2SxCQ3IQ', // no padding
      'khds2aPiL5w9YhdEFyiRK6eBPoqnjTa3paa2SxCQ3I_=', // base64url
    ];
    for (const publicKey of bad) {
      expect(problems({ version: 1, bundles: { trustedKeys: [{ name: 'k', publicKey }] } }), publicKey).toEqual([
        expect.stringMatching(/^bundles\.trustedKeys\[0\]\.publicKey: must be a raw Ed25519 public key/),
      ]);
    }
    expect(problems({ version: 1, bundles: { trustedKeys: [{ publicKey: KEY_A }] } })).toEqual([expect.stringMatching(/^bundles\.trustedKeys\[0\]\.name: /)]);
  });

  it('rejects a key listed twice, and a threshold no bundle could meet', () => {
    expect(
      problems({
        version: 1,
        bundles: {
          trustedKeys: [
            { name: 'A', publicKey: KEY_A },
            { name: 'A again', publicKey: KEY_A },
          ],
        },
      }),
    ).toEqual(['bundles.trustedKeys[1].publicKey: the same key as trustedKeys[0]']);
    expect(
      problems({
        version: 1,
        bundles: {
          trustedKeys: [
            { id: 'x', name: 'A', publicKey: KEY_A },
            { id: 'x', name: 'B', publicKey: KEY_B },
          ],
        },
      }),
    ).toEqual(['bundles.trustedKeys[1].id: the same id as trustedKeys[0]']);
    expect(problems({ version: 1, bundles: { trustedKeys: [{ name: 'A', publicKey: KEY_A }], signatureThreshold: 2 } })).toEqual([
      'bundles.signatureThreshold: asks for 2 signatures but only 1 trusted key is listed, so no bundle could ever be accepted',
    ]);
  });

  it('treats unknown keys as errors at every level, with a suggestion', () => {
    expect(problems({ version: 1, models: { alowUnsigned: false } })).toEqual(['models.alowUnsigned: unknown key (did you mean "allowUnsigned"?)']);
    expect(problems({ version: 1, exports: { allowed: false } })).toEqual(['exports: unknown key (did you mean "export"?)']);
    expect(problems({ version: 1, settings: { runtime: { thread: 4 } } })).toEqual(['settings.runtime.thread: unknown key (did you mean "threads"?)']);
    expect(problems({ version: 1, bundles: { trustedKeys: [{ name: 'A', publicKey: KEY_A, comment: 'x' }] } })).toEqual([
      expect.stringMatching(/^bundles\.trustedKeys\[0\]\.comment: unknown key \(known here: id, name, publicKey\)$/),
    ]);
    expect(problems({ version: 1, telemetry: true })[0]).toMatch(/^telemetry: unknown key/);
  });

  it('checks locked settings against the app settings schema', () => {
    expect(problems({ version: 1, settings: { theme: 'purple' } })).toEqual([expect.stringMatching(/^settings\.theme: /)]);
    expect(problems({ version: 1, settings: { runtime: { threads: 0 } } })).toEqual([expect.stringMatching(/^settings\.runtime\.threads: /)]);
    expect(problems({ version: 1, settings: { runtime: { sampling: { topP: 2 } } } })).toEqual([expect.stringMatching(/^settings\.runtime\.sampling\.topP: /)]);
    expect(problems({ version: 1, settings: { runtime: { threads: 'auto' } } })).toEqual([]);
  });

  it('reports every problem, not just the first', () => {
    expect(problems({ version: 1, models: { allowUnsigned: 1 }, export: { allowed: 'yes' }, colour: 'red' })).toHaveLength(3);
  });
});
