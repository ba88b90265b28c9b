import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pdfDocument, writeDocuments } from '../../../../../e2e/fixtures/documents/index.ts';
import { presetSpec, writeGguf } from '../../../../../e2e/fixtures/gguf/writer.ts';
import type { PackCheckRun } from '../../../../common/contract/index.ts';
import { createBundle, generateKeyPair, signBundle, type CreateBundleFile } from '../../bundles/index.ts';
import { installWithPayloads, testBundle } from '../../bundles/service.ts';
import { createCore, type Core } from '../../core.ts';
import { importModel, libraryDirFor, scanModels } from '../../models/index.ts';
import { CHECKS_FILE } from '../pack/checks.ts';
import { importKnowledgePack, PACK_FILE, type PackManifest } from '../pack.ts';
import { documentsDirFor } from '../service.ts';
import type { PackCheck } from '../pack/checks.ts';
import { CHECK_TOP_K } from './run.ts';

// Acceptance checks of a knowledge pack, end to end on real semantics: a collection embedded
// with the GloVe GGUF (../shared/fixtures/gguf, see its README) is exported with 20 checks,
// signed into a bundle with its embedding model, and installed on a fresh machine, where the
// checks run and pass; a broken index and a lost embedding model make some fail, and the
// policy's "disable" keeps the collection out of retrieval until a run passes again.

const GLOVE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../../../shared/fixtures/gguf/glove-100d-bert.gguf');
const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };
const ctx = { caller: { origin: 'test', isMainFrame: true }, signal: new AbortController().signal };
const BUNDLE_ID = 'almanac';

/**
 * Four manuals of five pages, one subject a page; each check asks about one page. Five
 * questions share no word with their page (PARAPHRASES): only the vectors find those.
 */
const PAGES: Record<string, readonly (readonly [subject: string, text: string, question: string])[]> = {
  'farm.pdf': [
    ['Orchard', 'The orchard grows apples, pears and plums; picking begins in September and ends before the frosts.', 'Which fruit trees are cultivated?'],
    ['Bees', 'Twelve hives of bees stand by the clover meadow; the honey is taken from the combs twice a summer.', 'How often is honey taken from the hives?'],
    ['Dairy', 'The dairy milks forty cows at dawn and at dusk, and the cream is churned into butter on Fridays.', 'On which day is cream churned into butter?'],
    [
      'Tractors',
      'Tractors are serviced each spring: oil, filters and tyres are checked before ploughing starts.',
      'What is checked on the tractors before ploughing?',
    ],
    ['Wheat', 'Winter wheat is sown in October and harvested with the combine in late July.', 'When is winter wheat sown?'],
  ],
  'harbour.pdf': [
    ['Tides', 'High water at the harbour mouth comes twice a day; the tide tables are posted at the lock gate.', 'Where are the tide tables posted?'],
    ['Lighthouse', 'The lighthouse lamp flashes white every ten seconds and can be seen for eighteen nautical miles.', 'How visible is the beacon at sea?'],
    ['Fishing', 'Trawlers land cod, haddock and mackerel at the fish market before sunrise.', 'What seafood do boats bring ashore?'],
    ['Moorings', 'Visiting yachts pay mooring fees at the harbour office; berths are allotted by length.', 'Where do visiting yachts pay the mooring fees?'],
    [
      'Storms',
      'When a gale warning is raised the harbour master closes the outer basin to small craft.',
      'What does the harbour master close during a gale warning?',
    ],
  ],
  'clinic.pdf': [
    [
      'Vaccines',
      'Vaccines are kept in the refrigerator between two and eight degrees, and the temperature is logged daily.',
      'How cold must the immunisation doses stay?',
    ],
    [
      'Appointments',
      'Patients book appointments by telephone; the surgery opens at eight and closes at six.',
      'How do patients book appointments at the surgery?',
    ],
    ['Pharmacy', 'Prescriptions are collected from the pharmacy counter with a signed slip.', 'Where are prescriptions collected?'],
    ['Nurses', 'Two nurses dress wounds and take blood samples every morning in the treatment room.', 'Who takes the blood samples in the treatment room?'],
    [
      'Ambulance',
      'An ambulance is called for chest pain, a stroke or a serious fall, without waiting for the doctor.',
      'When is an ambulance called without waiting for the doctor?',
    ],
  ],
  'library.pdf': [
    ['Loans', 'Borrowers may take six books for three weeks and renew them once at the desk.', 'For how long may borrowers take books?'],
    ['Archives', 'Old manuscripts are read in the archive room with cotton gloves and pencils only.', 'What must readers use in the archive room?'],
    ['Children', 'Story time for children is held on Saturday mornings in the reading corner.', 'When do kids hear tales read aloud?'],
    ['Computers', 'Public computers are booked for one hour; printing costs ten cents a page.', 'How much does printing cost on the public computers?'],
    ['Fines', 'Late returns are fined twenty cents a day, up to the price of the book.', 'How much are late returns fined?'],
  ],
};

