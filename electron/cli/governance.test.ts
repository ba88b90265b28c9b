import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetSpec, writeGguf } from '../../e2e/fixtures/gguf/writer.ts';
import { exportAudit, keyFilePath } from '../main/services/audit/index.ts';
import { createBundle, signBundle } from '../main/services/bundles/create.ts';
import { generateKeyPair, type GeneratedKeyPair } from '../main/services/bundles/keys.ts';
import type { GovernedAction } from '../main/services/domain/gate.ts';
import { libraryDirFor, type ModelRecord } from '../main/services/models/index.ts';
import { DEFAULT_SETTINGS, openSettings } from '../main/services/settings.ts';
import { openDatabase } from '../main/services/storage/sqlite.ts';
import { COMMANDS } from './main.ts';
import { runCli, type CliRun } from '../test-support/run-cli.ts';

// Issue 12, through the built CLI (out/cli/soberana.js) as a user runs it: the command line
// no longer steps around the policy or the audit log (finding 3), the log fails closed when
// its key is deleted (finding 2b), and every command that changes data goes through the
// same gate as the app (one enforcement path). Cases share data folders and run in order;
// each spawn costs a second or two on a busy machine.

let dir: string;
let handModel: string;
let otherModel: string;
let note: string;
let signer: GeneratedKeyPair;
let signerPub: string;
let kitV1: string;
let kitV2: string;

const cli = (dataDir: string, args: readonly string[], env: Record<string, string> = {}): CliRun => runCli(args, { dataDir, env, timeoutMs: 90_000 });

const json = (run: CliRun): unknown => JSON.parse(run.stdout);

/** Every `code` anywhere in a JSON answer: `models import` puts refusals per file, other commands at the top. */
function codesIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(codesIn);
  if (typeof value !== 'object' || value === null) return [];
  const own = typeof (value as { code?: unknown }).code === 'string' ? [(value as { code: string }).code] : [];
  return [...own, ...Object.values(value).flatMap(codesIn)];
}

/** The audit log's records, read through the service's export (read only). */
function auditRecords(dataDir: string): { type: string; data: Record<string, unknown> }[] {
  const db = openDatabase(dataDir);
  try {
    return [...exportAudit(db)]
      .map((line) => JSON.parse(line) as { kind: string; type: string; data: Record<string, unknown> })
      .filter((line) => line.kind === 'record')
      .map(({ type, data }) => ({ type, data }));
  } finally {
    db.close();
  }
}

const refusals = (dataDir: string, action: GovernedAction) =>
  auditRecords(dataDir).filter((record) => record.type === 'action.refused' && record.data.action === action);

/** One thread (shared 2-core machines) and short answers, as the other CLI tests set it. */
async function testSettings(dataDir: string): Promise<void> {
  const db = openDatabase(dataDir);
  try {
    const settings = await openSettings(db, dataDir, () => undefined);
    await settings.update({
      runtime: { ...DEFAULT_SETTINGS.runtime, threads: 1, contextSize: 2048, sampling: { ...DEFAULT_SETTINGS.runtime.sampling, maxTokens: 4 } },
    });
  } finally {
    db.close();
  }
}

