import type { z } from 'zod';
import type { StreamFrame } from '../../common/api.ts';
import type { EndpointDef, EventDef } from '../../common/contract/define.ts';
import type { Caller, Handlers } from '../../common/handlers.ts';
import { AppError, type AppErrorData, type Result } from '../../common/result.ts';
import { isTrustedCaller } from '../security/policy.ts';

export interface RouterOptions {
  /** Origins whose main frame may call, e.g. `app://soberana`. */
  readonly trustedOrigins: readonly string[];
  /** Validate handler outputs and stream events: on in development and test builds. */
  readonly validateOutputs: boolean;
  /** Where internal failures are reported; their text never reaches the renderer. */
  readonly onInternalError?: (endpoint: string, error: unknown) => void;
}

/** What a transport drives. Transports never see handlers or schemas. */
export interface Router {
  call(caller: Caller, name: string, input: unknown): Promise<Result<unknown>>;
  /** Runs a stream to completion, sending frames to `send`. Stops sending once `signal` aborts. */
  stream(caller: Caller, name: string, input: unknown, send: (frame: StreamFrame<unknown>) => void, signal: AbortSignal): Promise<void>;
  /** Validates a broadcast payload; returns null when it does not match the contract. */
  checkEvent(name: string, payload: unknown): { readonly ok: true; readonly payload: unknown } | null;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

export function createRouter<C extends Record<string, EndpointDef>>(contract: C, handlers: Handlers<C>, options: RouterOptions): Router {
  const table = handlers as unknown as Record<string, (input: unknown, ctx: unknown) => unknown>;

  function admit(caller: Caller, name: string, kind: 'rpc' | 'stream', input: unknown): { ok: true; value: unknown } | { ok: false; error: AppErrorData } {
    if (!isTrustedCaller(caller, options.trustedOrigins)) {
      return { ok: false, error: { code: 'forbidden', message: 'This caller is not allowed to use the app interface.' } };
    }
    const def = Object.hasOwn(contract, name) ? contract[name] : undefined;
    if (def === undefined || def.kind !== kind || typeof table[name] !== 'function') {
      return { ok: false, error: { code: 'unknown_endpoint', message: `There is no ${kind} endpoint named "${String(name)}".` } };
    }
    const parsed = def.input.safeParse(input);
    if (!parsed.success) {
      return { ok: false, error: { code: 'bad_request', message: 'The request was malformed.', details: describeIssues(parsed.error) } };
    }
    return { ok: true, value: parsed.data };
  }

  function internal(name: string, error: unknown): AppErrorData {
    if (error instanceof AppError) return error.toData();
    options.onInternalError?.(name, error);
    return { code: 'internal', message: 'Something went wrong inside Soberana. The details are in the log.' };
  }

  return {
    async call(caller, name, input) {
      const admitted = admit(caller, name, 'rpc', input);
      if (!admitted.ok) return admitted;
      const def = contract[name] as Extract<EndpointDef, { kind: 'rpc' }>;
      let result: Result<unknown>;
      try {
        result = (await table[name]!(admitted.value, { caller, signal: new AbortController().signal })) as Result<unknown>;
      } catch (error) {
        return { ok: false, error: internal(name, error) };
      }
      if (!result.ok) return result;
      // Parsing also strips fields a handler added by mistake, so outputs stay exactly the contract.
      if (options.validateOutputs) {
        const parsed = def.output.safeParse(result.value);
        if (!parsed.success) return { ok: false, error: internal(name, new Error(`Invalid output: ${describeIssues(parsed.error)}`)) };
        return { ok: true, value: parsed.data };
      }
      return result;
    },

    async stream(caller, name, input, send, signal) {
      const admitted = admit(caller, name, 'stream', input);
      if (!admitted.ok) {
        send({ type: 'error', error: admitted.error });
        return;
      }
      const def = contract[name] as Extract<EndpointDef, { kind: 'stream' }>;
      const emitIfLive = (frame: StreamFrame<unknown>) => {
        if (!signal.aborted) send(frame);
      };
      try {
        const events = table[name]!(admitted.value, { caller, signal }) as AsyncIterable<unknown>;
        for await (const event of events) {
          if (signal.aborted) break; // `break` runs the handler's finally blocks.
          if (options.validateOutputs) {
            const parsed = def.event.safeParse(event);
            if (!parsed.success) throw new Error(`Invalid stream event: ${describeIssues(parsed.error)}`);
            emitIfLive({ type: 'event', event: parsed.data });
          } else {
            emitIfLive({ type: 'event', event });
          }
        }
        emitIfLive(signal.aborted ? { type: 'error', error: { code: 'cancelled', message: 'Cancelled.' } } : { type: 'end' });
      } catch (error) {
        emitIfLive({ type: 'error', error: signal.aborted ? { code: 'cancelled', message: 'Cancelled.' } : internal(name, error) });
      }
    },

    checkEvent(name, payload) {
      const def = Object.hasOwn(contract, name) ? contract[name] : undefined;
      if (def === undefined || def.kind !== 'event') return null;
      const parsed = (def as EventDef).payload.safeParse(payload);
      return parsed.success ? { ok: true, payload: parsed.data } : null;
    },
  };
}
