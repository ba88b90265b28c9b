import type { ApiSettings, ApiStatus } from '../../../common/contract/api.ts';
import { AppError } from '../../../common/result.ts';
import type { Emit } from '../domain/events.ts';
import type { Gate } from '../domain/gate.ts';
import type { EffectivePolicy } from '../policy/schema.ts';
import type { ApiListener } from './types.ts';

// Whether the local API listens: the settings (or `soberana serve`) ask for it, the policy
// allows it, and a server was wired in. The controller starts and stops the listener to match,
// one change at a time, records each start and stop, and tells the app (api.changed).

export interface ApiController {
  status(): ApiStatus;
  /** Starts, restarts or stops the listener to match the settings and the policy; resolves with the status after. */
  apply(): Promise<ApiStatus>;
  /** `soberana serve`: listens whatever settings.api.enabled says (at `port`, or the settings' port), still under the policy. */
  serve(port?: number): Promise<ApiStatus>;
  /** Stops listening for good (the app is closing). */
  close(): Promise<void>;
}

export interface ApiControllerDeps {
  readonly settings: () => ApiSettings;
  readonly policy: () => EffectivePolicy;
  readonly gate: Gate;
  readonly emit: Emit;
  /** null: this process has no server (a CLI command other than serve); the status says so. */
  readonly listener: ApiListener | null;
  readonly changed: (status: ApiStatus) => void;
  readonly log?: ((level: string, message: string) => void) | undefined;
}

interface Running {
  readonly port: number;
  /** The port the settings or `serve` asked for (0: any). */
  readonly asked: number;
  readonly origins: string;
  readonly addresses: readonly string[];
}

function portOf(addresses: readonly string[]): number {
  try {
    return Number(new URL(addresses[0] ?? '').port);
  } catch {
    return 0;
  }
}

const FORBIDDEN = "This machine's policy does not allow the local API.";

export function createApiController(deps: ApiControllerDeps): ApiController {
  const { listener } = deps;
  let running: Running | null = null;
  let forced: { port: number | undefined } | null = null;
  let problem: string | null = null;
  let closed = false;
  let queue: Promise<unknown> = Promise.resolve();

  const status = (): ApiStatus => {
    const settings = deps.settings();
    const policy = deps.policy();
    const state: ApiStatus['state'] = running !== null ? 'listening' : !policy.api.allowed ? 'forbidden' : problem !== null ? 'failed' : 'off';
    return {
      state,
      addresses: running === null ? [] : [...running.addresses],
      port: running?.port ?? forced?.port ?? settings.port,
      problem:
        running !== null
          ? null
          : state === 'forbidden'
            ? FORBIDDEN
            : listener === null
              ? 'This process cannot serve the local API: start the app, or run "soberana serve".'
              : problem,
      allowedScopes: policy.api.scopes === null ? null : [...policy.api.scopes],
      unavailable: listener === null,
    };
  };

  const stop = async () => {
    if (running === null || listener === null) return;
    const was = running;
    running = null;
    try {
      await listener.stop();
    } finally {
      deps.emit({ type: 'api.stopped', data: { addresses: [...was.addresses], port: was.port } });
    }
  };

  const start = async (port: number, allowedOrigins: readonly string[]) => {
    if (listener === null) return;
    try {
      // The policy's api.allowed and, fail closed, an audit log that can record the requests.
      deps.gate.check('api.serve');
    } catch (error) {
      // With the gate's details (e.g. "api.serve: <the missing audit key>"), as the CLI prints a refusal's details.
      problem = error instanceof AppError ? `${error.message}${error.details === undefined ? '' : ` (${error.details})`}` : String(error);
      return;
    }
    try {
      const addresses = await listener.start(port, { allowedOrigins });
      // Port 0 (tests) lets the system choose: the status and the record give the port chosen.
      const actual = port === 0 ? portOf(addresses) : port;
      running = { port: actual, asked: port, origins: JSON.stringify(allowedOrigins), addresses };
      problem = null;
      deps.emit({ type: 'api.started', data: { addresses: [...addresses], port: actual } });
    } catch (error) {
      problem = `The local API could not listen on port ${port}: ${error instanceof Error ? error.message : String(error)}`;
      deps.log?.('warn', problem);
    }
  };

  const reconcile = async () => {
    const settings = deps.settings();
    const wanted = !closed && (forced !== null || settings.enabled) && deps.policy().api.allowed;
    const port = forced?.port ?? settings.port;
    const origins = JSON.stringify(settings.allowedOrigins);
    if (!wanted) {
      problem = null;
      await stop();
      return;
    }
    if (running !== null && running.asked === port && running.origins === origins) return;
    await stop();
    await start(port, settings.allowedOrigins);
  };

  /** One change at a time: a settings change while the listener starts waits for it. */
  const serialized = (step: () => Promise<void>): Promise<ApiStatus> => {
    const before = JSON.stringify(status());
    const run = queue.then(step).then(() => {
      const after = status();
      if (JSON.stringify(after) !== before) deps.changed(after);
      return after;
    });
    queue = run.catch(() => undefined);
    return run;
  };

  return {
    status,
    apply: () => serialized(reconcile),
    serve(port) {
      forced = { port };
      return serialized(reconcile);
    },
    async close() {
      closed = true;
      await serialized(reconcile);
    },
  };
}
