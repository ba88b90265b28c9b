import type { AppInfo, DiagnosticEvent } from '../common/contract/index.ts';
import { BUILT_IN_GUARDS, describeApp } from '../main/services/app-info.ts';
import { listBundles } from '../main/services/bundles/index.ts';
import { runDiagnostics } from '../main/services/diagnostics.ts';
import { createGovernance } from '../main/services/governance.ts';
import { resolvePolicyInForce, userPolicyPath } from '../main/services/policy/index.ts';
import { openDatabase } from '../main/services/storage/sqlite.ts';
import type { Command } from './command.ts';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkNativeBinaries, describeNativeProblem } from '../../native/check.ts';
import { auditCheck, auditHealth, type AuditCheck, type AuditHealth } from './doctor-audit.ts';
import { EXIT } from './exit-codes.ts';
import type { Output } from './output.ts';

export const DOCTOR_HELP = `Usage: soberana doctor [--data-dir DIR] [--json]

Shows what the app's Diagnostics view shows: version, data directory, platform,
runtime versions, the network guards in force, the keys trusted to sign bundles and
the bundles installed, and a run of health checks. The audit check says whether the
audit log can record: while it cannot (a missing or unreadable key file), audited
actions are refused, and the check fails naming the key file.

Exit codes: 0 all checks passed or warned, 1 a check failed, 2 bad usage, 3 internal error.`;

const CLI_GUARDS = [...BUILT_IN_GUARDS, 'The command line opens no sockets'];

type Check = Extract<DiagnosticEvent, { type: 'check' }>;

export interface DoctorReport {
  readonly app: AppInfo;
  readonly checks: readonly (
    Omit<Check, 'type' | 'index'> | AuditCheck | { readonly id: 'nativeBinaries'; readonly status: 'pass' | 'warn' | 'fail'; readonly detail: string }
  )[];
  readonly summary: { readonly passed: number; readonly warned: number; readonly failed: number };
  /** Null when the database cannot be opened; the sqlite check says why. */
  readonly bundles: BundleSection | null;
  /** The audit log's level and whether it can record, as the gate sees it. */
  readonly audit: AuditHealth;
}

interface BundleSection {
  readonly trust: { readonly source: 'policy' | 'local'; readonly threshold: number; readonly keys: readonly { readonly id: string; readonly name: string }[] };
  readonly installed: readonly {
    readonly id: string;
    readonly version: number;
    readonly name: string;
    readonly signers: readonly { readonly keyId: string; readonly name: string }[];
  }[];
}

async function bundleSection(dataDir: string): Promise<BundleSection | null> {
  try {
    // The policy as the app resolves it at start (a verified bundle policy counts), without recording it as applied.
    const governance = createGovernance((await resolvePolicyInForce({ dataDir, userPath: userPolicyPath(dataDir) })).loaded);
    const db = openDatabase(dataDir);
    try {
      const trust = governance.trust(db);
      return {
        trust: { source: trust.source, threshold: trust.threshold, keys: trust.keys.map(({ id, name }) => ({ id, name })) },
        installed: listBundles(db).map(({ id, version, name, signers }) => ({
          id,
          version,
          name,
          signers: signers.map(({ keyId, name: signer }) => ({ keyId, name: signer })),
        })),
      };
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}

/** The native binaries against native/manifest.<target>.json: a changed or missing one is a failure; no manifest for this target (a platform we do not package here) a warning. */
async function nativeCheck(): Promise<{ id: 'nativeBinaries'; status: 'pass' | 'warn' | 'fail'; detail: string }> {
  // From out/cli/ (built) or electron/cli/ (source) alike, the checkout's root is two folders up.
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const native = await checkNativeBinaries(root);
  if (native.ok) return { id: 'nativeBinaries', status: 'pass', detail: `${native.checked} files match native/manifest.${native.target}.json` };
  const status = native.problems.every((problem) => problem.kind === 'no-manifest') ? 'warn' : 'fail';
  return { id: 'nativeBinaries', status, detail: native.problems.map(describeNativeProblem).join(' ') };
}

export async function doctorReport(dataDir: string): Promise<DoctorReport> {
  const app = describeApp(dataDir, { kind: 'cli', electronVersion: null, chromeVersion: null, networkGuards: CLI_GUARDS });
  const checks: DoctorReport['checks'][number][] = [];
  let summary = { passed: 0, warned: 0, failed: 0 };
  for await (const event of runDiagnostics(dataDir)) {
    if (event.type === 'check') checks.push({ id: event.id, status: event.status, detail: event.detail });
    if (event.type === 'done') summary = { passed: event.passed, warned: event.warned, failed: event.failed };
  }
  // After the sqlite check: it is what creates the database of a new folder, and the audit check adds nothing to one.
  const audit = await auditHealth(dataDir);
  const counted = { pass: 'passed', warn: 'warned', fail: 'failed' } as const;
  for (const check of [auditCheck(audit), await nativeCheck()]) {
    checks.push(check);
    summary = { ...summary, [counted[check.status]]: summary[counted[check.status]] + 1 };
  }
  return { app, checks, summary, bundles: await bundleSection(dataDir), audit };
}

const MARK = { pass: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;

export function formatDoctor(report: DoctorReport): string {
  const { app } = report;
  const lines = [
    `${app.name} ${app.version}`,
    `  data directory  ${app.dataDir}`,
    `  platform        ${app.platform} ${app.arch}`,
    `  node            ${app.versions.node}`,
    `  electron        ${app.versions.electron ?? 'not running in Electron'}`,
    `  network         offline: no outbound connections`,
    ...app.network.guards.map((guard) => `                  - ${guard}`),
    '',
    ...bundleLines(report.bundles),
    'Checks',
    ...report.checks.map((check) => `  [${MARK[check.status]}] ${check.id.padEnd(17)} ${check.detail}`),
    '',
    `${report.summary.passed} passed, ${report.summary.warned} warned, ${report.summary.failed} failed`,
  ];
  return lines.join('\n');
}

function bundleLines(bundles: BundleSection | null): string[] {
  if (bundles === null) return [];
  const { trust, installed } = bundles;
  return [
    `Bundles (trusted keys: ${trust.source === 'policy' ? 'machine policy' : 'development-mode store'}, ${trust.threshold} signature${trust.threshold === 1 ? '' : 's'} needed)`,
    ...(trust.keys.length === 0 ? ['  no trusted keys'] : trust.keys.map((key) => `  key     ${key.id}  ${key.name}`)),
    ...(installed.length === 0
      ? ['  no bundles installed']
      : installed.map(
          (bundle) =>
            `  bundle  ${bundle.id} v${bundle.version}  “${bundle.name}”  signed by ${bundle.signers.map((signer) => `${signer.name} (${signer.keyId})`).join(', ') || '-'}`,
        )),
    '',
  ];
}

export async function doctor(dataDir: string, output: Output): Promise<number> {
  const report = await doctorReport(dataDir);
  output.out(output.json ? JSON.stringify(report, null, 2) : formatDoctor(report));
  return report.summary.failed > 0 ? EXIT.problem : EXIT.ok;
}

export const doctorCommand: Command = {
  summary: 'Show versions, the data directory and health checks',
  help: DOCTOR_HELP,
  run: ({ dataDir, output }) => doctor(dataDir, output),
};
