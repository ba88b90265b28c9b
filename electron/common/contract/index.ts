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
  'settings.changed': event({ payload: Settings }),
  'runtime.stateChanged': event({ payload: RuntimeState }),
} as const satisfies ContractShape;

export type Contract = typeof contract;

export { endpointKinds, type EndpointName } from './endpoints.ts';
export * from './define.ts';
export * from './schemas.ts';
