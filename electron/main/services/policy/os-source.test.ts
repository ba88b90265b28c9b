import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadMachinePolicySync, loadPolicy } from './load.ts';
import { managedPreferencesToPolicy } from './managed-preferences-source.ts';
import { LOCKED_DOWN_POLICY } from './merge.ts';
import { MANAGED_PREFERENCES_PATH, POLICY_LAYOUT, REGISTRY_ROOT_SHORT } from './os-layout.ts';
import { interpretPlutil, interpretRegQuery, osPolicySource, recordedOsPolicyReader, regExePath, systemOsPolicyReader, type ToolRun } from './os-source.ts';
import { parseRegQuery, registryToPolicy } from './registry-source.ts';
import { PolicyDocument } from './schema.ts';

// Recorded output of `reg.exe query HKLM\SOFTWARE\Policies\Soberana /s` (CRLF, as reg.exe
// writes it) and of `plutil -convert json -o - "/Library/Managed Preferences/org.soberana.app.plist"`.
const recorded = (name: string): Buffer => readFileSync(path.join(import.meta.dirname, 'recorded', name));
const K1 = 'AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=';
const K2 = 'AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=';
const ok = (stdout: Buffer): ToolRun => ({ code: 0, stdout, stderr: '' });
const REGISTRY = osPolicySource('win32')!;
const PREFERENCES = osPolicySource('darwin')!;

