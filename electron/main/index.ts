// First: the egress guard, before any other module loads.
import './security/egress.ts';
import { app, BrowserWindow, ipcMain, Menu, type MenuItemConstructorOptions } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { contract } from '../common/contract/index.ts';
import { createElectronTransport } from './ipc/electron-transport.ts';
import { createRouter } from './ipc/router.ts';
import { serve } from './ipc/transport.ts';
import { APP_ORIGIN, callerFromFrame, isTrustedCaller, originOf } from './security/policy.ts';
import { defaultSession, lockDownContents, lockDownSession, registerAppScheme, serveRenderer } from './security/lockdown.ts';
import { shellLockdown } from './security/shell-lockdown.ts';
import { BUILT_IN_GUARDS } from './services/app-info.ts';
import { createCore } from './services/core.ts';
import { createHttpApi } from '../server/http-api.ts';
import { createDropTokens } from './services/files.ts';
import { chooseDataDir } from './services/data-dir.ts';
import { noteDataDirMove } from './services/domain/data-dir-move.ts';
import { loadMachinePolicySync } from './services/policy/index.ts';
import { IPC_CHANNELS } from '../common/contract/channels.ts';
import { acceptDroppedFiles, dialogPicker, utilityLauncher } from './platform.ts';
import { createMainWindow } from './window.ts';

// The Electron shell: lifecycle, lockdown and wiring. All behaviour lives in services.

const here = path.dirname(fileURLToPath(import.meta.url));
const devServerUrl = app.isPackaged ? undefined : process.env.VITE_DEV_SERVER_URL;
const devServerOrigin = devServerUrl === undefined ? undefined : (originOf(devServerUrl) ?? undefined);
const policy = { devServerOrigin };

// Chromium switches against egress (no name resolves, a dead proxy, no direct WebRTC UDP,
// no calling home), and no DevTools or reload menu in the packaged app: see shell-lockdown.ts.
const shell = shellLockdown(app.isPackaged);
for (const { name, value } of shell.switches) {
  if (value === undefined) app.commandLine.appendSwitch(name);
  else app.commandLine.appendSwitch(name, value);
}

// The data folder, before anything opens it: the packaged app follows SOBERANA_DATA_DIR only
// where the machine policy allows it (any program can set a variable; a fresh folder would
// be a fresh audit log). Only the machine policy decides: the user's file lives in the folder.
const defaultDataDir = app.getPath('userData');
const chosenDataDir = chooseDataDir({ packaged: app.isPackaged, env: process.env, defaultDir: defaultDataDir, policy: loadMachinePolicySync().storage });
if (chosenDataDir.ignored !== null) console.warn(chosenDataDir.ignored);
app.setPath('userData', chosenDataDir.dir);

registerAppScheme();
lockDownContents(shell);

if (!app.requestSingleInstanceLock()) app.quit();

app.on('second-instance', () => {
  const [window] = BrowserWindow.getAllWindows();
  if (window === undefined) return;
  if (window.isMinimized()) window.restore();
  window.focus();
});

app.on('window-all-closed', () => app.quit());

async function start(): Promise<void> {
  await app.whenReady();
  if (shell.menu !== 'default') Menu.setApplicationMenu(Menu.buildFromTemplate(shell.menu as MenuItemConstructorOptions[]));
  const session = defaultSession();
  lockDownSession(session, policy);
  serveRenderer(session, path.join(here, '../renderer'), policy);

  // Dropped files' paths, by token: the preload reads them, the page only ever sees the token.
  const drops = createDropTokens();
  const core = await createCore({
    dataDir: app.getPath('userData'),
    host: {
      kind: 'electron',
      electronVersion: process.versions.electron ?? null,
      chromeVersion: process.versions.chrome ?? null,
      networkGuards: [
        ...BUILT_IN_GUARDS,
        'Every request that is not app: is cancelled by the session',
        'Content Security Policy allows only the app itself',
        'Permissions, navigation, new windows and webviews are denied',
        'Spellchecker dictionary downloads are off',
      ],
    },
    onListenerError: (error) => console.error('[bus]', error),
    runtimeLauncher: utilityLauncher(path.join(here, '../runtime/index.js')),
    filePicker: dialogPicker(() => BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0] ?? null, drops),
    log: (level, message) => (level === 'error' ? console.error : console.log)(`[runtime] ${message}`),
    // The local API (off until Settings or a policy lock turns it on): loopback only.
    apiServer: (service) => createHttpApi(service, { log: (level, message) => (level === 'info' ? console.log : console.warn)(`[api] ${message}`) }),
  });
  app.on('before-quit', () => void core.close());
  // A move to another folder goes on the old folder's log.
  await noteDataDirMove({
    defaultDir: defaultDataDir,
    dataDir: chosenDataDir.dir,
    governance: core.governance,
    log: (level, message) => console.warn(`[data] ${level}: ${message}`),
  }).catch((error: unknown) => console.error('The data folder change could not be recorded:', error));
  const trustedOrigins = devServerOrigin === undefined ? [APP_ORIGIN] : [APP_ORIGIN, devServerOrigin];
  const router = createRouter(contract, core.handlers, {
    trustedOrigins,
    validateOutputs: !app.isPackaged,
    onInternalError: (endpoint, error) => console.error(`[${endpoint}]`, error),
  });
  serve(router, core.bus, createElectronTransport(trustedOrigins));
  ipcMain.on(IPC_CHANNELS.dropped, (event, paths: unknown) => {
    const frame = event.senderFrame;
    if (frame === null || !isTrustedCaller(callerFromFrame(frame.url, frame.parent === null), trustedOrigins)) return;
    const dropToken = acceptDroppedFiles(drops, paths);
    if (dropToken !== null) core.bus.emit('files.dropped', { dropToken });
  });

  createMainWindow({ preloadPath: path.join(here, '../preload/index.cjs'), url: devServerUrl, devTools: shell.devTools });
  core.runtime.start().catch((error: unknown) => console.error('The inference process could not start:', error));
}

start().catch((error: unknown) => {
  console.error('Soberana could not start:', error);
  app.exit(1);
});
