import type { ServerResponse } from 'node:http';

// Writing a response: JSON at once, or a stream of events (OpenAI's server-sent events,
// Ollama's newline-delimited JSON). A stream's head is written with its first event, so an
// error that comes before any output (no such model, too many requests) still gets its own
// status; after that, errors travel inside the stream.

export type StreamKind = 'sse' | 'ndjson';

const NO_STORE = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };

export interface Reply {
  /** Headers every response of this request carries (CORS for an allowed origin). */
  readonly extraHeaders: Record<string, string>;
  /** Counts the body bytes written, for the audit record. */
  bytes(): number;
  json(status: number, body: unknown, headers?: Record<string, string>): void;
  /** Opens (on first use) and writes one event. */
  event(kind: StreamKind, data: unknown): void;
  /** SSE's closing `data: [DONE]`. */
  done(): void;
  /** Whether a stream's head went out (then only events can follow). */
  readonly streaming: boolean;
  end(): void;
}

export function createReply(response: ServerResponse, extraHeaders: Record<string, string>): Reply {
  let written = 0;
  let streaming = false;
  const write = (text: string): void => {
    if (response.destroyed || response.writableEnded) return;
    written += Buffer.byteLength(text);
    response.write(text);
  };
  const open = (kind: StreamKind): void => {
    if (streaming) return;
    streaming = true;
    // Deltas go out as soon as they are written: no Nagle delay between small chunks.
    response.socket?.setNoDelay(true);
    response.writeHead(200, {
      ...NO_STORE,
      ...extraHeaders,
      'Content-Type': kind === 'sse' ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson',
      'X-Accel-Buffering': 'no',
    });
    response.flushHeaders();
  };
  return {
    extraHeaders,
    bytes: () => written,
    get streaming() {
      return streaming;
    },
    json(status, body, headers = {}) {
      if (response.headersSent || response.destroyed) {
        response.end();
        return;
      }
      const text = JSON.stringify(body);
      written += Buffer.byteLength(text);
      response.writeHead(status, {
        ...NO_STORE,
        ...extraHeaders,
        ...headers,
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': String(Buffer.byteLength(text)),
      });
      response.end(text);
    },
    event(kind, data) {
      open(kind);
      write(kind === 'sse' ? `data: ${JSON.stringify(data)}\n\n` : `${JSON.stringify(data)}\n`);
    },
    done() {
      write('data: [DONE]\n\n');
    },
    end() {
      if (!response.writableEnded) response.end();
    },
  };
}
