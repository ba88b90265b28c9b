import { RuntimeSettings } from '../../../../electron/common/contract/schemas.ts';

// The runtime options form as pure data: a draft of strings (what the inputs hold),
// the conversion to settings, and per-field errors. Bounds come from the shared schema.

export type AutoField = 'gpuLayers' | 'contextSize' | 'threads';
export type SamplingField = 'temperature' | 'topP' | 'topK' | 'repeatPenalty' | 'maxTokens';
export type Field = AutoField | SamplingField;

export interface Draft {
  readonly auto: Readonly<Record<AutoField, boolean>>;
  readonly values: Readonly<Record<Field, string>>;
}

export interface FieldSpec {
  readonly min: number;
  readonly max: number;
  readonly step: number;
}

export const FIELD_SPECS: Readonly<Record<Field, FieldSpec>> = {
  gpuLayers: { min: 0, max: 1000, step: 1 },
  contextSize: { min: 256, max: 1_048_576, step: 256 },
  threads: { min: 1, max: 256, step: 1 },
  temperature: { min: 0, max: 2, step: 0.05 },
  topP: { min: 0.01, max: 1, step: 0.01 },
  topK: { min: 0, max: 1000, step: 1 },
  repeatPenalty: { min: 1, max: 2, step: 0.01 },
  maxTokens: { min: 1, max: 32_768, step: 1 },
};

export const AUTO_FIELDS: readonly AutoField[] = ['gpuLayers', 'contextSize', 'threads'];
export const SAMPLING_FIELDS: readonly SamplingField[] = ['temperature', 'topP', 'topK', 'repeatPenalty', 'maxTokens'];

/** Suggested manual values when a field leaves Auto. */
const MANUAL_START: Readonly<Record<AutoField, number>> = { gpuLayers: 0, contextSize: 4096, threads: 2 };

export function draftFrom(settings: RuntimeSettings): Draft {
  const autoValue = (field: AutoField) => settings[field];
  return {
    auto: { gpuLayers: settings.gpuLayers === 'auto', contextSize: settings.contextSize === 'auto', threads: settings.threads === 'auto' },
    values: {
      gpuLayers: String(autoValue('gpuLayers') === 'auto' ? MANUAL_START.gpuLayers : autoValue('gpuLayers')),
      contextSize: String(autoValue('contextSize') === 'auto' ? MANUAL_START.contextSize : autoValue('contextSize')),
      threads: String(autoValue('threads') === 'auto' ? MANUAL_START.threads : autoValue('threads')),
      temperature: String(settings.sampling.temperature),
      topP: String(settings.sampling.topP),
      topK: String(settings.sampling.topK),
      repeatPenalty: String(settings.sampling.repeatPenalty),
      maxTokens: String(settings.sampling.maxTokens),
    },
  };
}

export type FieldError = { readonly kind: 'number' } | { readonly kind: 'range'; readonly min: number; readonly max: number };

export type ParsedDraft =
  { readonly ok: true; readonly settings: RuntimeSettings } | { readonly ok: false; readonly errors: Partial<Record<Field, FieldError>> };

export function parseDraft(draft: Draft): ParsedDraft {
  const errors: Partial<Record<Field, FieldError>> = {};
  const numbers: Partial<Record<Field, number>> = {};
  for (const field of [...AUTO_FIELDS, ...SAMPLING_FIELDS]) {
    if ((AUTO_FIELDS as readonly string[]).includes(field) && draft.auto[field as AutoField]) continue;
    const text = draft.values[field].trim();
    const value = text === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(value)) errors[field] = { kind: 'number' };
    else numbers[field] = value;
  }
  const candidate = {
    gpuLayers: draft.auto.gpuLayers ? 'auto' : numbers.gpuLayers,
    contextSize: draft.auto.contextSize ? 'auto' : numbers.contextSize,
    threads: draft.auto.threads ? 'auto' : numbers.threads,
    sampling: {
      temperature: numbers.temperature,
      topP: numbers.topP,
      topK: numbers.topK,
      repeatPenalty: numbers.repeatPenalty,
      maxTokens: numbers.maxTokens,
    },
  };
  const parsed = RuntimeSettings.safeParse(candidate);
  if (parsed.success && Object.keys(errors).length === 0) return { ok: true, settings: parsed.data };
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = issue.path.at(-1) as Field | undefined;
      if (field === undefined || !(field in FIELD_SPECS) || errors[field] !== undefined) continue;
      errors[field] = { kind: 'range', min: FIELD_SPECS[field].min, max: FIELD_SPECS[field].max };
    }
  }
  return { ok: false, errors };
}
