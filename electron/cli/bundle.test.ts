import { existsSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_CHECKS, BUNDLE_FACT, makeTestBundle, writeBundleSources, type BundleSources } from '../../e2e/fixtures/bundle.ts';
import type { Collection } from '../common/contract/index.ts';
import { canonicalJson } from '../main/services/bundles/canonical.ts';
import { buildBundle } from '../test-support/bundles-fixtures.ts';
import { generateKeyPair, loadPrivateKey, signBytes, type GeneratedKeyPair } from '../main/services/bundles/keys.ts';
import type { ModelRecord } from '../main/services/models/index.ts';
import { DEFAULT_SETTINGS, openSettings } from '../main/services/settings.ts';
import { openDatabase } from '../main/services/storage/sqlite.ts';
import { runCli } from '../test-support/run-cli.ts';

// The acceptance round trip, every step through `soberana` in its own process: a publisher
// makes a key, builds a knowledge pack from documents, bundles it with two models and signs
// it; a fresh machine trusts the key, installs the bundle and answers from the pack.

/** The finished bundle is kept here after the run, for trying it by hand or in the app. */
const KNOWN_BUNDLE_DIR = path.join(os.tmpdir(), 'soberana-test-bundle');

let dir: string;
let publisherData: string;
let machineData: string;
let sources: BundleSources;
let keyId: string;
let keyFile: string;
let pubFile: string;
let packDir: string;
let bundle: string;

const cli = (dataDir: string, args: readonly string[], env: Record<string, string> = {}) => runCli(args, { dataDir, env, timeoutMs: 90_000 });

