import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATA_DIR_ENV, defaultDataDir } from './data-dir.ts';

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
    expect(defaultDataDir('win32', { APPDATA: 'C:\\Users\\ana\\AppData\\Roaming' }, 'C:\\Users\\ana')).toBe(
      'C:\\Users\\ana\\AppData\\Roaming\\Soberana',
    );
    expect(defaultDataDir('win32', { APPDATA: 'D:\\Profiles\\ana' }, 'C:\\Users\\ana')).toBe('D:\\Profiles\\ana\\Soberana');
    expect(defaultDataDir('win32', {}, 'C:\\Users\\ana')).toBe('C:\\Users\\ana\\AppData\\Roaming\\Soberana');
  });
});
