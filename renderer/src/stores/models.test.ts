import { describe, expect, it } from 'vitest';
import type { FitEstimate, ModelEntry } from '../../../electron/common/contract/models.ts';
import { fitAdvice } from '../sections/models/fit.ts';
import { settingsOf } from '../sections/models/LoadSettingsForm.tsx';
import { gainedModel } from './models-table.ts';

function model(id: string, displayName: string, sizeBytes: number, quantization: string, contextLength: number, role: ModelEntry['role'] = 'chat'): ModelEntry {
  return {
    id,
    displayName,
    role,
    sizeBytes,
    sha256: id.repeat(4),
    importMode: 'copy',
    origin: 'file',
    sourcePath: `/src/${id}.gguf`,
    files: [`/lib/${id}.gguf`],
    importedAt: '2026-11-26T00:00:00.000Z',
    facts: {
      architecture: 'llama',
      name: displayName,
      parameterCount: sizeBytes,
      quantization,
      contextLength,
      layerCount: 2,
      embeddingLength: 64,
      headCount: 4,
      kvHeadCount: 2,
      vocabularySize: 400,
      hasChatTemplate: true,
      kind: role,
      fileSize: sizeBytes,
      tensorCount: 21,
      version: 3,
      alignment: 32,
      metadataKeys: 20,
    },
    chatTemplate: null,
    license: null,
    provenance: null,
    verifiedByBundle: null,
    status: 'ok',
    checkedAt: '2026-11-26T00:00:00.000Z',
    loadSettings: null,
    isDefaultChat: false,
    isDefaultEmbedding: false,
  };
}

const models = [model('a', 'Zeta', 300, 'Q8_0', 4096), model('b', 'alpha', 100, 'F16', 2048), model('c', 'Mid', 200, 'Q4_K_M', 8192, 'embedding')];

describe('the models table following the library', () => {
  it('fetches again only when a model was added; removals and changes are applied in place', () => {
    expect(gainedModel(models, [...models, model('d', 'New', 1, 'F16', 512)])).toBe(true);
    expect(gainedModel(models, models.slice(1))).toBe(false);
    expect(
      gainedModel(
        models,
        models.map((entry) => ({ ...entry, displayName: `${entry.displayName} renamed` })),
      ),
    ).toBe(false);
    expect(gainedModel([], [])).toBe(false);
  });
});

describe('fitAdvice', () => {
  const fit = (patch: Partial<FitEstimate>): FitEstimate => ({
    placement: 'cpu',
    gpuLayers: 0,
    totalLayers: 32,
    contextSize: 4096,
    ramBytes: 1,
    vramBytes: 0,
    fits: true,
    score: 1,
    speedClass: 'fast',
    warnings: [],
    ...patch,
  });
  it('has nothing to say when the model fits', () => {
    expect(fitAdvice(fit({}))).toEqual([]);
  });
  it('suggests a smaller context first, fewer GPU layers only when the GPU is used, then a smaller quantization', () => {
    expect(fitAdvice(fit({ fits: false }))).toEqual(['context', 'quantization']);
    expect(fitAdvice(fit({ fits: false, vramBytes: 5 }))).toEqual(['context', 'gpuLayers', 'quantization']);
  });
});

describe('per-model load settings form', () => {
  it('turns empty fields into "use the runtime settings"', () => {
    expect(settingsOf({ gpuLayers: '', contextSize: '', batchSize: '', flashAttention: '', kvCacheType: '' })).toEqual({ ok: true, settings: null });
  });
  it('keeps what was set and refuses what is out of range', () => {
    expect(settingsOf({ gpuLayers: '12', contextSize: '8192', batchSize: '', flashAttention: 'on', kvCacheType: 'Q8_0' })).toEqual({
      ok: true,
      settings: { gpuLayers: 12, contextSize: 8192, flashAttention: true, kvCacheType: 'Q8_0' },
    });
    expect(settingsOf({ gpuLayers: '', contextSize: '100', batchSize: '', flashAttention: '', kvCacheType: '' })).toEqual({ ok: false, field: 'contextSize' });
    expect(settingsOf({ gpuLayers: 'many', contextSize: '', batchSize: '', flashAttention: '', kvCacheType: '' })).toEqual({ ok: false, field: 'gpuLayers' });
  });
});
