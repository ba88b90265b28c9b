import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultPolicyPath, loadPolicy, machinePolicyLocation, MAX_POLICY_BYTES, POLICY_FILE_ENV, userPolicyPath } from './load.ts';
import { LOCKED_DOWN_POLICY } from './merge.ts';
import { DEFAULT_POLICY } from './schema.ts';

let dir: string;
let machinePath: string;
let userPath: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-policy-'));
  machinePath = path.join(dir, 'machine.json');
  userPath = path.join(dir, 'user.json');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const json = (value: unknown) => JSON.stringify(value, null, 2);

describe('defaultPolicyPath', () => {
  it('is the managed location of each system', () => {
    expect(defaultPolicyPath('linux', {})).toBe('/etc/soberana/policy.json');
    expect(defaultPolicyPath('freebsd', {})).toBe('/etc/soberana/policy.json');
    expect(defaultPolicyPath('darwin', {})).toBe('/Library/Application Support/Soberana/policy.json');
    // A variable the user can set must not move the machine policy.
    expect(defaultPolicyPath('win32', { ProgramData: 'D:\\Users\\me\\fake' })).toBe('C:\\ProgramData\\Soberana\\policy.json');
    expect(defaultPolicyPath('win32', { ALLUSERSPROFILE: 'E:\\ProgramData' })).toBe('C:\\ProgramData\\Soberana\\policy.json');
    expect(defaultPolicyPath('win32', {})).toBe('C:\\ProgramData\\Soberana\\policy.json');
  });

  it('is not moved by the override variable, which only loadPolicy reads', () => {
    expect(defaultPolicyPath('linux', { [POLICY_FILE_ENV]: '/tmp/x.json' })).toBe('/etc/soberana/policy.json');
  });

  it('puts the user file in the data directory', () => {
    expect(userPolicyPath(path.join('data', 'Soberana'))).toBe(path.join('data', 'Soberana', 'policy.json'));
  });
});

describe('machinePolicyLocation', () => {
  const never = () => Promise.resolve(false);
  const always = () => Promise.resolve(true);

  it('takes an explicit path first', async () => {
    expect(await machinePolicyLocation({ machinePath: '/a/p.json', env: { [POLICY_FILE_ENV]: '/b/p.json' } }, always)).toEqual({
      path: path.resolve('/a/p.json'),
      notes: [],
    });
  });

  it('takes SOBERANA_POLICY_FILE where no machine policy is installed', async () => {
    expect(await machinePolicyLocation({ platform: 'linux', env: { [POLICY_FILE_ENV]: '/b/p.json' } }, never)).toEqual({
      path: path.resolve('/b/p.json'),
      notes: [],
    });
  });

  it('ignores SOBERANA_POLICY_FILE, and says so, where IT installed a policy', async () => {
    const location = await machinePolicyLocation({ platform: 'linux', env: { [POLICY_FILE_ENV]: '/b/p.json' } }, (file) =>
      Promise.resolve(file === '/etc/soberana/policy.json'),
    );
    expect(location.path).toBe('/etc/soberana/policy.json');
    expect(location.notes).toEqual([`${POLICY_FILE_ENV} is ignored because a machine policy is installed at /etc/soberana/policy.json.`]);
  });

  it('is the system location otherwise', async () => {
    expect(await machinePolicyLocation({ platform: 'darwin', env: { [POLICY_FILE_ENV]: '' } }, never)).toEqual({
      path: '/Library/Application Support/Soberana/policy.json',
      notes: [],
    });
  });
});

