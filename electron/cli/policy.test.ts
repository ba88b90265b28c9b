import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LoadedPolicy } from '../main/services/policy/index.ts';
import { runCli } from '../test-support/run-cli.ts';

const EXAMPLE = fileURLToPath(new URL('../../docs/policy.example.json', import.meta.url));

let dir: string;

const cli = (args: readonly string[], policyFile?: string) =>
  runCli(args, { dataDir: path.join(dir, 'data'), timeoutMs: 30_000, ...(policyFile === undefined ? {} : { env: { SOBERANA_POLICY_FILE: policyFile } }) });

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-cli-policy-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('soberana policy validate', () => {
  it('passes the example policy and prints its hash', () => {
    const run = cli(['policy', 'validate', EXAMPLE]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`ok  ${EXAMPLE}`);
    expect(run.stdout).toContain(createHash('sha256').update(readFileSync(EXAMPLE)).digest('hex'));
  });

  it('lists each problem with its path and exits 1', async () => {
    const file = path.join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ version: 1, models: { alowUnsigned: false }, pii: { prompts: 'mask' } }));
    const run = cli(['policy', 'validate', file]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`invalid  ${file}`);
    expect(run.stderr).toContain('  models.alowUnsigned: unknown key (did you mean "allowUnsigned"?)');
    expect(run.stderr).toMatch(/ {2}pii\.prompts: .*"block"/);
  });

  it('prints JSON with --json', async () => {
    const file = path.join(dir, 'bad.json');
    await writeFile(file, '{"version": 1,');
    const run = cli(['policy', 'validate', file, '--json']);
    expect(run.status).toBe(1);
    const report = JSON.parse(run.stdout) as { file: string; ok: boolean; problems: string[] };
    expect(report).toMatchObject({ file, ok: false });
    expect(report.problems[0]).toMatch(/^not valid JSON/);
  });

  it('exits 1 on a file that cannot be read, and 2 without a file', () => {
    const missing = cli(['policy', 'validate', path.join(dir, 'missing.json')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('cannot be read');
    expect(cli(['policy', 'validate']).status).toBe(2);
  });
});

