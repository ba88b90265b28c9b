/// <reference lib="dom" />
import { buildApi, type Bridge, type StreamFrame } from '../../electron/common/api.ts';
import { endpointKinds } from '../../electron/common/contract/endpoints.ts';
import type { Result } from '../../electron/common/result.ts';
import type { ClientMessage, ServerMessage } from './protocol.ts';

// Runs in the page before the app, as Playwright's init script: it plays the part
// of the preload, giving `window.api` over the harness's WebSocket instead of IPC.
// esbuild replaces __HARNESS_SOCKET_URL__ with this run's URL and token.

declare const __HARNESS_SOCKET_URL__: string;

const socket = new WebSocket(__HARNESS_SOCKET_URL__);
const outbox: string[] = [];
const calls = new Map<number, (result: Result<unknown>) => void>();
const streams = new Map<number, (frame: StreamFrame<unknown>) => void>();
const listeners = new Map<string, Set<(payload: unknown) => void>>();
let nextId = 1;

const unavailable = { code: 'unavailable', message: 'The connection to Soberana was lost.' } as const;

function post(message: ClientMessage): void {
  const text = JSON.stringify(message);
  if (socket.readyState === WebSocket.OPEN) socket.send(text);
  else outbox.push(text);
}

socket.addEventListener('open', () => {
  for (const text of outbox.splice(0)) socket.send(text);
});

socket.addEventListener('message', (event: MessageEvent<string>) => {
  const message = JSON.parse(event.data) as ServerMessage;
  if (message.t === 'result') {
    calls.get(message.id)?.(message.result);
    calls.delete(message.id);
  } else if (message.t === 'frame') {
    const onFrame = streams.get(message.id);
    if (message.frame.type !== 'event') streams.delete(message.id);
    onFrame?.(message.frame);
  } else {
    for (const listener of listeners.get(message.name) ?? []) listener(message.payload);
  }
});

socket.addEventListener('close', () => {
  for (const resolve of calls.values()) resolve({ ok: false, error: unavailable });
  for (const onFrame of streams.values()) onFrame({ type: 'error', error: unavailable });
  calls.clear();
  streams.clear();
});

const bridge: Bridge = {
  call(name, input) {
    const id = nextId++;
    return new Promise((resolve) => {
      calls.set(id, resolve);
      post({ t: 'call', id, name, input });
    });
  },
  stream(name, input, onFrame) {
    const id = nextId++;
    streams.set(id, onFrame);
    post({ t: 'stream', id, name, input });
    return () => {
      if (streams.delete(id)) post({ t: 'cancel', id });
    };
  },
  subscribe(name, listener) {
    let set = listeners.get(name);
    if (set === undefined) listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  },
};

Object.defineProperty(window, 'api', { value: buildApi(endpointKinds, bridge), enumerable: true, configurable: false, writable: false });
