import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Caller } from '../../electron/common/handlers.ts';
import type { Router } from '../../electron/main/ipc/router.ts';
import type { ServerTransport } from '../../electron/main/ipc/transport.ts';
import { isLoopbackAddress } from '../../electron/main/security/policy.ts';
import { parseClientMessage, WS_PATH, type ServerMessage } from './protocol.ts';

// The e2e harness's transport: the same router, over a WebSocket that only a
// loopback peer holding this run's random token can open. It lives under e2e/
// because electron/ may not import network modules.

export interface UpgradeRequest {
  readonly remoteAddress: string | undefined;
  readonly url: string | undefined;
  readonly origin: string | undefined;
}

export type UpgradeDecision = { readonly ok: true; readonly caller: Caller } | { readonly ok: false; readonly status: 401 | 403 | 404 };

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Pure: may this upgrade request open a socket, and as which caller? */
export function checkUpgrade(request: UpgradeRequest, token: string): UpgradeDecision {
  if (!isLoopbackAddress(request.remoteAddress)) return { ok: false, status: 403 };
  let url: URL;
  try {
    url = new URL(request.url ?? '', 'http://127.0.0.1');
  } catch {
    return { ok: false, status: 404 };
  }
  if (url.pathname !== WS_PATH) return { ok: false, status: 404 };
  const given = url.searchParams.get('token');
  if (given === null || !sameToken(given, token)) return { ok: false, status: 401 };
  // The Origin header is the page's origin; the router decides whether it is trusted.
  return { ok: true, caller: { origin: request.origin ?? 'null', isMainFrame: true } };
}

function refuse(socket: Duplex, status: number): void {
  const reason = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Not Found';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export interface WsTransport extends ServerTransport {
  readonly connectionCount: () => number;
}

export function createWsTransport(server: Server, token: string): WsTransport {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  const sockets = new Set<WebSocket>();

  const send = (socket: WebSocket, message: ServerMessage) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  };

  return {
    connectionCount: () => sockets.size,

    listen(router: Router) {
      const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
        const decision = checkUpgrade({ remoteAddress: request.socket.remoteAddress, url: request.url, origin: request.headers.origin }, token);
        if (!decision.ok) {
          refuse(socket, decision.status);
          return;
        }
        wss.handleUpgrade(request, socket, head, (ws) => accept(ws, decision.caller));
      };

      const accept = (ws: WebSocket, caller: Caller) => {
        sockets.add(ws);
        const streams = new Map<number, AbortController>();
        ws.on('message', (data) => {
          const message = parseClientMessage(data.toString());
          if (message === null) return;
          if (message.t === 'call') {
            void router.call(caller, message.name, message.input).then((result) => send(ws, { t: 'result', id: message.id, result }));
          } else if (message.t === 'stream') {
            const controller = new AbortController();
            streams.set(message.id, controller);
            void router
              .stream(caller, message.name, message.input, (frame) => send(ws, { t: 'frame', id: message.id, frame }), controller.signal)
              .finally(() => streams.delete(message.id));
          } else {
            streams.get(message.id)?.abort();
          }
        });
        // The page went away: abort everything it started.
        ws.on('close', () => {
          sockets.delete(ws);
          for (const controller of streams.values()) controller.abort();
        });
      };

      server.on('upgrade', onUpgrade);
      return () => {
        server.off('upgrade', onUpgrade);
        for (const socket of sockets) socket.terminate();
        wss.close();
      };
    },

    broadcast(name, payload) {
      for (const socket of sockets) send(socket, { t: 'event', name, payload });
    },
  };
}
