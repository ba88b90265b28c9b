import { AppError, type ErrorCode } from '../../../../common/result.ts';
import {
  RuntimeMessage,
  RuntimeResultSchemas,
  type Delta,
  type EgressKind,
  type RuntimeFailure,
  type RuntimeOp,
  type RuntimeRequest,
  type RuntimeResults,
} from '../../../../common/runtime/protocol.ts';
import type { RuntimeChild } from '../launcher.ts';

// The request protocol with the inference process: numbered requests, the replies
// waiting for them, and the parsing of what the process sends. The process is a peer
// that can misbehave, so every message is parsed and every result checked against its
// request's schema. Which process it talks to is the supervisor's business (connect).

export interface Pending {
  readonly op: RuntimeOp;
  resolve(value: unknown): void;
  reject(error: AppError): void;
  onProgress?: (progress: number) => void;
  onDelta?: (delta: Delta) => void;
}

export type RequestPayload<K extends RuntimeOp> = Omit<Extract<RuntimeRequest, { op: K }>, 'id' | 'op'>;

export interface ProtocolOptions {
  readonly log?: ((level: string, message: string) => void) | undefined;
  /** The inference process's egress guard refused an attempt to reach the network (for the audit log). */
  readonly onEgressBlocked?: ((attempt: { readonly process: 'inference'; readonly kind: EgressKind; readonly target: string }) => void) | undefined;
}

export interface RuntimeProtocol {
  /** The process requests go to; null while there is none (requests are then refused). */
  connect(child: RuntimeChild | null): void;
  /** A message from the connected process. */
  handle(raw: unknown): void;
  request<K extends RuntimeOp>(
    op: K,
    payload: RequestPayload<K>,
    handlers?: Pick<Pending, 'onProgress' | 'onDelta'>,
  ): { id: number; result: Promise<RuntimeResults[K]> };
  /** Asks the process to stop request `target` (a reply being generated). */
  abort(target: number): void;
  /** The requests waiting for a reply. */
  pending(): readonly Pending[];
  /** Fails every waiting request with an error of its own, and forgets them. */
  rejectAll(error: () => AppError): void;
}

const FAILURE_CODES: Readonly<Record<RuntimeFailure['code'], ErrorCode>> = {
  bad_request: 'bad_request',
  no_model: 'no_model',
  busy: 'busy',
  load_failed: 'rejected_file',
  out_of_memory: 'out_of_memory',
  aborted: 'cancelled',
  internal: 'internal',
};

export function createProtocol(options: ProtocolOptions): RuntimeProtocol {
  let child: RuntimeChild | null = null;
  let nextId = 1;
  const pending = new Map<number, Pending>();

  return {
    connect(next) {
      child = next;
    },

    handle(raw) {
      const parsed = RuntimeMessage.safeParse(raw);
      if (!parsed.success) {
        options.log?.('warn', `Ignored a malformed message from the inference process: ${parsed.error.message}`);
        return;
      }
      const message = parsed.data;
      switch (message.type) {
        case 'ready':
          return;
        case 'log':
          options.log?.(message.level, message.message);
          return;
        case 'egressBlocked':
          try {
            options.onEgressBlocked?.({ process: 'inference', kind: message.kind, target: message.target });
          } catch (error) {
            options.log?.('error', `Could not record a blocked network attempt: ${error instanceof Error ? error.message : String(error)}`);
          }
          return;
        case 'progress':
          pending.get(message.id)?.onProgress?.(message.progress);
          return;
        case 'delta':
          pending.get(message.id)?.onDelta?.({ text: message.text, reasoning: message.reasoning ?? '', tokens: message.tokens });
          return;
        case 'result': {
          const entry = pending.get(message.id);
          if (entry === undefined) return;
          pending.delete(message.id);
          if (!message.result.ok) {
            const failure = message.result.error;
            entry.reject(new AppError(FAILURE_CODES[failure.code], failure.message, failure.details));
            return;
          }
          const value = RuntimeResultSchemas[entry.op].safeParse(message.result.value);
          if (value.success) entry.resolve(value.data);
          else entry.reject(new AppError('internal', 'The inference process sent a malformed reply.', value.error.message));
        }
      }
    },

    request(op, payload, handlers = {}) {
      const id = nextId++;
      const result = new Promise<RuntimeResults[typeof op]>((resolve, reject) => {
        if (child === null) {
          reject(new AppError('unavailable', 'The inference process is not running.'));
          return;
        }
        pending.set(id, { op, resolve: resolve as (value: unknown) => void, reject, ...handlers });
        child.send({ id, op, ...payload });
      });
      return { id, result };
    },

    abort(target) {
      child?.send({ id: nextId++, op: 'abort', target });
    },

    pending: () => [...pending.values()],

    rejectAll(error) {
      for (const entry of pending.values()) entry.reject(error());
      pending.clear();
    },
  };
}
