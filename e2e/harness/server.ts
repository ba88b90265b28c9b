import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { contract } from '../../electron/common/contract/index.ts';
import { createRouter } from '../../electron/main/ipc/router.ts';
import { serve } from '../../electron/main/ipc/transport.ts';
import { contentSecurityPolicy } from '../../electron/main/security/policy.ts';
import { readRendererFile, RENDERER_HEADERS } from '../../electron/main/security/renderer-files.ts';
import { installEgressGuard } from '../../electron/guard/egress.ts';
import { BUILT_IN_GUARDS } from '../../electron/main/services/app-info.ts';
import { writeFileAtomic } from '../../electron/main/services/atomic-file.ts';
import { createCore, type Core } from '../../electron/main/services/core.ts';
import { createHttpApi } from '../../electron/server/http-api.ts';
import { createDropTokens } from '../../electron/main/services/files.ts';
import { WS_PATH } from './protocol.ts';
import { createWsTransport } from './ws-transport.ts';

// The e2e harness: the real services and router in Node, the real renderer bundle
// over loopback HTTP, and `window.api` over a token-guarded loopback WebSocket.

const here = path.dirname(fileURLToPath(import.meta.url));
export const RENDERER_ROOT = path.resolve(here, '../../out/renderer');

export interface Harness {
  readonly url: string;
  /** What the next "choose" or "save" dialog returns, as if the user picked it: a file, several, a folder; null cancels. */
  setNextPick(chosen: string | readonly string[] | null): void;
  /** What the preload and the main process do with a drop in Electron: keeps the paths under a token and announces it with `files.dropped`. */
  drop(paths: readonly string[]): void;
  readonly token: string;
  readonly dataDir: string;
  readonly core: Core;
  /** Script to run in the page before the app; gives it `window.api`. */
  readonly initScript: string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly rendererRoot?: string;
  /** A fresh temporary directory when omitted; removed on close. */
  readonly dataDir?: string;
  /** Start the inference process (default true). */
  readonly runtime?: boolean;
  /** A machine policy file in a temporary "managed" location, instead of the OS's. */
  readonly policyFile?: string;
}

export async function bundleBrowserBridge(socketUrl: string): Promise<string> {
  const result = await build({
    entryPoints: [path.join(here, 'browser-bridge.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    define: { __HARNESS_SOCKET_URL__: JSON.stringify(socketUrl) },
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

function listen(server: Server): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo));
  });
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  // The harness runs the services as the main process would, so with the same egress guard;
  // its own HTTP and WebSocket servers are on loopback, which the guard allows.
  installEgressGuard({ process: 'main', onBlocked: ({ kind, target }) => console.error(`[egress] refused ${kind} to ${target}`) });
  const rendererRoot = options.rendererRoot ?? RENDERER_ROOT;
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'soberana-e2e-')));
  const token = randomBytes(24).toString('base64url');
  const csp = contentSecurityPolicy();

  let nextPick: string | readonly string[] | null = null;
  const asList = (): string[] => (nextPick === null ? [] : typeof nextPick === 'string' ? [nextPick] : [...nextPick]);
  const drops = createDropTokens();
  const core = await createCore({
    dataDir,
    ...(options.policyFile === undefined ? {} : { policyFile: options.policyFile }),
    // The harness's file picker port: the spec chooses the path the "dialog" returns.
    filePicker: {
      pickModelFile: async () => asList()[0] ?? null,
      pickImportFiles: async () => asList(),
      pickDocuments: async () => asList(),
      pickFolder: async () => asList()[0] ?? null,
      droppedFiles: async (dropToken) => drops.take(dropToken),
      pickOpenFile: async () => asList()[0] ?? null,
      // As if the user chose this path in the save dialog; null cancels. A folder: as if the
      // user kept the name the app proposed there (specs check that name, e.g. a marking's tag).
      saveFile: async (defaultName, content) => {
        const chosen = asList()[0] ?? null;
        if (chosen === null) return null;
        const target = (await stat(chosen).catch(() => null))?.isDirectory() === true ? path.join(chosen, path.basename(defaultName)) : chosen;
        await writeFileAtomic(target, content);
        return target;
      },
    },
    log: (level, message) => {
      if (level === 'error') console.error(`[runtime] ${message}`);
    },
    // The real local API server, as Electron's main wires it (off until Settings turns it on).
    apiServer: (service) => createHttpApi(service, { log: (level, message) => level !== 'info' && console.error(`[api] ${message}`) }),
    host: {
      kind: 'test-harness',
      electronVersion: null,
      chromeVersion: null,
      networkGuards: [...BUILT_IN_GUARDS, 'Content Security Policy allows only the app itself', 'Test transport bound to 127.0.0.1 with a per-run token'],
    },
  });

  const server = createServer((request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405).end();
      return;
    }
    const pathname = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    void readRendererFile(rendererRoot, pathname).then((file) => {
      if (file.status !== 200) {
        response.writeHead(file.status).end();
        return;
      }
      response.writeHead(200, { ...RENDERER_HEADERS, 'Content-Type': file.contentType, 'Content-Security-Policy': csp, 'Cache-Control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : file.body);
    });
  });

  const address = await listen(server);
  const origin = `http://127.0.0.1:${address.port}`;
  const router = createRouter(contract, core.handlers, {
    trustedOrigins: [origin],
    validateOutputs: true,
    onInternalError: (endpoint, error) => console.error(`[harness ${endpoint}]`, error),
  });
  const stop = serve(router, core.bus, createWsTransport(server, token));
  if (options.runtime !== false) {
    // One thread: tests run on shared 2-core machines, where more threads make tiny models crawl.
    const ctx = { caller: { origin: 'harness', isMainFrame: true }, signal: new AbortController().signal };
    const current = await core.handlers['settings.get']({}, ctx);
    // Only when it changes anything: a settings change is an audited action, and a data folder
    // whose audit log cannot record (a test of failing closed) refuses it.
    if (current.ok && current.value.runtime.threads !== 1) await core.handlers['settings.update']({ runtime: { ...current.value.runtime, threads: 1 } }, ctx);
    // Not awaited: the app shows the runtime starting, as it does in Electron.
    core.runtime.start().catch((error: unknown) => console.error('[harness] runtime failed to start', error));
  }
  const initScript = await bundleBrowserBridge(`ws://127.0.0.1:${address.port}${WS_PATH}?token=${token}`);

  return {
    url: `${origin}/`,
    token,
    dataDir,
    core,
    initScript,
    setNextPick(chosen) {
      nextPick = chosen;
    },
    drop(paths) {
      core.bus.emit('files.dropped', { dropToken: drops.add(paths) });
    },
    async close() {
      stop();
      await core.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
