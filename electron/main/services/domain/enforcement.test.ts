import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetSpec, writeGguf } from '../../../../e2e/fixtures/gguf/writer.ts';
import { contract, type Contract } from '../../../common/contract/index.ts';
import type { CallContext, Handlers } from '../../../common/handlers.ts';
import { AppError, type Result } from '../../../common/result.ts';
import { keyFilePath, type AuditRecord } from '../audit/index.ts';
import { createBundle, generateKeyPair, signBundle, type GeneratedKeyPair } from '../bundles/index.ts';
import { createCore, type Core } from '../core.ts';
import type { FilePicker } from '../files.ts';
import { GOVERNED_ACTIONS, type GovernedAction } from './gate.ts';

// Issue 12's acceptance: every contract endpoint that changes data is gated and audited by
// the same service code. The table below names, for each endpoint, the governed action its
// service runs under, or why it changes no data. Then, with the real services:
// - the audit key is deleted while the app is stopped: every governed endpoint is refused
//   with `audit_unavailable`, and nothing it would have changed changed;
// - the key is put back: each endpoint now runs, and the log holds its record.
// A new endpoint fails the first test until it is classified here.

type Endpoint = keyof Handlers<Contract>;
type Use = { readonly governs: GovernedAction } | { readonly reads: string };

const reads = (why: string): Use => ({ reads: why });
const governs = (action: GovernedAction): Use => ({ governs: action });

const ENDPOINTS: Readonly<Record<Endpoint, Use>> = {
  'app.info': reads('versions and paths'),
  'settings.get': reads('settings'),
  'settings.update': governs('settings.update'),
  'diagnostics.run': reads('health checks write nothing in the data folder'),
  'policy.get': reads('the policy in force'),
  'files.pickModel': reads('a dialog; the path stays in the main process'),
  'runtime.state': reads('the inference process state'),
  'runtime.load': governs('runtime.load'),
  'runtime.unload': reads('frees memory; the model.unloaded record comes from the engine state'),
  'runtime.generate': governs('runtime.generate'),
  'models.list': reads('the library'),
  'models.scan': reads('looks at picked files; nothing is imported'),
  'models.import': governs('models.import'),
  'models.fit': reads('a memory estimate'),
  'models.load': governs('runtime.load'),
  'models.rename': governs('models.rename'),
  'models.remove': governs('models.remove'),
  'models.verify': governs('models.verify'),
  'models.setDefault': governs('models.setDefault'),
  'models.setLoadSettings': governs('models.setLoadSettings'),
  'chat.list': reads('conversations'),
  'chat.create': governs('chat.create'),
  'chat.get': reads('a conversation'),
  'chat.update': governs('chat.update'),
  'chat.delete': governs('chat.delete'),
  'chat.restore': governs('chat.restore'),
  'chat.send': governs('chat.send'),
  'chat.regenerate': governs('chat.send'),
  'chat.continue': governs('chat.send'),
  'chat.switchBranch': governs('chat.switchBranch'),
  'chat.export': governs('chat.export'),
  'chat.exportEvidence': governs('chat.export'),
  'presets.list': reads('presets'),
  'presets.save': governs('presets.save'),
  'presets.delete': governs('presets.delete'),
  'presets.export': governs('presets.export'),
  'presets.import': governs('presets.import'),
  'knowledge.collections': reads('collections'),
  'knowledge.createCollection': governs('knowledge.createCollection'),
  'knowledge.updateCollection': governs('knowledge.updateCollection'),
  'knowledge.deleteCollection': governs('knowledge.deleteCollection'),
  'knowledge.documents': reads('documents'),
  'knowledge.folders': reads('the folders documents were added from'),
  'knowledge.retryFailed': governs('knowledge.ingest'),
  'knowledge.add': governs('knowledge.ingest'),
  'knowledge.removeDocument': governs('knowledge.removeDocument'),
  'knowledge.unwatch': governs('knowledge.unwatch'),
  'knowledge.progress': reads('the ingestion queue'),
  'knowledge.cancel': reads('stops work in progress; what was not indexed is not kept'),
  'knowledge.search': reads('passages'),
  'knowledge.view': reads('a document'),
  'knowledge.setMarking': governs('knowledge.setMarking'),
  'bundles.list': reads('installed bundles'),
  'bundles.pick': reads('verifies a picked bundle; the verdict is recorded, nothing is installed'),
  'bundles.install': governs('bundles.install'),
  'bundles.uninstall': governs('bundles.uninstall'),
  'bundles.checks': reads('the latest results of the installed packs’ checks'),
  'bundles.test': governs('bundles.test'),
  'bundles.exportChecks': governs('knowledge.export'),
  'audit.list': reads('the log'),
  'audit.verify': reads('the log'),
  'audit.export': governs('audit.export'),
  'api.status': reads('whether the local API listens'),
  'api.tokens': reads('the API tokens (never the tokens themselves)'),
  'api.createToken': governs('api.tokens.create'),
  'api.revokeToken': governs('api.tokens.revoke'),
};

