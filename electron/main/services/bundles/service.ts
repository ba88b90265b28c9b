import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { BundleFile, InstalledBundleEntry, PackCheckRun, PackCheckTrigger } from '../../../common/contract/index.ts';
import { AppError } from '../../../common/result.ts';
import type { Emit } from '../domain/events.ts';
import type { Gate } from '../domain/gate.ts';
import type { FilePicker } from '../files.ts';
import type { Governance } from '../governance.ts';
import { findModelBySha256, importModel, listModels, markVerifiedByBundle, removeModel, scanModels } from '../models/index.ts';
import { installBundlePolicy, removeBundlePolicy } from '../policy/index.ts';
import type { Database } from '../storage/sqlite.ts';
import { checkPacksForInstall } from './runtime-pack.ts';
import {
  canonicalJson,
  cleanupBundles,
  getBundle,
  installBundle,
  uninstallBundle,
  verifyBundle,
  type BundleProgress,
  type InstalledBundle,
  type Installer,
  type InstallOutcome,
  type ManifestFile,
  type VerificationReport,
} from './index.ts';

// Bundles as a service: verify, install with what each payload becomes, uninstall. The
// app's Bundles screen and `soberana bundle` both come through here, so the audit gate and
// the records are the same for both. Models join the library marked as vouched for,
// knowledge packs become read-only collections, a policy is kept for the next start.

export interface KnowledgePacks {
  /** Imports the pack whose `pack.json` is at this path as a read-only collection of the bundle; returns its id. */
  install(packJson: string, bundleId: string, requireModel: (sha256: string) => boolean): Promise<string>;
  /** Removes these collections (an install that did not commit). */
  remove(collectionIds: readonly string[]): Promise<void>;
  /** Removes the collections an installed bundle brought. */
  removeFor(bundleId: string): Promise<void>;
  /** Runs the acceptance checks of the bundle's collections (those that carry some); records and audits each run. */
  check?(bundleId: string, trigger: PackCheckTrigger): Promise<PackCheckRun[]>;
  /** The latest run of each of the bundle's collections, and how many checks each carries. */
  checkRuns?(bundleId: string): { runs: PackCheckRun[]; checked: { collectionId: string; checks: number }[] };
}

export interface BundleDeps {
  readonly db: Database;
  readonly dataDir: string;
  readonly libraryDir: string;
  readonly picker: FilePicker;
  readonly governance: Governance;
  readonly packs?: KnowledgePacks;
  readonly changed: (bundleId: string | null) => void;
  readonly modelsChanged: () => void;
  /** The OS's managed policy location, for a policy payload. */
  readonly machinePolicyPath: string;
  readonly gate: Gate;
  /** Domain events: bundles verified, installed or refused, and the models they added. */
  readonly emit: Emit;
}

/** A bundle's fingerprint in the audit log: the SHA-256 of its signed manifest. */
const manifestSha = (manifest: VerificationReport['manifest']) =>
  manifest === null ? null : createHash('sha256').update(canonicalJson(manifest)).digest('hex');

export function reportVerification(deps: Pick<BundleDeps, 'emit'>, fileName: string, report: VerificationReport, installed: boolean): void {
  const sha256 = manifestSha(report.manifest);
  const name = report.manifest?.name ?? fileName;
  if (!report.ok)
    deps.emit({
      type: 'bundle.rejected',
      data: { name, sha256, reason: `${report.reason?.code ?? 'rejected'}: ${report.reason?.message ?? ''}`.slice(0, 2000) },
    });
  else if (sha256 !== null) deps.emit({ type: installed ? 'bundle.installed' : 'bundle.verified', data: { name, sha256 } });
}

const MODEL_KINDS = new Set(['model', 'embedding-model', 'reranker']);

const signerNames = (bundle: { readonly signers: readonly { readonly name: string; readonly keyId: string }[] }) =>
  bundle.signers.map((signer) => signer.name || signer.keyId).join(', ');

export const bundleLabel = (id: string, version: number, signers: string) => `bundle ${id} v${version}, signed by ${signers}`;

export function fileEntry(file: Pick<ManifestFile, 'path' | 'kind' | 'size' | 'sha256' | 'meta'>): BundleFile {
  return {
    path: file.path,
    kind: file.kind,
    size: file.size,
    sha256: file.sha256,
    displayName: typeof file.meta.displayName === 'string' ? file.meta.displayName : null,
    license: typeof file.meta.license === 'string' ? file.meta.license : null,
  };
}

export function installedEntry(bundle: InstalledBundle): InstalledBundleEntry {
  return {
    id: bundle.id,
    name: bundle.name,
    version: bundle.version,
    publisher: bundle.publisher,
    signers: bundle.signers.map((signer) => ({ keyId: signer.keyId, name: signer.name })),
    installedAt: bundle.installedAt,
    expires: bundle.expires,
    files: bundle.files.map(fileEntry),
  };
}

