import AxeBuilder from '@axe-core/playwright';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPair } from '../electron/main/services/bundles/index.ts';
import { expect, saveScreenshot, test, type AppUnderTest } from './fixtures.ts';
import { BUNDLE_CHECKS, BUNDLE_FACT, makeTestBundle, type TestBundle } from './fixtures/bundle.ts';
import { markdownDocument, writeDocuments } from './fixtures/documents/index.ts';
import { openSection } from './pages.ts';

// A knowledge pack's acceptance checks on the Bundles screen (issue #18): after install the
// bundle's row says n/N, its details list each collection's run with the failed checks, a
// rerun and an export. Under the policy's packs.onCheckFailure "disable", a failed check keeps
// the collection out of search until a run passes.

const dir = path.join(os.tmpdir(), `soberana-pack-checks-e2e-${process.pid}`);
const policyFile = path.join(dir, 'managed', 'policy.json');
let passing: TestBundle;
let failing: TestBundle;

test.use({ policyFile });

test.beforeAll(async () => {
  test.setTimeout(180_000);
  await rm(dir, { recursive: true, force: true });
  const key = generateKeyPair();
  passing = await makeTestBundle(path.join(dir, 'passing'), { key });
  // The same pack with thirty more documents, and one check that expects the fact in a note that does not hold it.
  const fillers = await writeDocuments(
    path.join(dir, 'fillers'),
    Object.fromEntries(
      Array.from({ length: 30 }, (_, n) => [
        `note-${n + 1}.md`,
        markdownDocument({
          sections: [{ heading: `Note ${n + 1}`, level: 1, paragraphs: [`Minutes of meeting ${n + 1} about the canteen, parking and heating.`] }],
        }),
      ]),
    ),
  );
  failing = await makeTestBundle(path.join(dir, 'failing'), {
    key,
    extraDocuments: Object.values(fillers),
    checks: [...BUNDLE_CHECKS, { id: 'wrong-document', question: BUNDLE_FACT.question, expect: { document: 'note-12.md' } }],
  });
  await mkdir(path.dirname(policyFile), { recursive: true });
  await writeFile(
    policyFile,
    JSON.stringify({
      version: 1,
      bundles: { trustedKeys: [{ name: passing.keyName, publicKey: passing.publicKey }] },
      packs: { onCheckFailure: 'disable' },
      settings: { runtime: { threads: 1 } },
    }),
  );
});

test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function install(app: AppUnderTest, bundle: TestBundle): Promise<void> {
  const { page } = app;
  await openSection(app, 'Bundles');
  await app.choosePickedFile(bundle.bundle);
  await page.getByRole('button', { name: 'Install bundle…' }).click();
  await expect(page.getByTestId('bundle-report')).toHaveAttribute('data-ok', 'true');
  await page.getByRole('button', { name: 'Install', exact: true }).click();
  await expect(page.getByTestId('bundle-installed')).toBeVisible({ timeout: 90_000 });
  await page.getByRole('button', { name: 'Close', exact: true }).last().click();
}

interface Answer<T> {
  ok: boolean;
  value: T;
  error?: { message: string };
}

/** Passages a search of every collection finds, through the contract as the app asks. */
const searchHits = (app: AppUnderTest, query: string) =>
  app.page.evaluate(async (text) => {
    const api = (
      window as unknown as {
        api: {
          knowledge: {
            collections(input: object): Promise<Answer<{ collections: { id: string }[] }>>;
            search(input: object): Promise<Answer<{ passages: unknown[] }>>;
          };
        };
      }
    ).api.knowledge;
    const collections = await api.collections({});
    if (!collections.ok) throw new Error(collections.error?.message);
    const found = await api.search({ query: text, collectionIds: collections.value.collections.map((c) => c.id) });
    if (!found.ok) throw new Error(found.error?.message);
    return found.value.passages.length;
  }, query);

test('a pack’s checks run at install and show as n/N; the results export as JSON', async ({ app }) => {
  test.setTimeout(180_000);
  const { page } = app;
  await install(app, passing);
  const row = page.getByTestId('bundle-list').locator('[data-bundle="field-kit"]');
  await expect(row.getByTestId('bundle-checks-badge')).toHaveText('Checks 4/4');
  await row.getByRole('button', { name: 'Field kit', exact: true }).click();
  const checks = page.getByTestId('pack-checks');
  await expect(checks).toContainText('Field manual: 4/4 checks passed');
  await expect(checks).toContainText('after install');
  await expect(page.getByTestId('pack-checks-failures')).toHaveCount(0);
  await saveScreenshot(app, 'bundle-checks-passed');

  // Run again on request, then export what the latest runs found.
  await checks.getByRole('button', { name: 'Run checks again' }).click();
  await expect(checks).toContainText('on request');
  const out = path.join(dir, 'exported');
  await mkdir(out, { recursive: true });
  await app.choosePickedFile(out);
  await checks.getByRole('button', { name: 'Export results…' }).click();
  await expect(checks.getByRole('status')).toContainText('Results saved to');
  const file = path.join(out, `field-kit-v1-checks-${new Date().toISOString().slice(0, 10)}.json`);
  const exported = JSON.parse(await readFile(file, 'utf8')) as { bundle: { id: string }; runs: { total: number; passed: number; trigger: string }[] };
  expect(exported.bundle.id).toBe('field-kit');
  expect(exported.runs).toMatchObject([{ total: 4, passed: 4, trigger: 'manual' }]);
  expect(await searchHits(app, BUNDLE_FACT.question)).toBeGreaterThan(0);
});

test('a failed check is listed, and the policy’s "disable" keeps the collection out of search', async ({ app }) => {
  test.setTimeout(180_000);
  const { page } = app;
  await install(app, failing);
  const row = page.getByTestId('bundle-list').locator('[data-bundle="field-kit"]');
  await expect(row.getByTestId('bundle-checks-badge')).toHaveText('Checks 4/5: failures');
  await row.getByRole('button', { name: 'Field kit', exact: true }).click();
  const checks = page.getByTestId('pack-checks');
  await expect(checks).toContainText('Field manual: 4/5 checks passed');
  const failures = page.getByTestId('pack-checks-failures');
  await expect(failures.locator('tbody tr')).toHaveCount(1);
  await expect(failures).toContainText('wrong-document');
  await expect(failures).toContainText('note-12.md');
  await expect(failures).toContainText('Not in the first 5 passages; found');
  await expect(checks).toContainText('The policy keeps this collection out of search and chat until its checks pass again.');
  await saveScreenshot(app, 'bundle-checks-failed');
  // The failures panel, in both themes, passes axe (contrast of the warning badge and the notice, the table's labels).
  for (const theme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: theme });
    await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
    const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    expect(results.violations.map((violation) => `${theme}: ${violation.id} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`)).toEqual([]);
  }
  expect(await searchHits(app, BUNDLE_FACT.question)).toBe(0);

  // The chat's collection picker shows it, and why it cannot be chosen.
  await openSection(app, 'Chat');
  await page.keyboard.press('Control+n');
  await page.getByTestId('knowledge-picker').click();
  const popover = page.getByTestId('knowledge-popover');
  await expect(popover.getByLabel(failing.collection)).toBeDisabled();
  await expect(popover.getByTestId('picker-disabled')).toHaveText('Not searched: its knowledge pack failed its checks (see Bundles)');
  await saveScreenshot(app, 'chat-picker-pack-disabled');
});