/** The record a governed call leaves when it succeeds: its own event type, or `change` naming the action. */
const EXPECTED_RECORD: Partial<Record<GovernedAction, string>> = {
  'settings.update': 'setting.changed',
  'runtime.load': 'model.loaded',
  'runtime.generate': 'chat.turn',
  'models.import': 'model.imported',
  'chat.send': 'chat.turn',
  'chat.export': 'export',
  'presets.export': 'export',
  'audit.export': 'export',
  'knowledge.export': 'export',
  'knowledge.ingest': 'document.ingested',
  'knowledge.removeDocument': 'document.deleted',
  'knowledge.setMarking': 'marking.changed',
  'bundles.install': 'bundle.installed',
};

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };
const ctx = (): CallContext => ({ caller: { origin: 'test', isMainFrame: true }, signal: new AbortController().signal });

let dir: string;
let files: { chatModel: string; importModel: string; looseModel: string; folder: string; preset: string; bundle: string; policy: string; saveTo: string };
/** What the next model import picks: the chat model at set-up, then another one. */
const importQueue: string[] = [];
let documents = 0;
let key: GeneratedKeyPair;

/** The file the dialogs "choose": the e2e harness's kind of stand-in, with real files behind it. */
const picker = (): FilePicker => ({
  // A file the library does not hold: runtime.load's own path.
  pickModelFile: async () => files.looseModel,
  pickImportFiles: async () => [importQueue.shift() ?? files.importModel],
  // A new document each time, so each add has something to ingest.
  pickDocuments: async () => {
    documents += 1;
    const file = path.join(dir, `note-${documents}.md`);
    await writeFile(file, `# Note ${documents}\n\nStaff have ${20 + documents} days of annual leave.\n`);
    return [file];
  },
  pickFolder: async () => files.folder,
  droppedFiles: async () => [],
  pickOpenFile: async (_title, extensions) => (extensions.includes('tar') ? files.bundle : files.preset),
  saveFile: async (name, content) => {
    const target = path.join(files.saveTo, `${Date.now()}-${name}`);
    await writeFile(target, content);
    return target;
  },
});

/** Runs one call as the router would: a thrown AppError, a failed Result and a failed stream are all refusals. */
async function settle<T>(
  call: () => Result<T> | AsyncIterable<unknown> | Promise<Result<T>>,
): Promise<{ ok: true } | { ok: false; code: string; message: string }> {
  try {
    const resolved = await call();
    if (typeof resolved === 'object' && resolved !== null && Symbol.asyncIterator in resolved) {
      for await (const _event of resolved as AsyncIterable<unknown>) void _event;
      return { ok: true };
    }
    const value = resolved as Result<T>;
    return value.ok ? { ok: true } : { ok: false, code: value.error.code, message: value.error.message };
  } catch (error) {
    if (error instanceof AppError) return { ok: false, code: error.code, message: error.message };
    throw error;
  }
}

async function openCore(dataDir: string): Promise<Core> {
  const core = await createCore({ dataDir, host: HOST, policyFile: files.policy, filePicker: picker() });
  await core.runtime.start();
  return core;
}

