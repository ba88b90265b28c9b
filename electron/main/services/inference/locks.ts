import type { RuntimeSettings, SamplingSettings } from '../../../common/contract/index.ts';
import type { LoadOptions } from '../../../common/runtime/protocol.ts';
import { lockReason } from '../policy/settings-lock.ts';
import type { EffectivePolicy } from '../policy/schema.ts';

// The policy's locked runtime settings, applied to the values that reach the inference
// process. Conversations, presets, per-call overrides and per-model load settings all hold
// their own copies of these numbers; forcing the lock where they are used covers every one
// of them, and any caller added later, without each remembering to check.
//
// A lock is a fixed value, as in settings.update: a smaller maxTokens or context is a
// change too, and is replaced by the locked value (IT may lock a value for reproducible
// answers, not only as a ceiling).

/** The runtime settings a policy can fix: the leaves of `settings.runtime` in the policy file. */
export interface RuntimeLocks {
  readonly gpuLayers?: RuntimeSettings['gpuLayers'];
  readonly contextSize?: RuntimeSettings['contextSize'];
  readonly threads?: RuntimeSettings['threads'];
  readonly sampling: Partial<SamplingSettings>;
}

const SAMPLING_KEYS = ['temperature', 'topP', 'topK', 'repeatPenalty', 'maxTokens'] as const satisfies readonly (keyof SamplingSettings)[];

export function runtimeLocks(policy: EffectivePolicy): RuntimeLocks {
  const runtime = policy.settings.runtime ?? {};
  const sampling: Partial<Record<keyof SamplingSettings, number>> = {};
  for (const key of SAMPLING_KEYS) {
    const value = runtime.sampling?.[key];
    if (value !== undefined) sampling[key] = value;
  }
  return {
    ...(runtime.gpuLayers === undefined ? {} : { gpuLayers: runtime.gpuLayers }),
    ...(runtime.contextSize === undefined ? {} : { contextSize: runtime.contextSize }),
    ...(runtime.threads === undefined ? {} : { threads: runtime.threads }),
    sampling,
  };
}

export function hasRuntimeLocks(locks: RuntimeLocks): boolean {
  return locks.gpuLayers !== undefined || locks.contextSize !== undefined || locks.threads !== undefined || Object.keys(locks.sampling).length > 0;
}

/**
 * Load options with the locked values forced. `autoThreads` is what `auto` threads means on
 * this machine (the engine's hardware cores), as the settings resolve it before a load.
 */
export function clampLoadOptions(options: LoadOptions, locks: RuntimeLocks, autoThreads: number): LoadOptions {
  const threads = locks.threads === undefined ? options.threads : locks.threads === 'auto' ? autoThreads : locks.threads;
  // Decoding may measure smaller thread counts, never more than the locked one.
  const candidates = options.decodeThreadCandidates?.filter((count) => count <= threads);
  const { decodeThreadCandidates: _dropped, ...rest } = options;
  return {
    ...rest,
    gpuLayers: locks.gpuLayers ?? options.gpuLayers,
    contextSize: locks.contextSize ?? options.contextSize,
    threads,
    ...(candidates === undefined || candidates.length === 0 ? {} : { decodeThreadCandidates: candidates }),
  };
}

/** Sampling (chat's or a raw generation's) with the locked values forced; fields that cannot be locked (minP, seed) pass unchanged. */
export function clampSampling<S extends Partial<SamplingSettings>>(sampling: S, locks: RuntimeLocks): S {
  return { ...sampling, ...locks.sampling };
}

/** A fit estimate's target with the locks forced; `auto` leaves the field to the estimator, as an absent one does. */
export function clampFitTarget(target: { contextSize?: number; gpuLayers?: number }, locks: RuntimeLocks): { contextSize?: number; gpuLayers?: number } {
  const pick = (lock: number | 'auto' | undefined, value: number | undefined) => (lock === undefined ? value : lock === 'auto' ? undefined : lock);
  const contextSize = pick(locks.contextSize, target.contextSize);
  const gpuLayers = pick(locks.gpuLayers, target.gpuLayers);
  return { ...(contextSize === undefined ? {} : { contextSize }), ...(gpuLayers === undefined ? {} : { gpuLayers }) };
}

/** Runtime values a conversation, a preset or a model's load settings store. */
export interface StoredRuntimeValues {
  readonly gpuLayers?: RuntimeSettings['gpuLayers'] | undefined;
  readonly contextSize?: RuntimeSettings['contextSize'] | undefined;
  readonly sampling?: Partial<Record<string, unknown>> | undefined;
}

export interface LockedValueRefusal {
  /** The policy's path, as settings.update names it: "runtime.sampling.temperature". */
  readonly path: string;
  readonly message: string;
}

/**
 * The first value in `next` that differs from its lock and from what was stored before
 * (`previous`), or null. A stored value carried unchanged passes: a conversation saved
 * before the policy keeps its old number, which the engine clamps, and editing its title or
 * system prompt must not be refused for it. The message is the one settings.update gives.
 */
export function lockedValueRefusal(next: StoredRuntimeValues, previous: StoredRuntimeValues | null, policy: EffectivePolicy): LockedValueRefusal | null {
  const locks = runtimeLocks(policy);
  const checks: { path: string; lock: unknown; value: unknown; before: unknown }[] = [
    { path: 'runtime.gpuLayers', lock: locks.gpuLayers, value: next.gpuLayers, before: previous?.gpuLayers },
    { path: 'runtime.contextSize', lock: locks.contextSize, value: next.contextSize, before: previous?.contextSize },
    ...SAMPLING_KEYS.map((key) => ({
      path: `runtime.sampling.${key}`,
      lock: locks.sampling[key],
      value: next.sampling?.[key],
      before: previous?.sampling?.[key],
    })),
  ];
  for (const { path, lock, value, before } of checks) {
    if (lock === undefined || value === undefined || value === lock || value === before) continue;
    return { path, message: `${path} cannot be changed here. ${lockReason(policy, path)}` };
  }
  return null;
}