const PARAPHRASES = ['farm-orchard', 'harbour-lighthouse', 'harbour-fishing', 'clinic-vaccines', 'library-children'];

/** One check also asks the chat model, when there is one, for a phrase in its answer. */
const ANSWERED = 'farm-wheat';

const CHECKS: PackCheck[] = Object.entries(PAGES).flatMap(([document, pages]) =>
  pages.map(([subject, , question], at) => {
    const id = `${path.basename(document, '.pdf')}-${subject.toLowerCase()}`;
    return { id, question, expect: { document, page: at + 1 }, ...(id === ANSWERED ? { answerPhrases: ['October'] } : {}) };
  }),
);

let dir: string;
let bundle: string;
let publicKey: string;
let signer: ReturnType<typeof generateKeyPair>;
const cores: Core[] = [];

async function open(dataDir: string, onCheckFailure: 'warn' | 'disable', markings?: object): Promise<Core> {
  const policyFile = path.join(dataDir, '..', `${path.basename(dataDir)}-policy.json`);
  await mkdir(path.dirname(policyFile), { recursive: true });
  await writeFile(
    policyFile,
    JSON.stringify({
      version: 1,
      bundles: { trustedKeys: [{ name: 'Almanac office', publicKey }] },
      packs: { onCheckFailure },
      ...(markings === undefined ? {} : { markings }),
      settings: { runtime: { threads: 1 } },
    }),
  );
  const core = await createCore({ dataDir, host: HOST, policyFile });
  cores.push(core);
  return core;
}

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
}

const failedIds = (run: PackCheckRun) => run.results.filter((result) => !result.passed).map((result) => result.id);

async function install(core: Core): Promise<{ collectionId: string; run: PackCheckRun }> {
  const outcome = await installWithPayloads(core.bundles, bundle);
  expect(outcome.ok, outcome.ok ? '' : outcome.report.reason?.message).toBe(true);
  const runs = core.knowledge.checks.runsOfBundle(BUNDLE_ID);
  expect(runs).toHaveLength(1);
  return { collectionId: runs[0]!.collectionId, run: runs[0]! };
}

const searchNames = async (core: Core, collectionId: string, query: string) =>
  (await core.knowledge.search({ query, collectionIds: [collectionId], limit: CHECK_TOP_K })).passages.map((passage) => passage.documentName);

beforeAll(async () => {
  if (!existsSync(GLOVE)) return;
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-pack-checks-'));
  const documents = await writeDocuments(
    path.join(dir, 'documents'),
    Object.fromEntries(
      await Promise.all(
        Object.entries(PAGES).map(
          async ([name, pages]) =>
            [
              name,
              await pdfDocument(
                pages.map(([subject, text]) => ({
                  blocks: [
                    { kind: 'heading' as const, text: subject },
                    { kind: 'paragraph' as const, text },
                  ],
                })),
              ),
            ] as const,
        ),
      ),
    ),
  );
  const checksFile = path.join(dir, 'checks.json');
  await writeFile(checksFile, JSON.stringify(CHECKS, null, 2));

  // The publisher's machine: the collection embedded with GloVe, exported with its checks.
  const key = generateKeyPair();
  signer = key;
  publicKey = key.publicKey;
  const source = await open(path.join(dir, 'publisher'), 'warn');
  const [candidate] = (await scanModels(GLOVE)).candidates;
  const model = await importModel(source.storage, libraryDirFor(source.dataDir), candidate!, { mode: 'reference' });
  const collection = await source.knowledge.createCollection('Almanac', model.id);
  await source.knowledge.addPaths(collection.id, Object.values(documents));
  await source.knowledge.idle();
  const packDir = path.join(dir, 'almanac-pack');
  const summary = await source.knowledge.exportPack(collection.id, packDir, undefined, { checks: checksFile });
  expect(summary).toMatchObject({ documents: 4, checks: 20 });
  await source.close();
  cores.splice(0);

  const packFiles: CreateBundleFile[] = (await filesUnder(packDir)).map((relative) => ({
    kind: 'knowledge-pack',
    source: path.join(packDir, ...relative.split('/')),
    path: `almanac-pack/${relative}`,
    meta: { displayName: 'Almanac', collection: 'Almanac' },
  }));
  bundle = path.join(dir, 'almanac.tar');
  await createBundle({
    out: bundle,
    id: BUNDLE_ID,
    name: 'Almanac',
    version: 1,
    expires: new Date(Date.now() + 365 * 86_400_000).toISOString(),
    publisherKeyId: key.keyId,
    files: [{ kind: 'embedding-model', source: GLOVE, meta: { displayName: 'GloVe 100d' } }, ...packFiles],
  });
  await signBundle(bundle, key.privateKeyPem);
}, 300_000);

