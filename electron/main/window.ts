import { BrowserWindow, nativeTheme } from 'electron';
import { APP_ORIGIN } from './security/policy.ts';

export interface WindowOptions {
  readonly preloadPath: string;
  /** The dev server URL in development; `app://soberana/` otherwise. */
  readonly url?: string | undefined;
  /** False in the packaged app (shell-lockdown.ts). */
  readonly devTools: boolean;
}

export function createMainWindow(options: WindowOptions): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 1024,
    minHeight: 700,
    show: false,
    title: 'Soberana',
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#141518' : '#fafafa',
    webPreferences: {
      preload: options.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      navigateOnDragDrop: false,
      devTools: options.devTools,
    },
  });
  window.once('ready-to-show', () => window.show());
  void window.loadURL(options.url ?? `${APP_ORIGIN}/`);
  return window;
}
