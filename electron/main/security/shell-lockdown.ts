// What the Electron shell sets to keep Chromium off the network and the app closed to
// tinkering, as data: lockdown.ts and index.ts apply it, shell-lockdown.test.ts checks it
// without Electron's binary. Each switch is a layer under the session's request filter
// (policy.ts), for whatever Chromium might fetch outside it.

export interface ChromiumSwitch {
  readonly name: string;
  readonly value?: string;
}

/** Electron menu item roles used here (a subset of MenuItemConstructorOptions['role']). */
export type MenuRole = 'about' | 'hide' | 'hideOthers' | 'unhide' | 'quit' | 'undo' | 'redo' | 'cut' | 'copy' | 'paste' | 'selectAll' | 'minimize' | 'close';

export interface MenuItem {
  readonly label?: string;
  readonly role?: MenuRole;
  readonly type?: 'separator';
  readonly submenu?: readonly MenuItem[];
}

export interface ShellLockdown {
  readonly switches: readonly ChromiumSwitch[];
  /** `webPreferences.devTools`. */
  readonly devTools: boolean;
  /** The application menu: `'default'` keeps Electron's (with reload and DevTools), for development. */
  readonly menu: 'default' | readonly MenuItem[];
  /** For `webContents.setWebRTCIPHandlingPolicy`. */
  readonly webRtcIpHandlingPolicy: 'disable_non_proxied_udp';
}

/**
 * A proxy nobody serves: every request Chromium would send through its network stack goes
 * there and fails. Port 1 (tcpmux, unused) is privileged on Linux and macOS, so an ordinary
 * program of the user cannot listen there to catch the traffic.
 */
export const DEAD_PROXY = 'http://127.0.0.1:1';

/**
 * `~NOTFOUND` makes every name fail to resolve inside Chromium. IP literals never go
 * through the resolver. Development keeps `localhost` for the Vite dev server; the packaged
 * renderer is served over app:// and needs no name at all.
 */
export function hostResolverRules(isPackaged: boolean): string {
  return isPackaged ? 'MAP * ~NOTFOUND' : 'MAP * ~NOTFOUND, EXCLUDE localhost';
}

export function shellLockdown(isPackaged: boolean, platform: NodeJS.Platform = process.platform): ShellLockdown {
  const switches: ChromiumSwitch[] = [
    // Chromium features that call home or fetch things on their own.
    { name: 'disable-background-networking' },
    { name: 'disable-component-update' },
    { name: 'disable-domain-reliability' },
    { name: 'disable-sync' },
    { name: 'no-pings' },
    // No name resolves, and anything that still tries goes to a dead proxy.
    { name: 'host-resolver-rules', value: hostResolverRules(isPackaged) },
    { name: 'proxy-server', value: DEAD_PROXY },
    // Loopback normally bypasses the proxy; in the packaged app nothing does. Development
    // keeps the implicit bypass, for the dev server on localhost.
    ...(isPackaged ? [{ name: 'proxy-bypass-list', value: '<-loopback>' }] : []),
    // WebRTC may only use UDP through the proxy, which is dead: no direct UDP, no STUN.
    { name: 'force-webrtc-ip-handling-policy', value: 'disable_non_proxied_udp' },
  ];
  return {
    switches,
    devTools: !isPackaged,
    menu: isPackaged ? productionMenu(platform) : 'default',
    webRtcIpHandlingPolicy: 'disable_non_proxied_udp',
  };
}

/**
 * Only what a user needs: quit, window controls, and on macOS the Edit menu, without which
 * copy and paste shortcuts do not work in text fields. No View menu: no reload, no DevTools.
 */
export function productionMenu(platform: NodeJS.Platform): readonly MenuItem[] {
  const edit: MenuItem = {
    label: 'Edit',
    submenu: [{ role: 'undo' }, { role: 'redo' }, { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }],
  };
  const window: MenuItem = { label: 'Window', submenu: [{ role: 'minimize' }, { role: 'close' }] };
  if (platform === 'darwin') {
    return [
      {
        label: 'Soberana',
        submenu: [
          { role: 'about' },
          { type: 'separator' },
          { role: 'hide' },
          { role: 'hideOthers' },
          { role: 'unhide' },
          { type: 'separator' },
          { role: 'quit' },
        ],
      },
      edit,
      window,
    ];
  }
  return [{ label: 'File', submenu: [{ role: 'quit' }] }, edit, window];
}