describe('loadPolicy', () => {
  it('is permissive with status "none" when there is no file', async () => {
    const loaded = await loadPolicy({ machinePath, userPath });
    expect(loaded).toEqual({
      status: 'none',
      source: { machine: null, user: null },
      sources: [],
      policy: DEFAULT_POLICY,
      hash: null,
      problems: [],
      notes: [],
      locked: [],
    });
  });

  it('reads the file named by SOBERANA_POLICY_FILE', async () => {
    await writeFile(machinePath, json({ version: 1, export: { allowed: false } }));
    const loaded = await loadPolicy({ env: { [POLICY_FILE_ENV]: machinePath }, platform: 'linux' });
    // Only meaningful where no policy is installed in /etc, as on any build machine.
    expect(loaded.source.machine).toBe(machinePath);
    expect(loaded.policy.export.allowed).toBe(false);
  });

  it('applies a machine file, with the hash of its bytes and its locked settings', async () => {
    const text = json({ version: 1, contact: 'ext. 4321', models: { allowUnsigned: false }, settings: { runtime: { threads: 4 } } });
    await writeFile(machinePath, text);
    const loaded = await loadPolicy({ machinePath, userPath });
    expect(loaded.status).toBe('ok');
    expect(loaded.source).toEqual({ machine: machinePath, user: null });
    expect(loaded.hash).toBe(createHash('sha256').update(text).digest('hex'));
    expect(loaded.policy.models.allowUnsigned).toBe(false);
    expect(loaded.policy.contact).toBe('ext. 4321');
    expect(loaded.locked).toEqual([{ path: 'runtime.threads', value: 4, reason: 'Managed by your organization’s policy. Contact: ext. 4321.' }]);
  });

  it('tightens with the user file and notes what it could not loosen', async () => {
    await writeFile(machinePath, json({ version: 1, export: { allowed: false } }));
    await writeFile(userPath, json({ version: 1, export: { allowed: true }, documents: { allowIngestion: false } }));
    const loaded = await loadPolicy({ machinePath, userPath });
    expect(loaded.status).toBe('ok');
    expect(loaded.source).toEqual({ machine: machinePath, user: userPath });
    expect(loaded.policy.export.allowed).toBe(false);
    expect(loaded.policy.documents.allowIngestion).toBe(false);
    expect(loaded.notes).toEqual([expect.stringMatching(new RegExp(`^${userPath.replaceAll(/[.\\]/g, '\\$&')}: export\\.allowed true is ignored`))]);
  });

  it('applies a user file alone, with no machine hash', async () => {
    await writeFile(userPath, json({ version: 1, pii: { prompts: 'redact' } }));
    const loaded = await loadPolicy({ machinePath, userPath });
    expect(loaded.status).toBe('ok');
    expect(loaded.hash).toBeNull();
    expect(loaded.policy.pii.prompts).toBe('redact');
  });

  describe('fails closed', () => {
    const broken: [string, string | Buffer, RegExp][] = [
      ['malformed JSON', '{"version": 1', /machine\.json: not valid JSON: /],
      ['an empty file', '', /machine\.json: the file is empty/],
      ['a wrong type', json({ version: 1, export: { allowed: 'no' } }), /machine\.json: export\.allowed: .*boolean/],
      ['an unknown key', json({ version: 1, export: { allow: true } }), /machine\.json: export\.allow: unknown key \(did you mean "allowed"\?\)/],
      ['a newer version', json({ version: 2 }), /machine\.json: version: must be 1/],
      ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), /machine\.json: not UTF-8 text/],
    ];

    it.each(broken)('on %s', async (_name, contents, problem) => {
      await writeFile(machinePath, contents);
      const loaded = await loadPolicy({ machinePath, userPath });
      expect(loaded.status).toBe('invalid');
      expect(loaded.policy).toEqual(LOCKED_DOWN_POLICY);
      expect(loaded.problems).toEqual([expect.stringMatching(problem)]);
      expect(loaded.source.machine).toBe(machinePath);
      expect(loaded.hash).toBe(createHash('sha256').update(contents).digest('hex'));
    });

    it('on a machine path that is a folder', async () => {
      await mkdir(machinePath);
      const loaded = await loadPolicy({ machinePath });
      expect(loaded.status).toBe('invalid');
      expect(loaded.problems).toEqual([`${machinePath}: is not a file`]);
      expect(loaded.hash).toBeNull();
    });

    it('on a file too large to be a policy', async () => {
      await writeFile(machinePath, Buffer.alloc(MAX_POLICY_BYTES + 1, 0x20));
      const loaded = await loadPolicy({ machinePath });
      expect(loaded.status).toBe('invalid');
      expect(loaded.problems[0]).toMatch(/may be at most/);
    });

    it('on a broken user file, keeping what the valid machine file fixes', async () => {
      await writeFile(machinePath, json({ version: 1, contact: 'IT', models: { allowedHashes: ['a'.repeat(64)] }, settings: { theme: 'dark' } }));
      await writeFile(userPath, '{ nope');
      const loaded = await loadPolicy({ machinePath, userPath });
      expect(loaded.status).toBe('invalid');
      expect(loaded.problems).toEqual([expect.stringMatching(/^.*user\.json: not valid JSON/)]);
      expect(loaded.policy).toMatchObject({
        contact: 'IT',
        models: { allowUnsigned: false, allowedHashes: ['a'.repeat(64)] },
        export: { allowed: false },
        settings: { theme: 'dark' },
      });
      expect(loaded.locked.map((lock) => lock.path)).toEqual(['theme']);
    });

    it('reporting both files’ problems', async () => {
      await writeFile(machinePath, json({ version: 1, audit: { level: 'loud' } }));
      await writeFile(userPath, json({ version: 1, pii: 'block' }));
      const loaded = await loadPolicy({ machinePath, userPath });
      expect(loaded.problems).toEqual([expect.stringMatching(/machine\.json: audit\.level: /), expect.stringMatching(/user\.json: pii: /)]);
      expect(loaded.policy).toEqual(LOCKED_DOWN_POLICY);
    });
  });
});
