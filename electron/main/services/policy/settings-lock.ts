import { isDeepStrictEqual } from 'node:util';
import type { Settings, SettingsPatch } from '../../../common/contract/index.ts';
import { settingLeaves } from './merge.ts';
import type { EffectivePolicy } from './schema.ts';

export interface LockedSetting {
  /** Dotted, as in the policy file: "runtime.threads". */
  readonly path: string;
  readonly value: unknown;
  /** One sentence for the UI, next to the disabled control. */
  readonly reason: string;
}

export interface RefusedSetting {
  readonly path: string;
  readonly reason: string;
}

export function lockedSettingPaths(policy: EffectivePolicy): string[] {
  return settingLeaves(policy.settings).map((leaf) => leaf.path.join('.'));
}

export function lockedSettings(policy: EffectivePolicy): LockedSetting[] {
  return settingLeaves(policy.settings).map((leaf) => {
    const path = leaf.path.join('.');
    return { path, value: leaf.value, reason: lockReason(policy, path) };
  });
}

export function lockReason(policy: EffectivePolicy, path: string): string {
  if (policy.settingOrigins[path] === 'user') return 'Fixed by the policy file in your data folder.';
  return policy.contact === null ? 'Managed by your organization’s policy.' : `Managed by your organization’s policy. Contact: ${policy.contact}.`;
}

/** `settings` with every locked value forced; whatever was stored before the policy is overridden, not erased. */
export function applyLockedSettings(settings: Settings, policy: EffectivePolicy): Settings {
  const result = structuredClone(settings) as unknown as Record<string, unknown>;
  leaves: for (const leaf of settingLeaves(policy.settings)) {
    let node = result;
    for (const key of leaf.path.slice(0, -1)) {
      const next = node[key];
      // Settings always have every group; a path that is not there is not a setting.
      if (typeof next !== 'object' || next === null) continue leaves;
      node = next as Record<string, unknown>;
    }
    node[leaf.path[leaf.path.length - 1]!] = leaf.value;
  }
  return result as unknown as Settings;
}

/**
 * The first locked setting the patch would change, or null. A patch may carry a locked
 * value unchanged: the UI sends the whole `runtime` object when one field in it changes.
 */
export function checkSettingsPatch(patch: SettingsPatch, policy: EffectivePolicy): RefusedSetting | null {
  for (const leaf of settingLeaves(policy.settings)) {
    let node: unknown = patch;
    for (const key of leaf.path) {
      node = typeof node === 'object' && node !== null && Object.hasOwn(node, key) ? (node as Record<string, unknown>)[key] : undefined;
    }
    if (node === undefined || isDeepStrictEqual(node, leaf.value)) continue;
    const path = leaf.path.join('.');
    return { path, reason: lockReason(policy, path) };
  }
  return null;
}
