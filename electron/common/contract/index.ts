import { event, rpc, stream, type DefOfKind } from './define.ts';
import type { endpointKinds } from './endpoints.ts';
import {
  AppInfo,
  DiagnosticEvent,
  Empty,
  GenerateEvent,
  GenerateRequest,
  LoadEvent,
  LoadRequest,
  PickResult,
  RuntimeState,
  Settings,
  SettingsPatch,
} from './schemas.ts';
import {
  FitEstimate,
  ImportEvent,
  ImportMode,
  ModelEntry,
  ModelId,
  ModelLoadSettings,
  ScanOutcome,
  VerifyEvent,
} from './models.ts';
import { z } from 'zod';

const ModelList = z.object({ models: z.array(ModelEntry) });

type ContractShape = { readonly [K in keyof typeof endpointKinds]: DefOfKind<(typeof endpointKinds)[K]> };

/**
 * The one contract between the renderer and the main process. `satisfies` makes a
 * missing, extra or wrongly-kinded endpoint a compile error against `endpointKinds`.
 */
export const contract = {
  'app.info': rpc({ input: Empty, output: AppInfo }),
  'settings.get': rpc({ input: Empty, output: Settings }),
  'settings.update': rpc({ input: SettingsPatch, output: Settings }),
  'diagnostics.run': stream({ input: Empty, event: DiagnosticEvent }),
  'files.pickModel': rpc({ input: Empty, output: PickResult }),
  'runtime.state': rpc({ input: Empty, output: RuntimeState }),
  'runtime.load': stream({ input: LoadRequest, event: LoadEvent }),
  'runtime.unload': rpc({ input: Empty, output: RuntimeState }),
  'runtime.generate': stream({ input: GenerateRequest, event: GenerateEvent }),
  'models.list': rpc({ input: Empty, output: ModelList }),
  'models.scan': rpc({ input: z.object({ source: z.enum(['files', 'folder', 'dropped']) }).strict(), output: ScanOutcome }),
  'models.import': stream({ input: z.object({ candidateToken: z.string().min(16).max(64), mode: ImportMode }).strict(), event: ImportEvent }),
  'models.fit': rpc({ input: ModelId, output: FitEstimate }),
  'models.load': stream({ input: ModelId, event: LoadEvent }),
  'models.rename': rpc({ input: ModelId.extend({ name: z.string().trim().min(1).max(200) }).strict(), output: ModelEntry }),
  'models.remove': rpc({ input: ModelId, output: z.object({ removed: z.literal(true) }) }),
  'models.verify': stream({ input: ModelId, event: VerifyEvent }),
  'models.setDefault': rpc({ input: ModelId.extend({ role: z.enum(['chat', 'embedding']) }).strict(), output: ModelEntry }),
  'models.setLoadSettings': rpc({ input: ModelId.extend({ settings: ModelLoadSettings.nullable() }).strict(), output: ModelEntry }),
  'settings.changed': event({ payload: Settings }),
  'runtime.stateChanged': event({ payload: RuntimeState }),
  'models.changed': event({ payload: ModelList }),
} as const satisfies ContractShape;

export type Contract = typeof contract;

export { endpointKinds, type EndpointName } from './endpoints.ts';
export * from './define.ts';
export * from './schemas.ts';
export * from './models.ts';
