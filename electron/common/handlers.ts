import type { z } from 'zod';
import type { EndpointDef, RpcDef, StreamDef } from './contract/define.ts';
import type { Result } from './result.ts';

/** Who is calling, as the transport saw it. Checked by the router before anything else. */
export interface Caller {
  readonly origin: string;
  readonly isMainFrame: boolean;
}

export interface CallContext {
  readonly caller: Caller;
  /** Aborted when the caller cancels, its port closes, or its window goes away. */
  readonly signal: AbortSignal;
}

export type RpcHandler<D extends RpcDef> = (
  input: z.output<D['input']>,
  ctx: CallContext,
) => Promise<Result<z.input<D['output']>>> | Result<z.input<D['output']>>;

/** A stream handler yields events; it throws an AppError to fail the stream. */
export type StreamHandler<D extends StreamDef> = (input: z.output<D['input']>, ctx: CallContext) => AsyncIterable<z.input<D['event']>>;

type HandlerFor<D> = D extends RpcDef ? RpcHandler<D> : D extends StreamDef ? StreamHandler<D> : never;
type CallableKeys<C> = { [K in keyof C]: C[K] extends RpcDef | StreamDef ? K : never }[keyof C];

/** One handler per rpc and stream endpoint: leaving one out is a compile error. */
export type Handlers<C extends Record<string, EndpointDef>> = { readonly [K in CallableKeys<C>]: HandlerFor<C[K]> };