/** One thread (shared 2-core machines), room for passages, and short answers (the test model rarely stops by itself). */
async function testSettings(dataDir: string): Promise<void> {
  const db = openDatabase(dataDir);
  try {
    const settings = await openSettings(db, dataDir, () => undefined);
    await settings.update({
      runtime: { ...DEFAULT_SETTINGS.runtime, threads: 1, contextSize: 4096, sampling: { ...DEFAULT_SETTINGS.runtime.sampling, maxTokens: 16 } },
    });
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-cli-bundle-'));
  publisherData = path.join(dir, 'publisher');
  machineData = path.join(dir, 'machine');
  sources = await writeBundleSources(path.join(dir, 'sources'));
  await testSettings(publisherData);
  await testSettings(machineData);
  packDir = path.join(dir, 'field-manual-pack');
  bundle = path.join(dir, 'field-kit.tar');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const models = (dataDir: string) => JSON.parse(cli(dataDir, ['models', 'list', '--json']).stdout) as ModelRecord[];
const collections = (dataDir: string) => JSON.parse(cli(dataDir, ['knowledge', 'collections', '--json']).stdout) as Collection[];

describe('soberana keys and bundle: the round trip', { timeout: 120_000 }, () => {
  it('1. generates a key pair: a private key for the owner only, a public key file', async () => {
    const run = cli(publisherData, ['keys', 'generate', '--out', path.join(dir, 'keys'), '--name', 'Field office', '--json']);
    expect(run.status, run.stderr).toBe(0);
    const made = JSON.parse(run.stdout) as { keyId: string; name: string; publicKey: string; privateKeyFile: string; publicKeyFile: string };
    keyId = made.keyId;
    keyFile = made.privateKeyFile;
    pubFile = made.publicKeyFile;
    expect(keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(path.basename(keyFile)).toBe(`${keyId}.key`);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(await readFile(keyFile, 'utf8')).toContain('-----BEGIN PRIVATE KEY-----');
    expect(JSON.parse(await readFile(pubFile, 'utf8'))).toEqual({ keyId, name: 'Field office', publicKey: made.publicKey });

    const text = cli(publisherData, ['keys', 'generate', '--out', path.join(dir, 'other-keys')]);
    expect(text.stdout).toMatch(/^key id {7}[0-9a-f]{16}$/m);
    expect(text.stdout).toMatch(/^public key {3}[A-Za-z0-9+/]{43}=$/m);

    // Both halves name the same key.
    for (const file of [keyFile, pubFile]) {
      const shown = cli(publisherData, ['keys', 'show', file]);
      expect(shown.status, shown.stderr).toBe(0);
      expect(shown.stdout).toContain(`key id      ${keyId}`);
      expect(shown.stdout).toContain(`public key  ${made.publicKey}`);
    }
    expect(cli(publisherData, ['keys', 'generate']).status).toBe(2);
  });

  it('2. builds a knowledge pack with the knowledge commands', () => {
    expect(cli(publisherData, ['models', 'import', sources.embeddingModel, '--mode', 'reference']).status).toBe(0);
    const ingest = cli(publisherData, ['knowledge', 'ingest', ...sources.documents, '--collection', 'Field manual', '--create']);
    expect(ingest.status, ingest.stderr).toBe(0);
    expect(ingest.stdout).toMatch(/^added 4, unchanged 0, failed 0 /m);
    expect(ingest.stderr).toContain('words and meaning with field-finder');
    // Acceptance checks ride along: one naming a document the collection does not hold is refused, and nothing is written.
    const checks = path.join(dir, 'checks.json');
    writeFileSync(checks, JSON.stringify(BUNDLE_CHECKS));
    const wrong = path.join(dir, 'wrong-checks.json');
    writeFileSync(wrong, JSON.stringify([{ id: 'x', question: 'Where?', expect: { document: 'atlas.pdf' } }]));
    const refused = cli(publisherData, ['knowledge', 'export', '--collection', 'Field manual', '--out', packDir, '--checks', wrong]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('expects “atlas.pdf”, which is not a document of the collection');
    expect(existsSync(packDir)).toBe(false);
    const exported = cli(publisherData, ['knowledge', 'export', '--collection', 'Field manual', '--out', packDir, '--checks', checks]);
    expect(exported.status, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/^exported “Field manual”: 4 documents, .*, 4 acceptance checks to /);
  });

  it('3. creates the bundle with two models and the pack, with progress', async () => {
    const args = ['bundle', 'create', '--id', 'field-kit', '--name', 'Field kit', '--version', '1', '--expires-in-days', '30', '--key', keyFile];
    const additions = ['--add', `model:${sources.chatModel}`, '--add', `embedding-model:${sources.embeddingModel}`, '--add', `knowledge-pack:${packDir}`];
    const run = cli(publisherData, [...args, ...additions, '--meta-name', `model:${sources.chatModel}=Field chat`, '--out', bundle]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^created {2}field-kit v1 \(“Field kit”\): \d+ files, /);
    // Not a terminal: a line per tenth.
    expect(run.stderr).toMatch(/^copying: 100% of [\d.]+ KiB$/m);
    expect(run.stderr).toContain('Unsigned: sign it with');

    const inspected = cli(publisherData, ['bundle', 'inspect', bundle, '--json']);
    expect(inspected.status, inspected.stderr).toBe(0);
    const head = JSON.parse(inspected.stdout) as {
      form: string;
      manifest: { publisher: string; files: { path: string; kind: string; meta: Record<string, unknown> }[] };
      signatures: unknown[];
    };
    expect(head).toMatchObject({ form: 'tar', manifest: { publisher: keyId }, signatures: [] });
    const files = head.manifest.files;
    expect(files.slice(0, 2)).toMatchObject([
      { path: 'field-chat.gguf', kind: 'model', meta: { displayName: 'Field chat' } },
      { path: 'field-finder.gguf', kind: 'embedding-model', meta: { displayName: 'field-finder' } },
    ]);
    expect(files.filter((file) => file.kind === 'knowledge-pack').map((file) => file.path)).toContain('field-manual-pack/pack.json');
    expect(files.find((file) => file.path === 'field-manual-pack/pack.json')?.meta).toEqual({ displayName: 'Field manual', collection: 'Field manual' });

    // Nothing is overwritten, and bad command lines are usage errors.
    expect(cli(publisherData, [...args, ...additions, '--out', bundle]).status).not.toBe(0);
    expect(cli(publisherData, [...args, '--out', path.join(dir, 'x.tar')]).status).toBe(2);
    expect(cli(publisherData, [...args, '--add', 'movie:./x', '--out', path.join(dir, 'x.tar')]).status).toBe(2);
    expect(cli(publisherData, [...args, ...additions, '--out', path.join(dir, 'x.tar'), '--expires', 'next week']).status).toBe(2);
  });

  it('4. signs it', () => {
    const run = cli(publisherData, ['bundle', 'sign', bundle, '--key', keyFile]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`by ${keyId}; 1 signature`);
    const wrongKey = cli(publisherData, ['bundle', 'sign', bundle, '--key', pubFile]);
    expect(wrongKey.status).toBe(1);
    expect(wrongKey.stderr).toContain('is a public key; signing needs the private key');
  });

  it('5. verifies it where the key is trusted, naming the signer; refuses it where it is not', async () => {
    expect(cli(publisherData, ['keys', 'trust', pubFile]).status).toBe(0);
    const run = cli(publisherData, ['bundle', 'verify', bundle]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^ok {2}/);
    expect(run.stdout).toContain(`signed by  Field office (${keyId})`);
    expect(run.stdout).toContain('bundle     field-kit v1 (“Field kit”)');
    expect(run.stdout).toMatch(/^ {2}model +field-chat\.gguf +[\d.]+ KiB {2}Field chat$/m);
    expect(run.stderr).toMatch(/^verifying: 100% of /m);

    const refused = cli(machineData, ['bundle', 'verify', bundle]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`untrusted_key: Signed by key ${keyId.slice(0, 4)}… which this machine does not trust.`);
    const json = cli(machineData, ['bundle', 'verify', bundle, '--json']);
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, rejection: { code: 'untrusted_key' }, signers: [], trust: { source: 'local', keys: [] } });

    // Kept for trying by hand or in the app.
    await rm(KNOWN_BUNDLE_DIR, { recursive: true, force: true });
    await mkdir(KNOWN_BUNDLE_DIR, { recursive: true });
    await copyFile(bundle, path.join(KNOWN_BUNDLE_DIR, 'field-kit.tar'));
    await copyFile(pubFile, path.join(KNOWN_BUNDLE_DIR, 'field-office.pub'));
  });

  it('6. installs it on a fresh machine that trusts the key: verified models, a read-only collection', () => {
    const trusted = cli(machineData, ['keys', 'trust', pubFile, '--name', 'Field office']);
    expect(trusted.status, trusted.stderr).toBe(0);
    expect(trusted.stdout).toBe(`trusted  ${keyId}  “Field office”\n`);

    const run = cli(machineData, ['bundle', 'install', bundle]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`installed  field-kit v1 (“Field kit”), signed by Field office (${keyId})`);
    expect(run.stdout).toContain('collections  “Field manual” (read-only)');
    expect(run.stdout).toContain('checks       “Field manual”: 4/4 passed');
    expect(run.stderr).toMatch(/^verifying: 100% of /m);

    const installed = models(machineData);
    expect(installed.map((model) => [model.displayName, model.role]).sort()).toEqual([
      ['Field chat', 'chat'],
      ['field-finder', 'embedding'],
    ]);
    for (const model of installed) expect(model.verifiedByBundle).toBe('bundle field-kit v1, signed by Field office');
    expect(collections(machineData)).toMatchObject([{ name: 'Field manual', readOnly: true, documents: 4, search: 'hybrid' }]);
    expect(cli(machineData, ['knowledge', 'collections']).stdout).toMatch(/^Field manual \(read-only\)\s+4\s/m);
  });

  it('7. answers from the installed pack, citing the PDF and page 2', () => {
    const run = cli(machineData, ['knowledge', 'ask', '--collection', 'Field manual', BUNDLE_FACT.question]);
    expect(run.status, run.stderr).toBe(0);
    const [answer, sources] = run.stdout.split('\nSources (words and meaning):\n');
    expect(answer!.trim().length).toBeGreaterThan(0);
    expect(sources!.split('\n')).toContainEqual(
      expect.stringMatching(new RegExp(`^\\[\\d\\] ${BUNDLE_FACT.file.replace('.', '\\.')}, page ${BUNDLE_FACT.page}$`)),
    );
  });

  it('refuses to install the same version again (replay), and lists what is installed', () => {
    const again = cli(machineData, ['bundle', 'install', bundle, '--json']);
    expect(again.status).toBe(1);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: false, rejection: { code: 'replay' } });
    expect(cli(machineData, ['bundle', 'install', bundle]).stderr).toMatch(/^ {2}replay: Version 1 of "Field kit" was already installed/m);
    expect(models(machineData)).toHaveLength(2);

    const list = cli(machineData, ['bundle', 'list']);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/^field-kit\s+1\s+\d{4}-\d{2}-\d{2}\s+\d{4}-\d{2}-\d{2}\s+Field office\s+Field kit$/m);
  });

  it('bundle test reruns the pack’s checks: 0 when all pass, a usage error without an id, 1 for a bundle that is not installed', () => {
    const run = cli(machineData, ['bundle', 'test', 'field-kit']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('tested  field-kit v1 (“Field kit”)');
    expect(run.stdout).toContain('checks       “Field manual”: 4/4 passed');
    const json = JSON.parse(cli(machineData, ['bundle', 'test', 'field-kit', '--json']).stdout) as {
      runs: { trigger: string; total: number; passed: number }[];
    };
    expect(json.runs).toMatchObject([{ trigger: 'manual', total: 4, passed: 4 }]);
    expect(cli(machineData, ['bundle', 'test']).status).toBe(2);
    expect(cli(machineData, ['bundle', 'test', 'no-such-kit']).status).toBe(1);
  });

  it('doctor lists the trusted keys and the installed bundles', () => {
    const run = cli(machineData, ['doctor']);
    expect(run.stdout).toContain('Bundles (trusted keys: development-mode store, 1 signature needed)');
    expect(run.stdout).toContain(`  key     ${keyId}  Field office`);
    expect(run.stdout).toContain(`  bundle  field-kit v1  “Field kit”  signed by Field office (${keyId})`);
    const json = JSON.parse(cli(machineData, ['doctor', '--json']).stdout) as { bundles: unknown };
    expect(json.bundles).toEqual({
      trust: { source: 'local', threshold: 1, keys: [{ id: keyId, name: 'Field office' }] },
      installed: [{ id: 'field-kit', version: 1, name: 'Field kit', signers: [{ keyId, name: 'Field office' }] }],
    });
  });

  it('says when a machine policy is in force and the local keys are ignored; keys trust is then refused', async () => {
    const policy = path.join(dir, 'policy.json');
    const publicKey = (JSON.parse(await readFile(pubFile, 'utf8')) as { publicKey: string }).publicKey;
    await writeFile(policy, JSON.stringify({ version: 1, bundles: { trustedKeys: [{ name: 'IT key', publicKey }] } }));
    const env = { SOBERANA_POLICY_FILE: policy };
    const list = cli(machineData, ['keys', 'list'], env);
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toContain(
      "Trust: the machine policy's 1 key; 1 signature from distinct trusted keys needed. The local development-mode keys are ignored while a policy is in force.",
    );
    expect(list.stdout).toContain(`Policy keys:\n  ${keyId}  IT key`);
    expect(list.stdout).toContain(`Development-mode keys (ignored):\n  ${keyId}  Field office`);
    // Under a machine policy the development-mode store is closed: only the policy's keys count.
    const trust = cli(machineData, ['keys', 'trust', pubFile, '--json'], env);
    expect(trust.status).toBe(1);
    expect(JSON.parse(trust.stdout)).toMatchObject({
      error: { code: 'forbidden', message: expect.stringContaining('only the keys it lists (bundles.trustedKeys) are trusted') },
    });
    // The policy's name for the key is the one a verification shows.
    const verify = cli(publisherData, ['bundle', 'verify', bundle], env);
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stdout).toContain(`signed by  IT key (${keyId})`);
  });

  it('uninstalls: the models and the collection go, the version stays refused', () => {
    const run = cli(machineData, ['bundle', 'uninstall', 'field-kit']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('uninstalled  field-kit v1 (“Field kit”)');
    expect(models(machineData)).toEqual([]);
    expect(collections(machineData)).toEqual([]);
    expect(cli(machineData, ['bundle', 'list']).stdout).toContain('No bundle is installed.');
    expect(cli(machineData, ['doctor']).stdout).toContain('  no bundles installed');
    expect(cli(machineData, ['bundle', 'uninstall', 'field-kit']).status).toBe(1);
    expect(JSON.parse(cli(machineData, ['bundle', 'verify', bundle, '--json']).stdout)).toMatchObject({ ok: false, rejection: { code: 'replay' } });
  });

  it('untrusts a key', () => {
    const run = cli(machineData, ['keys', 'untrust', keyId.slice(0, 6)]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe(`untrusted  ${keyId}  “Field office”\n`);
    expect(cli(machineData, ['keys', 'list']).stdout).toContain('No key is trusted yet.');
    expect(cli(machineData, ['keys', 'untrust', keyId]).status).toBe(1);
  });
});

describe('the e2e bundle fixture', { timeout: 60_000 }, () => {
  it('builds, through the services, a bundle that the CLI verifies once its key is trusted by value', async () => {
    const made = await makeTestBundle(path.join(dir, 'fixture'));
    const dataDir = path.join(dir, 'fixture-machine');
    const trusted = cli(dataDir, ['keys', 'trust', made.publicKey, '--name', made.keyName]);
    expect(trusted.status, trusted.stderr).toBe(0);
    expect(trusted.stdout).toContain(made.keyId);
    const run = cli(dataDir, ['bundle', 'verify', made.bundle, '--json']);
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { ok: boolean; signers: unknown[]; files: { kind: string; path: string }[] };
    expect(report.signers).toEqual([{ keyId: made.keyId, name: made.keyName }]);
    expect(new Set(report.files.map((file) => file.kind))).toEqual(new Set(['model', 'embedding-model', 'knowledge-pack']));
    expect(report.files.map((file) => file.path)).toContain('field-manual-pack/pack.json');
  });
});

// Issue 12: hostile bundles used to crash these commands (exit 3). Each now gets exit 1 and
// the documented rejection code, whether or not the bundle is signed by a trusted key.
describe('hostile bundles through the CLI', { timeout: 120_000 }, () => {
  let hostile: string;
  let machine: string;
  let signer: GeneratedKeyPair;

  /** A signed folder bundle whose manifest text is changed by `edit` and signed again. */
  async function resigned(edit: (manifest: string) => string, signers: readonly GeneratedKeyPair[] = [signer]): Promise<string> {
    const bundleDir = await buildBundle(hostile, { form: 'dir', signers: [signer] });
    const manifest = Buffer.from(edit(await readFile(path.join(bundleDir, 'manifest.json'), 'utf8')));
    await writeFile(path.join(bundleDir, 'manifest.json'), manifest);
    await writeFile(path.join(bundleDir, 'manifest.sig.json'), canonicalJson(signers.map((key) => signBytes(manifest, loadPrivateKey(key.privateKeyPem)))));
    return bundleDir;
  }
  const loneSurrogate = (text: string): string => text.replace('"name":"Acme models"', '"name":"\\ud800"');
  const deep = (text: string): string => text.replace('"displayName":"File 0"', `"deep":${'['.repeat(300_000)}${']'.repeat(300_000)},"displayName":"File 0"`);

  beforeAll(async () => {
    hostile = path.join(dir, 'hostile');
    machine = path.join(dir, 'hostile-machine');
    await mkdir(hostile, { recursive: true });
    signer = generateKeyPair();
    const trusted = cli(machine, ['keys', 'trust', signer.publicKey, '--name', 'Hostile test']);
    expect(trusted.status, trusted.stderr).toBe(0);
  });

  it('inspect: a lone surrogate or 300,000 nested arrays in the manifest, signed or not, is malformed_manifest', async () => {
    for (const bundleDir of [await resigned(loneSurrogate), await resigned(loneSurrogate, []), await resigned(deep, [])]) {
      const run = cli(machine, ['bundle', 'inspect', bundleDir]);
      expect(run.status, run.stderr).toBe(1);
      expect(run.stderr).toContain('malformed_manifest: ');
      const json = cli(machine, ['bundle', 'inspect', bundleDir, '--json']);
      expect(json.status, json.stderr).toBe(1);
      expect((JSON.parse(json.stdout) as { rejection: { code: string } }).rejection.code).toBe('malformed_manifest');
    }
  });

  it('verify and install: a signed manifest with a lone surrogate is malformed_manifest', async () => {
    const bundleDir = await resigned(loneSurrogate);
    for (const command of ['verify', 'install']) {
      const run = cli(machine, ['bundle', command, bundleDir]);
      expect(run.status, `${command}: ${run.stderr}`).toBe(1);
      expect(run.stderr, command).toContain('malformed_manifest: ');
    }
    const deepRun = cli(machine, ['bundle', 'verify', await resigned(deep), '--json']);
    expect(deepRun.status, deepRun.stderr).toBe(1);
    expect((JSON.parse(deepRun.stdout) as { rejection: { code: string } }).rejection.code).toBe('malformed_manifest');
  });

  it('verify: a gzip-compressed tar is malformed_archive', async () => {
    const tar = await buildBundle(hostile, { signers: [signer] });
    expect(cli(machine, ['bundle', 'verify', tar]).status).toBe(0);
    const gz = `${tar}.gz`;
    await writeFile(gz, gzipSync(await readFile(tar)));
    const run = cli(machine, ['bundle', 'verify', gz]);
    expect(run.status, run.stderr).toBe(1);
    expect(run.stderr).toContain('malformed_archive: ');
    const inspect = cli(machine, ['bundle', 'inspect', gz]);
    expect(inspect.status, inspect.stderr).toBe(1);
    expect(inspect.stderr).toContain('malformed_archive: ');
  });
});
