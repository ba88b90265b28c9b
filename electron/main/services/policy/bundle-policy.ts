import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../../common/result.ts';
import { syncDirectory, writeFileAtomic } from '../atomic-file.ts';
import { DEFAULT_LIMITS } from '../bundles/archive.ts';
import { parseManifest, type Manifest } from '../bundles/manifest.ts';
import { BundleRejectedError } from '../bundles/rejections.ts';
import { checkSignatures, parseSignatures, type Signer, type TrustSource } from '../bundles/trust.ts';
import { checkExpiry } from '../bundles/verify.ts';
import { MAX_POLICY_BYTES, validatePolicyBytes } from './load.ts';

// A policy that arrives in a signed bundle. Where the process may write the OS's managed
// location (the installer, an elevated `soberana bundle install`), it becomes the machine
// policy there, protected like any file IT installs. Otherwise it is kept in the data folder
// with the bundle's signed manifest and signatures, and counts only after it is verified
// again, at every start, against the keys of the machine policy in force. The data folder
// is writable by every program the user runs, so nothing in it is trusted unverified.

/** The kept copy: `<dataDir>/policy/from-bundle/`. */
export const keptPolicyDir = (dataDir: string): string => path.join(dataDir, 'policy', 'from-bundle');
const POLICY = 'policy.json';
const MANIFEST = 'manifest.json';
const SIGNATURES = 'manifest.sig.json';

export const keptPolicyPath = (dataDir: string): string => path.join(keptPolicyDir(dataDir), POLICY);

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export interface InstallBundlePolicyInput {
  /** The policy file's bytes, as verified into the bundle's staging. */
  readonly bytes: Buffer;
  /** manifest.json's exact bytes (what the signatures cover). */
  readonly manifestBytes: Buffer;
  /** manifest.sig.json's bytes. */
  readonly signatureBytes: Buffer;
  /** The policy's path in the manifest, to check that the manifest vouches for these bytes. */
  readonly policyPathInManifest: string;
  /** The OS's managed location (machinePolicyLocation().path). */
  readonly machinePolicyPath: string;
  readonly dataDir: string;
}

export interface InstalledBundlePolicy {
  readonly where: 'machine' | 'data-folder';
  readonly path: string;
  /** Puts back what was there before: for an install that does not commit. */
  undo(): Promise<void>;
}

/** Errors that mean "this process may not write the managed location", as opposed to a disk that failed. */
const NOT_ALLOWED = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR', 'EEXIST', 'EISDIR']);

/**
 * Installs a bundle's policy: into the managed location when this process may write there,
 * else kept in the data folder with its signed manifest. Refuses bytes the manifest does not
 * vouch for, and a policy that is not valid, so nothing is written for them.
 */
export async function installBundlePolicy(input: InstallBundlePolicyInput): Promise<InstalledBundlePolicy> {
  const checked = validatePolicyBytes(input.bytes);
  if (!checked.ok)
    throw new AppError('bad_request', `The policy in this bundle is not valid, so nothing was installed: ${checked.problems.slice(0, 3).join('; ')}`);
  const manifest = parseManifest(input.manifestBytes);
  const entry = manifest.files.find((file) => file.path === input.policyPathInManifest);
  if (entry === undefined || entry.kind !== 'policy' || entry.sha256 !== sha256(input.bytes) || entry.size !== input.bytes.length) {
    throw new AppError('bad_request', 'The policy file does not match what the bundle’s manifest lists, so nothing was installed.', input.policyPathInManifest);
  }

  const target = path.resolve(input.machinePolicyPath);
  const previousMachine = await readFile(target).catch(() => null);
  const previousKept = await readKept(input.dataDir);
  if (await writeManaged(target, input.bytes)) {
    // The managed file is now the policy: a kept copy from an earlier bundle must not override it.
    await rm(keptPolicyDir(input.dataDir), { recursive: true, force: true });
    return {
      where: 'machine',
      path: target,
      undo: async () => {
        if (previousMachine === null) await rm(target, { force: true });
        else await writeManaged(target, previousMachine);
        if (previousKept !== null) await writeKept(input.dataDir, previousKept);
      },
    };
  }
  await writeKept(input.dataDir, { policy: input.bytes, manifest: input.manifestBytes, signatures: input.signatureBytes });
  return {
    where: 'data-folder',
    path: keptPolicyPath(input.dataDir),
    undo: async () => (previousKept === null ? removeBundlePolicy(input.dataDir) : writeKept(input.dataDir, previousKept)),
  };
}

/** Removes the kept copy (the bundle that brought it was uninstalled). A policy installed in the managed location stays: it is IT's file now. */
export async function removeBundlePolicy(dataDir: string): Promise<void> {
  await rm(keptPolicyDir(dataDir), { recursive: true, force: true });
}

/**
 * Writes the managed file readable by every user (the machine policy is read by each user's
 * app), atomically. Returns false when this process may not write there.
 */
async function writeManaged(file: string, bytes: Buffer): Promise<boolean> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => {});
    if (NOT_ALLOWED.has((error as NodeJS.ErrnoException).code ?? '')) return false;
    throw error;
  }
  await syncDirectory(dir);
  return true;
}

interface KeptFiles {
  readonly policy: Buffer;
  readonly manifest: Buffer;
  readonly signatures: Buffer;
}

