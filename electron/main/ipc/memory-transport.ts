import type { Bridge, StreamFrame } from '../../common/api.ts';
import type { Caller } from '../../common/handlers.ts';
import type { Router } from './router.ts';
import type { ServerTransport } from './transport.ts';

export interface MemoryPair {
  readonly transport: ServerTransport;
  /** Client side, as the preload would see it; pass it to `buildApi`. */
  readonly bridge: Bridge;
  /** Simulates the window going away: every open stream is aborted. */
  disconnect(): void;
}

/**
 * An in-process transport for unit tests. Values are structured-cloned in both
 * directions, as they are over IPC, so nothing passes by reference by accident.
 */
export function createMemoryPair(caller: Caller): MemoryPair {
  let router: Router | null = null;
  const open = new Set<AbortController>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();

  const requireRouter = (): Router => {
    if (router === null) throw new Error('The memory transport is not listening.');
    return router;
  };

  const transport: ServerTransport = {
    listen(next) {
      router = next;
      return () => {
        router = null;
        for (const controller of open) controller.abort();
      };
    },
    broadcast(name, payload) {
      for (const listener of listeners.get(name) ?? []) listener(structuredClone(payload));
    },
  };

  const bridge: Bridge = {
    async call(name, input) {
      return structuredClone(await requireRouter().call(caller, name, structuredClone(input)));
    },
    stream(name, input, onFrame) {
      const controller = new AbortController();
      open.add(controller);
      const send = (frame: StreamFrame<unknown>) => onFrame(structuredClone(frame));
      void requireRouter()
        .stream(caller, name, structuredClone(input), send, controller.signal)
        .finally(() => open.delete(controller));
      return () => controller.abort();
    },
    subscribe(name, listener) {
      let set = listeners.get(name);
      if (set === undefined) listeners.set(name, (set = new Set()));
      set.add(listener);
      return () => void set.delete(listener);
    },
  };

  return {
    transport,
    bridge,
    disconnect() {
      for (const controller of open) controller.abort();
      open.clear();
    },
  };
}