/** What each governed endpoint is called with, given the data the set-up made; in an order where each still finds what it needs. */
async function governedCalls(core: Core) {
  const h = core.handlers;
  const conversation = core.storage.prepare('SELECT id FROM conversations ORDER BY created_at LIMIT 1').get() as { id: string };
  const answer = core.storage.prepare("SELECT id FROM messages WHERE role = 'assistant' AND status = 'interrupted' ORDER BY created_at LIMIT 1").get() as {
    id: string;
  };
  const model = core.storage.prepare("SELECT id FROM models WHERE role = 'chat' LIMIT 1").get() as { id: string };
  const preset = core.storage.prepare('SELECT id FROM presets LIMIT 1').get() as { id: string };
  const collection = core.storage.prepare('SELECT id FROM collections LIMIT 1').get() as { id: string };
  const document = core.storage.prepare("SELECT id FROM documents WHERE status = 'indexed' ORDER BY rowid LIMIT 1").get() as { id: string };
  const watched = core.storage.prepare('SELECT id FROM watched_folders LIMIT 1').get() as { id: string };
  const apiToken = core.storage.prepare('SELECT id FROM api_tokens ORDER BY created_at LIMIT 1').get() as { id: string };
  const scan = await h['models.scan']({ source: 'files' }, ctx());
  const candidateToken = scan.ok ? (scan.value.candidates[0]?.token ?? 'x'.repeat(24)) : 'x'.repeat(24);
  const picked = await h['files.pickModel']({}, ctx());
  const fileToken = picked.ok && !picked.value.canceled ? picked.value.file.token : 'x'.repeat(24);
  const bundle = await h['bundles.pick']({ source: 'file' }, ctx());
  const bundleToken = bundle.ok ? (bundle.value.report?.token ?? 'x'.repeat(24)) : 'x'.repeat(24);
  const sampling = { temperature: 0.5, topP: 0.9, topK: 40, repeatPenalty: 1.1, maxTokens: 4, minP: 0.05, seed: 1 };
  const calls: [Endpoint, () => unknown][] = [
    ['settings.update', () => h['settings.update']({ theme: 'dark' }, ctx())],
    ['runtime.load', () => h['runtime.load']({ fileToken }, ctx())],
    ['runtime.generate', () => h['runtime.generate']({ prompt: 'Hello', sampling: { maxTokens: 2 } }, ctx())],
    ['models.import', () => h['models.import']({ candidateToken, mode: 'reference' }, ctx())],
    ['models.load', () => h['models.load']({ id: model.id }, ctx())],
    ['models.rename', () => h['models.rename']({ id: model.id, name: 'Renamed' }, ctx())],
    ['models.verify', () => h['models.verify']({ id: model.id }, ctx())],
    ['models.setDefault', () => h['models.setDefault']({ id: model.id, role: 'chat' }, ctx())],
    ['models.setLoadSettings', () => h['models.setLoadSettings']({ id: model.id, settings: { contextSize: 256 } }, ctx())],
    ['chat.create', () => h['chat.create']({}, ctx())],
    ['chat.update', () => h['chat.update']({ id: conversation.id, title: 'Renamed' }, ctx())],
    ['chat.send', () => h['chat.send']({ conversationId: conversation.id, content: 'Hi again' }, ctx())],
    ['chat.regenerate', () => h['chat.regenerate']({ messageId: answer.id }, ctx())],
    ['chat.continue', () => h['chat.continue']({ messageId: answer.id }, ctx())],
    ['chat.switchBranch', () => h['chat.switchBranch']({ messageId: answer.id }, ctx())],
    ['chat.export', () => h['chat.export']({ id: conversation.id, format: 'markdown' }, ctx())],
    ['chat.exportEvidence', () => h['chat.exportEvidence']({ messageId: answer.id }, ctx())],
    ['presets.save', () => h['presets.save']({ name: 'Terse', settings: { systemPrompt: '', sampling, contextSize: 'auto' } }, ctx())],
    ['presets.export', () => h['presets.export']({ id: preset.id }, ctx())],
    ['presets.import', () => h['presets.import']({}, ctx())],
    ['knowledge.createCollection', () => h['knowledge.createCollection']({ name: `More ${Date.now()}`, embeddingModelId: null }, ctx())],
    ['knowledge.updateCollection', () => h['knowledge.updateCollection']({ id: collection.id, name: 'Renamed' }, ctx())],
    ['knowledge.add', () => h['knowledge.add']({ collectionId: collection.id, source: 'files' }, ctx())],
    ['knowledge.retryFailed', () => h['knowledge.retryFailed']({ collectionId: collection.id }, ctx())],
    ['knowledge.removeDocument', () => h['knowledge.removeDocument']({ id: document.id }, ctx())],
    ['knowledge.unwatch', () => h['knowledge.unwatch']({ id: watched.id }, ctx())],
    [
      'knowledge.setMarking',
      () => h['knowledge.setMarking']({ target: 'collection', id: collection.id, marking: { level: 'RESTRICTED', compartments: [] } }, ctx()),
    ],
    ['audit.export', () => h['audit.export']({}, ctx())],
    ['api.createToken', () => h['api.createToken']({ name: `Script ${Date.now()}`, scopes: ['chat'], expiresAt: null }, ctx())],
    ['api.revokeToken', () => h['api.revokeToken']({ id: apiToken.id }, ctx())],
    ['bundles.install', () => h['bundles.install']({ token: bundleToken }, ctx())],
    ['bundles.test', () => h['bundles.test']({ id: 'kit' }, ctx())],
    ['bundles.exportChecks', () => h['bundles.exportChecks']({ id: 'kit' }, ctx())],
    ['bundles.uninstall', () => h['bundles.uninstall']({ id: 'kit' }, ctx())],
    ['presets.delete', () => h['presets.delete']({ id: preset.id }, ctx())],
    ['chat.delete', () => h['chat.delete']({ id: conversation.id }, ctx())],
    ['chat.restore', () => h['chat.restore']({ undoToken: 'not-a-token-but-refused-first' }, ctx())],
    ['models.remove', () => h['models.remove']({ id: model.id }, ctx())],
    ['knowledge.deleteCollection', () => h['knowledge.deleteCollection']({ id: collection.id }, ctx())],
  ];
  return calls;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-enforcement-'));
  key = generateKeyPair();
  const folder = path.join(dir, 'watched');
  await mkdir(folder);
  files = {
    chatModel: path.join(dir, 'chat.gguf'),
    importModel: path.join(dir, 'other.gguf'),
    looseModel: path.join(dir, 'loose.gguf'),
    folder,
    preset: path.join(dir, 'preset.json'),
    bundle: path.join(dir, 'kit.tar'),
    policy: path.join(dir, 'machine-policy.json'),
    saveTo: await mkdtemp(path.join(dir, 'saved-')),
  };
  await writeGguf(files.chatModel, presetSpec('tiny', 'Q8_0', 5));
  await writeGguf(files.importModel, presetSpec('tiny', 'Q8_0', 6));
  await writeGguf(files.looseModel, presetSpec('tiny', 'Q8_0', 8));
  await writeFile(path.join(folder, 'watched.md'), '# Watched\n\nA note in a watched folder.\n');
  await writeFile(
    files.preset,
    JSON.stringify({
      format: 'soberana.presets',
      version: 1,
      presets: [
        {
          name: 'Imported',
          settings: {
            systemPrompt: '',
            sampling: { temperature: 0.2, topP: 0.9, topK: 40, repeatPenalty: 1.1, maxTokens: 16, minP: 0.05, seed: null },
            contextSize: 'auto',
          },
        },
      ],
    }),
  );
  const bundleModel = path.join(dir, 'bundled.gguf');
  await writeGguf(bundleModel, presetSpec('tiny', 'Q8_0', 7));
  await createBundle({
    out: files.bundle,
    id: 'kit',
    name: 'Kit',
    version: 1,
    expires: new Date(Date.now() + 86_400_000).toISOString(),
    publisherKeyId: key.keyId,
    files: [{ kind: 'model', source: bundleModel, meta: { displayName: 'Bundled' } }],
  });
  await signBundle(files.bundle, key.privateKeyPem);
  await writeFile(
    files.policy,
    JSON.stringify({
      version: 1,
      bundles: { trustedKeys: [{ name: 'IT', publicKey: key.publicKey }] },
      settings: { runtime: { threads: 1 } },
      // For knowledge.setMarking: a scheme to mark in (raising a marking is an ordinary governed change).
      markings: {
        levels: [
          { id: 'PUBLIC', names: { en: 'Public', es: 'Público' }, colour: '#2e7d32' },
          { id: 'RESTRICTED', names: { en: 'Restricted', es: 'Restringido' }, colour: '#c62828' },
        ],
        maxLevel: 'RESTRICTED',
        defaultLevel: 'PUBLIC',
      },
    }),
  );
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('every contract endpoint that changes data goes through the gate', () => {
  it('is classified: the table names exactly the contract endpoints, and its actions exactly the governed ones', () => {
    const callable = Object.entries(contract)
      .filter(([, def]) => def.kind !== 'event')
      .map(([name]) => name)
      .sort();
    expect(Object.keys(ENDPOINTS).sort()).toEqual(callable);
    const used = new Set(Object.values(ENDPOINTS).flatMap((use) => ('governs' in use ? [use.governs] : [])));
    // keys.trust and keys.untrust have no endpoint: only the CLI changes the development trust store.
    // api.serve has none either: the API listens when the settings (or `soberana serve`) ask and the gate lets it.
    // knowledge.lowerMarking is knowledge.setMarking's own action when the marking goes down (an administrator's).
    expect([...used, 'keys.trust', 'keys.untrust', 'api.serve', 'knowledge.lowerMarking'].sort()).toEqual([...GOVERNED_ACTIONS].sort());
  });

  it('refuses each one while the audit log cannot record, and records each one once it can again', { timeout: 300_000 }, async () => {
    const dataDir = await mkdtemp(path.join(dir, 'data-'));
    // Set-up with a working log: a chat model, a conversation with an answer, a preset, a collection with a document and a watched folder.
    let core = await openCore(dataDir);
    const h = core.handlers;
    importQueue.push(files.chatModel);
    const scanned = await h['models.scan']({ source: 'files' }, ctx());
    if (!scanned.ok) throw new Error(scanned.error.message);
    void (await settle(() => h['models.import']({ candidateToken: scanned.value.candidates[0]!.token, mode: 'reference' }, ctx())));
    const model = core.storage.prepare('SELECT id FROM models LIMIT 1').get() as { id: string };
    expect((await settle(() => h['models.setDefault']({ id: model.id, role: 'chat' }, ctx()))).ok).toBe(true);
    const created = await h['chat.create']({}, ctx());
    if (!created.ok) throw new Error(created.error.message);
    expect(await settle(() => h['chat.send']({ conversationId: created.value.id, content: 'Hello' }, ctx()))).toEqual({ ok: true });
    // As if the user stopped it: an answer chat.continue may continue.
    core.storage.prepare("UPDATE messages SET status = 'interrupted' WHERE role = 'assistant'").run();
    expect(
      (
        await settle(() =>
          h['presets.save'](
            {
              name: 'Short',
              settings: {
                systemPrompt: '',
                sampling: { temperature: 0.2, topP: 0.9, topK: 40, repeatPenalty: 1.1, maxTokens: 8, minP: 0.05, seed: null },
                contextSize: 'auto',
              },
            },
            ctx(),
          ),
        )
      ).ok,
    ).toBe(true);
    const collection = await h['knowledge.createCollection']({ name: 'Policies', embeddingModelId: null }, ctx());
    if (!collection.ok) throw new Error(collection.error.message);
    expect((await settle(() => h['knowledge.add']({ collectionId: collection.value.id, source: 'files' }, ctx()))).ok).toBe(true);
    expect((await settle(() => h['knowledge.add']({ collectionId: collection.value.id, source: 'folder', watch: true }, ctx()))).ok).toBe(true);
    // A document that failed (empty) and has text now, for knowledge.retryFailed to index.
    const empty = path.join(dir, `empty-${path.basename(dataDir)}.md`);
    await writeFile(empty, '');
    await core.knowledge.addPaths(collection.value.id, [empty]);
    await core.knowledge.idle();
    expect(core.storage.prepare("SELECT count(*) AS n FROM documents WHERE status = 'failed'").get()).toEqual({ n: 1 });
    await writeFile(empty, '# Filled in\n\nNow it has text to index.\n');
    // An API token for api.revokeToken to revoke.
    expect((await settle(() => h['api.createToken']({ name: 'Notebook', scopes: ['chat'], expiresAt: null }, ctx()))).ok).toBe(true);
    await core.close();

    // The key goes while the app is stopped (finding 2): at the next start nothing governed may run.
    const saved = path.join(dir, `key-${path.basename(dataDir)}`);
    await copyFile(keyFilePath(dataDir), saved);
    await rm(keyFilePath(dataDir));
    core = await openCore(dataDir);
    expect(core.audit.problem?.message).toMatch(/key file is missing/);
    const counts = () =>
      core.storage
        .prepare(
          'SELECT (SELECT count(*) FROM conversations) AS c, (SELECT count(*) FROM messages) AS m, (SELECT count(*) FROM models) AS mo, (SELECT count(*) FROM documents) AS d, (SELECT count(*) FROM presets) AS p, (SELECT count(*) FROM audit_records) AS a',
        )
        .get();
    const before = counts();
    const refused: string[] = [];
    for (const [endpoint, call] of await governedCalls(core)) {
      const outcome = await settle(call as never);
      if (outcome.ok || outcome.code !== 'audit_unavailable') refused.push(`${endpoint}: ${JSON.stringify(outcome)}`);
    }
    expect(refused).toEqual([]);
    expect(counts()).toEqual(before);
    await core.close();

    // The key is back: each call runs, and leaves its record.
    await copyFile(saved, keyFilePath(dataDir));
    core = await openCore(dataDir);
    expect(core.audit.problem).toBeNull();
    const missing: string[] = [];
    for (const [endpoint, call] of await governedCalls(core)) {
      const use = ENDPOINTS[endpoint];
      if (!('governs' in use)) continue;
      const last = (core.storage.prepare('SELECT max(seq) AS seq FROM audit_records').get() as { seq: number }).seq;
      const outcome = await settle(call as never);
      await core.knowledge.idle();
      const records = core.audit.log!.list({ limit: 10_000 }).filter((record: AuditRecord) => record.seq > last);
      const expected = EXPECTED_RECORD[use.governs] ?? 'change';
      const found = records.some((record) => record.type === expected && (expected !== 'change' || (record.data as { action: string }).action === use.governs));
      // chat.restore is called with a made-up token: refused by the service after the gate let it through.
      if (endpoint === 'chat.restore') {
        expect(outcome).toMatchObject({ ok: false });
        continue;
      }
      if (!outcome.ok || !found) missing.push(`${endpoint}: ${JSON.stringify(outcome)} records ${records.map((record) => record.type).join(',')}`);
    }
    expect(missing).toEqual([]);
    expect(core.audit.log!.verify().ok).toBe(true);
    await core.close();
  });
});

describe('the policy’s own rules, through the same gate', () => {
  it(
    'refuses hand imports, raw model files, ingestion and every export where the policy forbids them, each with an action.refused record',
    { timeout: 120_000 },
    async () => {
      const dataDir = await mkdtemp(path.join(dir, 'data-'));
      const strict = path.join(dir, 'strict-policy.json');
      await writeFile(
        strict,
        JSON.stringify({
          version: 1,
          bundles: { trustedKeys: [{ name: 'IT', publicKey: key.publicKey }] },
          models: { allowUnsigned: false },
          documents: { allowIngestion: false },
          export: { allowed: false },
          settings: { runtime: { threads: 1 } },
        }),
      );
      // Something to export: a conversation, a preset and a collection, made while the rules allow it.
      let core = await openCore(dataDir);
      const conversation = await core.handlers['chat.create']({}, ctx());
      const preset = await core.handlers['presets.save'](
        {
          name: 'P',
          settings: {
            systemPrompt: '',
            sampling: { temperature: 0.2, topP: 0.9, topK: 40, repeatPenalty: 1.1, maxTokens: 8, minP: 0.05, seed: null },
            contextSize: 'auto',
          },
        },
        ctx(),
      );
      const collection = await core.handlers['knowledge.createCollection']({ name: 'Exports', embeddingModelId: null }, ctx());
      if (!conversation.ok || !preset.ok || !collection.ok) throw new Error('set-up failed');
      await core.close();

      core = await createCore({ dataDir, host: HOST, policyFile: strict, filePicker: picker() });
      await core.runtime.start();
      const h = core.handlers;
      const scan = await h['models.scan']({ source: 'files' }, ctx());
      const picked = await h['files.pickModel']({}, ctx());
      if (!scan.ok || !picked.ok || picked.value.canceled) throw new Error('pick failed');
      const cases: [GovernedAction, () => unknown][] = [
        ['models.import', () => h['models.import']({ candidateToken: scan.value.candidates[0]!.token, mode: 'reference' }, ctx())],
        ['runtime.load', () => h['runtime.load']({ fileToken: picked.value.canceled ? '' : picked.value.file.token }, ctx())],
        ['knowledge.ingest', () => h['knowledge.add']({ collectionId: collection.value.id, source: 'files' }, ctx())],
        ['chat.export', () => h['chat.export']({ id: conversation.value.id, format: 'json' }, ctx())],
        ['presets.export', () => h['presets.export']({ id: preset.value.id }, ctx())],
        ['audit.export', () => h['audit.export']({}, ctx())],
      ];
      const before = (await readdir(files.saveTo)).length;
      for (const [action, call] of cases) {
        const outcome = await settle(call as never);
        expect(outcome, action).toMatchObject({ ok: false, code: 'forbidden' });
        const refusals = core.audit
          .log!.list({ type: 'action.refused', limit: 10_000 })
          .filter((record) => (record.data as { action: string }).action === action);
        expect(refusals, action).toHaveLength(1);
      }
      // The knowledge pack export is the service's too (the CLI calls it): refused the same way.
      await expect(core.knowledge.exportPack(collection.value.id, path.join(dir, 'pack-out'))).rejects.toMatchObject({ code: 'forbidden' });
      expect(
        core.audit.log!.list({ type: 'action.refused', limit: 10_000 }).some((record) => (record.data as { action: string }).action === 'knowledge.export'),
      ).toBe(true);
      // Retrying failed documents is ingestion too: refused by the same rule, and recorded.
      expect(await settle(() => h['knowledge.retryFailed']({ collectionId: collection.value.id }, ctx()))).toMatchObject({ ok: false, code: 'forbidden' });
      expect(
        core.audit.log!.list({ type: 'action.refused', limit: 10_000 }).filter((record) => (record.data as { action: string }).action === 'knowledge.ingest'),
      ).toHaveLength(2);
      expect((await readdir(files.saveTo)).length).toBe(before);
      expect(core.storage.prepare('SELECT count(*) AS n FROM models').get()).toEqual({ n: 0 });
      await core.close();
    },
  );
});

describe('the prompts PII rule, as the core wires it', () => {
  it(
    'refuses a message with personal data under block before anything is saved, and records what was found (types and counts only)',
    { timeout: 120_000 },
    async () => {
      const dataDir = await mkdtemp(path.join(dir, 'data-'));
      const blocking = path.join(dir, 'pii-block-policy.json');
      await writeFile(blocking, JSON.stringify({ version: 1, pii: { prompts: 'block' }, settings: { runtime: { threads: 1 } } }));
      const core = await createCore({ dataDir, host: HOST, policyFile: blocking, filePicker: picker() });
      try {
        await core.runtime.start();
        const h = core.handlers;
        importQueue.push(files.chatModel);
        const scanned = await h['models.scan']({ source: 'files' }, ctx());
        if (!scanned.ok) throw new Error(scanned.error.message);
        expect((await settle(() => h['models.import']({ candidateToken: scanned.value.candidates[0]!.token, mode: 'reference' }, ctx()))).ok).toBe(true);
        const model = core.storage.prepare('SELECT id FROM models LIMIT 1').get() as { id: string };
        expect((await settle(() => h['models.setDefault']({ id: model.id, role: 'chat' }, ctx()))).ok).toBe(true);
        const created = await h['chat.create']({}, ctx());
        if (!created.ok) throw new Error(created.error.message);
        const outcome = await settle(() => h['chat.send']({ conversationId: created.value.id, content: 'Write to jane.doe@example.org today' }, ctx()));
        expect(outcome).toMatchObject({ ok: false, code: 'forbidden' });
        expect(core.storage.prepare('SELECT count(*) AS n FROM messages').get()).toEqual({ n: 0 });
        const found = core.audit.log!.list({ type: 'pii.found' }).map((record) => record.data);
        expect(found).toEqual([{ kind: 'email', action: 'block', context: 'prompts', count: 1 }]);
        expect(JSON.stringify(core.audit.log!.list({ limit: 10_000 }))).not.toContain('jane.doe');
      } finally {
        await core.close();
      }
    },
  );
});
