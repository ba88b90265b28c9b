// First: the egress guard, before any other module (node-llama-cpp included) loads.
import './egress.ts';
import { checkEgress } from '../guard/probe.ts';
import { RuntimeRequest, type Delta, type RuntimeFailure, type RuntimeMessage } from '../common/runtime/protocol.ts';
import { createLlamaHost } from './llama-host.ts';
import { RuntimeError } from './runtime-error.ts';
import { connectToParent } from './parent-port.ts';

// The inference process. llama.cpp parses untrusted files in native code, so it runs
// here, apart from the main process, which survives this process dying and restarts it.

const port = connectToParent();
const send = (message: RuntimeMessage) => port.post(message);
const log = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => send({ type: 'log', level, message });
const host = createLlamaHost(log);
const running = new Map<number, AbortController>();

// A test seam, not a fake: it only delays a real load so that a spec can kill the
// real process while it is loading. Ignored unless the variable is set.
const testLoadDelayMs = Number(process.env.SOBERANA_TEST_LOAD_DELAY_MS ?? 0);

/** Reasoning goes on the wire only when there is some. */
function deltaMessage(id: number, { text, reasoning, tokens }: Delta): RuntimeMessage {
  return reasoning === '' ? { type: 'delta', id, text, tokens } : { type: 'delta', id, text, tokens, reasoning };
}

function failureOf(error: unknown): RuntimeFailure {
  if (error instanceof RuntimeError) return error.failure;
  return { code: 'internal', message: 'The inference process failed.', details: error instanceof Error ? error.message : String(error) };
}

async function handle(request: RuntimeRequest): Promise<unknown> {
  switch (request.op) {
    case 'info':
      return host.info();
    case 'load':
      if (testLoadDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, testLoadDelayMs));
      return host.load(request.path, request.options, (progress) => send({ type: 'progress', id: request.id, progress }));
    case 'unload':
      return { unloaded: await host.unload() };
    case 'generate': {
      const controller = new AbortController();
      running.set(request.id, controller);
      try {
        return await host.generate(request.params, controller.signal, (delta) => send(deltaMessage(request.id, delta)));
      } finally {
        running.delete(request.id);
      }
    }
    case 'chat': {
      const controller = new AbortController();
      running.set(request.id, controller);
      try {
        return await host.chat(request.params, controller.signal, (delta) => send(deltaMessage(request.id, delta)));
      } finally {
        running.delete(request.id);
      }
    }
    case 'complete': {
      const controller = new AbortController();
      running.set(request.id, controller);
      try {
        return await host.complete(request.params, controller.signal, (delta) => send(deltaMessage(request.id, delta)));
      } finally {
        running.delete(request.id);
      }
    }
    case 'embed':
      return host.embed(request.path, request.texts, request.threads);
    case 'embeddingInfo':
      return host.embeddingInfo(request.path, request.threads);
    case 'tokenize':
      return { counts: await host.countTokens(request.path, request.texts) };
    case 'rank':
      return { scores: await host.rank(request.path, request.query, request.documents, request.threads) };
    case 'abort': {
      const controller = running.get(request.target);
      controller?.abort();
      return { aborted: controller !== undefined };
    }
    case 'memory':
      return { rss: process.memoryUsage().rss };
    case 'fit':
      return host.fit(request.path, { contextSize: request.contextSize, gpuLayers: request.gpuLayers });
    case 'egressCheck':
      return checkEgress();
    case 'configure':
      return { configured: host.configure(request.choice) };
  }
}

port.onMessage((raw) => {
  const parsed = RuntimeRequest.safeParse(raw);
  if (!parsed.success) {
    const id = typeof raw === 'object' && raw !== null && Number.isInteger((raw as { id?: unknown }).id) ? (raw as { id: number }).id : -1;
    send({ type: 'result', id, result: { ok: false, error: { code: 'bad_request', message: 'Malformed request.', details: parsed.error.message } } });
    return;
  }
  const request = parsed.data;
  handle(request).then(
    (value) => send({ type: 'result', id: request.id, result: { ok: true, value } }),
    (error: unknown) => send({ type: 'result', id: request.id, result: { ok: false, error: failureOf(error) } }),
  );
});

send({ type: 'ready', pid: process.pid });