async function writeKept(dataDir: string, files: KeptFiles): Promise<void> {
  const dir = keptPolicyDir(dataDir);
  // The policy last: a crash in between leaves a copy that fails verification, never a mix that passes.
  await rm(path.join(dir, POLICY), { force: true });
  await writeFileAtomic(path.join(dir, MANIFEST), files.manifest);
  await writeFileAtomic(path.join(dir, SIGNATURES), files.signatures);
  await writeFileAtomic(path.join(dir, POLICY), files.policy);
}

async function readKept(dataDir: string): Promise<KeptFiles | null> {
  const dir = keptPolicyDir(dataDir);
  const [policy, manifest, signatures] = await Promise.all([POLICY, MANIFEST, SIGNATURES].map((name) => readFile(path.join(dir, name)).catch(() => null)));
  return policy === null || policy === undefined || manifest === null || manifest === undefined || signatures === null || signatures === undefined
    ? null
    : { policy, manifest, signatures };
}

export type BundlePolicyRefusal =
  'no_machine_policy' | 'updates_not_allowed' | 'incomplete' | 'unreadable' | 'tampered' | 'invalid_policy' | BundleRejectedError['rejection']['code'];

export type KeptPolicy =
  | { readonly kind: 'none' }
  | { readonly kind: 'refused'; readonly code: BundlePolicyRefusal; readonly reason: string }
  | {
      readonly kind: 'verified';
      readonly path: string;
      readonly bytes: Buffer;
      readonly manifest: Pick<Manifest, 'id' | 'name' | 'version' | 'expires'>;
      readonly signers: readonly Signer[];
    };

export interface LoadBundlePolicyOptions {
  readonly dataDir: string;
  /**
   * The keys and threshold of the machine policy in force (the file IT installed), or null
   * when there is none or it names no keys: then no kept copy can ever count. Never the
   * local development trust store.
   */
  readonly machineTrust: TrustSource | null;
  /** The machine policy's bundles.expiryGraceDays. */
  readonly graceDays?: number;
  readonly now?: Date;
}

const refused = (code: BundlePolicyRefusal, reason: string): KeptPolicy => ({ kind: 'refused', code, reason: `${code}: ${reason}`.slice(0, 2000) });

/** Whether anything is kept in the data folder under the bundle policy's name (verified or not). */
export async function hasKeptPolicy(dataDir: string): Promise<boolean> {
  const dir = keptPolicyDir(dataDir);
  const names = await Promise.all(
    [POLICY, MANIFEST, SIGNATURES].map((name) =>
      stat(path.join(dir, name)).then(
        () => true,
        () => false,
      ),
    ),
  );
  return names.some(Boolean);
}

/** Reads a kept file, capped so a planted huge file cannot stall the start. */
async function readCapped(file: string, cap: number): Promise<Buffer | 'missing' | 'too_large'> {
  try {
    const info = await stat(file);
    if (!info.isFile() || info.size > cap) return 'too_large';
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
}

/**
 * Verifies the kept copy, as at install: the signatures over the manifest against the
 * machine policy's keys and threshold, the bundle's expiry, and the policy bytes' SHA-256
 * and size against the manifest's entry. Anything short of that is a refusal.
 */
export async function loadBundlePolicy(options: LoadBundlePolicyOptions): Promise<KeptPolicy> {
  const dir = keptPolicyDir(options.dataDir);
  if (!(await hasKeptPolicy(options.dataDir))) return { kind: 'none' };
  try {
    const policy = await readCapped(path.join(dir, POLICY), MAX_POLICY_BYTES);
    const manifestBytes = await readCapped(path.join(dir, MANIFEST), DEFAULT_LIMITS.maxManifestBytes);
    const signatureBytes = await readCapped(path.join(dir, SIGNATURES), DEFAULT_LIMITS.maxSignaturesBytes);
    if (!Buffer.isBuffer(policy)) return refused('incomplete', 'The kept bundle policy file is missing or not a policy file.');
    if (!Buffer.isBuffer(manifestBytes) || !Buffer.isBuffer(signatureBytes))
      return refused('unsigned', 'The bundle policy kept in the data folder has no signed manifest with it.');
    const trust = options.machineTrust;
    if (trust === null || trust.source !== 'policy' || trust.keys.length === 0) {
      return refused('no_machine_policy', 'No machine policy with trusted keys is installed, so a policy from a bundle cannot be verified and does not count.');
    }
    const signers = checkSignatures(manifestBytes, parseSignatures(signatureBytes), trust);
    const manifest = parseManifest(manifestBytes);
    checkExpiry(manifest, options.now ?? new Date(), options.graceDays ?? 0);
    const hash = sha256(policy);
    const entry = manifest.files.find((file) => file.kind === 'policy' && file.sha256 === hash && file.size === policy.length);
    if (entry === undefined)
      return refused('tampered', `The kept bundle policy (sha256 ${hash}) is not the one the bundle "${manifest.name}" v${manifest.version} signed.`);
    const checked = validatePolicyBytes(policy);
    if (!checked.ok) return refused('invalid_policy', `The policy in the bundle "${manifest.name}" is not valid: ${checked.problems.slice(0, 3).join('; ')}`);
    return {
      kind: 'verified',
      path: path.join(dir, POLICY),
      bytes: policy,
      manifest: { id: manifest.id, name: manifest.name, version: manifest.version, expires: manifest.expires },
      signers,
    };
  } catch (error) {
    if (error instanceof BundleRejectedError) return refused(error.rejection.code, error.rejection.message);
    // Whatever else went wrong (an unreadable file, a manifest the parser chokes on), the copy does not count.
    return refused('unreadable', error instanceof Error ? error.message : String(error));
  }
}
