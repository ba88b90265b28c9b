import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEAD_PROXY, productionMenu, shellLockdown, type MenuItem } from './shell-lockdown.ts';

// Electron's binary is not available here, so the shell's settings are checked as data;
// index.ts applies exactly this list.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const switchMap = (isPackaged: boolean) => new Map(shellLockdown(isPackaged, 'linux').switches.map(({ name, value }) => [name, value ?? true]));

function roles(items: readonly MenuItem[]): string[] {
  return items.flatMap((item) => [...(item.role === undefined ? [] : [item.role]), ...roles(item.submenu ?? [])]);
}

describe('the packaged shell', () => {
  it('resolves no name, sends everything to a dead proxy with no bypass, and keeps WebRTC off direct UDP', () => {
    const switches = switchMap(true);
    expect(switches.get('host-resolver-rules')).toBe('MAP * ~NOTFOUND');
    expect(switches.get('proxy-server')).toBe(DEAD_PROXY);
    expect(new URL(DEAD_PROXY).hostname).toBe('127.0.0.1');
    expect(Number(new URL(DEAD_PROXY).port)).toBeLessThan(1024); // privileged: a user program cannot serve it
    expect(switches.get('proxy-bypass-list')).toBe('<-loopback>');
    expect(switches.get('force-webrtc-ip-handling-policy')).toBe('disable_non_proxied_udp');
    for (const name of ['disable-background-networking', 'disable-component-update', 'disable-domain-reliability', 'disable-sync', 'no-pings']) {
      expect(switches.get(name), name).toBe(true);
    }
    expect(shellLockdown(true).webRtcIpHandlingPolicy).toBe('disable_non_proxied_udp');
  });

  it('has no DevTools, and a menu without reload or DevTools on every platform', () => {
    for (const platform of ['darwin', 'win32', 'linux'] as const) {
      const shell = shellLockdown(true, platform);
      expect(shell.devTools).toBe(false);
      expect(shell.menu).toEqual(productionMenu(platform));
      const menuRoles = roles(productionMenu(platform));
      expect(menuRoles).toContain('quit');
      expect(menuRoles).toContain('paste');
      for (const banned of ['reload', 'forceReload', 'toggleDevTools', 'viewMenu']) expect(menuRoles).not.toContain(banned);
      expect(productionMenu(platform).map((item) => item.label)).not.toContain('View');
    }
  });
});

describe('the development shell', () => {
  it('keeps localhost for the dev server, and DevTools with the default menu', () => {
    const switches = switchMap(false);
    expect(switches.get('host-resolver-rules')).toBe('MAP * ~NOTFOUND, EXCLUDE localhost');
    expect(switches.get('proxy-server')).toBe(DEAD_PROXY);
    expect(switches.has('proxy-bypass-list')).toBe(false); // loopback bypasses the proxy implicitly
    const shell = shellLockdown(false, 'linux');
    expect(shell.devTools).toBe(true);
    expect(shell.menu).toBe('default');
  });
});

describe('every process entry installs the egress guard first', () => {
  // ES modules evaluate their imports in order, so the first import runs before any other
  // module of that process (the services, node-llama-cpp, the parsers) loads.
  const firstImport = async (file: string) => /^import\s+(?:[^'"]+from\s+)?'([^']+)';/m.exec(await readFile(path.join(ROOT, file), 'utf8'))?.[1];

  it.each([
    ['electron/main/index.ts', './security/egress.ts'],
    ['electron/runtime/index.ts', './egress.ts'],
    ['electron/main/services/knowledge/ingestion/extract/worker.ts', './egress.ts'],
    ['electron/cli/soberana.ts', '../guard/egress.ts'],
  ])('%s', async (entry, guard) => {
    expect(await firstImport(entry)).toBe(guard);
  });

  it('the CLI loads its commands only after installing it', async () => {
    const source = await readFile(path.join(ROOT, 'electron/cli/soberana.ts'), 'utf8');
    expect(source.indexOf('installEgressGuard(')).toBeGreaterThan(-1);
    expect(source.indexOf('installEgressGuard(')).toBeLessThan(source.indexOf("await import('./main.ts')"));
  });
});
