import type { StreamFrame } from '../../electron/common/api.ts';
import type { Result } from '../../electron/common/result.ts';

// Messages of the harness's WebSocket. One socket carries every call; ids pair
// replies with requests, and each stream gets its own id, as each gets its own
// MessagePort in Electron.

export type ClientMessage =
  | { readonly t: 'call'; readonly id: number; readonly name: string; readonly input: unknown }
  | { readonly t: 'stream'; readonly id: number; readonly name: string; readonly input: unknown }
  | { readonly t: 'cancel'; readonly id: number };

export type ServerMessage =
  | { readonly t: 'result'; readonly id: number; readonly result: Result<unknown> }
  | { readonly t: 'frame'; readonly id: number; readonly frame: StreamFrame<unknown> }
  | { readonly t: 'event'; readonly name: string; readonly payload: unknown };

export const WS_PATH = '/__soberana/ws';

export function parseClientMessage(raw: string): ClientMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const message = value as Record<string, unknown>;
  if (!Number.isSafeInteger(message.id)) return null;
  if ((message.t === 'call' || message.t === 'stream') && typeof message.name === 'string') return message as ClientMessage;
  if (message.t === 'cancel') return message as ClientMessage;
  return null;
}