afterEach(async () => {
  for (const core of cores.splice(0)) await core.close();
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!existsSync(GLOVE))('knowledge pack acceptance checks (GloVe; skipped where ../shared/fixtures/gguf is absent)', () => {
  it('a pack carries its checks: format 2, pack.json counts them, checks.json holds them', async () => {
    const packDir = path.join(dir, 'almanac-pack');
    const manifest = JSON.parse(await readFile(path.join(packDir, PACK_FILE), 'utf8')) as PackManifest;
    expect(manifest).toMatchObject({ format: 2, checks: 20 });
    expect(JSON.parse(await readFile(path.join(packDir, CHECKS_FILE), 'utf8'))).toEqual(CHECKS);
  });

  it('a pack whose checks.json went missing, or holds other checks than pack.json counts, is refused as damaged', { timeout: 120_000 }, async () => {
    const core = await open(path.join(dir, 'damaged'), 'warn');
    const [candidate] = (await scanModels(GLOVE)).candidates;
    await importModel(core.storage, libraryDirFor(core.dataDir), candidate!, { mode: 'reference' });
    const deps = { db: core.storage, store: core.knowledge.store, index: core.knowledge.index, documentsDir: documentsDirFor(core.dataDir) };
    const options = { readOnly: true, requireModel: () => true };
    const missing = path.join(dir, 'damaged-packs', 'missing');
    await cp(path.join(dir, 'almanac-pack'), missing, { recursive: true });
    await rm(path.join(missing, CHECKS_FILE));
    await expect(importKnowledgePack(deps, missing, options)).rejects.toMatchObject({ details: 'pack.json declares 20 checks and checks.json is missing' });
    const fewer = path.join(dir, 'damaged-packs', 'fewer');
    await cp(path.join(dir, 'almanac-pack'), fewer, { recursive: true });
    await writeFile(path.join(fewer, CHECKS_FILE), JSON.stringify(CHECKS.slice(1)));
    await expect(importKnowledgePack(deps, fewer, options)).rejects.toMatchObject({ details: 'checks.json has 19 checks; pack.json declares 20' });
    expect(core.knowledge.collections()).toEqual([]);
    // Whole, it imports, its checks kept with the collection.
    const id = await importKnowledgePack(deps, path.join(dir, 'almanac-pack'), options);
    expect(core.storage.prepare('SELECT count(*) AS n FROM pack_check_sets WHERE collection_id = ?').get(id)).toEqual({ n: 1 });
  });

  it('installs and reports 20/20, recorded and audited', { timeout: 300_000 }, async () => {
    const core = await open(path.join(dir, 'installs'), 'disable');
    const { collectionId, run } = await install(core);
    expect(run).toMatchObject({ bundleId: BUNDLE_ID, bundleVersion: 1, trigger: 'install', total: 20, passed: 20, failed: 0, disabled: false });
    expect(run.results.every((result) => result.rank !== null && result.rank <= CHECK_TOP_K)).toBe(true);
    // No chat model here: the answer phrases are not checked, retrieval alone decides.
    expect(run.results.map((result) => result.answer)).toEqual(CHECKS.map((check) => (check.id === ANSWERED ? 'skipped' : 'none')));
    const records = core.audit.log!.list({ type: 'pack.checked', limit: 10 });
    expect(records.map((record) => record.data)).toEqual([{ bundle: 'almanac v1', collectionId, trigger: 'install', total: 20, passed: 20, failed: 0 }]);
    const listed = await core.handlers['bundles.checks']({ id: BUNDLE_ID }, ctx);
    expect(listed.ok && listed.value).toMatchObject({ runs: [{ collectionId, passed: 20 }], checked: [{ collectionId, checks: 20 }] });
  });

  it('a broken index fails the checks of what it lost; "disable" keeps the collection out of retrieval until a run passes', { timeout: 300_000 }, async () => {
    const core = await open(path.join(dir, 'broken'), 'disable');
    const { collectionId } = await install(core);
    const { store, index } = core.knowledge;
    const collection = store.collection(collectionId);
    const clinic = store.listDocuments(collectionId).find((document) => document.name === 'clinic.pdf')!;
    // The index loses one document's rows (what a damaged LanceDB table looks like to search).
    const rows = store.indexRows([clinic.id]);
    const texts = new Map(store.chunksForDocument(clinic.id).map((chunk) => [chunk.id, chunk.text]));
    await index.deleteDocuments(collection.embeddingKey, [clinic.id]);

    const [broken] = await testBundle(core.bundles, BUNDLE_ID);
    expect(broken).toMatchObject({ trigger: 'manual', total: 20, passed: 15, failed: 5, disabled: true });
    expect(failedIds(broken!).sort()).toEqual(
      CHECKS.filter((check) => check.expect.document === 'clinic.pdf')
        .map((check) => check.id)
        .sort(),
    );
    const failure = broken!.results.find((result) => !result.passed)!;
    expect(failure.found.every((hit) => hit.document !== 'clinic.pdf')).toBe(true);

    // Disabled: search, chat retrieval and pinned documents no longer reach the collection.
    expect(await searchNames(core, collectionId, 'Where do visiting yachts pay the mooring fees?')).toEqual([]);
    expect((await core.knowledge.retrieveForChat('When is winter wheat sown?', [collectionId], 2_000)).passages).toEqual([]);
    const checks = await core.handlers['bundles.checks']({ id: BUNDLE_ID }, ctx);
    expect(checks.ok && checks.value.runs[0]).toMatchObject({ failed: 5, disabled: true });
    // The chat's collection picker shows why it cannot be chosen.
    expect(core.knowledge.collections().find((view) => view.id === collectionId)?.disabled).toBe('packChecks');

    // The index repaired, a rerun passes and the collection is back.
    await index.add(
      collection.embeddingKey,
      collection.dimensions,
      rows.map((row) => ({ chunkId: row.chunkId, documentId: clinic.id, collectionId, text: texts.get(row.chunkId)!, vector: row.vector })),
    );
    const [repaired] = await testBundle(core.bundles, BUNDLE_ID);
    expect(repaired).toMatchObject({ passed: 20, failed: 0, disabled: false });
    expect(core.knowledge.collections().find((view) => view.id === collectionId)?.disabled).toBeUndefined();
    expect(await searchNames(core, collectionId, 'Where do visiting yachts pay the mooring fees?')).toContain('harbour.pdf');
    const audited = core.audit.log!.list({ type: 'pack.checked', limit: 10 }).map((record) => (record.data as { trigger: string; failed: number }).failed);
    expect(audited.sort()).toEqual([0, 0, 5]);
  });

  it('checks search under the markings: a document marked beyond this machine fails its checks and is never named', { timeout: 300_000 }, async () => {
    const scheme = {
      levels: [
        { id: 'PUBLIC', names: { en: 'Public', es: 'Público' }, colour: '#2e7d32' },
        { id: 'SECRET', names: { en: 'Secret', es: 'Secreto' }, colour: '#b71c1c' },
      ],
      maxLevel: 'PUBLIC',
      defaultLevel: 'PUBLIC',
    };
    const core = await open(path.join(dir, 'marked'), 'warn', scheme);
    const { collectionId } = await install(core);
    const clinic = core.knowledge.store.listDocuments(collectionId).find((document) => document.name === 'clinic.pdf')!;
    const marked = await core.handlers['knowledge.setMarking']({ target: 'document', id: clinic.id, marking: { level: 'SECRET', compartments: [] } }, ctx);
    expect(marked.ok).toBe(true);
    const [run] = await testBundle(core.bundles, BUNDLE_ID);
    expect(run).toMatchObject({ total: 20, failed: 5 });
    expect(failedIds(run!).sort()).toEqual(
      CHECKS.filter((check) => check.expect.document === 'clinic.pdf')
        .map((check) => check.id)
        .sort(),
    );
    // What the checks found, shown on the Bundles screen and exported, never names the hidden document.
    expect(run!.results.flatMap((result) => result.found.map((hit) => hit.document))).not.toContain('clinic.pdf');
  });

  it('under "warn" a failed run is shown but the collection stays in use', { timeout: 300_000 }, async () => {
    const core = await open(path.join(dir, 'warned'), 'warn');
    const { collectionId } = await install(core);
    const collection = core.knowledge.store.collection(collectionId);
    const farm = core.knowledge.store.listDocuments(collectionId).find((document) => document.name === 'farm.pdf')!;
    await core.knowledge.index.deleteDocuments(collection.embeddingKey, [farm.id]);
    const [run] = await testBundle(core.bundles, BUNDLE_ID);
    expect(run).toMatchObject({ failed: 5, disabled: false });
    expect(await searchNames(core, collectionId, 'Where do visiting yachts pay the mooring fees?')).toContain('harbour.pdf');
  });

  it('with a default chat model, answer phrases are checked on its answer at temperature 0 (the same answer each run)', { timeout: 300_000 }, async () => {
    const core = await open(path.join(dir, 'answers'), 'warn');
    const chatModel = path.join(dir, 'chat.gguf');
    await writeGguf(chatModel, { ...presetSpec('tiny', 'Q8_0', 71), contextLength: 4096 });
    const [candidate] = (await scanModels(chatModel)).candidates;
    const chat = await importModel(core.storage, libraryDirFor(core.dataDir), candidate!, { mode: 'reference' });
    expect(chat).toMatchObject({ role: 'chat', isDefaultChat: true });
    const { run } = await install(core);
    const answered = run.results.find((result) => result.id === ANSWERED)!;
    // A model of random weights rarely says "October": what matters is that it was asked.
    expect(['passed', 'failed']).toContain(answered.answer);
    expect(answered.passed).toBe(answered.answer === 'passed');
    expect(answered.missingPhrases).toEqual(answered.answer === 'failed' ? ['October'] : []);
    expect(run.results.filter((result) => result.id !== ANSWERED).every((result) => result.passed && result.answer === 'none')).toBe(true);
    const [again] = await testBundle(core.bundles, BUNDLE_ID);
    expect(again!.results.find((result) => result.id === ANSWERED)).toEqual(answered);
  });

  it('an upgrade that fails once its payloads began is undone, and the version still installed is checked again (rollback)', { timeout: 300_000 }, async () => {
    const core = await open(path.join(dir, 'rollback'), 'warn');
    await install(core);
    // Version 2 brings a policy, which this machine's policy does not let bundles change: its installer refuses.
    const policy = path.join(dir, 'v2-policy.json');
    await writeFile(policy, JSON.stringify({ version: 1 }));
    const upgrade = path.join(dir, 'almanac-v2.tar');
    await createBundle({
      out: upgrade,
      id: BUNDLE_ID,
      name: 'Almanac',
      version: 2,
      expires: new Date(Date.now() + 365 * 86_400_000).toISOString(),
      publisherKeyId: signer.keyId,
      files: [{ kind: 'policy', source: policy, meta: {} }],
    });
    await signBundle(upgrade, signer.privateKeyPem);
    await expect(installWithPayloads(core.bundles, upgrade)).rejects.toMatchObject({ code: 'forbidden' });
    const [run] = core.knowledge.checks.runsOfBundle(BUNDLE_ID);
    expect(run).toMatchObject({ trigger: 'rollback', bundleVersion: 1, total: 20, passed: 20 });
  });

  it('reruns when the embedding model goes: searched by words only, the paraphrases that only vectors found fail', { timeout: 300_000 }, async () => {
    const core = await open(path.join(dir, 'embedding'), 'warn');
    const { collectionId } = await install(core);
    const model = core.knowledge.store.collection(collectionId).embeddingModelId!;
    const removed = await core.handlers['models.remove']({ id: model }, ctx);
    expect(removed.ok).toBe(true);
    // models.changed has queued the rerun; runs are serial, so this one waits for it and finds nothing more to do.
    expect(await core.knowledge.checks.recheckEmbeddings()).toEqual([]);
    const [run] = core.knowledge.checks.runsOfBundle(BUNDLE_ID);
    expect(run).toMatchObject({ trigger: 'embedding', embedding: 'words', total: 20, passed: 15, failed: 5 });
    expect(failedIds(run!).sort()).toEqual([...PARAPHRASES].sort());
    const audited = core.audit.log!.list({ type: 'pack.checked', limit: 10 }).map((record) => record.data as { trigger: string });
    expect(audited.map((data) => data.trigger).sort()).toEqual(['embedding', 'install']);
  });
});
