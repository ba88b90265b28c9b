import { describe, expect, it } from 'vitest';
import { resolvePolicy } from '../policy/merge.ts';
import { DEFAULT_POLICY } from '../policy/schema.ts';
import { clampFitTarget, clampLoadOptions, clampSampling, hasRuntimeLocks, lockedValueRefusal, runtimeLocks } from './locks.ts';

const POLICY = resolvePolicy({
  version: 1,
  contact: 'it@example.org',
  settings: { runtime: { contextSize: 2048, threads: 2, gpuLayers: 0, sampling: { temperature: 0.2, maxTokens: 256 } }, theme: 'dark' },
});
const LOCKS = runtimeLocks(POLICY);

describe('runtimeLocks', () => {
  it('reads the runtime leaves of the policy and nothing else', () => {
    expect(LOCKS).toEqual({ contextSize: 2048, threads: 2, gpuLayers: 0, sampling: { temperature: 0.2, maxTokens: 256 } });
    expect(hasRuntimeLocks(LOCKS)).toBe(true);
    expect(runtimeLocks(DEFAULT_POLICY)).toEqual({ sampling: {} });
    expect(hasRuntimeLocks(runtimeLocks(DEFAULT_POLICY))).toBe(false);
  });
});

describe('clampLoadOptions', () => {
  it('forces the locked context size, GPU layers and threads, and keeps the rest', () => {
    const options = { gpuLayers: 'auto' as const, contextSize: 8192, threads: 8, batchSize: 64, flashAttention: true, decodeThreadCandidates: [8, 4, 2, 1] };
    expect(clampLoadOptions(options, LOCKS, 8)).toEqual({
      gpuLayers: 0,
      contextSize: 2048,
      threads: 2,
      batchSize: 64,
      flashAttention: true,
      decodeThreadCandidates: [2, 1],
    });
  });

  it('a smaller value than the lock is replaced too: a lock is a fixed value, as in settings.update', () => {
    expect(clampLoadOptions({ gpuLayers: 0, contextSize: 512, threads: 1 }, LOCKS, 8)).toMatchObject({ contextSize: 2048, threads: 2 });
  });

  it('auto locks: threads become the machine’s automatic count, auto context stays auto', () => {
    const locks = runtimeLocks(resolvePolicy({ version: 1, settings: { runtime: { threads: 'auto', contextSize: 'auto' } } }));
    expect(clampLoadOptions({ gpuLayers: 3, contextSize: 4096, threads: 7 }, locks, 4)).toEqual({ gpuLayers: 3, contextSize: 'auto', threads: 4 });
  });

  it('without locks, returns the same values', () => {
    const options = { gpuLayers: 'auto' as const, contextSize: 'auto' as const, threads: 3, kvCacheType: 'Q8_0' as const };
    expect(clampLoadOptions(options, runtimeLocks(DEFAULT_POLICY), 8)).toEqual(options);
  });
});

describe('clampSampling', () => {
  it('forces locked fields; minP and seed, which no policy can lock, pass', () => {
    const sampling = { temperature: 1.5, topP: 0.5, topK: 10, minP: 0.1, repeatPenalty: 1.3, maxTokens: 4000, seed: 7 };
    expect(clampSampling(sampling, LOCKS)).toEqual({ ...sampling, temperature: 0.2, maxTokens: 256 });
  });
});

describe('clampFitTarget', () => {
  it('forces numbers and turns an auto lock into no target', () => {
    expect(clampFitTarget({ contextSize: 8192, gpuLayers: 40 }, LOCKS)).toEqual({ contextSize: 2048, gpuLayers: 0 });
    const auto = runtimeLocks(resolvePolicy({ version: 1, settings: { runtime: { contextSize: 'auto' } } }));
    expect(clampFitTarget({ contextSize: 8192, gpuLayers: 40 }, auto)).toEqual({ gpuLayers: 40 });
  });
});

describe('lockedValueRefusal', () => {
  const sampling = { temperature: 0.2, topP: 0.9, topK: 40, minP: 0.05, repeatPenalty: 1.1, maxTokens: 256, seed: null };

  it('refuses a value that differs from its lock, with the message settings.update gives', () => {
    const refused = lockedValueRefusal({ contextSize: 2048, sampling: { ...sampling, temperature: 1.2 } }, null, POLICY);
    expect(refused).toEqual({
      path: 'runtime.sampling.temperature',
      message: 'runtime.sampling.temperature cannot be changed here. Managed by your organization’s policy. Contact: it@example.org.',
    });
    expect(lockedValueRefusal({ contextSize: 4096 }, null, POLICY)?.path).toBe('runtime.contextSize');
    expect(lockedValueRefusal({ gpuLayers: 'auto' }, null, POLICY)?.path).toBe('runtime.gpuLayers');
  });

  it('accepts the locked values, unlocked fields, and a stale stored value carried unchanged', () => {
    expect(lockedValueRefusal({ contextSize: 2048, sampling: { ...sampling, topP: 0.5, minP: 0.3 } }, null, POLICY)).toBeNull();
    const stale = { contextSize: 4096 as const, sampling: { ...sampling, temperature: 0.9 } };
    expect(lockedValueRefusal(stale, stale, POLICY)).toBeNull();
    expect(lockedValueRefusal({ ...stale, sampling: { ...stale.sampling, temperature: 1.0 } }, stale, POLICY)?.path).toBe('runtime.sampling.temperature');
    expect(lockedValueRefusal({ contextSize: 99_999 }, null, DEFAULT_POLICY)).toBeNull();
  });
});
