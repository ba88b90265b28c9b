import { mkdir } from 'node:fs/promises';
import type { z } from 'zod';
import type { Contract } from '../../common/contract/index.ts';
import type { Handlers } from '../../common/handlers.ts';
import { ok } from '../../common/result.ts';
import { describeApp, type HostInfo } from './app-info.ts';
import { createBus, type Bus } from './bus.ts';
import { runDiagnostics } from './diagnostics.ts';
import { openSettings } from './settings.ts';

/** Payloads of the contract's broadcast events, keyed by name. */
export type AppEvents = {
  [K in keyof Contract as Contract[K]['kind'] extends 'event' ? K : never]: Contract[K] extends { payload: z.ZodType }
    ? z.output<Contract[K]['payload']>
    : never;
};

export interface Core {
  readonly dataDir: string;
  readonly bus: Bus<AppEvents>;
  readonly handlers: Handlers<Contract>;
}

export interface CoreOptions {
  readonly dataDir: string;
  readonly host: HostInfo;
  readonly onListenerError?: (error: unknown) => void;
}

/** Builds every service over one data directory. Electron, the e2e harness and the CLI all start here. */
export async function createCore(options: CoreOptions): Promise<Core> {
  const { dataDir, host } = options;
  await mkdir(dataDir, { recursive: true });
  const bus = createBus<AppEvents>(options.onListenerError);
  const settings = await openSettings(dataDir, (next) => bus.emit('settings.changed', next));

  const handlers: Handlers<Contract> = {
    'app.info': () => ok(describeApp(dataDir, host)),
    'settings.get': () => ok(settings.get()),
    'settings.update': async (patch) => ok(await settings.update(patch)),
    'diagnostics.run': (_input, { signal }) => runDiagnostics(dataDir, signal),
  };

  return { dataDir, bus, handlers };
}
