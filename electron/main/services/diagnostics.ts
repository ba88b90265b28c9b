import { randomBytes } from 'node:crypto';
import { mkdir, rm, statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CheckStatus, DiagnosticCheckId, DiagnosticEvent } from '../../common/contract/index.ts';
import { AppError } from '../../common/result.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { openVectorStore, type VectorStore } from './storage/lance.ts';
import { DATABASE_FILE, openDatabase, schemaVersion, type Database } from './storage/sqlite.ts';

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

/** Opens the real database (running any pending migration) and runs SQLite's quick check on it. */
export async function checkSqlite(dataDir: string): Promise<CheckOutcome> {
  let db: Database | null = null;
  try {
    db = openDatabase(dataDir);
    const { version } = db.prepare('select sqlite_version() as version').get() as { version: string };
    const problems = (db.prepare('PRAGMA quick_check').all() as { quick_check: string }[]).map((row) => row.quick_check);
    if (problems.length !== 1 || problems[0] !== 'ok') return { status: 'fail', detail: `The database is damaged: ${problems.slice(0, 3).join('; ')}` };
    return { status: 'pass', detail: `SQLite ${version}, schema ${schemaVersion(db)}, ${DATABASE_FILE} intact` };
  } catch (error) {
    return {
      status: 'fail',
      detail: `The database cannot be used: ${error instanceof AppError && error.details !== undefined ? `${error.message} ${error.details}` : error instanceof Error ? error.message : String(error)}`,
    };
  } finally {
    if (db?.isOpen) db.close();
  }
}

/** The search index is rebuildable, so a failure here is a warning, not a failure. */
export async function checkVectorStore(dataDir: string): Promise<CheckOutcome> {
  let store: VectorStore | null = null;
  try {
    store = await openVectorStore(dataDir);
    const health = await store.healthCheck();
    if (!health.ok) return { status: 'warn', detail: `The search index does not answer: ${health.message}` };
    return { status: 'pass', detail: `LanceDB answered a vector search in ${Math.round(health.ms)} ms (${health.tables} tables)` };
  } catch (error) {
    return { status: 'warn', detail: `The search index cannot be opened: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    store?.close();
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
  ['sqlite', checkSqlite],
  ['vectorStore', checkVectorStore],
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
