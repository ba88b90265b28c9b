import { GgufInsights, readGgufFileInfo, type Llama } from 'node-llama-cpp';
import type { FitEstimate } from '../common/runtime/protocol.ts';

const GiB = 1024 ** 3;

/**
 * A rough speed class, not a promise: decoding is bound by reading the weights once per
 * token, so it follows where the weights live and how large they are.
 */
export function speedClassOf(placement: FitEstimate['placement'], modelBytes: number): FitEstimate['speedClass'] {
  if (placement === 'gpu') return 'fast';
  if (placement === 'partial') return modelBytes < 8 * GiB ? 'usable' : 'slow';
  if (modelBytes < 1.5 * GiB) return 'fast';
  return modelBytes < 6 * GiB ? 'usable' : 'slow';
}

/** node-llama-cpp's fit estimate for a file on this machine's hardware. */
export async function fitEstimate(
  instance: Llama,
  path: string,
  target: { contextSize?: number | undefined; gpuLayers?: number | undefined },
): Promise<FitEstimate> {
  // Reached only after the main process's own GGUF check accepted the file.
  const info = await readGgufFileInfo(path, { readTensorInfo: true, logWarnings: false });
  const insights = await GgufInsights.from(info, instance);
  const resolved = await insights.configurationResolver.resolveAndScoreConfig({
    ...(target.contextSize === undefined ? {} : { targetContextSize: target.contextSize }),
    ...(target.gpuLayers === undefined ? {} : { targetGpuLayers: target.gpuLayers }),
  });
  const [vram, ram] = await Promise.all([instance.getVramState(), instance.getRamState()]);
  const { gpuLayers, contextSize, totalRamUsage, totalVramUsage } = resolved.resolvedValues;
  const totalLayers = insights.totalLayers;
  const placement = gpuLayers === 0 ? 'cpu' : gpuLayers >= totalLayers ? 'gpu' : 'partial';
  return {
    placement,
    gpuLayers,
    totalLayers,
    contextSize,
    ramBytes: totalRamUsage,
    vramBytes: totalVramUsage,
    fits: totalRamUsage <= ram.free && totalVramUsage <= vram.free,
    score: Math.min(1, Math.max(0, resolved.compatibilityScore)),
    speedClass: speedClassOf(placement, insights.modelSize),
    warnings: insights.getWarnings(path),
  };
}
