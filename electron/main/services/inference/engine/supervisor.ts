import type { RuntimeState } from '../../../../common/contract/schemas.ts';
import { AppError } from '../../../../common/result.ts';
import { RuntimeMessage, type BackendChoice, type LoadOptions, type RuntimeOp } from '../../../../common/runtime/protocol.ts';
import type { RuntimeChild, RuntimeLauncher } from '../launcher.ts';
import type { RuntimeProtocol } from './protocol.ts';

// The inference process's life: it starts it and waits until it is ready, turns its
// crashes into state changes and typed errors, restarts it with backoff (the engine then
// reloads the model it had), quarantines a file that keeps killing the loader, and sets
// runtime packs aside after one took the process down.

export const QUARANTINE_AFTER = 3;

export interface QuarantineStore {
  /** The reason, if this file identity is quarantined. */
  reasonFor(identity: string): string | null;
  add(identity: string, filePath: string, reason: string): void;
}

/** A model file as the engine asked for it: reloaded after a restart, blamed for a crash while it loads. */
export interface Wanted {
  readonly filePath: string;
  readonly identity: string;
  readonly name: string;
  readonly options: LoadOptions;
}

export function defaultBackoff(consecutiveCrashes: number): number {
  return Math.min(10_000, 250 * 2 ** Math.max(0, consecutiveCrashes - 1));
}

export function describeExit(exit: { code: number | null; signal: string | null }): string {
  if (exit.signal !== null) return exit.signal === 'SIGKILL' ? 'it was killed (SIGKILL), possibly for lack of memory' : `it was stopped by ${exit.signal}`;
  if (exit.code === 134 || exit.code === 133) return `it aborted (exit code ${exit.code})`;
  return `it exited with code ${exit.code ?? 'unknown'}`;
}

const INITIAL_STATE: RuntimeState = {
  status: 'stopped',
  hardware: null,
  model: null,
  loadProgress: null,
  memoryBytes: null,
  lastCrash: null,
  restarts: 0,
};

/** Requests on the embedding and ranking models, apart from the chat model's state. */
const AUXILIARY_OPS: ReadonlySet<RuntimeOp> = new Set(['embed', 'embeddingInfo', 'tokenize', 'rank']);

export interface SupervisorOptions {
  readonly launcher: RuntimeLauncher;
  /** Requests go to the process the supervisor connects; its messages are handed over. */
  readonly protocol: RuntimeProtocol;
  readonly quarantine: QuarantineStore;
  readonly onState: (state: RuntimeState) => void;
  readonly log?: ((level: string, message: string) => void) | undefined;
  readonly readyTimeoutMs: number;
  readonly backoffMs: (consecutiveCrashes: number) => number;
  /** The backends the policy allows and the runtime packs installed, asked at every start. */
  readonly backends?: (() => BackendChoice | Promise<BackendChoice>) | undefined;
  /** Once the process is ready and configured: reads the hardware and reloads `reload`, the model it had. */
  readonly restore: (reload: Wanted | null) => Promise<void>;
}

export interface Supervisor {
  state(): RuntimeState;
  setState(patch: Partial<RuntimeState>): void;
  /** Waits until the process is up and not loading: after a crash, the next request waits for the restart. */
  settled(): Promise<void>;
  pid(): number | null;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The model loaded (reloaded after a restart) and the one loading (blamed if the process dies meanwhile). */
  readonly models: { loaded: Wanted | null; loading: Wanted | null };
  /** `wanted` loaded: it is what a restart reloads, and neither it nor the process has crashes held against it. */
  loadSucceeded(wanted: Wanted): void;
}

