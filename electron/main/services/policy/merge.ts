import { isDeepStrictEqual } from 'node:util';
import type { ApiScope } from '../../../common/contract/index.ts';
import {
  AUDIT_LEVELS,
  DEFAULT_POLICY,
  LOCKDOWN,
  PACK_CHECK_ACTIONS,
  PII_MODES,
  type EffectivePolicy,
  type PolicyDocument,
  type PolicyOrigin,
  type PolicySettings,
  type TrustedKey,
} from './schema.ts';
import { resolveMarkings, tightenMarkings } from './markings-policy.ts';

/** A settings value split into its leaves: ['runtime', 'threads'] → 4. */
export interface SettingLeaf {
  readonly path: readonly string[];
  readonly value: unknown;
}

export function settingLeaves(value: unknown, prefix: readonly string[] = []): SettingLeaf[] {
  if (!isPlainObject(value)) return prefix.length === 0 ? [] : [{ path: prefix, value }];
  return Object.entries(value).flatMap(([key, child]) => (child === undefined ? [] : settingLeaves(child, [...prefix, key])));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function setLeaf(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    node = isPlainObject(next) ? next : (node[key] = {});
  }
  node[path[path.length - 1]!] = value;
}

/** The machine file over the defaults. The machine file is the authority: it sets, it does not merge. */
export function resolvePolicy(doc: PolicyDocument): EffectivePolicy {
  const d = DEFAULT_POLICY;
  const settings = structuredClone(doc.settings ?? {});
  return {
    version: d.version,
    description: doc.description ?? null,
    contact: doc.contact ?? null,
    bundles: {
      trustedKeys: doc.bundles?.trustedKeys === undefined ? d.bundles.trustedKeys : doc.bundles.trustedKeys,
      signatureThreshold: doc.bundles?.signatureThreshold ?? d.bundles.signatureThreshold,
      allowPolicyUpdates: doc.bundles?.allowPolicyUpdates ?? d.bundles.allowPolicyUpdates,
      expiryGraceDays: doc.bundles?.expiryGraceDays ?? d.bundles.expiryGraceDays,
    },
    models: {
      allowedHashes: doc.models?.allowedHashes === undefined ? d.models.allowedHashes : unique(doc.models.allowedHashes),
      allowUnsigned: doc.models?.allowUnsigned ?? d.models.allowUnsigned,
    },
    documents: { allowIngestion: doc.documents?.allowIngestion ?? d.documents.allowIngestion },
    pii: { ingestion: doc.pii?.ingestion ?? d.pii.ingestion, prompts: doc.pii?.prompts ?? d.pii.prompts },
    audit: { level: doc.audit?.level ?? d.audit.level },
    retention: {
      conversationDays: doc.retention?.conversationDays === undefined ? d.retention.conversationDays : doc.retention.conversationDays,
      auditDays: doc.retention?.auditDays === undefined ? d.retention.auditDays : doc.retention.auditDays,
    },
    export: { allowed: doc.export?.allowed ?? d.export.allowed },
    storage: { allowDataDirOverride: doc.storage?.allowDataDirOverride ?? d.storage.allowDataDirOverride },
    runtime: {
      allowedBackends:
        doc.runtime?.allowedBackends === undefined
          ? d.runtime.allowedBackends
          : (unique(doc.runtime.allowedBackends) as EffectivePolicy['runtime']['allowedBackends']),
    },
    api: { allowed: doc.api?.allowed ?? d.api.allowed, scopes: doc.api?.scopes === undefined ? d.api.scopes : (unique(doc.api.scopes) as ApiScope[] | null) },
    packs: { onCheckFailure: doc.packs?.onCheckFailure ?? d.packs.onCheckFailure },
    markings: resolveMarkings(doc.markings),
    settings,
    settingOrigins: Object.fromEntries(settingLeaves(settings).map((leaf) => [leaf.path.join('.'), 'machine' as const])),
  };
}

function unique(list: readonly string[] | null): string[] | null {
  return list === null ? null : [...new Set(list)];
}

