import { spawnSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium, type Page } from '@playwright/test';
import { findChromium, QUIET_CHROMIUM_ARGS } from '../../e2e/browser.ts';
import { startHarness } from '../../e2e/harness/server.ts';
import { ARCHIVE_SCALE } from '../../electron/test-support/archive-seed.ts';
import { RESULTS_DIR, report } from './report.ts';
import { LEGACY_ROWS, measureScroll, measureShown, type ListName, type Scrolled, type Shown } from './ui-scale-page.ts';
import { copyDataDir, defaultCacheRoot, ensureSeeded, SEED_VERSION } from './ui-scale-seed.ts';

/*
 * The screens at archive scale: the real renderer bundle in Chromium against the real
 * services (the e2e harness), on a data folder filled through the services with 30,000
 * documents in 3 words-only collections, 5,000 conversations of 20 messages, 100 models
 * registered by reference, and the audit records those actions left.
 *
 * For each list, in rounds whose order rotates, it measures inside the page:
 * - `<list>_shown_ms`: from the click (the nav item; for documents, a collection not shown
 *   yet) to the first new row in the DOM, seen by a MutationObserver;
 * - scrolling: the container is scrolled a fixed step per animation frame to its end,
 *   following infinite loading, up to --max-rows rows; `scroll_frame_p95_ms_<list>` is the
 *   95th percentile of the frame intervals, `scroll_frame_p95_ms` the worst list's.
 * Medians over the rounds are reported, with the spread (min and max) beside them.
 * `renderer_heap_mb` is the page's JS heap after a garbage collection at the end.
 *
 * Rows are found by the lists' convention (`[data-scroll-list=<list>] [data-list-row]`), or
 * by the old markup on screens not virtualized yet: `<list>_virtualized` says which.
 *
 *   npm run bench:ui-scale -- [--rounds 3] [--no-build] [--reseed] [--cache DIR] [--step 480] [--max-rows 20000]
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'no-build': { type: 'boolean', default: false },
    reseed: { type: 'boolean', default: false },
    cache: { type: 'string' },
    step: { type: 'string', default: '480' },
    'max-rows': { type: 'string', default: '20000' },
    /** Comma-separated lists to measure (documents, conversations, models, audit); all by default. */
    only: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const step = Number(values.step);
const maxRows = Number(values['max-rows']);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a whole number of at least 1');
if (!(step > 0) || !(maxRows > 0)) throw new Error('--step and --max-rows take positive numbers');

const AIMS = { shownMs: 300, scrollFrameP95Ms: 20 } as const;
const ALL_LISTS: readonly ListName[] = ['documents', 'conversations', 'models', 'audit'];
const LISTS: readonly ListName[] = values.only === undefined ? ALL_LISTS : ALL_LISTS.filter((list) => values.only!.split(',').includes(list));
if (LISTS.length === 0) throw new Error(`--only takes some of: ${ALL_LISTS.join(', ')}`);
const SHOTS_DIR = path.join(RESULTS_DIR, 'ui-scale');
const log = (line: string) => process.stderr.write(`${line}\n`);

