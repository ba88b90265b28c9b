import type { PolicyInfo } from '../../common/contract/policy.ts';
import type { Settings, SettingsPatch } from '../../common/contract/schemas.ts';
import { AppError } from '../../common/result.ts';
import { keyIdOf, localTrustSource, type TrustSource } from './bundles/index.ts';
import { applyLockedSettings, checkSettingsPatch, type EffectivePolicy, type LoadedPolicy } from './policy/index.ts';
import type { SettingsStore } from './settings.ts';
import type { Database } from './storage/sqlite.ts';

// Where the machine policy meets the services: each gate turns a rule into a refusal a
// person can act on. Services ask here; none of them reads the policy file itself.

const who = (policy: EffectivePolicy) => (policy.contact === null ? 'Ask your IT team.' : `Ask your IT team (${policy.contact}).`);

export interface Governance {
  readonly loaded: LoadedPolicy;
  readonly policy: EffectivePolicy;
  /** managed: a machine policy file is in force; development: none is, and the user decides everything. */
  readonly mode: PolicyMode;
  info(): PolicyInfo;
  /** Import of a model file that no signed bundle vouches for. */
  assertUnsignedImportAllowed(): void;
  /** A model's hash against the allow-list, before it is imported for good or loaded. */
  assertModelAllowed(sha256: string, name: string): void;
  assertIngestionAllowed(): void;
  assertExportAllowed(): void;
  /**
   * Who may sign bundles. With a machine policy: its keys only, possibly none. Without one
   * (development mode): the keys a user file names, else the local trust store.
   */
  trust(db: Database): TrustSource;
  /** Refuses to add keys to the local development trust store where a machine policy is in force: there they would never count. */
  assertLocalTrustEditable(): void;
  /** The settings store with the policy's fixed values forced on read and refused on write. */
  lockSettings(store: SettingsStore): SettingsStore;
}

export type PolicyMode = 'managed' | 'development';

/** A machine file counts even when it is broken: the app is then locked down, not in development mode. */
export const policyMode = (loaded: LoadedPolicy): PolicyMode => (loaded.source.machine === null ? 'development' : 'managed');

export function createGovernance(loaded: LoadedPolicy): Governance {
  const policy = loaded.policy;
  const mode = policyMode(loaded);
  return {
    loaded,
    policy,
    mode,
    info: () => ({
      status: loaded.status,
      mode,
      machineFile: loaded.source.machine,
      userFile: loaded.source.user,
      hash: loaded.hash,
      problems: [...loaded.problems],
      notes: [...loaded.notes],
      description: policy.description,
      contact: policy.contact,
      locked: loaded.locked.map(({ path, reason }) => ({ path, reason })),
      markings: policy.markings === null ? null : structuredClone(policy.markings),
      rules: {
        allowUnsignedModels: policy.models.allowUnsigned,
        allowedModelHashes: policy.models.allowedHashes === null ? null : policy.models.allowedHashes.length,
        allowIngestion: policy.documents.allowIngestion,
        allowExport: policy.export.allowed,
        allowPolicyUpdatesByBundle: policy.bundles.allowPolicyUpdates,
        trustedKeys: policy.bundles.trustedKeys === null ? null : policy.bundles.trustedKeys.length,
        signatureThreshold: policy.bundles.signatureThreshold,
        expiryGraceDays: policy.bundles.expiryGraceDays,
        auditLevel: policy.audit.level,
        piiIngestion: policy.pii.ingestion,
        piiPrompts: policy.pii.prompts,
        conversationDays: policy.retention.conversationDays,
        auditDays: policy.retention.auditDays,
      },
    }),
    assertUnsignedImportAllowed() {
      if (!policy.models.allowUnsigned) {
        throw new AppError('forbidden', `This machine's policy allows only models that come in a signed bundle. ${who(policy)}`);
      }
    },
    assertModelAllowed(sha256, name) {
      if (policy.models.allowedHashes !== null && !policy.models.allowedHashes.includes(sha256.toLowerCase())) {
        throw new AppError('forbidden', `${name} is not on this machine's list of allowed models. ${who(policy)}`, `sha256 ${sha256}`);
      }
    },
    assertIngestionAllowed() {
      if (!policy.documents.allowIngestion) throw new AppError('forbidden', `This machine's policy does not allow adding documents. ${who(policy)}`);
    },
    assertExportAllowed() {
      if (!policy.export.allowed) throw new AppError('forbidden', `This machine's policy does not allow exporting. ${who(policy)}`);
    },
    trust(db) {
      const keys = policy.bundles.trustedKeys;
      // The local store is in the data folder, which any program the user runs can write:
      // where IT installed a policy it must never decide what is trusted.
      if (mode === 'development' && keys === null && loaded.status !== 'invalid') return localTrustSource(db, policy.bundles.signatureThreshold);
      return {
        source: 'policy',
        threshold: policy.bundles.signatureThreshold,
        // A key's id is derived from its bytes, whatever name the policy file gives it.
        keys: (keys ?? []).map((key) => ({ id: keyIdOf(key.publicKey), publicKey: key.publicKey, name: key.name })),
      };
    },
    assertLocalTrustEditable() {
      if (mode === 'managed') {
        throw new AppError(
          'forbidden',
          `This machine has a machine policy, so only the keys it lists (bundles.trustedKeys) are trusted and this data folder's keys are never used. ${who(policy)}`,
          loaded.source.machine ?? undefined,
        );
      }
    },
    lockSettings(store) {
      return {
        get: () => applyLockedSettings(store.get(), policy) as Settings,
        async update(patch: SettingsPatch) {
          const refused = checkSettingsPatch(patch, policy);
          if (refused !== null) throw new AppError('forbidden', `${refused.path} cannot be changed here. ${refused.reason}`, refused.path);
          return applyLockedSettings(await store.update(patch), policy) as Settings;
        },
      };
    },
  };
}
