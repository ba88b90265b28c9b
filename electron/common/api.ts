import type { z } from 'zod';
import type { EndpointDef, EndpointKind, EventDef, RpcDef, StreamDef } from './contract/define.ts';
import type { AppErrorData, Result } from './result.ts';

// The shape of `window.api`, and the one function that builds it. The preload (over
// Electron IPC) and the e2e harness (over a loopback WebSocket) both call
// `buildApi`, so the renderer sees the same object on either path.

export type StreamFrame<E> =
  { readonly type: 'event'; readonly event: E } | { readonly type: 'end' } | { readonly type: 'error'; readonly error: AppErrorData };

export type RpcFn<D extends RpcDef> = (input: z.input<D['input']>) => Promise<Result<z.output<D['output']>>>;
/** Starts a stream; frames arrive in order and end with `end` or `error`. Returns a cancel function. */
export type StreamFn<D extends StreamDef> = (input: z.input<D['input']>, onFrame: (frame: StreamFrame<z.output<D['event']>>) => void) => () => void;
/** Subscribes to a broadcast; returns the unsubscribe function. */
export type EventFn<D extends EventDef> = (listener: (payload: z.output<D['payload']>) => void) => () => void;

export type EndpointFn<D extends EndpointDef> = D extends RpcDef ? RpcFn<D> : D extends StreamDef ? StreamFn<D> : D extends EventDef ? EventFn<D> : never;

type NamespaceOf<K> = K extends `${infer N}.${string}` ? N : never;
type MethodOf<K, N extends string> = K extends `${N}.${infer M}` ? M : never;

/** `'app.info'` becomes `api.app.info`. */
export type Api<C extends Record<string, EndpointDef>> = {
  readonly [N in NamespaceOf<keyof C & string>]: {
    readonly [K in keyof C & `${N}.${string}` as MethodOf<K, N>]: EndpointFn<C[K]>;
  };
};

/** What a transport's client side must provide; untyped because the wire is. */
export interface Bridge {
  call(name: string, input: unknown): Promise<Result<unknown>>;
  stream(name: string, input: unknown, onFrame: (frame: StreamFrame<unknown>) => void): () => void;
  subscribe(name: string, listener: (payload: unknown) => void): () => void;
}

export function splitEndpointName(name: string): [namespace: string, method: string] {
  const dot = name.indexOf('.');
  if (dot <= 0 || dot === name.length - 1 || name.indexOf('.', dot + 1) !== -1) {
    throw new Error(`Endpoint name must be "namespace.method": ${name}`);
  }
  return [name.slice(0, dot), name.slice(dot + 1)];
}

/** Builds exactly one function per endpoint, and nothing else, frozen. */
export function buildApi(kinds: Readonly<Record<string, EndpointKind>>, bridge: Bridge): unknown {
  const api: Record<string, Record<string, unknown>> = Object.create(null);
  for (const [name, kind] of Object.entries(kinds)) {
    const [ns, method] = splitEndpointName(name);
    const group = (api[ns] ??= Object.create(null) as Record<string, unknown>);
    group[method] =
      kind === 'rpc'
        ? (input: unknown) => bridge.call(name, input)
        : kind === 'stream'
          ? (input: unknown, onFrame: (frame: StreamFrame<unknown>) => void) => bridge.stream(name, input, onFrame)
          : (listener: (payload: unknown) => void) => bridge.subscribe(name, listener);
  }
  for (const group of Object.values(api)) Object.freeze(group);
  return Object.freeze(api);
}

/** Lists `ns.method` names of an api object, for checking it against the contract. */
export function listApiEndpoints(api: unknown): string[] {
  if (typeof api !== 'object' || api === null) return [];
  const names: string[] = [];
  for (const [ns, group] of Object.entries(api)) {
    if (typeof group !== 'object' || group === null) {
      names.push(ns);
      continue;
    }
    for (const [method, fn] of Object.entries(group)) names.push(typeof fn === 'function' ? `${ns}.${method}` : `${ns}.${method}:${typeof fn}`);
  }
  return names.sort();
}
