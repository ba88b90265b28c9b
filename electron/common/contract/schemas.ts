import { z } from 'zod';

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

export const Settings = z.object({
  theme: ThemePreference,
  language: Language,
  sidebarWidth: z.number().int().min(160).max(480),
});
export type Settings = z.infer<typeof Settings>;

export const SettingsPatch = Settings.partial().strict();
export type SettingsPatch = z.infer<typeof SettingsPatch>;

export const CheckStatus = z.enum(['pass', 'warn', 'fail']);
export type CheckStatus = z.infer<typeof CheckStatus>;

export const DiagnosticCheckId = z.enum(['dataDir', 'diskSpace', 'sqlite', 'networkIsolation']);
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
