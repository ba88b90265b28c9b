import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { BundleFile, BundleReport, Contract, InstalledBundleEntry } from '../../common/contract/index.ts';
import type { Handlers } from '../../common/handlers.ts';
import { AppError, ok } from '../../common/result.ts';
import {
  canonicalJson,
  cleanupBundles,
  getBundle,
  installBundle,
  listBundles,
  uninstallBundle,
  verifyBundle,
  type BundleProgress,
  type InstalledBundle,
  type Installer,
  type InstallOutcome,
  type ManifestFile,
  type VerificationReport,
} from './bundles/index.ts';
import type { FilePicker } from './files.ts';
import { writeFileAtomic } from './atomic-file.ts';
import type { Governance } from './governance.ts';
import { validatePolicyBytes } from './policy/index.ts';
import { findModelBySha256, importModel, listModels, markVerifiedByBundle, removeModel, scanModels } from './models/index.ts';
import { pump } from './runtime/handlers.ts';
import type { Database } from './storage/sqlite.ts';

// Bundles in the app: pick a file, read the verification report, install with progress,
// uninstall. What each kind of payload becomes is decided here: models join the library
// marked as vouched for, knowledge packs become read-only collections, a policy waits for
// the next start if the policy allows bundles to change it.

type BundleHandlers = Pick<Handlers<Contract>, 'bundles.list' | 'bundles.pick' | 'bundles.install' | 'bundles.uninstall'>;

export interface KnowledgePacks {
  /** Imports the pack whose `pack.json` is at this path as a read-only collection of the bundle; returns its id. */
  install(packJson: string, bundleId: string, requireModel: (sha256: string) => boolean): Promise<string>;
  /** Removes these collections (an install that did not commit). */
  remove(collectionIds: readonly string[]): Promise<void>;
  /** Removes the collections an installed bundle brought. */
  removeFor(bundleId: string): Promise<void>;
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
  /** For the audit log: a bundle verified, installed or refused, and models it added. */
  readonly audit?: (event: { type: 'bundle.verified' | 'bundle.installed'; data: { name: string; sha256: string } } | { type: 'bundle.rejected'; data: { name: string; sha256: string | null; reason: string } } | { type: 'model.imported'; data: { modelId: string; name: string; sha256: string } }) => void;
}

/** A bundle's fingerprint in the audit log: the SHA-256 of its signed manifest. */
const manifestSha = (manifest: VerificationReport['manifest']) => (manifest === null ? null : createHash('sha256').update(canonicalJson(manifest)).digest('hex'));

function auditReport(deps: BundleDeps, fileName: string, report: VerificationReport, installed: boolean): void {
  const sha256 = manifestSha(report.manifest);
  const name = report.manifest?.name ?? fileName;
  if (!report.ok) deps.audit?.({ type: 'bundle.rejected', data: { name, sha256, reason: `${report.reason?.code ?? 'rejected'}: ${report.reason?.message ?? ''}`.slice(0, 2000) } });
  else if (sha256 !== null) deps.audit?.({ type: installed ? 'bundle.installed' : 'bundle.verified', data: { name, sha256 } });
}

const MODEL_KINDS = new Set(['model', 'embedding-model', 'reranker']);

/** Where a policy that came in a signed bundle waits to be loaded as the machine policy. */
export const bundlePolicyPath = (dataDir: string): string => path.join(dataDir, 'policy', 'from-bundle.json');

const signerNames = (bundle: { readonly signers: readonly { readonly name: string; readonly keyId: string }[] }) => bundle.signers.map((signer) => signer.name || signer.keyId).join(', ');

export const bundleLabel = (id: string, version: number, signers: string) => `bundle ${id} v${version}, signed by ${signers}`;

function fileEntry(file: Pick<ManifestFile, 'path' | 'kind' | 'size' | 'sha256' | 'meta'>): BundleFile {
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

/** Installs a bundle's payloads into the library and the documents; returns how to undo what it did if the install does not commit. */
export function bundleInstallers(deps: BundleDeps, label: () => string) {
  const undo: (() => Promise<void>)[] = [];
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
    const model = await importModel(deps.db, deps.libraryDir, candidate, { mode: 'reference', ...(displayName === undefined ? {} : { displayName }) });
    markVerifiedByBundle(deps.db, model.id, label());
    deps.audit?.({ type: 'model.imported', data: { modelId: model.id, name: model.displayName, sha256: model.sha256 } });
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
    policy: async ({ path: file }) => {
      if (!deps.governance.policy.bundles.allowPolicyUpdates) {
        throw new AppError('forbidden', 'This bundle carries a policy, and this machine’s policy does not allow bundles to change it. Ask IT to install the policy file directly.');
      }
      const bytes = await readFile(file);
      const checked = validatePolicyBytes(bytes);
      if (!checked.ok) throw new AppError('bad_request', `The policy in this bundle is not valid, so nothing was installed: ${checked.problems.slice(0, 3).join('; ')}`);
      // It becomes the machine policy at the next start; until then the one in force stays.
      const target = bundlePolicyPath(deps.dataDir);
      const previous = await readFile(target).catch(() => null);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFileAtomic(target, bytes);
      undo.push(async () => (previous === null ? rm(target, { force: true }) : writeFileAtomic(target, previous)));
    },
  };
  return { installers, undo: async () => { for (const step of undo.reverse()) await step(); } };
}

