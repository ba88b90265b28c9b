import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../atomic-file.ts';
import { keyIdOf } from '../bundles/keys.ts';
import type { TrustSource } from '../bundles/trust.ts';
import { hasKeptPolicy, loadBundlePolicy, type BundlePolicyRefusal } from './bundle-policy.ts';
import { loadPolicy, loadPolicyFromBytes, machinePolicyLocation, type LoadedPolicy } from './load.ts';
import type { OsPolicyReader } from './os-source.ts';
import type { EffectivePolicy } from './schema.ts';

// The policy the app runs under, decided once at start: the OS's managed source (registry,
// managed preferences) if there is one, then the machine file IT installed; in
// its place a policy from a signed bundle, if the machine file allows that and the kept copy
// verifies against the machine file's keys; tightened by the user's file. What happened
// comes back as audit events for the caller to record, so nothing here writes the log.

export type PolicyStartEvent =
  | { readonly type: 'policy.bundle_ignored'; readonly data: { readonly reason: string } }
  | { readonly type: 'policy.changed'; readonly data: { readonly from: string | null; readonly to: string | null } };

export interface PolicyInForce {
  readonly loaded: LoadedPolicy;
  /** Sentences to show the user (also appended to loaded.notes, so policy.get carries them). */
  readonly notices: readonly string[];
  /** Audit events to record, in order. */
  readonly events: readonly PolicyStartEvent[];
  /** The OS's managed location: where an elevated bundle install would put a policy. */
  readonly machinePath: string;
  /**
   * Records the hash in force as the one applied, so policy.changed fires once. Call it after
   * the events were recorded: if recording fails, the change is reported again next start.
   */
  commit(): Promise<void>;
}

export interface PolicyInForceOptions {
  readonly dataDir: string;
  /** The machine file, used as is (tests, `--policy-file`); by default the OS's managed location. */
  readonly machinePath?: string;
  /** The user's file (userPolicyPath(dataDir)); null: none. */
  readonly userPath: string | null;
  readonly platform?: NodeJS.Platform;
  readonly env?: NodeJS.ProcessEnv;
  /** The OS's managed source (registry, managed preferences); by default this machine's. */
  readonly osPolicy?: OsPolicyReader | null;
  readonly now?: Date;
}

/** `<dataDir>/policy/last-applied.json`: the hash in force at the previous start. */
export const lastAppliedPath = (dataDir: string): string => path.join(dataDir, 'policy', 'last-applied.json');

/**
 * The machine policy's keys as a trust source for the kept copy, or why a kept copy cannot
 * count at all. Only the machine file IT installed decides: never the local development
 * store, never the user's file, never the bundle policy itself (it would vouch for itself).
 */
export function bundlePolicyGate(machine: LoadedPolicy): { readonly trust: TrustSource } | { readonly code: BundlePolicyRefusal; readonly reason: string } {
  if (machine.source.machine === null)
    return { code: 'no_machine_policy', reason: 'no machine policy is installed, so a policy from a bundle cannot be verified and does not count.' };
  if (machine.status === 'invalid')
    return { code: 'no_machine_policy', reason: 'the machine policy is invalid, so a policy from a bundle cannot be verified and does not count.' };
  const policy: EffectivePolicy = machine.policy;
  if (!policy.bundles.allowPolicyUpdates)
    return { code: 'updates_not_allowed', reason: 'the machine policy does not allow bundles to change the policy (bundles.allowPolicyUpdates).' };
  const keys = policy.bundles.trustedKeys;
  if (keys === null || keys.length === 0)
    return { code: 'no_machine_policy', reason: 'the machine policy names no trusted keys, so a policy from a bundle cannot be verified and does not count.' };
  return {
    trust: {
      source: 'policy',
      threshold: policy.bundles.signatureThreshold,
      keys: keys.map((key) => ({ id: keyIdOf(key.publicKey), publicKey: key.publicKey, name: key.name })),
    },
  };
}

export async function resolvePolicyInForce(options: PolicyInForceOptions): Promise<PolicyInForce> {
  const where = {
    ...(options.machinePath === undefined ? {} : { machinePath: options.machinePath }),
    ...(options.platform === undefined ? {} : { platform: options.platform }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.osPolicy === undefined ? {} : { osPolicy: options.osPolicy }),
  };
  const location = await machinePolicyLocation(where);
  const machine = await loadPolicy({ ...where, userPath: null });
  const notices: string[] = [];
  const events: PolicyStartEvent[] = [];

  let loaded: LoadedPolicy | null = null;
  if (await hasKeptPolicy(options.dataDir)) {
    const gate = bundlePolicyGate(machine);
    const kept =
      'trust' in gate
        ? await loadBundlePolicy({
            dataDir: options.dataDir,
            machineTrust: gate.trust,
            graceDays: machine.policy.bundles.expiryGraceDays,
            ...(options.now === undefined ? {} : { now: options.now }),
          })
        : ({ kind: 'refused', code: gate.code, reason: `${gate.code}: ${gate.reason}` } as const);
    if (kept.kind === 'verified') {
      const signers = kept.signers.map((signer) => signer.name || signer.keyId).join(', ');
      const note = `The machine policy in force came in the signed bundle "${kept.manifest.name}" v${kept.manifest.version} (signed by ${signers}), verified against ${location.path}.`;
      loaded = await loadPolicyFromBytes({ path: kept.path, bytes: kept.bytes }, options.userPath, [...location.notes, note], where);
    } else if (kept.kind === 'refused') {
      notices.push(`A policy kept from a bundle in the data folder was ignored: ${kept.reason}`);
      events.push({ type: 'policy.bundle_ignored', data: { reason: kept.reason } });
    }
  }
  loaded ??= await loadPolicy({ ...where, userPath: options.userPath });
  if (notices.length > 0) loaded = { ...loaded, notes: [...loaded.notes, ...notices] };

  const previous = await readLastApplied(options.dataDir);
  if (previous !== loaded.hash) events.push({ type: 'policy.changed', data: { from: previous, to: loaded.hash } });
  const hash = loaded.hash;
  return {
    loaded,
    notices,
    events,
    machinePath: location.path,
    commit: () => writeFileAtomic(lastAppliedPath(options.dataDir), `${JSON.stringify({ sha256: hash, at: (options.now ?? new Date()).toISOString() })}\n`),
  };
}

/** The hash recorded at the previous start; null when none was (first start, or the file is gone or unreadable). */
async function readLastApplied(dataDir: string): Promise<string | null> {
  try {
    const value = JSON.parse(await readFile(lastAppliedPath(dataDir), 'utf8')) as { sha256?: unknown };
    return typeof value.sha256 === 'string' && /^[0-9a-f]{64}$/.test(value.sha256) ? value.sha256 : null;
  } catch {
    return null;
  }
}