/** Verifies a bundle against this machine's trust and records the verdict, without installing. */
export async function verifyForInstall(deps: BundleDeps, bundlePath: string): Promise<VerificationReport> {
  const report = await verifyBundle(bundlePath, deps.governance.trust(deps.db), { db: deps.db, graceDays: deps.governance.policy.bundles.expiryGraceDays });
  reportVerification(deps, path.basename(bundlePath), report, false);
  return report;
}

/** Installs a bundle's payloads into the library and the documents; returns how to undo what it did if the install does not commit. */
export function bundleInstallers(deps: BundleDeps, label: () => string) {
  const undo: (() => Promise<void>)[] = [];
  const runtimeChecked = new WeakSet<object>();
  const installModelFile = async (file: string, entry: ManifestFile) => {
    const existing = findModelBySha256(deps.db, entry.sha256);
    if (existing !== null) {
      // Already in the library (imported by hand or by another bundle): the signature now vouches for it.
      const before = existing.verifiedByBundle;
      markVerifiedByBundle(deps.db, existing.id, label());
      undo.push(async () => markVerifiedByBundle(deps.db, existing.id, before));
      return;
    }
    const [candidate] = (await scanModels(file)).candidates;
    if (candidate === undefined) throw new AppError('rejected_file', `${entry.path} in the bundle is not a model file Soberana can load.`);
    const displayName = typeof entry.meta.displayName === 'string' ? entry.meta.displayName : undefined;
    // By reference: the file stays in the bundle's folder, which the bundle owns.
    // Staging hashed these bytes against the signed manifest as it wrote them: not read again.
    const model = await importModel(deps.db, deps.libraryDir, candidate, {
      mode: 'reference',
      verifiedSha256: entry.sha256,
      ...(displayName === undefined ? {} : { displayName }),
    });
    markVerifiedByBundle(deps.db, model.id, label());
    deps.emit({ type: 'model.imported', data: { modelId: model.id, name: model.displayName, sha256: model.sha256 } });
    undo.push(async () => {
      await removeModel(deps.db, deps.libraryDir, model.id).catch(() => undefined);
    });
  };
  const modelInstaller: Installer = async ({ path: file, entry }) => installModelFile(file, entry);
  const installers: Partial<Record<ManifestFile['kind'], Installer>> = {
    model: modelInstaller,
    'embedding-model': modelInstaller,
    reranker: modelInstaller,
    'knowledge-pack': async ({ path: file, entry, bundle }) => {
      // A pack is several files; it is imported once, from its pack.json.
      if (path.basename(entry.path) !== 'pack.json') return;
      if (deps.packs === undefined) throw new AppError('unavailable', 'Knowledge packs cannot be installed in this build.');
      // Its embedding model may come in the same bundle: install that first, whatever the manifest's order.
      const inBundle = bundle.manifest.files.filter((candidate) => MODEL_KINDS.has(candidate.kind));
      const bundleRoot = file.slice(0, file.length - entry.path.length - 1);
      const requireModel = (sha256: string) => findModelBySha256(deps.db, sha256) !== null;
      for (const model of inBundle) if (!requireModel(model.sha256)) await installModelFile(path.join(bundleRoot, ...model.path.split('/')), model);
      const collectionId = await deps.packs.install(file, bundle.manifest.id, requireModel);
      undo.push(() => deps.packs!.remove([collectionId]));
    },
    policy: async ({ path: file, entry, bundle }) => {
      if (!deps.governance.policy.bundles.allowPolicyUpdates) {
        throw new AppError(
          'forbidden',
          'This bundle carries a policy, and this machine’s policy does not allow bundles to change it. Ask IT to install the policy file directly.',
        );
      }
      // Into the managed location when this process may write there (an installer, an elevated
      // CLI); otherwise kept with its signed manifest, and counted only once it verifies at a start.
      const installed = await installBundlePolicy({
        bytes: await readFile(file),
        manifestBytes: bundle.manifestBytes,
        signatureBytes: Buffer.from(canonicalJson(bundle.signatures)),
        policyPathInManifest: entry.path,
        machinePolicyPath: deps.machinePolicyPath,
        dataDir: deps.dataDir,
      });
      undo.push(() => installed.undo());
    },
    // A runtime pack stays in the bundle's folder; the inference process finds it at its next
    // start (runtime-pack.ts). What is checked here: the policy allows its backend, and it is
    // built for this app's node-llama-cpp. Once per bundle, on its first runtime file.
    runtime: async ({ bundle }) => {
      if (runtimeChecked.has(bundle)) return;
      runtimeChecked.add(bundle);
      checkPacksForInstall(bundle.manifest.files, deps.governance.policy);
    },
  };
  return {
    installers,
    undo: async () => {
      for (const step of undo.reverse()) await step();
    },
  };
}

