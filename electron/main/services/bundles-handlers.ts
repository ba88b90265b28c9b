import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { BundleReport, Contract, PackCheckRun } from '../../common/contract/index.ts';
import type { Handlers } from '../../common/handlers.ts';
import { AppError, ok } from '../../common/result.ts';
import { getBundle, pageBundles, type VerificationReport } from './bundles/index.ts';
import {
  checksReport,
  fileEntry,
  installedEntry,
  installWithPayloads,
  testBundle,
  uninstallWithPayloads,
  verifyForInstall,
  type BundleDeps,
} from './bundles/service.ts';
import { pump } from './inference/handlers.ts';

// The Bundles screen's endpoints over the bundles service: pick a file, read the
// verification report, install with progress, uninstall.

type BundleHandlers = Pick<
  Handlers<Contract>,
  'bundles.list' | 'bundles.pick' | 'bundles.install' | 'bundles.uninstall' | 'bundles.checks' | 'bundles.test' | 'bundles.exportChecks'
>;

function reportEntry(token: string, fileName: string, report: VerificationReport, installedVersion: number | null): BundleReport {
  const manifest = report.manifest;
  return {
    token,
    fileName,
    ok: report.ok,
    rejection: report.reason === undefined ? null : { code: report.reason.code, message: report.reason.message, details: report.reason.details ?? null },
    id: manifest?.id ?? null,
    name: manifest?.name ?? null,
    version: manifest?.version ?? null,
    created: manifest?.created ?? null,
    expires: manifest?.expires ?? null,
    publisher: manifest?.publisher ?? null,
    signers: report.signers.map((signer) => ({ keyId: signer.keyId, name: signer.name })),
    files: report.files.map(fileEntry),
    totalBytes: report.files.reduce((sum, file) => sum + file.size, 0),
    installedVersion,
  };
}

/** The bundle's latest runs summed, for its row on the Bundles screen; null when none ran. */
function checksSummary(runs: readonly PackCheckRun[]) {
  if (runs.length === 0) return null;
  return {
    total: runs.reduce((sum, run) => sum + run.total, 0),
    passed: runs.reduce((sum, run) => sum + run.passed, 0),
    failed: runs.reduce((sum, run) => sum + run.failed, 0),
    disabled: runs.some((run) => run.disabled),
  };
}

export function createBundleHandlers(deps: BundleDeps): BundleHandlers {
  const picked = new Map<string, string>();

  return {
    'bundles.list': ({ cursor, limit }) => {
      const trust = deps.governance.trust(deps.db);
      const page = pageBundles(deps.db, { cursor, limit });
      return ok({
        bundles: page.bundles.map((bundle) => ({ ...installedEntry(bundle), checks: checksSummary(deps.packs?.checkRuns?.(bundle.id).runs ?? []) })),
        nextCursor: page.nextCursor,
        total: page.total,
        trust: { source: trust.source, threshold: trust.threshold, keys: trust.keys.map((key) => ({ id: key.id, name: key.name })) },
      });
    },

    'bundles.pick': async ({ source }) => {
      const chosen = source === 'folder' ? await deps.picker.pickFolder() : await deps.picker.pickOpenFile('Install a bundle', ['tar', 'soberana']);
      if (chosen === null) return ok({ report: null });
      await stat(chosen).catch(() => {
        throw new AppError('not_found', 'That file is no longer there.', chosen);
      });
      const token = randomBytes(18).toString('base64url');
      picked.set(token, chosen);
      const report = await verifyForInstall(deps, chosen);
      const installed = report.manifest === null ? null : (getBundle(deps.db, report.manifest.id)?.version ?? null);
      return ok({ report: reportEntry(token, path.basename(chosen), report, installed) });
    },

    'bundles.install': ({ token }, { signal }) =>
      pump(async (push) => {
        const bundlePath = picked.get(token);
        if (bundlePath === undefined) throw new AppError('not_found', 'That bundle is no longer selected. Choose it again.');
        const outcome = await installWithPayloads(deps, bundlePath, {
          signal,
          onProgress: (progress) =>
            push({ type: 'progress', phase: progress.phase, file: progress.file ?? null, bytesDone: progress.bytesDone, bytesTotal: progress.bytesTotal }),
        });
        picked.delete(token);
        if (!outcome.ok) {
          const installed = outcome.report.manifest === null ? null : (getBundle(deps.db, outcome.report.manifest.id)?.version ?? null);
          return { type: 'rejected', report: reportEntry(token, path.basename(bundlePath), outcome.report, installed) };
        }
        return { type: 'done', bundle: installedEntry(outcome.bundle) };
      }),

    'bundles.uninstall': async ({ id }) => {
      await uninstallWithPayloads(deps, id);
      return ok({ removed: true as const });
    },

    'bundles.checks': ({ id }) => ok(deps.packs?.checkRuns?.(id) ?? { runs: [], checked: [] }),

    'bundles.test': async ({ id }) => ok({ runs: await testBundle(deps, id) }),

    'bundles.exportChecks': async ({ id }) => {
      deps.gate.check('knowledge.export');
      const bundle = getBundle(deps.db, id);
      if (bundle === null) throw new AppError('not_found', 'That bundle is not installed.', id);
      const runs = deps.packs?.checkRuns?.(id).runs ?? [];
      const text = `${JSON.stringify(checksReport(bundle, runs), null, 2)}\n`;
      let saved: string | null;
      try {
        saved = await deps.picker.saveFile(`${bundle.id}-v${bundle.version}-checks-${new Date().toISOString().slice(0, 10)}.json`, text);
      } catch (error) {
        throw new AppError(
          'io_error',
          'The results could not be saved. Check that the folder exists and that you can write to it.',
          error instanceof Error ? error.message : String(error),
        );
      }
      if (saved !== null) deps.emit({ type: 'export', data: { what: 'pack_checks', format: 'json', items: runs.reduce((sum, run) => sum + run.total, 0) } });
      return ok({ saved: saved !== null, path: saved });
    },
  };
}