describe('soberana policy show', () => {
  it('shows the policy named by SOBERANA_POLICY_FILE, with its source, hash and locks', () => {
    const run = cli(['policy', 'show', '--json'], EXAMPLE);
    expect(run.status, run.stderr).toBe(0);
    const loaded = JSON.parse(run.stdout) as LoadedPolicy;
    expect(loaded.status).toBe('ok');
    expect(loaded.source).toEqual({ machine: EXAMPLE, user: null });
    expect(loaded.hash).toBe(createHash('sha256').update(readFileSync(EXAMPLE)).digest('hex'));
    expect(loaded.policy.export.allowed).toBe(false);
    expect(loaded.locked.map((lock) => lock.path)).toEqual(['theme', 'runtime.threads', 'runtime.sampling.maxTokens']);
    expect((loaded as LoadedPolicy & { mode: string }).mode).toBe('managed');
  });

  it('prints a readable summary', () => {
    const run = cli(['policy', 'show', '--policy-file', EXAMPLE]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Policy {2}ok$/m);
    expect(run.stdout).toContain('contact  it-helpdesk@example.org, ext. 4321');
    expect(run.stdout).toMatch(/^ {2}models\.allowUnsigned +false$/m);
    expect(run.stdout).toMatch(/^ {2}runtime\.threads +4 +Managed by your organization’s policy/m);
  });

  it('prints the classification scheme, or that there is none', async () => {
    const file = path.join(dir, 'markings.json');
    const names = (en: string) => ({ en, es: en });
    await writeFile(
      file,
      JSON.stringify({
        version: 1,
        markings: {
          levels: [
            { id: 'PUBLIC', names: names('Public'), colour: '#2e7d32' },
            { id: 'SECRET', names: names('Secret'), colour: '#c62828' },
          ],
          compartments: [
            { id: 'FINANCE', names: names('Finance') },
            { id: 'LEGAL', names: names('Legal') },
          ],
          maxLevel: 'PUBLIC',
          defaultLevel: 'PUBLIC',
          separated: [['FINANCE', 'LEGAL']],
        },
      }),
    );
    const run = cli(['policy', 'show', '--policy-file', file]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^ {2}markings\.levels +PUBLIC < SECRET$/m);
    expect(run.stdout).toMatch(/^ {2}markings\.maxLevel +PUBLIC$/m);
    expect(run.stdout).toMatch(/^ {2}markings\.grantedCompartments +FINANCE, LEGAL$/m);
    expect(run.stdout).toMatch(/^ {2}markings\.separated +FINANCE \/ LEGAL$/m);
    expect(run.stdout).toMatch(/^ {2}markings\.allowLowering +false$/m);
    expect(cli(['policy', 'show', '--policy-file', EXAMPLE]).stdout).toMatch(/^ {2}markings +off/m);
  });

  it('lists each source found, which one sets the policy and which only tighten it', async () => {
    await mkdir(path.join(dir, 'data'));
    const userFile = path.join(dir, 'data', 'policy.json');
    await writeFile(userFile, JSON.stringify({ version: 1, export: { allowed: true } }));
    const run = cli(['policy', 'show', '--json'], EXAMPLE);
    expect(run.status, run.stderr).toBe(0);
    const loaded = JSON.parse(run.stdout) as LoadedPolicy;
    const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
    // No registry or managed preferences on this machine (Linux): the file sets the policy.
    expect(loaded.sources).toEqual([
      { kind: 'machine-file', location: EXAMPLE, status: 'ok', sha256: sha(EXAMPLE), role: 'sets' },
      { kind: 'user-file', location: userFile, status: 'ok', sha256: sha(userFile), role: 'tightens' },
    ]);
    const human = cli(['policy', 'show'], EXAMPLE).stdout;
    expect(human).toMatch(/^Sources \(the first sets the policy, each later one can only tighten it\)$/m);
    expect(human).toContain(`  sets      machine file         ok       ${EXAMPLE}  sha256 ${sha(EXAMPLE)}`);
    expect(human).toContain(`  tightens  user file            ok       ${userFile}`);
  });

  it('says when there is no policy', () => {
    const run = cli(['policy', 'show', '--json'], path.join(dir, 'none.json'));
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'none', mode: 'development', source: { machine: null, user: null }, hash: null });
    expect(cli(['policy', 'show'], path.join(dir, 'none.json')).stdout).toMatch(/^ {2}mode {5}DEVELOPMENT: no machine policy is installed/m);
  });

  // Issue 12, finding 1, through the command line: an unsigned policy planted in the data folder does not count.
  it('ignores a policy planted in the data folder as if from a bundle, and says so', async () => {
    const kept = path.join(dir, 'data', 'policy', 'from-bundle');
    await mkdir(kept, { recursive: true });
    const forged = '{"version":1,"audit":{"level":"off"},"export":{"allowed":true},"models":{"allowUnsigned":true},"bundles":{"trustedKeys":null}}';
    await writeFile(path.join(kept, 'policy.json'), forged);
    await writeFile(path.join(dir, 'data', 'policy', 'from-bundle.json'), forged);
    const run = cli(['policy', 'show', '--json'], EXAMPLE);
    expect(run.status, run.stderr).toBe(0);
    const loaded = JSON.parse(run.stdout) as LoadedPolicy;
    expect(loaded.source.machine).toBe(EXAMPLE);
    expect(loaded.policy).toMatchObject({ audit: { level: 'metadata' }, export: { allowed: false }, models: { allowUnsigned: false } });
    expect(loaded.notes).toEqual([expect.stringContaining('A policy kept from a bundle in the data folder was ignored: updates_not_allowed')]);
  });

  it('reads the user file in the data directory, and shows a broken one as invalid with exit 1', async () => {
    await mkdir(path.join(dir, 'data'));
    await writeFile(path.join(dir, 'data', 'policy.json'), JSON.stringify({ version: 1, export: { allowed: 'no' } }));
    const run = cli(['policy', 'show', '--json'], path.join(dir, 'none.json'));
    expect(run.status).toBe(1);
    const loaded = JSON.parse(run.stdout) as LoadedPolicy;
    expect(loaded.status).toBe('invalid');
    expect(loaded.source.user).toBe(path.join(dir, 'data', 'policy.json'));
    expect(loaded.problems).toEqual([expect.stringContaining('export.allowed: ')]);
    expect(loaded.policy.models.allowUnsigned).toBe(false);

    const human = cli(['policy', 'show'], path.join(dir, 'none.json'));
    expect(human.status).toBe(1);
    expect(human.stdout).toContain('INVALID');
    expect(human.stdout).toContain('Problems');
  });
});
