export {
  AUDIT_LEVELS,
  AuditLevel,
  DEFAULT_POLICY,
  formatPath,
  LOCKDOWN,
  PII_MODES,
  PiiMode,
  POLICY_VERSION,
  PolicyDocument,
  PolicySettings,
  TrustedKey,
  validatePolicyText,
} from './schema.ts';
export type { EffectivePolicy, PolicyOrigin, PolicyValidation } from './schema.ts';
export { LOCKED_DOWN_POLICY, lockDown, resolvePolicy, settingLeaves, tightenPolicy } from './merge.ts';
export type { SettingLeaf, Tightened } from './merge.ts';
export { applyLockedSettings, checkSettingsPatch, lockedSettingPaths, lockedSettings, lockReason } from './settings-lock.ts';
export type { LockedSetting, RefusedSetting } from './settings-lock.ts';
export {
  defaultPolicyPath,
  loadMachinePolicySync,
  loadPolicy,
  loadPolicyFromBytes,
  machinePolicyLocation,
  MAX_POLICY_BYTES,
  POLICY_FILE_ENV,
  POLICY_FILE_NAME,
  userPolicyPath,
  validatePolicyBytes,
} from './load.ts';
export type { LoadedPolicy, LoadPolicyOptions, MachinePolicyBytes, MachinePolicyLocation, PolicySourceInfo, PolicySourceKind, PolicyStatus } from './load.ts';
export { MANAGED_PREFERENCES_DOMAIN, MANAGED_PREFERENCES_PATH, POLICY_LAYOUT, REGISTRY_ROOT, REGISTRY_ROOT_SHORT } from './os-layout.ts';
export type { LayoutKey, LeafKind } from './os-layout.ts';
export { interpretPlutil, interpretRegQuery, osPolicySource, recordedOsPolicyReader, systemOsPolicyReader } from './os-source.ts';
export type { OsPolicyKind, OsPolicyRead, OsPolicyReader, OsPolicySource, ToolRun } from './os-source.ts';
export { hasKeptPolicy, installBundlePolicy, keptPolicyDir, keptPolicyPath, loadBundlePolicy, removeBundlePolicy } from './bundle-policy.ts';
export type { BundlePolicyRefusal, InstallBundlePolicyInput, InstalledBundlePolicy, KeptPolicy, LoadBundlePolicyOptions } from './bundle-policy.ts';
export { bundlePolicyGate, lastAppliedPath, resolvePolicyInForce } from './in-force.ts';
export type { PolicyInForce, PolicyInForceOptions, PolicyStartEvent } from './in-force.ts';