/** A bundle signed by `signer` that carries a hand-made (unsigned) GGUF model. */
async function signedBundle(version: number, model: string): Promise<string> {
  const out = path.join(dir, `kit-${version}.tar`);
  await createBundle({
    out,
    id: 'kit',
    name: 'Kit',
    version,
    expires: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    publisherKeyId: signer.keyId,
    files: [{ kind: 'model', source: model, meta: { displayName: `Kit model ${version}` } }],
  });
  await signBundle(out, signer.privateKeyPem);
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-cli-governance-'));
  handModel = path.join(dir, 'hand.gguf');
  otherModel = path.join(dir, 'other.gguf');
  await writeGguf(handModel, presetSpec('tiny', 'F16', 4));
  await writeGguf(otherModel, presetSpec('tiny', 'F16', 5));
  const bundledModel = path.join(dir, 'bundled.gguf');
  await writeGguf(bundledModel, presetSpec('tiny', 'F16', 6));
  note = path.join(dir, 'note.md');
  await writeFile(note, '# Orchards\n\nThe north orchard grows apples and pears.\n');
  signer = generateKeyPair();
  // The .pub form `soberana keys generate` writes.
  signerPub = path.join(dir, `${signer.keyId}.pub`);
  await writeFile(signerPub, JSON.stringify({ keyId: signer.keyId, name: 'My own key', publicKey: signer.publicKey }));
  kitV1 = await signedBundle(1, bundledModel);
  kitV2 = await signedBundle(2, bundledModel);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Finding 3, on one managed machine: its machine policy forbids hand imports and export and
// names no trusted keys. Ingestion stays allowed, so there is something to export.
describe('issue 12 finding 3: the command line obeys the machine policy and records its refusals', { timeout: 120_000 }, () => {
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dataDir = path.join(dir, 'managed');
    const policy = path.join(dir, 'machine-policy.json');
    await writeFile(policy, JSON.stringify({ version: 1, models: { allowUnsigned: false }, export: { allowed: false } }));
    env = { SOBERANA_POLICY_FILE: policy };
    const ingest = cli(dataDir, ['knowledge', 'ingest', note, '--collection', 'Orchards', '--create'], env);
    expect(ingest.status, ingest.stderr).toBe(0);
  });

  it('3a. models import is refused under models.allowUnsigned: false, imports nothing, and is on the record', async () => {
    const run = cli(dataDir, ['models', 'import', handModel, '--json'], env);
    expect(run.status, run.stderr).toBe(1);
    expect(codesIn(json(run))).toContain('forbidden');
    expect(json(cli(dataDir, ['models', 'list', '--json'], env))).toEqual([]);
    const library = libraryDirFor(dataDir);
    expect(existsSync(library) ? (await readdir(library)).filter((name) => name.endsWith('.gguf')) : []).toEqual([]);
    expect(refusals(dataDir, 'models.import')).toEqual([
      { type: 'action.refused', data: { action: 'models.import', reason: expect.stringMatching(/^forbidden: /) } },
    ]);
    expect(auditRecords(dataDir).some((record) => record.type === 'model.imported')).toBe(false);
  });

  it('3b. knowledge export is refused under export.allowed: false, writes nothing, and is on the record', () => {
    const out = path.join(dir, 'exported-pack');
    const run = cli(dataDir, ['knowledge', 'export', '--collection', 'Orchards', '--out', out, '--json'], env);
    expect(run.status, run.stderr).toBe(1);
    expect(codesIn(json(run))).toEqual(['forbidden']);
    expect(existsSync(out)).toBe(false);
    expect(refusals(dataDir, 'knowledge.export')).toEqual([
      { type: 'action.refused', data: { action: 'knowledge.export', reason: expect.stringMatching(/^forbidden: /) } },
    ]);
    expect(auditRecords(dataDir).some((record) => record.type === 'export')).toBe(false);
  });

  it('3c. with a machine policy that names no keys, keys trust is refused and a bundle signed with the own key is untrusted_key', () => {
    const trust = cli(dataDir, ['keys', 'trust', signerPub, '--json'], env);
    expect(trust.status, trust.stderr).toBe(1);
    expect(codesIn(json(trust))).toEqual(['forbidden']);
    expect(refusals(dataDir, 'keys.trust')).toHaveLength(1);

    const install = cli(dataDir, ['bundle', 'install', kitV1, '--json'], env);
    expect(install.status, install.stderr).toBe(1);
    expect(json(install)).toMatchObject({ ok: false, rejection: { code: 'untrusted_key' } });
    expect(json(cli(dataDir, ['models', 'list', '--json'], env))).toEqual([]);
  });
});

// Finding 2b and one enforcement path: a data folder in use, whose audit key is then deleted.
// Every command that changes data must then be refused by the gate, which names the action.

/**
 * Every command of `soberana`, by what it does to the data folder: `reads`, or the governed
 * action (gate.ts GOVERNED_ACTIONS) the gate checks first when it runs. A new command fails
 * the test below until it is classified here.
 *
 * Commands that write only files outside the data folder (keys generate, bundle create,
 * pack and sign: the publisher's side) count as reads of the data folder. `audit verify`
 * is the IT team's read of the log; `audit export` is an export like the Audit screen's,
 * under the same gate.
 */