/** Verifies and installs a bundle with what its payloads become (models, packs); undoes those if the install does not commit. The CLI and the app share it. */
export async function installWithPayloads(
  deps: BundleDeps,
  bundlePath: string,
  options: { signal?: AbortSignal; onProgress?: (progress: BundleProgress) => void } = {},
): Promise<InstallOutcome> {
  deps.gate.check('bundles.install');
  let label = '';
  /** The bundle whose payloads began to install: if that fails while another version of it stays installed, that version is checked again. */
  let installing: string | null = null;
  const { installers, undo } = bundleInstallers(deps, () => label);
  const rolledBack = async () => {
    if (installing !== null && getBundle(deps.db, installing) !== null) await checkPacks(deps, installing, 'rollback');
  };
  let outcome: InstallOutcome;
  try {
    outcome = await installBundle(bundlePath, deps.governance.trust(deps.db), {
      db: deps.db,
      dataDir: deps.dataDir,
      graceDays: deps.governance.policy.bundles.expiryGraceDays,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      installers: Object.fromEntries(
        Object.entries(installers).map(([kind, install]) => [
          kind,
          (file: Parameters<Installer>[0]) => {
            label = bundleLabel(file.bundle.manifest.id, file.bundle.manifest.version, signerNames(file.bundle));
            installing = file.bundle.manifest.id;
            return install(file);
          },
        ]),
      ),
    });
  } catch (error) {
    await undo();
    deps.modelsChanged();
    await rolledBack();
    throw error;
  }
  if (!outcome.ok) await undo();
  reportVerification(deps, path.basename(bundlePath), outcome.report, outcome.ok);
  deps.modelsChanged();
  if (outcome.ok) {
    // Committed: the packs' checks run against what is now installed.
    await checkPacks(deps, outcome.bundle.id, 'install');
    deps.changed(outcome.bundle.id);
  } else await rolledBack();
  return outcome;
}

/**
 * Runs the acceptance checks of a bundle's knowledge packs. A check that cannot run does not
 * undo an install that committed: the Bundles screen then shows the checks as not run.
 */
async function checkPacks(deps: BundleDeps, bundleId: string, trigger: PackCheckTrigger): Promise<void> {
  try {
    await deps.packs?.check?.(bundleId, trigger);
  } catch {
    // Not run; `soberana bundle test` or the screen's "Run checks" tries again and shows why.
  }
}

export async function uninstallWithPayloads(deps: BundleDeps, id: string): Promise<void> {
  deps.gate.check('bundles.uninstall');
  const bundle = getBundle(deps.db, id);
  if (bundle === null) throw new AppError('not_found', 'That bundle is not installed.', id);
  const folder = path.join(deps.dataDir, ...bundle.path.split('/'));
  for (const model of listModels(deps.db)) {
    if (model.files.some((file) => file.startsWith(folder + path.sep))) await removeModel(deps.db, deps.libraryDir, model.id);
    else if (model.verifiedByBundle?.startsWith(`bundle ${bundle.id} v`) === true) markVerifiedByBundle(deps.db, model.id, null);
  }
  if (deps.packs !== undefined) await deps.packs.removeFor(id);
  // A policy it brought stops applying at the next start.
  if (bundle.files.some((file) => file.kind === 'policy')) await removeBundlePolicy(deps.dataDir);
  await uninstallBundle(deps.db, deps.dataDir, id);
  deps.gate.changed('bundles.uninstall', id);
  deps.modelsChanged();
  deps.changed(id);
}

/** Reruns the acceptance checks of the bundle's knowledge packs (the Bundles screen's "Run checks", `soberana bundle test`). */
export async function testBundle(deps: BundleDeps, id: string): Promise<PackCheckRun[]> {
  // The gate first, as for every governed action: a refusal says why, whatever the id.
  deps.gate.check('bundles.test');
  const bundle = getBundle(deps.db, id);
  if (bundle === null) throw new AppError('not_found', `No bundle with the id "${id}" is installed.`, id);
  if (deps.packs?.check === undefined) throw new AppError('unavailable', 'Knowledge packs cannot be checked in this build.');
  const runs = await deps.packs.check(id, 'manual');
  deps.gate.changed('bundles.test', `${bundle.id} v${bundle.version}`);
  return runs;
}

/** The checks' results as exported: the bundle, then each collection's latest run with every check. */
export function checksReport(bundle: Pick<InstalledBundle, 'id' | 'name' | 'version'>, runs: readonly PackCheckRun[]) {
  return {
    format: 'soberana.pack-checks',
    version: 1,
    bundle: { id: bundle.id, name: bundle.name, version: bundle.version },
    exported: new Date().toISOString(),
    runs,
  };
}

/** At start: finishes or undoes an install a crash cut short, and forgets models whose bundle folder went with it. */
export async function tidyBundles(db: Database, dataDir: string, libraryDir: string): Promise<void> {
  await cleanupBundles(dataDir, db);
  const installedRoot = path.join(dataDir, 'bundles', 'installed') + path.sep;
  for (const model of listModels(db)) {
    if (model.verifiedByBundle === null || !model.files.some((file) => file.startsWith(installedRoot))) continue;
    const present = await Promise.all(
      model.files.map((file) =>
        stat(file).then(
          () => true,
          () => false,
        ),
      ),
    );
    if (present.some((exists) => !exists)) await removeModel(db, libraryDir, model.id);
  }
}
