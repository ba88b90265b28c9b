import type { z } from 'zod';
import type { StreamFrame } from '../../../electron/common/api.ts';
import type { Contract } from '../../../electron/common/contract/index.ts';
import type { AppErrorData, Result } from '../../../electron/common/result.ts';

// The renderer's one way to reach the main process. Stores call this module and
// nothing else; nothing else touches `window.api` (lint enforces it).

type NameOfKind<K extends string> = { [N in keyof Contract]: Contract[N]['kind'] extends K ? N : never }[keyof Contract];
export type RpcName = NameOfKind<'rpc'>;
export type StreamName = NameOfKind<'stream'>;
export type EventName = NameOfKind<'event'>;

type Def<N extends keyof Contract> = Contract[N];
export type RpcInput<N extends RpcName> = z.input<Extract<Def<N>, { kind: 'rpc' }>['input']>;
export type RpcOutput<N extends RpcName> = z.output<Extract<Def<N>, { kind: 'rpc' }>['output']>;
export type StreamInput<N extends StreamName> = z.input<Extract<Def<N>, { kind: 'stream' }>['input']>;
export type StreamEvent<N extends StreamName> = z.output<Extract<Def<N>, { kind: 'stream' }>['event']>;
export type EventPayload<N extends EventName> = z.output<Extract<Def<N>, { kind: 'event' }>['payload']>;

type AnyFn = (...args: unknown[]) => unknown;

function endpoint(name: string): AnyFn {
  const dot = name.indexOf('.');
  const group = (window.api as unknown as Record<string, Record<string, AnyFn>>)[name.slice(0, dot)];
  const fn = group?.[name.slice(dot + 1)];
  if (typeof fn !== 'function') throw new Error(`window.api has no ${name}`);
  return fn;
}

const lost: AppErrorData = { code: 'unavailable', message: 'Soberana’s background service did not answer.' };

// Some refusals concern the whole app, not the screen that met them (an audit log that
// cannot record refuses every audited action): the shell listens for them here.
const errorListeners = new Set<(error: AppErrorData) => void>();

/** Calls `listener` with every error an endpoint returns, whichever store made the call. */
export function onCallError(listener: (error: AppErrorData) => void): () => void {
  errorListeners.add(listener);
  return () => void errorListeners.delete(listener);
}

function failed<T extends Result<unknown>>(result: T): T {
  if (!result.ok) for (const listener of errorListeners) listener(result.error);
  return result;
}

export async function call<N extends RpcName>(name: N, input: RpcInput<N>): Promise<Result<RpcOutput<N>>> {
  try {
    return failed((await endpoint(name)(input)) as Result<RpcOutput<N>>);
  } catch {
    return { ok: false, error: lost };
  }
}

/**
 * Runs a stream, handing each event to `onEvent`. Resolves when the stream ends, fails
 * or is cancelled through `signal`.
 */
export function stream<N extends StreamName>(
  name: N,
  input: StreamInput<N>,
  onEvent: (event: StreamEvent<N>) => void,
  signal?: AbortSignal,
): Promise<Result<void>> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve({ ok: false, error: { code: 'cancelled', message: 'Cancelled.' } });
      return;
    }
    const cancel = endpoint(name)(input, (frame: StreamFrame<StreamEvent<N>>) => {
      if (frame.type === 'event') onEvent(frame.event);
      else {
        signal?.removeEventListener('abort', onAbort);
        resolve(frame.type === 'end' ? { ok: true, value: undefined } : failed({ ok: false, error: frame.error }));
      }
    }) as () => void;
    const onAbort = () => {
      cancel();
      resolve({ ok: false, error: { code: 'cancelled', message: 'Cancelled.' } });
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function on<N extends EventName>(name: N, listener: (payload: EventPayload<N>) => void): () => void {
  return endpoint(name)(listener) as () => void;
}
