import type { Api } from '../../../electron/common/api.ts';
import type { Contract } from '../../../electron/common/contract/index.ts';

declare global {
  interface Window {
    /** Provided by the preload in Electron, or by the harness's init script in e2e tests. */
    readonly api: Api<Contract>;
  }
}