export function createSupervisor(options: SupervisorOptions): Supervisor {
  const { protocol, readyTimeoutMs } = options;
  let state: RuntimeState = INITIAL_STATE;
  let child: RuntimeChild | null = null;
  let stopping = false;
  let consecutiveCrashes = 0;
  const loadCrashes = new Map<string, number>();
  let settleWaiters: (() => void)[] = [];
  const models: Supervisor['models'] = { loaded: null, loading: null };
  /** Why runtime packs are no longer offered in this session, after one crashed the process. */
  let packsSetAside: string | null = null;

  const setState = (patch: Partial<RuntimeState>) => {
    state = { ...state, ...patch };
    options.onState(state);
    if (state.status === 'idle' || state.status === 'ready' || state.status === 'stopped') {
      const waiters = settleWaiters;
      settleWaiters = [];
      for (const wake of waiters) wake();
    }
  };

  const settled = (): Promise<void> => {
    if (state.status === 'idle' || state.status === 'ready') return Promise.resolve();
    if (state.status === 'stopped') return Promise.reject(new AppError('unavailable', 'The inference process is not running.'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new AppError('unavailable', 'The inference process did not become ready in time.')), readyTimeoutMs);
      settleWaiters.push(() => {
        clearTimeout(timer);
        if (state.status === 'stopped') reject(new AppError('unavailable', 'The inference process is not running.'));
        else resolve();
      });
    });
  };

  function spawn(): Promise<void> {
    const current = options.launcher();
    child = current;
    protocol.connect(current);
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new AppError('unavailable', 'The inference process did not start.')), readyTimeoutMs);
      current.onMessage((raw) => {
        if (child !== current) return;
        const parsed = RuntimeMessage.safeParse(raw);
        if (parsed.success && parsed.data.type === 'ready') {
          clearTimeout(timer);
          resolve();
        }
        protocol.handle(raw);
      });
      current.onExit((exit) => {
        clearTimeout(timer);
        reject(new AppError('runtime_crashed', `The inference process stopped: ${describeExit(exit)}.`));
        if (child === current) onExit(exit);
      });
    });
    return ready.then(async () => {
      if (options.backends !== undefined) {
        // Before the first `info`: that is when the inference process picks its binaries.
        try {
          const choice = await options.backends();
          // A pack that passed node-llama-cpp's own test but then took the process down is not
          // offered again in this session: the restart comes back on the built-in binaries.
          await protocol.request('configure', {
            choice: packsSetAside === null ? choice : { ...choice, packs: [], notices: [...choice.notices, packsSetAside].slice(0, 32) },
          }).result;
        } catch (error) {
          options.log?.(
            'warn',
            `Runtime packs and the policy's backends could not be applied; the built-in binaries are used: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
      await options.restore(models.loaded);
    });
  }

  function onExit(exit: { code: number | null; signal: string | null }): void {
    child = null;
    protocol.connect(null);
    const source = state.hardware?.backendSource;
    if (!stopping && source?.kind === 'pack' && packsSetAside === null) {
      packsSetAside = `The runtime pack ${source.package} (bundle ${source.bundleId} v${source.bundleVersion}) stopped the inference process, so it is set aside until Soberana restarts; the built-in binaries are used.`;
    }
    if (stopping) {
      setState({ status: 'stopped', memoryBytes: null });
      return;
    }
    const pending = protocol.pending();
    const during = pending.some((entry) => entry.op === 'load')
      ? 'load'
      : pending.some((entry) => entry.op === 'generate' || entry.op === 'chat')
        ? 'generate'
        : 'idle';
    const reason = `The inference process stopped: ${describeExit(exit)}.`;
    let message = reason;
    const loading = models.loading;
    if (during === 'load' && loading !== null) {
      const crashes = (loadCrashes.get(loading.identity) ?? 0) + 1;
      loadCrashes.set(loading.identity, crashes);
      if (crashes >= QUARANTINE_AFTER) {
        const why = `${loading.name} stopped the model loader ${crashes} times in a row, so it has been quarantined and will not be loaded again.`;
        options.quarantine.add(loading.identity, loading.filePath, why);
        loadCrashes.delete(loading.identity);
        message = `${reason} ${why}`;
      } else {
        message = `${reason} This happened while loading ${loading.name} (${crashes} of ${QUARANTINE_AFTER} before it is quarantined).`;
      }
      models.loaded = null; // never reload a file that was being loaded when the process died
    } else if (during === 'generate') {
      message = `${reason} The reply was cut short. Soberana is restarting it; try again in a moment.`;
    } else if (pending.some((entry) => AUXILIARY_OPS.has(entry.op))) {
      message = `${reason} Soberana is restarting it; try again in a moment.`;
    }
    protocol.rejectAll(() => new AppError('runtime_crashed', message, describeExit(exit)));
    consecutiveCrashes += 1;
    setState({
      status: 'crashed',
      model: null,
      loadProgress: null,
      memoryBytes: null,
      lastCrash: { at: new Date().toISOString(), reason: message, during },
    });
    setTimeout(() => {
      if (stopping) return;
      setState({ status: 'restarting', restarts: state.restarts + 1 });
      spawn().catch((error: unknown) => options.log?.('error', `Restart failed: ${error instanceof Error ? error.message : String(error)}`));
    }, options.backoffMs(consecutiveCrashes));
  }

  return {
    state: () => state,
    setState,
    settled,
    pid: () => child?.pid ?? null,
    models,

    loadSucceeded(wanted) {
      models.loaded = wanted;
      loadCrashes.delete(wanted.identity);
      consecutiveCrashes = 0;
    },

    async start() {
      if (child !== null) return;
      stopping = false;
      setState({ status: 'starting' });
      await spawn();
    },

    async stop() {
      stopping = true;
      const current = child;
      if (current === null) {
        setState({ status: 'stopped' });
        return;
      }
      const exited = new Promise<void>((resolve) => current.onExit(() => resolve()));
      current.kill();
      await exited;
    },
  };
}
