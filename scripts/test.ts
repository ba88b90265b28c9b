import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// `npm test`: unit tests (Vitest), a build, then e2e tests (Playwright), and one count
// line for both, last: "N passed, N failed, N skipped". Each runner writes a JSON
// report; the counts come from those, not from scraping their console output.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const reports = path.join(root, 'test-results', 'reports');
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status ?? 1;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

export function vitestCounts(report: unknown): Counts | null {
  if (typeof report !== 'object' || report === null) return null;
  const r = report as Record<string, number>;
  return { passed: r.numPassedTests ?? 0, failed: r.numFailedTests ?? 0, skipped: (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0) };
}

export function playwrightCounts(report: unknown): Counts | null {
  const stats = (report as { stats?: Record<string, number> } | null)?.stats;
  if (stats === undefined) return null;
  return { passed: (stats.expected ?? 0) + (stats.flaky ?? 0), failed: stats.unexpected ?? 0, skipped: stats.skipped ?? 0 };
}

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const total: Counts = { passed: 0, failed: 0, skipped: 0 };
let broken = false;

// Lint first (the format check, layering, no-network and cycle rules): a tree that does not
// lint is not green, whatever the tests say.
const lintExit = run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'lint']);
if (lintExit !== 0) {
  console.error('npm run lint failed: run "npm run format", then fix what eslint reports.');
  broken = true;
}

const unitReport = path.join(reports, 'vitest.json');
const unitExit = run(npx, ['vitest', 'run'], { VITEST_JSON_OUTPUT: unitReport });
const unit = vitestCounts(readJson(unitReport));
if (unit === null) broken = true;
else Object.assign(total, { passed: total.passed + unit.passed, failed: total.failed + unit.failed, skipped: total.skipped + unit.skipped });
if (unitExit !== 0 && (unit === null || unit.failed === 0)) broken = true;

const buildExit = run(process.execPath, ['scripts/build.ts']);
if (buildExit !== 0) broken = true;

const e2eReport = path.join(reports, 'playwright.json');
const e2eExit = buildExit === 0 ? run(npx, ['playwright', 'test'], { PLAYWRIGHT_JSON_OUTPUT_NAME: e2eReport }) : 1;
const e2e = buildExit === 0 ? playwrightCounts(readJson(e2eReport)) : null;
if (e2e === null) broken = true;
else Object.assign(total, { passed: total.passed + e2e.passed, failed: total.failed + e2e.failed, skipped: total.skipped + e2e.skipped });
if (e2eExit !== 0 && (e2e === null || e2e.failed === 0)) broken = true;

// A runner that crashed before reporting counts as one failure, so the line never reads green.
if (broken && total.failed === 0) total.failed = 1;
console.log(
  `\nunit: ${unit ? `${unit.passed} passed, ${unit.failed} failed` : 'no report'}; e2e: ${e2e ? `${e2e.passed} passed, ${e2e.failed} failed, ${e2e.skipped} skipped` : 'no report'}`,
);
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exitCode = total.failed > 0 ? 1 : 0;
