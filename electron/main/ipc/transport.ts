import type { Bus } from '../services/bus.ts';
import type { Router } from './router.ts';

/**
 * The router's view of a transport: Electron IPC in the app, an in-memory pair in unit
 * tests, a loopback WebSocket in the e2e harness. A transport decides who the caller
 * is; the router decides whether that caller may call.
 */
export interface ServerTransport {
  /** Starts delivering calls to the router; returns a function that stops it and aborts open streams. */
  listen(router: Router): () => void;
  /** Sends an already validated event payload to every connected renderer. */
  broadcast(name: string, payload: unknown): void;
}

/** Binds a router and the service bus to a transport. Only events in the contract leave the process. */
export function serve<E extends Record<string, unknown>>(router: Router, bus: Bus<E>, transport: ServerTransport): () => void {
  const stop = transport.listen(router);
  const off = bus.onAny((name, payload) => {
    const checked = router.checkEvent(name, payload);
    if (checked !== null) transport.broadcast(name, checked.payload);
  });
  return () => {
    off();
    stop();
  };
}