describe('the layout', () => {
  it('covers every key of the schema, each at its own registry value', () => {
    const groups = Object.keys(PolicyDocument.shape).filter((key) => key !== '$schema');
    expect(new Set(POLICY_LAYOUT.map((key) => key.path[0]))).toEqual(new Set(groups));
    const names = POLICY_LAYOUT.map((key) => `${key.subkey}\\${key.valueName}`.toLowerCase());
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('reg.exe output', () => {
  it('lists each value with its subkey, type and data', () => {
    const listing = parseRegQuery(recorded('reg-query-full.txt').toString('utf8'));
    expect(listing.problems).toEqual([]);
    expect(listing.values).toContainEqual({ subkey: 'Bundles', name: 'AllowPolicyUpdates', type: 'REG_DWORD', data: '0x0' });
    expect(listing.values).toContainEqual({ subkey: '', name: 'Description', type: 'REG_SZ', data: 'Managed by Example IT  (GPO "Soberana baseline")' });
    expect(listing.values).toContainEqual({ subkey: 'Runtime', name: 'AllowedBackends', type: 'REG_MULTI_SZ', data: 'cpu\\0vulkan' });
  });

  it('spells a whole policy document', () => {
    const { raw, problems } = registryToPolicy(recorded('reg-query-full.txt').toString('utf8'));
    expect(problems).toEqual([]);
    const parsed = PolicyDocument.parse(raw);
    expect(parsed).toEqual({
      version: 1,
      description: 'Managed by Example IT  (GPO "Soberana baseline")',
      contact: 'helpdesk@example.org, ext. 4321',
      settings: { theme: 'dark', runtime: { threads: 4 } },
      audit: { level: 'full' },
      bundles: {
        allowPolicyUpdates: false,
        signatureThreshold: 2,
        expiryGraceDays: 7,
        trustedKeys: [
          { id: 'it-1', name: 'IT signing key 1', publicKey: K1 },
          { name: 'IT signing key 2', publicKey: K2 },
        ],
      },
      documents: { allowIngestion: true },
      export: { allowed: false },
      models: { allowUnsigned: false, allowedHashes: ['a'.repeat(64), 'b'.repeat(64)] },
      pii: { ingestion: 'redact', prompts: 'warn' },
      // 0x5a days, and 0 for "keep" (a DWORD has no null).
      retention: { conversationDays: 90, auditDays: null },
      runtime: { allowedBackends: ['cpu', 'vulkan'] },
      storage: { allowDataDirOverride: false },
    });
  });

  it('leaves out what Group Policy leaves "Not configured"; an empty list is an empty list', () => {
    const { raw, problems } = registryToPolicy(recorded('reg-query-partial.txt').toString('utf8'));
    expect(problems).toEqual([]);
    expect(raw).toEqual({ version: 1, export: { allowed: false }, models: { allowedHashes: [] } });
  });

  it('names each value that is wrong: type, unknown name (with the names known there), bad JSON', () => {
    const { raw, problems } = registryToPolicy(recorded('reg-query-broken.txt').toString('utf8'));
    expect(raw).toBeNull();
    expect(problems).toEqual([
      'Bundles\\AllowPolicyUpdates: must be REG_DWORD, found REG_SZ',
      'Bundles\\SignatureTreshold: unknown value (known here: TrustedKeys, SignatureThreshold, AllowPolicyUpdates, ExpiryGraceDays)',
      expect.stringMatching(/^Bundles\\TrustedKeys: must be JSON: /),
    ]);
  });

  it('matches names case-insensitively, as Windows does', () => {
    const text = `\r\n${'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Soberana\\EXPORT'}\r\n    allowed    REG_DWORD    0x1\r\n`;
    expect(registryToPolicy(text)).toEqual({ raw: { version: 1, export: { allowed: true } }, problems: [] });
  });

  it('refuses a boolean that is neither 0 nor 1, and lines it cannot read', () => {
    const text = [
      'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Soberana\\Export',
      '    Allowed    REG_DWORD    0x2',
      'HKEY_CURRENT_USER\\Software\\Soberana',
      'garbage',
    ].join('\r\n');
    expect(registryToPolicy(text).problems).toEqual([
      'line 3: a key outside HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Soberana: HKEY_CURRENT_USER\\Software\\Soberana',
      'line 4: a key outside HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Soberana: garbage',
      'Export\\Allowed: must be 0 (off) or 1 (on), found 2',
    ]);
  });

  it('is missing when reg.exe finds no key (exit 1, nothing listed), and a problem on any other failure', () => {
    expect(
      interpretRegQuery({ code: 1, stdout: Buffer.alloc(0), stderr: 'ERROR: The system was unable to find the specified registry key or value.\r\n' }),
    ).toEqual({ kind: 'missing' });
    expect(
      interpretRegQuery({ code: 1, stdout: Buffer.alloc(0), stderr: 'ERROR: El sistema no pudo encontrar la clave o el valor del Registro especificados.' }),
    ).toEqual({ kind: 'missing' });
    expect(interpretRegQuery({ code: 5, stdout: Buffer.alloc(0), stderr: 'ERROR: Access is denied.' })).toMatchObject({
      kind: 'read',
      raw: null,
      problems: ['reg.exe failed (exit 5): ERROR: Access is denied.'],
    });
    expect(interpretRegQuery({ code: null, stdout: Buffer.alloc(0), stderr: '', failure: 'spawn C:\\Windows\\System32\\reg.exe ENOENT' })).toMatchObject({
      raw: null,
      problems: [expect.stringMatching(/^reg\.exe could not be run/)],
    });
  });

  it('runs reg.exe from C:\\Windows\\System32, not through PATH, and %SystemRoot% only where Windows lives elsewhere', () => {
    expect(regExePath({ SystemRoot: 'C:\\Users\\me\\fake' }, () => true)).toBe('C:\\Windows\\System32\\reg.exe');
    expect(regExePath({ SystemRoot: 'D:\\WINNT' }, () => false)).toBe('D:\\WINNT\\System32\\reg.exe');
  });
});

describe('managed preferences (plutil output)', () => {
  it('are the policy document, without the profile keys, with 0 days for "keep"', () => {
    const { raw, problems } = managedPreferencesToPolicy(recorded('plutil-managed.json').toString('utf8'));
    expect(problems).toEqual([]);
    expect(PolicyDocument.parse(raw)).toEqual({
      version: 1,
      contact: 'helpdesk@example.org',
      audit: { level: 'full' },
      bundles: { allowPolicyUpdates: false, signatureThreshold: 1, trustedKeys: [{ name: 'IT signing key 1', publicKey: K1 }] },
      export: { allowed: false },
      models: { allowUnsigned: false, allowedHashes: ['a'.repeat(64)] },
      pii: { prompts: 'redact' },
      retention: { auditDays: null, conversationDays: 30 },
      settings: { runtime: { threads: 4 } },
    });
  });

  it('need not carry version, and a misspelt key is still an error for the schema', () => {
    const { raw } = managedPreferencesToPolicy('{"export":{"alowed":false}}');
    expect(raw).toEqual({ version: 1, export: { alowed: false } });
    expect(PolicyDocument.safeParse(raw).success).toBe(false);
  });

  it('report what plutil could not convert', () => {
    expect(
      interpretPlutil({ code: 1, stdout: Buffer.alloc(0), stderr: 'org.soberana.app.plist: invalid object in plist for destination format\n' }),
    ).toMatchObject({
      raw: null,
      problems: ['plutil could not convert it (exit 1): org.soberana.app.plist: invalid object in plist for destination format'],
    });
    expect(interpretPlutil(ok(Buffer.from('[1]')))).toMatchObject({ raw: null, problems: ['the preferences are not a dictionary'] });
  });
});

describe('source selection', () => {
  it('is the registry on Windows, managed preferences on macOS, none elsewhere', () => {
    expect(REGISTRY).toEqual({ kind: 'registry', location: REGISTRY_ROOT_SHORT });
    expect(PREFERENCES).toEqual({ kind: 'managed-preferences', location: MANAGED_PREFERENCES_PATH });
    expect(osPolicySource('linux')).toBeNull();
  });

  it('never runs a tool for another platform than the one it is on', () => {
    const other = process.platform === 'win32' ? 'darwin' : 'win32';
    expect(systemOsPolicyReader(other)).toBeNull();
    if (process.platform === 'linux') expect(systemOsPolicyReader('linux')).toBeNull();
  });
});

describe('precedence', () => {
  let dir: string;
  let machinePath: string;
  let userPath: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-os-policy-'));
    machinePath = path.join(dir, 'machine.json');
    userPath = path.join(dir, 'user.json');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const json = (value: unknown) => JSON.stringify(value, null, 2);
  const sha = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

  it('the registry sets the policy; the machine file and the user file can only tighten it', async () => {
    const registry = recorded('reg-query-full.txt');
    // The file tries to loosen export and PII, and tightens ingestion and the threshold.
    await writeFile(
      machinePath,
      json({
        version: 1,
        export: { allowed: true },
        pii: { prompts: 'off' },
        documents: { allowIngestion: false },
        bundles: { signatureThreshold: 2 },
        contact: 'ignored',
      }),
    );
    await writeFile(userPath, json({ version: 1, storage: { allowDataDirOverride: true }, audit: { level: 'off' } }));
    const loaded = await loadPolicy({ machinePath, userPath, osPolicy: recordedOsPolicyReader(REGISTRY, ok(registry)) });
    expect(loaded.status).toBe('ok');
    expect(loaded.source).toEqual({ machine: REGISTRY_ROOT_SHORT, user: userPath });
    expect(loaded.policy).toMatchObject({
      contact: 'helpdesk@example.org, ext. 4321',
      export: { allowed: false },
      pii: { ingestion: 'redact', prompts: 'warn' },
      documents: { allowIngestion: false },
      audit: { level: 'full' },
      storage: { allowDataDirOverride: false },
      settings: { theme: 'dark', runtime: { threads: 4 } },
    });
    expect(loaded.notes).toEqual([
      expect.stringMatching(/machine\.json: pii\.prompts "off" is ignored because it would loosen the policy; "warn" stays in force/),
      expect.stringMatching(/machine\.json: export\.allowed true is ignored/),
      expect.stringMatching(/user\.json: audit\.level "off" is ignored/),
      expect.stringMatching(/user\.json: storage\.allowDataDirOverride true is ignored/),
    ]);
    const machineBytes = readFileSync(machinePath);
    expect(loaded.sources).toEqual([
      { kind: 'registry', location: REGISTRY_ROOT_SHORT, status: 'ok', sha256: sha(registry), role: 'sets' },
      { kind: 'machine-file', location: machinePath, status: 'ok', sha256: sha(machineBytes), role: 'tightens' },
      { kind: 'user-file', location: userPath, status: 'ok', sha256: sha(readFileSync(userPath)), role: 'tightens' },
    ]);
    expect(loaded.hash).toBe(sha(`registry ${sha(registry)}\nmachine-file ${sha(machineBytes)}`));
  });

  it('managed preferences alone make the app managed, with the hash of what plutil printed', async () => {
    const plist = recorded('plutil-managed.json');
    const loaded = await loadPolicy({ machinePath, osPolicy: recordedOsPolicyReader(PREFERENCES, ok(plist)) });
    expect(loaded.status).toBe('ok');
    expect(loaded.source.machine).toBe(MANAGED_PREFERENCES_PATH);
    expect(loaded.hash).toBe(sha(plist));
    expect(loaded.policy.retention).toEqual({ conversationDays: 30, auditDays: null });
  });

  it('a broken registry policy locks the app down and names the value', async () => {
    await writeFile(machinePath, json({ version: 1 }));
    const loaded = await loadPolicy({ machinePath, osPolicy: recordedOsPolicyReader(REGISTRY, ok(recorded('reg-query-broken.txt'))) });
    expect(loaded.status).toBe('invalid');
    expect(loaded.policy).toEqual(LOCKED_DOWN_POLICY);
    expect(loaded.problems[0]).toBe(`${REGISTRY_ROOT_SHORT}: Bundles\\AllowPolicyUpdates: must be REG_DWORD, found REG_SZ`);
    expect(loaded.sources.map((source) => [source.kind, source.status, source.role])).toEqual([
      ['registry', 'invalid', 'sets'],
      ['machine-file', 'ok', 'tightens'],
    ]);
  });

  it('a value the schema refuses is reported as in a file', async () => {
    const text = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Soberana\\Audit\r\n    Level    REG_SZ    loud\r\n';
    const loaded = await loadPolicy({ machinePath, osPolicy: recordedOsPolicyReader(REGISTRY, ok(Buffer.from(text))) });
    expect(loaded.problems).toEqual([expect.stringMatching(/^HKLM\\SOFTWARE\\Policies\\Soberana: audit\.level: /)]);
  });

  it('with no OS source, the machine file is the only managed source and its hash is unchanged', async () => {
    await writeFile(machinePath, json({ version: 1, export: { allowed: false } }));
    const loaded = await loadPolicy({ machinePath, osPolicy: recordedOsPolicyReader(REGISTRY, null) });
    expect(loaded.source.machine).toBe(machinePath);
    expect(loaded.hash).toBe(sha(readFileSync(machinePath)));
    expect(loaded.sources).toHaveLength(1);
  });

  it('the synchronous start-up read applies the OS source too', async () => {
    const text = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Soberana\\Storage\r\n    AllowDataDirOverride    REG_DWORD    0x1\r\n';
    expect(loadMachinePolicySync({ machinePath, osPolicy: recordedOsPolicyReader(REGISTRY, ok(Buffer.from(text))) }).storage.allowDataDirOverride).toBe(true);
    await writeFile(machinePath, json({ version: 1, storage: { allowDataDirOverride: false } }));
    expect(loadMachinePolicySync({ machinePath, osPolicy: recordedOsPolicyReader(REGISTRY, ok(Buffer.from(text))) }).storage.allowDataDirOverride).toBe(false);
    expect(loadMachinePolicySync({ machinePath, osPolicy: recordedOsPolicyReader(REGISTRY, ok(recorded('reg-query-broken.txt'))) })).toEqual(
      LOCKED_DOWN_POLICY,
    );
  });
});
