import { randomBytes } from 'node:crypto';
import { mkdir, rm, statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CheckStatus, DiagnosticCheckId, DiagnosticEvent } from '../../common/contract/index.ts';
import { writeFileAtomic } from './atomic-file.ts';

export interface CheckOutcome {
  readonly status: CheckStatus;
  readonly detail: string;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

export async function checkDataDir(dataDir: string): Promise<CheckOutcome> {
  const probe = path.join(dataDir, `.probe-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(dataDir, { recursive: true });
    await writeFileAtomic(probe, 'ok');
    await rm(probe, { force: true });
    return { status: 'pass', detail: `Writable: ${dataDir}` };
  } catch (error) {
    return { status: 'fail', detail: `Cannot write to ${dataDir}: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export function classifyFreeSpace(freeBytes: number): CheckOutcome {
  // Rounded down, so that "4.0 GiB" never labels an amount below the 4 GiB threshold.
  const shown = freeBytes >= GiB ? `${(Math.floor((freeBytes / GiB) * 10) / 10).toFixed(1)} GiB` : `${Math.floor(freeBytes / MiB)} MiB`;
  if (freeBytes < 200 * MiB) return { status: 'fail', detail: `${shown} free: too little to store a model` };
  if (freeBytes < 4 * GiB) return { status: 'warn', detail: `${shown} free: small models only` };
  return { status: 'pass', detail: `${shown} free` };
}

export async function checkDiskSpace(dataDir: string): Promise<CheckOutcome> {
  try {
    const stats = await statfs(dataDir);
    return classifyFreeSpace(Number(stats.bavail) * Number(stats.bsize));
  } catch (error) {
    return { status: 'warn', detail: `Free space unknown: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export async function checkSqlite(): Promise<CheckOutcome> {
  try {
    const { DatabaseSync } = await import('node:sqlite');
    const db = new DatabaseSync(':memory:');
    try {
      const row = db.prepare('select sqlite_version() as version').get() as { version: string };
      return { status: 'pass', detail: `SQLite ${row.version}` };
    } finally {
      db.close();
    }
  } catch (error) {
    return { status: 'fail', detail: `SQLite is unavailable: ${error instanceof Error ? error.message : String(error)}` };
  }
}

type Interfaces = ReturnType<typeof os.networkInterfaces>;

/** Reads interface names only; nothing is sent. An external interface is worth a warning on an air-gapped machine. */
export function classifyInterfaces(interfaces: Interfaces): CheckOutcome {
  const external = Object.entries(interfaces)
    .filter(([, addresses]) => (addresses ?? []).some((address) => !address.internal))
    .map(([name]) => name)
    .sort();
  if (external.length === 0) return { status: 'pass', detail: 'Only loopback interfaces are up' };
  return {
    status: 'warn',
    detail: `This machine has network interfaces (${external.join(', ')}). Soberana makes no outbound connections either way.`,
  };
}

export async function checkNetworkIsolation(): Promise<CheckOutcome> {
  return classifyInterfaces(os.networkInterfaces());
}

export const CHECKS: ReadonlyArray<readonly [DiagnosticCheckId, (dataDir: string) => Promise<CheckOutcome>]> = [
  ['dataDir', checkDataDir],
  ['diskSpace', checkDiskSpace],
  ['sqlite', () => checkSqlite()],
  ['networkIsolation', () => checkNetworkIsolation()],
];

/** Runs every check in order, reporting each as it finishes; stops early when aborted. */
export async function* runDiagnostics(dataDir: string, signal?: AbortSignal): AsyncGenerator<DiagnosticEvent> {
  yield { type: 'started', total: CHECKS.length };
  const counts = { pass: 0, warn: 0, fail: 0 };
  for (const [index, [id, check]] of CHECKS.entries()) {
    if (signal?.aborted) return;
    const outcome = await check(dataDir);
    counts[outcome.status] += 1;
    yield { type: 'check', id, index, status: outcome.status, detail: outcome.detail };
  }
  yield { type: 'done', passed: counts.pass, warned: counts.warn, failed: counts.fail };
}
