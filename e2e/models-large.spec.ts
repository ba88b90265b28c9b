import { spawn } from 'node:child_process';
import { open, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from './fixtures.ts';
import { planGguf, presetSpec } from './fixtures/gguf/writer.ts';
import { startHarness } from './harness/server.ts';

// A 2 GB generated model: the writer's real header for a ~1B-parameter shape in F16, and
// zero weights written as a sparse file, so it takes a second to make, not a minute.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let dir: string;
let big: string;

test.beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-large-e2e-'));
  big = path.join(dir, 'large-1b.gguf');
  const plan = planGguf({ ...presetSpec('1b', 'F16', 1), layers: 15 });
  const handle = await open(big, 'w');
  await handle.write(plan.header.bytes, 0, plan.header.bytes.length, 0);
  await handle.truncate(plan.totalSize);
  await handle.close();
});

test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Files left in the library: no model folder, no partial file, nothing. */
async function libraryContents(dataDir: string): Promise<string[]> {
  const library = path.join(dataDir, 'models');
  const entries = await readdir(library, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((entry) => !path.basename(entry).startsWith('.') || entry.endsWith('.partial'));
}

test('a 2 GB import by copy shows progress, and Cancel at half way leaves no file and no row', async ({ app }) => {
  test.setTimeout(120_000);
  const { page } = app;
  expect((await stat(big)).size).toBeGreaterThan(2_000_000_000);
  await page.getByRole('navigation').getByRole('button', { name: 'Models' }).click();
  await app.choosePickedFile([big]);
  await page.getByRole('button', { name: 'Import model files…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Import models' });
  const row = dialog.locator('[data-candidate="large-1b"]');
  await dialog.getByRole('button', { name: 'Import', exact: true }).click();
  const bar = row.getByRole('progressbar');
  await expect(bar).toBeVisible({ timeout: 20_000 });
  await expect(row).toContainText(/Copying · \d+% · [\d.]+ (MiB|GiB)\/s/);
  await expect.poll(async () => Number(await bar.getAttribute('value')), { timeout: 60_000, intervals: [20] }).toBeGreaterThanOrEqual(0.5);
  await row.getByRole('button', { name: 'Cancel importing large-1b' }).click();
  await expect(row).toContainText('Cancelled; nothing was kept.');
  await dialog.getByRole('button', { name: 'Close' }).first().click();
  await expect(page.getByText('No models yet')).toBeVisible();
  // The page learns of the cancel at once; the main process removes the partial copy just after.
  await expect.poll(() => libraryContents(app.dataDir), { timeout: 10_000 }).toEqual([]);
  await page.reload();
  await page.getByRole('navigation').getByRole('button', { name: 'Models' }).click();
  await expect(page.getByText('No models yet')).toBeVisible();
});

test('kill -9 of the importing process leaves no partial file or row after restart', async ({ app }) => {
  test.setTimeout(120_000);
  const { page } = app;
  // A second Soberana process (the command line) imports into a data directory of its own…
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'soberana-killed-import-'));
  const child = spawn(process.execPath, ['electron/cli/soberana.ts', 'models', 'import', big, '--mode', 'copy', '--data-dir', dataDir], {
    cwd: root,
    stdio: 'ignore',
  });
  // …and is killed once the copy is under way.
  await expect
    .poll(
      async () => (await readdir(path.join(dataDir, 'models'), { recursive: true }).catch(() => [] as string[])).some((entry) => entry.endsWith('.partial')),
      { timeout: 30_000, intervals: [20] },
    )
    .toBe(true);
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  expect((await libraryContents(dataDir)).some((entry) => entry.endsWith('.partial'))).toBe(true);

  // The app starting again over that data directory tidies up before anything else.
  const restarted = await startHarness({ dataDir, runtime: false });
  try {
    const listed = await restarted.core.handlers['models.list']({}, { caller: { origin: 'test', isMainFrame: true }, signal: new AbortController().signal });
    expect(listed).toEqual({ ok: true, value: { models: [], nextCursor: null, total: 0 } });
    expect(await libraryContents(dataDir)).toEqual([]);
  } finally {
    await restarted.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  await expect(page.getByRole('navigation')).toBeVisible();
});
