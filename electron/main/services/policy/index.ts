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
export { defaultPolicyPath, loadPolicy, machinePolicyLocation, MAX_POLICY_BYTES, POLICY_FILE_ENV, POLICY_FILE_NAME, userPolicyPath, validatePolicyBytes } from './load.ts';
export type { LoadedPolicy, LoadPolicyOptions, MachinePolicyLocation, PolicyStatus } from './load.ts';
