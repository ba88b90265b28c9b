import type { RuntimeSettings } from '../../../common/contract/index.ts';
import type { LoadOptions } from '../../../common/runtime/protocol.ts';

/** Settings say `auto` for threads; the runtime's answer is the CPU cores it found useful. */
export function loadOptionsFrom(
  settings: RuntimeSettings,
  cpuCores: number,
  overrides: Partial<Pick<RuntimeSettings, 'gpuLayers' | 'contextSize'>> = {},
): LoadOptions {
  return {
    gpuLayers: overrides.gpuLayers ?? settings.gpuLayers,
    contextSize: overrides.contextSize ?? settings.contextSize,
    threads: settings.threads === 'auto' ? cpuCores : settings.threads,
  };
}
