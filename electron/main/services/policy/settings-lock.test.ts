import { describe, expect, it } from 'vitest';
import { Settings } from '../../../common/contract/index.ts';
import { DEFAULT_SETTINGS } from '../settings.ts';
import { resolvePolicy, tightenPolicy } from './merge.ts';
import { PolicyDocument } from './schema.ts';
import { applyLockedSettings, checkSettingsPatch, lockedSettingPaths, lockedSettings } from './settings-lock.ts';

const machine = resolvePolicy(
  PolicyDocument.parse({ version: 1, contact: 'ext. 4321', settings: { theme: 'dark', runtime: { threads: 4, sampling: { maxTokens: 1024 } } } }),
);
const policy = tightenPolicy(machine, PolicyDocument.parse({ version: 1, settings: { language: 'es' } }), 'user', 'user.json').policy;

describe('locked settings', () => {
  it('lists the locked paths with their values and a reason', () => {
    expect(lockedSettingPaths(policy).sort()).toEqual(['language', 'runtime.sampling.maxTokens', 'runtime.threads', 'theme']);
    expect(lockedSettings(policy)).toContainEqual({ path: 'runtime.threads', value: 4, reason: 'Managed by your organization’s policy. Contact: ext. 4321.' });
    expect(lockedSettings(policy)).toContainEqual({ path: 'language', value: 'es', reason: 'Fixed by the policy file in your data folder.' });
  });

  it('has none without settings in the policy', () => {
    expect(lockedSettingPaths(resolvePolicy(PolicyDocument.parse({ version: 1 })))).toEqual([]);
  });

  it('forces the locked values and leaves the rest, without changing its input', () => {
    const before = structuredClone(DEFAULT_SETTINGS);
    const applied = applyLockedSettings(DEFAULT_SETTINGS, policy);
    expect(DEFAULT_SETTINGS).toEqual(before);
    expect(applied).toEqual({
      ...DEFAULT_SETTINGS,
      theme: 'dark',
      language: 'es',
      runtime: { ...DEFAULT_SETTINGS.runtime, threads: 4, sampling: { ...DEFAULT_SETTINGS.runtime.sampling, maxTokens: 1024 } },
    });
    expect(Settings.safeParse(applied).success).toBe(true);
  });

  it('refuses a patch that changes a locked setting', () => {
    expect(checkSettingsPatch({ theme: 'light' }, policy)).toEqual({ path: 'theme', reason: 'Managed by your organization’s policy. Contact: ext. 4321.' });
    expect(checkSettingsPatch({ language: 'en' }, policy)).toEqual({ path: 'language', reason: 'Fixed by the policy file in your data folder.' });
    const runtime = applyLockedSettings(DEFAULT_SETTINGS, policy).runtime;
    expect(checkSettingsPatch({ runtime: { ...runtime, threads: 8 } }, policy)).toMatchObject({ path: 'runtime.threads' });
    expect(checkSettingsPatch({ runtime: { ...runtime, threads: 'auto' } }, policy)).toMatchObject({ path: 'runtime.threads' });
    expect(checkSettingsPatch({ runtime: { ...runtime, sampling: { ...runtime.sampling, maxTokens: 10 } } }, policy)).toMatchObject({
      path: 'runtime.sampling.maxTokens',
    });
  });

  it('lets through patches that leave locked settings as they are', () => {
    expect(checkSettingsPatch({}, policy)).toBeNull();
    expect(checkSettingsPatch({ sidebarWidth: 300 }, policy)).toBeNull();
    expect(checkSettingsPatch({ theme: 'dark' }, policy)).toBeNull();
    // The UI sends the whole runtime group when one field in it changes.
    const runtime = applyLockedSettings(DEFAULT_SETTINGS, policy).runtime;
    expect(checkSettingsPatch({ runtime: { ...runtime, contextSize: 8192 } }, policy)).toBeNull();
  });
});