const stricter =
  <T extends string>(order: readonly T[]) =>
  (a: T, b: T): T =>
    order.indexOf(a) >= order.indexOf(b) ? a : b;

/** Shorter wins; null is "forever", the longest. */
function fewerDays(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

/**
 * Longer wins; null is "forever", the longest. Audit records are evidence about the user:
 * the user's file may keep them longer, never purge them sooner.
 */
function moreDays(a: number | null, b: number | null): number | null {
  if (a === null || b === null) return null;
  return Math.max(a, b);
}

/** null is "anything", so it is the identity of the intersection. */
function intersect<T>(a: readonly T[] | null, b: readonly T[] | null, id: (item: T) => string): readonly T[] | null {
  if (a === null) return b === null ? null : uniqueBy(b, id);
  if (b === null) return a;
  const wanted = new Set(b.map(id));
  return a.filter((item) => wanted.has(id(item)));
}

function uniqueBy<T>(list: readonly T[], id: (item: T) => string): T[] {
  const seen = new Set<string>();
  return list.filter((item) => !seen.has(id(item)) && Boolean(seen.add(id(item))));
}

const sameSet = (a: readonly string[] | null, b: readonly string[] | null): boolean =>
  a === null || b === null ? a === b : new Set(a).size === new Set(b).size && a.every((item) => b.includes(item));

const keyId = (key: TrustedKey): string => key.publicKey;
const keyIds = (keys: readonly TrustedKey[] | null): string[] | null => (keys === null ? null : keys.map(keyId));

export interface Tightened {
  readonly policy: EffectivePolicy;
  /** Each value the file asked for that would have loosened the base, and what stayed in force. */
  readonly ignored: readonly string[];
}

/**
 * `base` tightened by `doc`, key by key: a value in `doc` is taken only where it is at least
 * as strict as the base's. `label` names the file in the `ignored` notes.
 */
export function tightenPolicy(base: EffectivePolicy, doc: PolicyDocument, origin: PolicyOrigin, label: string): Tightened {
  const ignored: string[] = [];

  function take<T>(
    path: string,
    current: T,
    wanted: T | undefined,
    combine: (a: T, b: T) => T,
    same: (a: T, b: T) => boolean = Object.is,
    show: (value: T) => string = (value) => JSON.stringify(value),
  ): T {
    if (wanted === undefined) return current;
    const merged = combine(current, wanted);
    if (!same(merged, wanted)) ignored.push(`${label}: ${path} ${show(wanted)} is ignored because it would loosen the policy; ${show(merged)} stays in force.`);
    return merged;
  }

  const and = (a: boolean, b: boolean) => a && b;
  const max = (a: number, b: number) => Math.max(a, b);
  const min = (a: number, b: number) => Math.min(a, b);
  const showKeys = (keys: readonly TrustedKey[] | null) => (keys === null ? 'null (any key)' : `[${keys.map((key) => JSON.stringify(key.name)).join(', ')}]`);
  const showList = (list: readonly string[] | null) => (list === null ? 'null (any)' : `${list.length} entr${list.length === 1 ? 'y' : 'ies'}`);

  const { settings, settingOrigins } = unionSettings(base, doc.settings ?? {}, origin, label, ignored);

  const policy: EffectivePolicy = {
    version: base.version,
    description: base.description,
    contact: base.contact,
    bundles: {
      trustedKeys: take(
        'bundles.trustedKeys',
        base.bundles.trustedKeys,
        doc.bundles?.trustedKeys,
        (a, b) => intersect(a, b, keyId),
        (a, b) => sameSet(keyIds(a), keyIds(b)),
        showKeys,
      ),
      signatureThreshold: take('bundles.signatureThreshold', base.bundles.signatureThreshold, doc.bundles?.signatureThreshold, max),
      allowPolicyUpdates: take('bundles.allowPolicyUpdates', base.bundles.allowPolicyUpdates, doc.bundles?.allowPolicyUpdates, and),
      expiryGraceDays: take('bundles.expiryGraceDays', base.bundles.expiryGraceDays, doc.bundles?.expiryGraceDays, min),
    },
    models: {
      allowedHashes: take('models.allowedHashes', base.models.allowedHashes, doc.models?.allowedHashes, (a, b) => intersect(a, b, String), sameSet, showList),
      allowUnsigned: take('models.allowUnsigned', base.models.allowUnsigned, doc.models?.allowUnsigned, and),
    },
    documents: { allowIngestion: take('documents.allowIngestion', base.documents.allowIngestion, doc.documents?.allowIngestion, and) },
    pii: {
      ingestion: take('pii.ingestion', base.pii.ingestion, doc.pii?.ingestion, stricter(PII_MODES)),
      prompts: take('pii.prompts', base.pii.prompts, doc.pii?.prompts, stricter(PII_MODES)),
    },
    audit: { level: take('audit.level', base.audit.level, doc.audit?.level, stricter(AUDIT_LEVELS)) },
    retention: {
      // Conversations are the user's own records (they can delete them by hand): a user file
      // may shorten their retention; keeping them longer would break the organisation's rule.
      conversationDays: take('retention.conversationDays', base.retention.conversationDays, doc.retention?.conversationDays, fewerDays),
      // The audit log is evidence about the user: a user file may only keep it longer.
      auditDays: take('retention.auditDays', base.retention.auditDays, doc.retention?.auditDays, moreDays),
    },
    export: { allowed: take('export.allowed', base.export.allowed, doc.export?.allowed, and) },
    storage: { allowDataDirOverride: take('storage.allowDataDirOverride', base.storage.allowDataDirOverride, doc.storage?.allowDataDirOverride, and) },
    runtime: {
      allowedBackends: take(
        'runtime.allowedBackends',
        base.runtime.allowedBackends,
        doc.runtime?.allowedBackends,
        (a, b) => intersect(a, b, String),
        sameSet,
        showList,
      ),
    },
    api: {
      allowed: take('api.allowed', base.api.allowed, doc.api?.allowed, and),
      scopes: take('api.scopes', base.api.scopes, doc.api?.scopes, (a, b) => intersect(a, b, String), sameSet, showList),
    },
    // A user file may only make a failed pack check stricter (warn → disable).
    packs: { onCheckFailure: take('packs.onCheckFailure', base.packs.onCheckFailure, doc.packs?.onCheckFailure, stricter(PACK_CHECK_ACTIONS)) },
    // The scheme is the machine's: a later file may only tighten it (see markings-policy.ts).
    markings: tightenMarkings(base.markings, doc.markings, label, ignored),
    settings,
    settingOrigins,
  };
  return { policy, ignored };
}

/** Locks from both files; where both lock the same setting, the base's value stays. */
function unionSettings(
  base: EffectivePolicy,
  extra: PolicySettings,
  origin: PolicyOrigin,
  label: string,
  ignored: string[],
): Pick<EffectivePolicy, 'settings' | 'settingOrigins'> {
  const settings = structuredClone(base.settings) as Record<string, unknown>;
  const origins: Record<string, PolicyOrigin> = { ...base.settingOrigins };
  const taken = new Map(settingLeaves(base.settings).map((leaf) => [leaf.path.join('.'), leaf.value]));
  for (const leaf of settingLeaves(extra)) {
    const key = leaf.path.join('.');
    if (taken.has(key)) {
      const kept = taken.get(key);
      if (!isDeepStrictEqual(kept, leaf.value))
        ignored.push(`${label}: settings.${key} ${JSON.stringify(leaf.value)} is ignored because the setting is already fixed to ${JSON.stringify(kept)}.`);
      continue;
    }
    setLeaf(settings, leaf.path, leaf.value);
    origins[key] = origin;
  }
  return { settings: settings as PolicySettings, settingOrigins: origins };
}

/** The tightest policy: what the app runs under while a policy file is broken. */
export function lockDown(base: EffectivePolicy): EffectivePolicy {
  return tightenPolicy(base, LOCKDOWN, 'machine', 'lockdown').policy;
}

export const LOCKED_DOWN_POLICY: EffectivePolicy = lockDown(DEFAULT_POLICY);