const COMMAND_TABLE: Readonly<Record<string, 'reads' | `changes:${GovernedAction}`>> = {
  doctor: 'reads',
  'runtime info': 'reads',
  'gguf check': 'reads',
  'models import': 'changes:models.import',
  'models list': 'reads',
  'models inspect': 'reads',
  'models verify': 'changes:models.verify',
  'models remove': 'changes:models.remove',
  // The engine loads the model under the gate before it generates.
  generate: 'changes:runtime.load',
  // A new conversation first; then chat.send.
  chat: 'changes:chat.create',
  'knowledge collections': 'reads',
  'knowledge create': 'changes:knowledge.createCollection',
  'knowledge ingest': 'changes:knowledge.ingest',
  'knowledge search': 'reads',
  // Asking is a conversation, as in the app.
  'knowledge ask': 'changes:chat.create',
  'knowledge export': 'changes:knowledge.export',
  'audit verify': 'reads',
  'audit export': 'changes:audit.export',
  // Reads the dossier, the data store (or the given documents) and the anchor; writes nothing.
  'dossier verify': 'reads',
  'pii scan': 'reads',
  'policy validate': 'reads',
  'policy show': 'reads',
  'keys generate': 'reads',
  'keys show': 'reads',
  'keys trust': 'changes:keys.trust',
  'keys list': 'reads',
  'keys untrust': 'changes:keys.untrust',
  'bundle create': 'reads',
  'bundle pack': 'reads',
  'bundle sign': 'reads',
  'bundle inspect': 'reads',
  'bundle verify': 'reads',
  'bundle install': 'changes:bundles.install',
  'bundle list': 'reads',
  'bundle uninstall': 'changes:bundles.uninstall',
  'bundle test': 'changes:bundles.test',
  // create (below) and revoke change data, each under its own action; list reads.
  'api tokens': 'changes:api.tokens.create',
  // Listening is governed: the gate refuses it where the policy forbids the API or the log cannot record.
  serve: 'changes:api.serve',
};

