import type { FitEstimate } from '../../../../electron/common/contract/models.ts';

/** Pure: what to suggest when a model will not fit, most effective first. */
export function fitAdvice(fit: FitEstimate): ('context' | 'gpuLayers' | 'quantization')[] {
  if (fit.fits) return [];
  const advice: ('context' | 'gpuLayers' | 'quantization')[] = ['context'];
  if (fit.vramBytes > 0) advice.push('gpuLayers');
  advice.push('quantization');
  return advice;
}
