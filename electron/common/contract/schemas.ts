import { z } from 'zod';
import { autoOr, GenerateStats, Hardware } from '../runtime/protocol.ts';
import { ApiSettings } from './api.ts';

export { GenerateStats, Hardware };

export const Empty = z.object({}).strict();

export const HostKind = z.enum(['electron', 'test-harness', 'cli']);
export type HostKind = z.infer<typeof HostKind>;

/** The egress guards in force, so Diagnostics can show what "no network" rests on. */
export const NetworkPosture = z.object({
  outboundAllowed: z.literal(false),
  guards: z.array(z.string().min(1)),
});

export const AppInfo = z.object({
  name: z.string(),
  version: z.string(),
  dataDir: z.string(),
  platform: z.string(),
  arch: z.string(),
  host: HostKind,
  versions: z.object({
    node: z.string(),
    electron: z.string().nullable(),
    chrome: z.string().nullable(),
    v8: z.string(),
  }),
  network: NetworkPosture,
});
export type AppInfo = z.infer<typeof AppInfo>;

export const ThemePreference = z.enum(['system', 'light', 'dark']);
export type ThemePreference = z.infer<typeof ThemePreference>;

export const Language = z.enum(['en', 'es']);
export type Language = z.infer<typeof Language>;

export const SamplingSettings = z.object({
  temperature: z.number().min(0).max(2),
  topP: z.number().gt(0).max(1),
  topK: z.number().int().min(0).max(1000),
  repeatPenalty: z.number().min(1).max(2),
  maxTokens: z.number().int().min(1).max(32_768),
});
export type SamplingSettings = z.infer<typeof SamplingSettings>;

export const RuntimeSettings = z.object({
  gpuLayers: autoOr(z.number().int().min(0).max(1000)),
  contextSize: autoOr(z.number().int().min(256).max(1_048_576)),
  threads: autoOr(z.number().int().min(1).max(256)),
  sampling: SamplingSettings,
});
export type RuntimeSettings = z.infer<typeof RuntimeSettings>;

export const Settings = z.object({
  theme: ThemePreference,
  language: Language,
  sidebarWidth: z.number().int().min(160).max(480),
  runtime: RuntimeSettings,
  /** The local API: off until turned on; a policy can lock it, and `api.allowed` decides whether it may run at all. */
  api: ApiSettings,
});
export type Settings = z.infer<typeof Settings>;

export const SettingsPatch = Settings.partial().strict();
export type SettingsPatch = z.infer<typeof SettingsPatch>;

export const CheckStatus = z.enum(['pass', 'warn', 'fail']);
export type CheckStatus = z.infer<typeof CheckStatus>;

export const DiagnosticCheckId = z.enum(['dataDir', 'diskSpace', 'sqlite', 'vectorStore', 'networkIsolation']);
export type DiagnosticCheckId = z.infer<typeof DiagnosticCheckId>;

export const DiagnosticEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('started'), total: z.number().int().nonnegative() }),
  z.object({
    type: z.literal('check'),
    id: DiagnosticCheckId,
    status: CheckStatus,
    detail: z.string(),
    index: z.number().int().nonnegative(),
  }),
  z.object({
    type: z.literal('done'),
    passed: z.number().int().nonnegative(),
    warned: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
  }),
]);
export type DiagnosticEvent = z.infer<typeof DiagnosticEvent>;

export const RuntimeStatus = z.enum(['starting', 'idle', 'loading', 'ready', 'generating', 'crashed', 'restarting', 'stopped']);
export type RuntimeStatus = z.infer<typeof RuntimeStatus>;

export const RuntimeModel = z.object({
  name: z.string(),
  path: z.string(),
  sizeBytes: z.number().nonnegative(),
  contextSize: z.number().int().positive(),
  gpuLayers: z.number().int().nonnegative(),
  threads: z.number().int().positive(),
});
export type RuntimeModel = z.infer<typeof RuntimeModel>;

export const RuntimeState = z.object({
  status: RuntimeStatus,
  hardware: Hardware.nullable(),
  model: RuntimeModel.nullable(),
  loadProgress: z.number().min(0).max(1).nullable(),
  /** Resident memory of the inference process, in bytes. */
  memoryBytes: z.number().nonnegative().nullable(),
  lastCrash: z.object({ at: z.string(), reason: z.string(), during: z.enum(['idle', 'load', 'generate']) }).nullable(),
  restarts: z.number().int().nonnegative(),
});
export type RuntimeState = z.infer<typeof RuntimeState>;

/**
 * A file the user chose in the main process's own dialog. The renderer only ever holds
 * the token: it cannot make the main process open a path it made up.
 */
export const PickedFile = z.object({
  token: z.string().min(16).max(64),
  name: z.string(),
  sizeBytes: z.number().nonnegative(),
});
export type PickedFile = z.infer<typeof PickedFile>;

export const PickResult = z.discriminatedUnion('canceled', [
  z.object({ canceled: z.literal(true) }),
  z.object({ canceled: z.literal(false), file: PickedFile }),
]);
export type PickResult = z.infer<typeof PickResult>;

export const LoadRequest = z
  .object({
    fileToken: z.string().min(16).max(64),
    /** One-off overrides of the runtime settings. */
    gpuLayers: RuntimeSettings.shape.gpuLayers.optional(),
    contextSize: RuntimeSettings.shape.contextSize.optional(),
  })
  .strict();

export const LoadEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), progress: z.number().min(0).max(1) }),
  z.object({ type: z.literal('loaded'), model: RuntimeModel }),
]);
export type LoadEvent = z.infer<typeof LoadEvent>;

export const GenerateRequest = z
  .object({
    prompt: z.string().trim().min(1).max(100_000),
    sampling: SamplingSettings.partial().optional(),
  })
  .strict();

export const GenerateEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('delta'), text: z.string(), tokens: z.number().int().nonnegative() }),
  z.object({ type: z.literal('done'), stats: GenerateStats }),
]);
export type GenerateEvent = z.infer<typeof GenerateEvent>;