describe('issue 12 finding 2b: the audit log fails closed on the command line', { timeout: 300_000 }, () => {
  let dataDir: string;
  let modelId: string;
  let keyBackup: string;

  /** The arguments each changing command runs with: each would succeed with the key in place. */
  const argsFor = (): Record<string, readonly string[]> => ({
    'models import': ['models', 'import', otherModel],
    'models verify': ['models', 'verify', modelId],
    'models remove': ['models', 'remove', modelId],
    generate: ['generate', '--model', handModel, '--max-tokens', '2', '--threads', '1', 'Hello'],
    chat: ['chat', 'Hello'],
    'knowledge create': ['knowledge', 'create', 'Second'],
    'knowledge ingest': ['knowledge', 'ingest', note, '--collection', 'Orchards'],
    'knowledge ask': ['knowledge', 'ask', '--collection', 'Orchards', 'What grows in the north orchard?'],
    'knowledge export': ['knowledge', 'export', '--collection', 'Orchards', '--out', path.join(dir, 'broken-export')],
    'keys trust': ['keys', 'trust', signer.publicKey, '--name', 'Again'],
    'keys untrust': ['keys', 'untrust', signer.keyId],
    'bundle install': ['bundle', 'install', kitV2],
    'bundle uninstall': ['bundle', 'uninstall', 'kit'],
    'bundle test': ['bundle', 'test', 'kit'],
    'api tokens': ['api', 'tokens', 'create', '--name', 'Notebook', '--scope', 'chat'],
    // Refused before it listens, so it returns at once instead of serving until stopped.
    serve: ['serve', '--port', '11479'],
    'audit export': ['audit', 'export', '--out', path.join(dir, 'broken-audit-export.jsonl')],
  });

  beforeAll(async () => {
    dataDir = path.join(dir, 'in-use');
    await testSettings(dataDir);
    // Some use first: a chat model, a collection with a document, a trusted key and an installed bundle (development mode).
    const imported = cli(dataDir, ['models', 'import', handModel, '--json']);
    expect(imported.status, imported.stderr).toBe(0);
    modelId = (json(imported) as { imported: ModelRecord[] }).imported[0]!.id;
    expect(cli(dataDir, ['knowledge', 'ingest', note, '--collection', 'Orchards', '--create']).status).toBe(0);
    expect(cli(dataDir, ['keys', 'trust', signerPub]).status).toBe(0);
    const installed = cli(dataDir, ['bundle', 'install', kitV1]);
    expect(installed.status, installed.stderr).toBe(0);
    keyBackup = path.join(dir, 'audit-key-backup');
    await copyFile(keyFilePath(dataDir), keyBackup);
    await rm(keyFilePath(dataDir));
  });

  it('classifies every command, and no other', () => {
    expect(Object.keys(COMMAND_TABLE).sort()).toEqual(Object.keys(COMMANDS).sort());
    const changing = Object.entries(COMMAND_TABLE)
      .filter(([, kind]) => kind !== 'reads')
      .map(([name]) => name);
    expect(Object.keys(argsFor()).sort()).toEqual(changing.sort());
  });

  it('refuses every command that changes data with audit_unavailable, from the gate, naming its action', () => {
    const records = auditRecords(dataDir).length;
    const failures: string[] = [];
    for (const [name, args] of Object.entries(argsFor())) {
      const action = COMMAND_TABLE[name]!.slice('changes:'.length);
      const run = cli(dataDir, [...args, '--json']);
      // Not every command answers in JSON when it fails; the gate's words are the same either way.
      const text = `${run.stdout}\n${run.stderr}`;
      const answer = ((): unknown => {
        try {
          return json(run);
        } catch {
          return null;
        }
      })();
      const ok =
        run.status === 1 &&
        text.includes('the audit log cannot record it') &&
        text.includes(`${action}: ${keyFilePath(dataDir)}`) &&
        (answer === null ? text.includes('audit') : codesIn(answer).includes('audit_unavailable'));
      if (!ok) failures.push(`${name} (${action}): exit ${run.status}\n${text.slice(0, 800)}`);
    }
    expect(failures).toEqual([]);
    // Nothing was written, and nothing could be: the log is where it was.
    expect(auditRecords(dataDir)).toHaveLength(records);
    expect(existsSync(path.join(dir, 'broken-export'))).toBe(false);
  });

  it('says so in words a person can act on', () => {
    const run = cli(dataDir, ['knowledge', 'ingest', note, '--collection', 'Orchards']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('This action was refused because the audit log cannot record it');
    expect(run.stderr).toContain('soberana doctor');
  });

  it('doctor reports the missing key, naming it, and fails', () => {
    const run = cli(dataDir, ['doctor', '--json']);
    expect(run.status).toBe(1);
    const report = json(run) as {
      checks: { id: string; status: string; detail: string }[];
      audit: { level: string; recording: boolean; keyFile: string; problem: { message: string } | null };
    };
    expect(report.audit).toMatchObject({
      level: 'metadata',
      recording: false,
      keyFile: keyFilePath(dataDir),
      problem: { message: expect.stringContaining('key file is missing') },
    });
    const check = report.checks.find((entry) => entry.id === 'audit');
    expect(check).toMatchObject({ status: 'fail' });
    expect(check!.detail).toContain(keyFilePath(dataDir));
    expect(check!.detail).toContain('refused until it is restored');
    const text = cli(dataDir, ['doctor']);
    expect(text.stdout).toMatch(/^ {2}\[FAIL\] audit +The audit key file is missing/m);
  });

  it('works again once the key is restored, with no restart of anything', async () => {
    await copyFile(keyBackup, keyFilePath(dataDir));
    const run = cli(dataDir, ['knowledge', 'create', 'Second', '--json']);
    expect(run.status, run.stderr).toBe(0);
    expect(auditRecords(dataDir).some((record) => record.type === 'change' && record.data.action === 'knowledge.createCollection')).toBe(true);
    const doctor = json(cli(dataDir, ['doctor', '--json'])) as { audit: { recording: boolean; problem: unknown } };
    expect(doctor.audit).toMatchObject({ recording: true, problem: null });
  });
});

describe('doctor on a data folder that does not exist yet', () => {
  it('reports the audit log as not set up and creates no audit files', () => {
    const dataDir = path.join(dir, 'new-folder');
    const run = cli(dataDir, ['doctor', '--json']);
    const report = json(run) as { checks: { id: string; status: string }[]; audit: { level: string; recording: boolean; created: boolean } };
    expect(report.audit).toMatchObject({ level: 'metadata', recording: true, created: false });
    expect(report.checks.find((entry) => entry.id === 'audit')).toMatchObject({ status: 'pass' });
    expect(existsSync(path.join(dataDir, 'audit'))).toBe(false);
  });
});
