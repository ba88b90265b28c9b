import { DEFAULT_API_PORT } from '../common/contract/api.ts';
import { createCore } from '../main/services/core.ts';
import { createHttpApi } from '../server/http-api.ts';
import { intOption, type Command } from './command.ts';
import { EXIT } from './exit-codes.ts';

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: ['The local API listens on 127.0.0.1 and ::1 only'] };

/** Resolves when the signal aborts (SIGINT, via main) or the process gets SIGTERM. */
function untilStopped(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGTERM', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', done, { once: true });
    process.once('SIGTERM', done);
  });
}

export const serve: Command = {
  summary: 'Serve the local OpenAI- and Ollama-compatible API (loopback only) until stopped',
  help: `Usage: soberana serve [--port N] [--data-dir DIR] [--json]

Starts the local API without a window, whether or not it is turned on in Settings: the
same models, policy, PII rules and audit log as the app. It listens on 127.0.0.1 and ::1
only, at --port (default: the port in Settings, ${DEFAULT_API_PORT} unless changed), and runs
until Ctrl+C or SIGTERM. The machine policy still decides whether it may run (api.allowed).

Every request needs a token: soberana api tokens create --name NAME --scope chat`,
  options: { port: { type: 'string' } },
  async run({ dataDir, output, values, signal }) {
    const port = intOption(values['port'], 'port', 1024, 65_535);
    const log = (level: string, message: string): void => {
      if (level === 'error' || level === 'warn') output.err(`[soberana] ${message}`);
    };
    const core = await createCore({ dataDir, host: HOST, log, apiServer: (service) => createHttpApi(service, { log }) });
    try {
      // Not awaited before listening: requests wait for the inference process as the app's chats do.
      const runtime = core.runtime
        .start()
        .catch((error: unknown) => output.err(`[soberana] The inference process could not start: ${error instanceof Error ? error.message : String(error)}`));
      const status = await core.api.controller.serve(port);
      if (status.state !== 'listening') {
        output.err(`The local API is not listening: ${status.problem ?? status.state}`);
        await runtime;
        return EXIT.problem;
      }
      output.out(
        output.json
          ? JSON.stringify({ addresses: status.addresses, port: status.port })
          : `The local API listens on ${status.addresses.join(' and ')}. Press Ctrl+C to stop.`,
      );
      await untilStopped(signal);
      await runtime;
      return EXIT.ok;
    } finally {
      await core.close();
    }
  },
};
