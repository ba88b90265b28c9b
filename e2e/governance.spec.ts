import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { AUDIT_EVENT_TYPES, auditEventSchema } from '../electron/main/services/audit/index.ts';
import { DATABASE_FILE, openDatabase } from '../electron/main/services/storage/sqlite.ts';
import { expect, saveScreenshot, test } from './fixtures.ts';
import { makeTestBundle, type TestBundle } from './fixtures/bundle.ts';
import { markdownDocument, writeDocuments } from './fixtures/documents/index.ts';
import { presetSpec, writeGguf } from './fixtures/gguf/writer.ts';
import { openSection } from './pages.ts';

/** A port nothing listens on now (the kernel picks one). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

// Governance end to end, with a machine policy in a temporary "managed" location: settings
// it fixes are locked, hand imports of models are refused, bundles are trusted only when
// its keys signed them, and a run through bundle install, ingestion, chat and the local API leaves every
// audited event type in the log, valid, with no prompt text in the database file.

const dir = path.join(os.tmpdir(), `soberana-governance-e2e-${process.pid}`);
const policyFile = path.join(dir, 'managed', 'policy.json');
const MARKER = 'zebra-omega-marker-5521';
let good: TestBundle;
let untrusted: TestBundle;
let unsignedModel: string;
let withEmail: string;

test.use({ policyFile });

test.beforeAll(async () => {
  test.setTimeout(120_000);
  await rm(dir, { recursive: true, force: true });
  good = await makeTestBundle(path.join(dir, 'good'));
  untrusted = await makeTestBundle(path.join(dir, 'untrusted'));
  unsignedModel = path.join(dir, 'hand-made.gguf');
  await writeGguf(unsignedModel, presetSpec('tiny', 'Q8_0', 91));
  withEmail = (
    await writeDocuments(path.join(dir, 'docs'), {
      'contacts.md': markdownDocument({ sections: [{ heading: 'Contacts', level: 1, paragraphs: ['Write to jane.doe@example.org about the amber ledger.'] }] }),
    })
  )['contacts.md']!;
  await writeDocuments(path.dirname(policyFile), {
    'policy.json': new TextEncoder().encode(
      JSON.stringify({
        version: 1,
        description: 'Test machine policy',
        contact: 'it@example.test',
        bundles: { trustedKeys: [{ name: good.keyName, publicKey: good.publicKey }], signatureThreshold: 1, allowPolicyUpdates: false },
        models: { allowUnsigned: false },
        audit: { level: 'metadata' },
        pii: { prompts: 'warn', ingestion: 'warn' },
        retention: { conversationDays: 30 },
        settings: { runtime: { threads: 1 } },
        markings: {
          levels: [
            { id: 'INTERNAL', names: { en: 'Internal', es: 'Interno' }, colour: '#1565c0' },
            { id: 'RESTRICTED', names: { en: 'Restricted', es: 'Restringido' }, colour: '#f9a825', textColour: '#000000' },
          ],
          maxLevel: 'RESTRICTED',
          defaultLevel: 'INTERNAL',
        },
      }),
    ),
  });
});

test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a managed policy locks settings, refuses unsigned models and untrusted bundles; a full run leaves every audit event, and no prompt text', async ({
  app,
}) => {
  test.setTimeout(240_000);
  let page = app.page;

  // A setting the policy fixes is locked in the UI…
  await openSection(app, 'Settings');
  await expect(page.getByTestId('lock-runtime.threads')).toContainText('it@example.test');
  await expect(page.locator('[data-field="threads"] input[type="number"]')).toBeDisabled();
  // …and through the contract.
  const refused = await page.evaluate(async () => {
    const api = (
      window as unknown as {
        api: {
          settings: {
            get(input: object): Promise<{ ok: boolean; value: { runtime: object } }>;
            update(patch: object): Promise<{ ok: boolean; error?: { code: string; message: string } }>;
          };
        };
      }
    ).api;
    const current = await api.settings.get({});
    return api.settings.update({ runtime: { ...current.value.runtime, threads: 2 } });
  });
  expect(refused.ok).toBe(false);
  expect(refused.error?.code).toBe('forbidden');
  await saveScreenshot(app, 'policy-settings-locked');

  // A model file imported by hand is refused: only signed bundles may bring models.
  await openSection(app, 'Models');
  await app.choosePickedFile([unsignedModel]);
  await page.getByRole('button', { name: 'Import model files…' }).click();
  const importDialog = page.getByRole('dialog', { name: 'Import models' });
  await importDialog.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(importDialog).toContainText('allows only models that come in a signed bundle', { timeout: 20_000 });
  await importDialog.getByRole('button', { name: 'Close' }).first().click();

  // A bundle signed by a key the policy does not name is refused, with the reason.
  await openSection(app, 'Bundles');
  await expect(page.getByTestId('bundle-trust')).toContainText('Trusted by policy: 1 key');
  await app.choosePickedFile(untrusted.bundle);
  await page.getByRole('button', { name: 'Install bundle…' }).click();
  const report = page.getByTestId('bundle-report');
  await expect(report).toHaveAttribute('data-ok', 'false');
  await expect(page.getByTestId('bundle-rejection')).toHaveAttribute('data-code', 'untrusted_key');
  await saveScreenshot(app, 'bundle-refused');
  await page.keyboard.press('Escape');

  // The trusted bundle: the report first, then install with progress.
  await app.choosePickedFile(good.bundle);
  await page.getByRole('button', { name: 'Install bundle…' }).click();
  await expect(report).toHaveAttribute('data-ok', 'true');
  await expect(report).toContainText(good.keyName);
  await expect(page.getByTestId('bundle-contents')).toContainText('Knowledge pack');
  await saveScreenshot(app, 'bundle-report');
  await page.getByRole('button', { name: 'Install', exact: true }).click();
  await expect(page.getByTestId('bundle-installed')).toBeVisible({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Close', exact: true }).last().click();
  await expect(page.getByTestId('bundle-list').locator('[data-bundle="field-kit"]')).toBeVisible();
  await saveScreenshot(app, 'bundles-installed');

  // Ingestion into a collection of one's own: personal data is marked, then the document removed.
  await openSection(app, 'Documents');
  await expect(page.getByTestId('collection-list')).toContainText(good.collection);
  await page.getByRole('button', { name: 'New collection' }).first().click();
  const newCollection = page.getByRole('dialog', { name: 'New collection' });
  await newCollection.getByLabel('Name').fill('Inbox');
  await newCollection.getByRole('button', { name: 'Create' }).click();
  await app.choosePickedFile([withEmail]);
  await page.getByRole('button', { name: 'Add files…' }).click();
  const row = page.getByTestId('documents-table').locator('[data-document="contacts.md"]');
  await expect(row).toHaveAttribute('data-status', 'indexed', { timeout: 60_000 });
  // The collection is raised to RESTRICTED (a marking change is audited).
  const raised = await page.evaluate(async () => {
    type Reply = { ok: boolean; value?: unknown };
    const api = (window as unknown as { api: { knowledge: Record<string, (input: object) => Promise<Reply>> } }).api.knowledge;
    const listed = (await api.collections!({})) as { ok: boolean; value: { collections: { id: string; name: string }[] } };
    const inbox = listed.value.collections.find((collection) => collection.name === 'Inbox')!;
    return (await api.setMarking!({ target: 'collection', id: inbox.id, marking: { level: 'RESTRICTED', compartments: [] } })).ok;
  });
  expect(raised).toBe(true);
  await expect(row.getByTestId('personal-data')).toContainText('email 1');
  await row.getByRole('button', { name: 'Remove contacts.md' }).click();
  await expect(row).toHaveCount(0);

  // Chat over the installed pack: the sources name the page the fact is on.
  await openSection(app, 'Chat');
  await page.keyboard.press('Control+n');
  await page.getByRole('button', { name: 'Settings', exact: true }).last().click();
  const settings = page.getByRole('dialog', { name: 'Conversation settings' });
  await settings.getByLabel('Maximum reply length').fill('16');
  await settings.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByTestId('knowledge-picker').click();
  await page.getByTestId('knowledge-popover').getByLabel(good.collection).check();
  await page.keyboard.press('Escape');
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill(`${good.fact.question} ${MARKER} reply to jane.doe@example.org`);
  await page.getByRole('textbox', { name: 'Message', exact: true }).press('Enter');
  await expect(page.getByTestId('sources-panel').locator(`[data-document="${good.fact.file}"][data-page="${good.fact.page}"]`)).toHaveCount(1, {
    timeout: 60_000,
  });
  await expect(page.getByText('Your message contains personal data.')).toBeVisible();
  await expect(page.getByTestId('message-stats')).toBeVisible({ timeout: 60_000 });

  // An export, a setting changed, the model unloaded.
  await app.choosePickedFile(path.join(dir, 'conversation.md'));
  await page.getByRole('button', { name: 'Export as Markdown' }).click();
  await expect.poll(() => readFile(path.join(dir, 'conversation.md'), 'utf8').catch(() => '')).toContain(MARKER);
  await openSection(app, 'Settings');
  await page.getByRole('radio', { name: 'Dark' }).check();
  const unloaded = await page.evaluate(async () =>
    (window as unknown as { api: { runtime: { unload(input: object): Promise<{ ok: boolean }> } } }).api.runtime.unload({}),
  );
  expect(unloaded.ok).toBe(true);

  // The local API: a token made, the server turned on, a script answered and one refused, then off.
  const port = await freePort();
  const apiCalls = await page.evaluate(async (apiPort) => {
    type Reply = { ok: boolean; value?: { token: string } };
    const api = (window as unknown as { api: Record<string, Record<string, (input: object) => Promise<Reply>>> }).api;
    const created = await api.api!.createToken!({ name: 'governance script', scopes: ['models:read'], expiresAt: null });
    const enabled = await api.settings!.update!({ api: { enabled: true, port: apiPort, allowedOrigins: [] } });
    return { token: created.value?.token ?? '', created: created.ok, enabled: enabled.ok };
  }, port);
  expect(apiCalls).toMatchObject({ created: true, enabled: true });
  const models = `http://127.0.0.1:${port}/v1/models`;
  await expect.poll(async () => (await fetch(models, { headers: { authorization: `Bearer ${apiCalls.token}` } }).catch(() => null))?.status).toBe(200);
  expect((await fetch(models)).status).toBe(401);
  const disabled = await page.evaluate(async (apiPort) => {
    const api = (window as unknown as { api: { settings: { update(input: object): Promise<{ ok: boolean }> } } }).api;
    return (await api.settings.update({ api: { enabled: false, port: apiPort, allowedOrigins: [] } })).ok;
  }, port);
  expect(disabled).toBe(true);

  // Retention: the conversation is older than the policy keeps, so the next start removes it.
  const db = openDatabase(app.dataDir);
  db.prepare("UPDATE conversations SET updated_at = '2000-01-01T00:00:00.000Z'").run();
  db.close();
  await app.restart();
  page = app.page;

  // The Audit screen verifies the chain; every event type is there, each valid.
  await openSection(app, 'Audit');
  await expect(page.getByTestId('audit-level')).toContainText('hashes');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByTestId('audit-check')).toHaveAttribute('data-ok', 'true');
  await saveScreenshot(app, 'audit');

  const check = openDatabase(app.dataDir);
  const records = check.prepare('SELECT type, data FROM audit_records ORDER BY seq').all() as { type: string; data: string }[];
  check.close();
  for (const record of records) expect(auditEventSchema.safeParse({ type: record.type, data: JSON.parse(record.data) }).success, record.type).toBe(true);
  // Every type but those this run cannot cause: a move of data folder (the shell's), a blocked
  // connection (the egress guard's own tests) and an ignored bundle policy (policy and services tests).
  const elsewhere = new Set(['data_dir.changed', 'egress.blocked', 'policy.bundle_ignored']);
  expect(new Set(records.map((record) => record.type))).toEqual(new Set(AUDIT_EVENT_TYPES.filter((type) => !elsewhere.has(type))));
  const turn = records.find((record) => record.type === 'chat.turn')!;
  expect(JSON.parse(turn.data)).not.toHaveProperty('prompt');

  // At the metadata level, no prompt text is anywhere in the database file.
  for (const file of [DATABASE_FILE, `${DATABASE_FILE}-wal`]) {
    const bytes = await readFile(path.join(app.dataDir, file)).catch(() => Buffer.alloc(0));
    expect(bytes.includes(Buffer.from(MARKER)), file).toBe(false);
  }
});

test('a malformed policy locks the app down and says what is wrong', async ({ app }) => {
  // Overwritten for this test only; the first test's file is written again by its own beforeAll run.
  await writeFile(policyFile, '{ "version": 1, "models": { "alowUnsigned": true } }');
  await app.restart();
  const banner = app.page.getByTestId('policy-banner');
  await expect(banner).toContainText('Locked down');
  await expect(banner).toContainText('alowUnsigned');
  await saveScreenshot(app, 'policy-locked-down');
});
