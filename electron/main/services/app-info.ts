import type { AppInfo, HostKind } from '../../common/contract/index.ts';
import { product } from './product.ts';

/** What the hosting process knows about itself, supplied by Electron, the harness or the CLI. */
export interface HostInfo {
  readonly kind: HostKind;
  readonly electronVersion: string | null;
  readonly chromeVersion: string | null;
  /** The egress guards this host has put in place, in plain words. */
  readonly networkGuards: readonly string[];
}

export function describeApp(dataDir: string, host: HostInfo): AppInfo {
  return {
    name: product.name,
    version: product.version,
    dataDir,
    platform: process.platform,
    arch: process.arch,
    host: host.kind,
    versions: {
      node: process.versions.node,
      electron: host.electronVersion,
      chrome: host.chromeVersion,
      v8: process.versions.v8,
    },
    network: { outboundAllowed: false, guards: [...host.networkGuards] },
  };
}

/** Guards common to every host: they come from how the code is built, not from where it runs. */
export const BUILT_IN_GUARDS: readonly string[] = [
  'No network modules in the main process (enforced by lint)',
  'No telemetry, update checks or model downloads',
];
