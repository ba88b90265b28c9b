import { EventEmitter } from 'node:events';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { contract } from '../../electron/common/contract/index.ts';
import { IPC_CHANNELS } from '../../electron/common/contract/channels.ts';
import { app as standInApp, recorded } from './electron-stand-in.ts';

// Loads the BUILT main bundle with the recording stand-in for `electron` (run with
// `node --import ./e2e/stand-ins/register-electron-stand-in.ts e2e/stand-ins/main-probe.ts
// <out/main/index.js>`), lets it start, then exercises what it registered the way Electron
// would call it, and prints one JSON report for electron/main/wiring.test.ts.

const bundle = path.resolve(process.argv[2] ?? 'out/main/index.js');

async function until(done: () => boolean, what: string, ms = 60_000): Promise<void> {
  const started = Date.now();
  while (!done()) {
    if (Date.now() - started > ms) throw new Error(`stand-in probe: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

await import(pathToFileURL(bundle).href);
await until(
  () => recorded.windows.length > 0 && recorded.forks.length > 0 && recorded.ipcHandlers.has(IPC_CHANNELS.rpc),
  'the window, the inference process and the IPC handlers',
);

type Callback = (value: unknown) => void;
const answer = (register: (callback: Callback) => void): unknown => {
  let value: unknown = 'no answer';
  register((given) => (value = given));
  return value;
};

// The app:// handler.
const appHandler = recorded.protocolHandlers.get('app');
const served = appHandler === undefined ? null : await appHandler({ url: 'app://soberana/' });
const otherHost = appHandler === undefined ? null : await appHandler({ url: 'app://elsewhere/' });
const traversal = appHandler === undefined ? null : await appHandler({ url: 'app://soberana/..%2f..%2fpackage.json' });

// Session handlers, called as Electron would.
const permissions = {
  request: answer((callback) => (recorded.permissionRequestHandler as ((...args: unknown[]) => void) | null)?.(null, 'media', callback, {})),
  check: (recorded.permissionCheckHandler as ((...args: unknown[]) => unknown) | null)?.(null, 'notifications', 'app://soberana', {}),
  device: (recorded.devicePermissionHandler as ((...args: unknown[]) => unknown) | null)?.({ deviceType: 'usb', origin: 'app://soberana' }),
  displayMedia: answer((callback) => (recorded.displayMediaRequestHandler as ((...args: unknown[]) => void) | null)?.({}, callback)),
};
const request = (url: string) => answer((callback) => (recorded.beforeRequest as ((...args: unknown[]) => void) | null)?.({ url }, callback));
const requests = {
  app: request('app://soberana/index.html'),
  https: request('https://example.com/'),
  file: request('file:///etc/passwd'),
  devtools: request('devtools://devtools/bundled/inspector.html'),
};

// Every WebContents: as Electron emits 'web-contents-created'.
const contents = Object.assign(new EventEmitter(), {
  webRtcPolicy: null as unknown,
  windowOpenHandler: null as ((details: unknown) => unknown) | null,
  setWebRTCIPHandlingPolicy(policy: unknown) {
    this.webRtcPolicy = policy;
  },
  setWindowOpenHandler(handler: (details: unknown) => unknown) {
    this.windowOpenHandler = handler;
  },
  closeDevTools() {},
});
standInApp.emit('web-contents-created', {}, contents);
const prevented = (event: string, url: string) => {
  let stopped = false;
  contents.emit(event, { url, preventDefault: () => (stopped = true) });
  return stopped;
};
const navigation = {
  external: prevented('will-navigate', 'https://example.com/'),
  file: prevented('will-navigate', 'file:///etc/passwd'),
  inApp: prevented('will-navigate', 'app://soberana/#/models'),
  redirect: prevented('will-redirect', 'https://example.com/'),
  webview: prevented('will-attach-webview', 'app://soberana/'),
  windowOpen: contents.windowOpenHandler?.({ url: 'https://example.com/' }) ?? null,
  webRtcPolicy: contents.webRtcPolicy,
};

// The IPC router: every endpoint, from an untrusted sender and from the app's own main frame.
const frame = (url: string, isMain: boolean) => ({ url, parent: isMain ? null : {}, isDestroyed: () => false });
const sender = Object.assign(new EventEmitter(), { id: 1 });
const rpc = recorded.ipcHandlers.get(IPC_CHANNELS.rpc) as
  ((event: unknown, name: unknown, input: unknown) => Promise<{ ok: boolean; error?: { code: string } }>) | undefined;
const streamListener = recorded.ipcListeners.get(IPC_CHANNELS.stream)?.[0] as ((event: unknown, request: unknown) => void) | undefined;
const streamFirstFrame = (senderFrame: unknown, name: string, input: unknown) =>
  new Promise<{ type: string; error?: { code: string } }>((resolve) => {
    const port = Object.assign(new EventEmitter(), { postMessage: (message: { type: string }) => resolve(message), start() {}, close() {} });
    streamListener?.({ senderFrame, sender, ports: [port] }, { name, input });
  });
const callers = { evil: frame('https://evil.example/', true), appSubframe: frame('app://soberana/', false), app: frame('app://soberana/', true) };
const endpoints: Record<string, { kind: string; evil: string; appSubframe: string; app: string }> = {};
for (const [name, definition] of Object.entries(contract) as [string, { kind: string }][]) {
  if (definition.kind === 'event') continue;
  const codes: Record<string, string> = {};
  for (const [who, senderFrame] of Object.entries(callers)) {
    // null is never a valid input: a trusted call proves the route exists without running it.
    const result = definition.kind === 'rpc' ? await rpc?.({ senderFrame, sender }, name, null) : await streamFirstFrame(senderFrame, name, null);
    codes[who] = result === undefined ? 'no handler' : (result.error?.code ?? ('ok' in result ? 'ran' : result.type));
  }
  endpoints[name] = { kind: definition.kind, evil: codes.evil ?? '', appSubframe: codes.appSubframe ?? '', app: codes.app ?? '' };
}
const unknownEndpoint = (await rpc?.({ senderFrame: callers.app, sender }, 'no.such.endpoint', {}))?.error?.code ?? null;

const report = {
  switches: recorded.switches,
  singleInstanceLockRequests: recorded.singleInstanceLockRequests,
  privilegedSchemes: recorded.privilegedSchemes,
  protocolSchemes: [...recorded.protocolHandlers.keys()],
  appProtocol:
    served === null
      ? null
      : {
          status: served.status,
          headers: Object.fromEntries(served.headers.entries()),
          otherHost: otherHost?.status ?? null,
          traversal: traversal?.status ?? null,
        },
  permissions,
  spellCheckerEnabled: recorded.spellCheckerEnabled,
  requests,
  navigation,
  windows: recorded.windows.map((window) => ({ webPreferences: window.options.webPreferences, url: window.url })),
  ipcChannels: { handle: [...recorded.ipcHandlers.keys()], on: [...recorded.ipcListeners.keys()] },
  endpoints,
  unknownEndpoint,
  forks: recorded.forks.map((fork) => ({ entry: fork.entry, options: fork.options })),
  applicationMenu: recorded.applicationMenu ?? null,
  quitCalls: recorded.quitCalls,
  exitCodes: recorded.exitCodes,
};
process.stdout.write(`\nSTAND-IN REPORT ${JSON.stringify(report)}\n`);
process.exit(0);
