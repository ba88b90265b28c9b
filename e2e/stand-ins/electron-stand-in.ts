import { EventEmitter } from 'node:events';

// A RECORDING STAND-IN for the `electron` module, for wiring tests on machines without
// Electron's binary. It is not Electron: it implements only what the main process calls,
// does nothing real, and writes down every call in `recorded`, so that a test can load the
// BUILT main bundle (out/main/index.js) with it (see register-electron-stand-in.ts) and check
// what the real shell would have asked Electron to do. Set STAND_IN_PACKAGED=1 for
// `app.isPackaged`, STAND_IN_USER_DATA for `app.getPath('userData')`.

type Listener = (...args: never[]) => unknown;

export interface Recorded {
  switches: { name: string; value?: string }[];
  singleInstanceLockRequests: number;
  privilegedSchemes: unknown[];
  protocolHandlers: Map<string, (request: { url: string }) => Promise<Response>>;
  permissionRequestHandler: Listener | null;
  permissionCheckHandler: Listener | null;
  devicePermissionHandler: Listener | null;
  displayMediaRequestHandler: Listener | null;
  spellCheckerEnabled: boolean | null;
  beforeRequest: Listener | null;
  headersReceived: Listener | null;
  windows: { options: Record<string, unknown>; url: string | null }[];
  ipcHandlers: Map<string, Listener>;
  ipcListeners: Map<string, Listener[]>;
  forks: { entry: string; args: readonly string[]; options: Record<string, unknown> }[];
  applicationMenu: unknown;
  quitCalls: number;
  exitCodes: number[];
}

export const recorded: Recorded = {
  switches: [],
  singleInstanceLockRequests: 0,
  privilegedSchemes: [],
  protocolHandlers: new Map(),
  permissionRequestHandler: null,
  permissionCheckHandler: null,
  devicePermissionHandler: null,
  displayMediaRequestHandler: null,
  spellCheckerEnabled: null,
  beforeRequest: null,
  headersReceived: null,
  windows: [],
  ipcHandlers: new Map(),
  ipcListeners: new Map(),
  forks: [],
  applicationMenu: undefined,
  quitCalls: 0,
  exitCodes: [],
};

const paths = new Map<string, string>([['userData', process.env.STAND_IN_USER_DATA ?? '/nonexistent/stand-in-user-data']]);

class StandInApp extends EventEmitter {
  readonly isPackaged = process.env.STAND_IN_PACKAGED === '1';
  readonly commandLine = {
    appendSwitch: (name: string, value?: string) => void recorded.switches.push(value === undefined ? { name } : { name, value }),
  };
  getPath(name: string): string {
    const found = paths.get(name);
    if (found === undefined) throw new Error(`stand-in: no path "${name}"`);
    return found;
  }
  setPath(name: string, value: string): void {
    paths.set(name, value);
  }
  getVersion(): string {
    return '0.0.0-stand-in';
  }
  getName(): string {
    return 'Soberana (stand-in)';
  }
  requestSingleInstanceLock(): boolean {
    recorded.singleInstanceLockRequests += 1;
    return true;
  }
  whenReady(): Promise<void> {
    return Promise.resolve();
  }
  isReady(): boolean {
    return true;
  }
  quit(): void {
    recorded.quitCalls += 1;
  }
  exit(code = 0): void {
    recorded.exitCodes.push(code);
  }
}

export const app = new StandInApp();

const allWindows: BrowserWindow[] = [];

export class BrowserWindow extends EventEmitter {
  readonly record: { options: Record<string, unknown>; url: string | null };
  readonly webContents = new EventEmitter();
  constructor(options: Record<string, unknown>) {
    super();
    this.record = { options, url: null };
    recorded.windows.push(this.record);
    allWindows.push(this);
  }
  static getAllWindows(): BrowserWindow[] {
    return [...allWindows];
  }
  static getFocusedWindow(): BrowserWindow | null {
    return null;
  }
  loadURL(url: string): Promise<void> {
    this.record.url = url;
    return Promise.resolve();
  }
  show(): void {}
  focus(): void {}
  restore(): void {}
  isMinimized(): boolean {
    return false;
  }
}

export const nativeTheme = { shouldUseDarkColors: false };

export const Menu = {
  buildFromTemplate: (template: unknown) => ({ template }),
  setApplicationMenu: (menu: unknown) => void (recorded.applicationMenu = menu),
};

export const protocol = {
  registerSchemesAsPrivileged: (schemes: unknown[]) => void recorded.privilegedSchemes.push(...schemes),
};

const defaultSession = {
  protocol: {
    handle: (scheme: string, handler: (request: { url: string }) => Promise<Response>) => void recorded.protocolHandlers.set(scheme, handler),
  },
  setPermissionRequestHandler: (handler: Listener) => void (recorded.permissionRequestHandler = handler),
  setPermissionCheckHandler: (handler: Listener) => void (recorded.permissionCheckHandler = handler),
  setDevicePermissionHandler: (handler: Listener) => void (recorded.devicePermissionHandler = handler),
  setDisplayMediaRequestHandler: (handler: Listener) => void (recorded.displayMediaRequestHandler = handler),
  setSpellCheckerEnabled: (enabled: boolean) => void (recorded.spellCheckerEnabled = enabled),
  webRequest: {
    onBeforeRequest: (handler: Listener) => void (recorded.beforeRequest = handler),
    onHeadersReceived: (handler: Listener) => void (recorded.headersReceived = handler),
  },
};

export const session = { defaultSession };

export const ipcMain = {
  handle: (channel: string, handler: Listener) => {
    if (recorded.ipcHandlers.has(channel)) throw new Error(`stand-in: a second handler for ${channel}`);
    recorded.ipcHandlers.set(channel, handler);
  },
  removeHandler: (channel: string) => void recorded.ipcHandlers.delete(channel),
  on: (channel: string, listener: Listener) => void recorded.ipcListeners.set(channel, [...(recorded.ipcListeners.get(channel) ?? []), listener]),
  removeListener: (channel: string, listener: Listener) =>
    void recorded.ipcListeners.set(
      channel,
      (recorded.ipcListeners.get(channel) ?? []).filter((item) => item !== listener),
    ),
};

export const webContents = { getAllWebContents: () => [] };

export const dialog = {
  showOpenDialog: () => Promise.resolve({ canceled: true, filePaths: [] }),
  showSaveDialog: () => Promise.resolve({ canceled: true, filePath: '' }),
};

/** A utility process that never starts: the inference process is not run by wiring tests. */
export const utilityProcess = {
  fork: (entry: string, args: readonly string[] = [], options: Record<string, unknown> = {}) => {
    recorded.forks.push({ entry, args, options });
    const child = new EventEmitter() as EventEmitter & { pid: number | undefined; postMessage(message: unknown): void; kill(): boolean };
    child.pid = undefined;
    child.postMessage = () => undefined;
    child.kill = () => {
      queueMicrotask(() => child.emit('exit', 0));
      return true;
    };
    return child;
  },
};

export default { app, BrowserWindow, nativeTheme, Menu, protocol, session, ipcMain, webContents, dialog, utilityProcess };