const median = (samples: readonly number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const percentile = (samples: readonly number[], p: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
};
const round1 = (n: number) => Math.round(n * 10) / 10;

if (!values['no-build']) {
  log('building the renderer (--no-build skips this)');
  const built = spawnSync(process.execPath, [path.join(root, 'scripts/build.ts'), '--only', 'renderer'], { stdio: 'inherit', cwd: root });
  if (built.status !== 0) throw new Error('the renderer build failed');
}
const executablePath = findChromium();
if (executablePath === null) throw new Error('No Chromium found: install one or set PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH.');

const cacheRoot = values.cache ?? defaultCacheRoot();
if (values.reseed) await rm(path.join(cacheRoot, 'complete.json'), { force: true });
const seeded = await ensureSeeded(cacheRoot, log);
const seedSeconds = seeded.figures.totalSeconds;
log(`data folder: ${seeded.filledNow ? 'filled now' : 'cached'} (seeding took ${seedSeconds.toFixed(0)} s)`);
const copy = await copyDataDir(seeded.dataDir);
const harness = await startHarness({ dataDir: copy.dataDir, runtime: false });
const browser = await chromium.launch({ executablePath, args: QUIET_CHROMIUM_ARGS });

/** Opens the Documents screen and returns a collection to click that is not the one shown. */
async function prepareDocuments(page: Page, round: number): Promise<string> {
  await page.locator('button[data-section="documents"]').click();
  const names = ARCHIVE_SCALE.collections;
  await page.getByRole('button', { name: names[0]! }).first().waitFor({ timeout: 60_000 });
  for (let i = 0; i < names.length; i++) {
    const name = names[(round + i) % names.length]!;
    const current = await page.getByRole('button', { name }).first().getAttribute('aria-current');
    if (current !== 'true') return name;
  }
  throw new Error('every collection is shown at once?');
}

/** Leaves the list's screen so that the nav click mounts it afresh. */
async function leave(page: Page, list: ListName): Promise<void> {
  await page.locator('button[data-section="about"]').click();
  await page.waitForFunction((selector) => document.querySelector(selector) === null, `[data-scroll-list="${list}"] [data-list-row], ${LEGACY_ROWS[list]}`);
}

const shown: Record<ListName, Shown[]> = { documents: [], conversations: [], models: [], audit: [] };
const scrolls: Record<ListName, Scrolled[]> = { documents: [], conversations: [], models: [], audit: [] };
const errors: string[] = [];
const heap = { beforeGcMb: Number.NaN, afterGcMb: Number.NaN };
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript({ content: harness.initScript });
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  await page.goto(harness.url);
  await page.getByRole('navigation').waitFor();
  await mkdir(SHOTS_DIR, { recursive: true });

  for (let round = 0; round < rounds; round++) {
    const order = LISTS.map((_, i) => LISTS[(i + round) % LISTS.length]!);
    for (const list of order) {
      let click: { section: string } | { collection: string };
      if (list === 'documents') click = { collection: await prepareDocuments(page, round) };
      else {
        await leave(page, list);
        click = { section: list === 'conversations' ? 'chat' : list };
      }
      const result = await page.evaluate(measureShown, { list, legacyRows: LEGACY_ROWS[list], click, timeoutMs: 180_000 });
      shown[list].push(result);
      // Let the first page settle (the rest of its rows, counts, the toolbar) before scrolling.
      await page.waitForTimeout(500);
      const last = round === rounds - 1;
      if (last) await page.screenshot({ path: path.join(SHOTS_DIR, `${list}.png`) });
      const scrolled = await page.evaluate(measureScroll, { list, legacyRows: LEGACY_ROWS[list], step, maxRows, settleMs: 3_000, timeoutMs: 180_000 });
      scrolls[list].push(scrolled);
      if (last) await page.screenshot({ path: path.join(SHOTS_DIR, `${list}-end.png`) });
      log(
        `round ${round + 1} ${list}: shown ${result.domMs.toFixed(0)} ms (${result.convention ? 'virtualized' : 'old markup'}, ${result.rows} rows in the DOM), ` +
          `scrolled ~${scrolled.rowsEstimate} rows in ${scrolled.intervals.length} frames, p95 ${percentile(scrolled.intervals, 95).toFixed(1)} ms` +
          `${scrolled.reachedEnd ? '' : ' (stopped at the cap)'}`,
      );
    }
  }

  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const used = async () => ((await cdp.send('Performance.getMetrics')).metrics.find((metric) => metric.name === 'JSHeapUsedSize')?.value ?? 0) / 1024 / 1024;
  heap.beforeGcMb = await used();
  await cdp.send('HeapProfiler.collectGarbage');
  heap.afterGcMb = await used();
  await context.close();
} finally {
  await browser.close();
  await harness.close();
  await rm(copy.root, { recursive: true, force: true });
}

const figures: Record<string, number | string> = {};
const missed: string[] = [];
for (const list of LISTS) {
  const ms = shown[list].map((result) => result.domMs);
  figures[`${list}_shown_ms`] = round1(median(ms));
  figures[`${list}_shown_ms_min`] = round1(Math.min(...ms));
  figures[`${list}_shown_ms_max`] = round1(Math.max(...ms));
  figures[`${list}_painted_ms`] = round1(median(shown[list].map((result) => result.frameMs)));
  if (median(ms) > AIMS.shownMs) missed.push(`${list}_shown_ms`);
}
const perList: number[] = [];
for (const list of LISTS) {
  const p95s = scrolls[list].map((scroll) => percentile(scroll.intervals, 95));
  perList.push(median(p95s));
  figures[`scroll_frame_p95_ms_${list}`] = round1(median(p95s));
  figures[`scroll_frame_p95_ms_${list}_max`] = round1(Math.max(...p95s));
  figures[`scroll_rows_${list}`] = median(scrolls[list].map((scroll) => scroll.rowsEstimate));
  figures[`${list}_virtualized`] = shown[list].every((result) => result.convention) ? 'yes' : 'no';
}
figures.scroll_frame_p95_ms = round1(Math.max(...perList));
if (Math.max(...perList) > AIMS.scrollFrameP95Ms) missed.push('scroll_frame_p95_ms');
figures.renderer_heap_mb = round1(heap.afterGcMb);
figures.renderer_heap_mb_before_gc = round1(heap.beforeGcMb);
figures.rounds = rounds;
figures.lists = LISTS.join(',');
figures.seed_seconds = round1(seedSeconds);
figures.seed_version = SEED_VERSION;
figures.aim_shown_ms = AIMS.shownMs;
figures.aim_scroll_frame_p95_ms = AIMS.scrollFrameP95Ms;
figures.aims_missed = missed.length === 0 ? 'none' : missed.join(',');
figures.page_errors = errors.length;
report('ui-scale', figures);
// The raw samples beside the figures, for a closer look.
await writeFile(path.join(SHOTS_DIR, 'rounds.json'), `${JSON.stringify({ shown, scrolls: mapScrolls(), seed: seeded.figures, errors }, null, 2)}\n`);
for (const error of errors.slice(0, 10)) log(error);

function mapScrolls() {
  return Object.fromEntries(
    LISTS.map((list) => [
      list,
      scrolls[list].map(({ intervals, ...rest }) => ({ ...rest, frames: intervals.length, p95: percentile(intervals, 95), max: Math.max(...intervals) })),
    ]),
  );
}