/** Verifies and installs a bundle with what its payloads become (models, packs); undoes those if the install does not commit. The CLI and the app share it. */
export async function installWithPayloads(deps: BundleDeps, bundlePath: string, options: { signal?: AbortSignal; onProgress?: (progress: BundleProgress) => void } = {}): Promise<InstallOutcome> {
  let label = '';
  const { installers, undo } = bundleInstallers(deps, () => label);
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
            return install(file);
          },
        ]),
      ),
    });
  } catch (error) {
    await undo();
    deps.modelsChanged();
    throw error;
  }
  if (!outcome.ok) await undo();
  auditReport(deps, path.basename(bundlePath), outcome.report, outcome.ok);
  deps.modelsChanged();
  if (outcome.ok) deps.changed(outcome.bundle.id);
  return outcome;
}

export async function uninstallWithPayloads(deps: BundleDeps, id: string): Promise<void> {
  const bundle = getBundle(deps.db, id);
  if (bundle === null) throw new AppError('not_found', 'That bundle is not installed.', id);
  const folder = path.join(deps.dataDir, ...bundle.path.split('/'));
  for (const model of listModels(deps.db)) {
    if (model.files.some((file) => file.startsWith(folder + path.sep))) await removeModel(deps.db, deps.libraryDir, model.id);
    else if (model.verifiedByBundle?.startsWith(`bundle ${bundle.id} v`) === true) markVerifiedByBundle(deps.db, model.id, null);
  }
  if (deps.packs !== undefined) await deps.packs.removeFor(id);
  // A policy it brought stops applying at the next start.
  if (bundle.files.some((file) => file.kind === 'policy')) await rm(bundlePolicyPath(deps.dataDir), { force: true });
  await uninstallBundle(deps.db, deps.dataDir, id);
  deps.modelsChanged();
  deps.changed(id);
}

export function createBundleHandlers(deps: BundleDeps): BundleHandlers {
  const picked = new Map<string, string>();

  return {
    'bundles.list': () => {
      const trust = deps.governance.trust(deps.db);
      return ok({
        bundles: listBundles(deps.db).map(installedEntry),
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
      const report = await verifyBundle(chosen, deps.governance.trust(deps.db), { db: deps.db, graceDays: deps.governance.policy.bundles.expiryGraceDays });
      auditReport(deps, path.basename(chosen), report, false);
      const installed = report.manifest === null ? null : (getBundle(deps.db, report.manifest.id)?.version ?? null);
      return ok({ report: reportEntry(token, path.basename(chosen), report, installed) });
    },

    'bundles.install': ({ token }, { signal }) =>
      pump(async (push) => {
        const bundlePath = picked.get(token);
        if (bundlePath === undefined) throw new AppError('not_found', 'That bundle is no longer selected. Choose it again.');
        const outcome = await installWithPayloads(deps, bundlePath, {
          signal,
          onProgress: (progress) => push({ type: 'progress', phase: progress.phase, file: progress.file ?? null, bytesDone: progress.bytesDone, bytesTotal: progress.bytesTotal }),
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
  };
}

/** At start: finishes or undoes an install a crash cut short, and forgets models whose bundle folder went with it. */
export async function tidyBundles(db: Database, dataDir: string, libraryDir: string): Promise<void> {
  await cleanupBundles(dataDir, db);
  const installedRoot = path.join(dataDir, 'bundles', 'installed') + path.sep;
  for (const model of listModels(db)) {
    if (model.verifiedByBundle === null || !model.files.some((file) => file.startsWith(installedRoot))) continue;
    const present = await Promise.all(model.files.map((file) => stat(file).then(() => true, () => false)));
    if (present.some((exists) => !exists)) await removeModel(db, libraryDir, model.id);
  }
}
