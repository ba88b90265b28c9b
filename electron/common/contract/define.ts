import type { z } from 'zod';

// The three kinds of endpoint. Kinds are plain strings so that the preload can
// import the name table without pulling zod into the sandboxed renderer.
export type EndpointKind = 'rpc' | 'stream' | 'event';

export interface RpcDef<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  readonly kind: 'rpc';
  readonly input: I;
  readonly output: O;
}

export interface StreamDef<I extends z.ZodType = z.ZodType, E extends z.ZodType = z.ZodType> {
  readonly kind: 'stream';
  readonly input: I;
  readonly event: E;
}

export interface EventDef<P extends z.ZodType = z.ZodType> {
  readonly kind: 'event';
  readonly payload: P;
}

export type EndpointDef = RpcDef | StreamDef | EventDef;

export type DefOfKind<K extends EndpointKind> = Extract<EndpointDef, { kind: K }>;

export function rpc<I extends z.ZodType, O extends z.ZodType>(def: { input: I; output: O }): RpcDef<I, O> {
  return { kind: 'rpc', input: def.input, output: def.output };
}

export function stream<I extends z.ZodType, E extends z.ZodType>(def: { input: I; event: E }): StreamDef<I, E> {
  return { kind: 'stream', input: def.input, event: def.event };
}

export function event<P extends z.ZodType>(def: { payload: P }): EventDef<P> {
  return { kind: 'event', payload: def.payload };
}
