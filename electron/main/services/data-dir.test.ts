import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseDataDir, DATA_DIR_ENV, dataDirMarkerPath, defaultDataDir, detectDataDirChange, recordDataDir } from './data-dir.ts';
import { loadMachinePolicySync } from './policy/index.ts';

describe('defaultDataDir', () => {
  it('uses SOBERANA_DATA_DIR, resolved, before any platform default', () => {
    expect(DATA_DIR_ENV).toBe('SOBERANA_DATA_DIR');
    expect(defaultDataDir('linux', { SOBERANA_DATA_DIR: 'relative/data' }, '/home/ana')).toBe(path.resolve('relative/data'));
    expect(defaultDataDir('linux', { SOBERANA_DATA_DIR: '/srv/soberana/../data' }, '/home/ana')).toBe(path.resolve('/srv/data'));
    expect(defaultDataDir('darwin', { SOBERANA_DATA_DIR: '/opt/s', XDG_CONFIG_HOME: '/xdg' }, '/Users/ana')).toBe(path.resolve('/opt/s'));
  });

  it('ignores an empty SOBERANA_DATA_DIR', () => {
    expect(defaultDataDir('linux', { SOBERANA_DATA_DIR: '' }, '/home/ana')).toBe('/home/ana/.config/Soberana');
  });

  it('defaults to ~/.config/Soberana on Linux', () => {
    expect(defaultDataDir('linux', {}, '/home/ana')).toBe('/home/ana/.config/Soberana');
  });

  it('respects XDG_CONFIG_HOME on Linux, unless it is empty', () => {
    expect(defaultDataDir('linux', { XDG_CONFIG_HOME: '/data/config' }, '/home/ana')).toBe('/data/config/Soberana');
    expect(defaultDataDir('linux', { XDG_CONFIG_HOME: '' }, '/home/ana')).toBe('/home/ana/.config/Soberana');
  });

  it('uses ~/Library/Application Support/Soberana on macOS', () => {
    expect(defaultDataDir('darwin', {}, '/Users/ana')).toBe('/Users/ana/Library/Application Support/Soberana');
    expect(defaultDataDir('darwin', { XDG_CONFIG_HOME: '/xdg' }, '/Users/ana')).toBe('/Users/ana/Library/Application Support/Soberana');
  });

  it('uses APPDATA on Windows, falling back to AppData\\Roaming under the home folder', () => {
    expect(defaultDataDir('win32', { APPDATA: 'C:\\Users\\ana\\AppData\\Roaming' }, 'C:\\Users\\ana')).toBe('C:\\Users\\ana\\AppData\\Roaming\\Soberana');
    expect(defaultDataDir('win32', { APPDATA: 'D:\\Profiles\\ana' }, 'C:\\Users\\ana')).toBe('D:\\Profiles\\ana\\Soberana');
    expect(defaultDataDir('win32', {}, 'C:\\Users\\ana')).toBe('C:\\Users\\ana\\AppData\\Roaming\\Soberana');
  });
});

describe('chooseDataDir', () => {
  const defaultDir = '/home/ana/.config/Soberana';
  const env = { [DATA_DIR_ENV]: 'elsewhere' };
  const closed = { allowDataDirOverride: false };
  const open = { allowDataDirOverride: true };

  it('ignores SOBERANA_DATA_DIR in the packaged app unless the machine policy allows it, and says so', () => {
    expect(chooseDataDir({ packaged: true, env, defaultDir, policy: closed })).toEqual({
      dir: defaultDir,
      ignored: expect.stringContaining('storage.allowDataDirOverride'),
    });
    expect(chooseDataDir({ packaged: true, env, defaultDir, policy: open })).toEqual({ dir: path.resolve('elsewhere'), ignored: null });
  });

  it('follows it in a development build, and uses the default without it', () => {
    expect(chooseDataDir({ packaged: false, env, defaultDir, policy: closed })).toEqual({ dir: path.resolve('elsewhere'), ignored: null });
    expect(chooseDataDir({ packaged: true, env: {}, defaultDir, policy: closed })).toEqual({ dir: defaultDir, ignored: null });
    expect(chooseDataDir({ packaged: true, env: { [DATA_DIR_ENV]: '' }, defaultDir, policy: open })).toEqual({ dir: defaultDir, ignored: null });
  });

  it('takes the rule from the machine policy file only: missing gives "no", broken gives "no"', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-data-dir-'));
    try {
      const machinePath = path.join(dir, 'policy.json');
      expect(loadMachinePolicySync({ machinePath }).storage.allowDataDirOverride).toBe(false);
      await writeFile(machinePath, JSON.stringify({ version: 1, storage: { allowDataDirOverride: true } }));
      expect(loadMachinePolicySync({ machinePath }).storage.allowDataDirOverride).toBe(true);
      await writeFile(machinePath, '{"version": 1, "storage": {"allowDataDirOverride": true');
      expect(loadMachinePolicySync({ machinePath }).storage.allowDataDirOverride).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('detectDataDirChange', () => {
  it('knows no change at first, then notices a move and names the old folder', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-data-dir-'));
    try {
      const marker = dataDirMarkerPath(dir);
      const a = path.join(dir, 'a');
      const b = path.join(dir, 'b');
      expect(await detectDataDirChange(marker, a)).toEqual({ changed: false, from: null });
      await recordDataDir(marker, a);
      expect(await detectDataDirChange(marker, a)).toEqual({ changed: false, from: null });
      expect(await detectDataDirChange(marker, b)).toEqual({ changed: true, from: a });
      await recordDataDir(marker, b);
      expect(await detectDataDirChange(marker, b)).toEqual({ changed: false, from: null });
      await writeFile(marker, 'not json');
      expect(await detectDataDirChange(marker, a)).toEqual({ changed: false, from: null });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
