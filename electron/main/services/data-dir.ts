import os from 'node:os';
import path from 'node:path';

export const DATA_DIR_ENV = 'SOBERANA_DATA_DIR';

/**
 * Where Electron's `userData` lands for an app named Soberana, so that the CLI and the
 * app share one data directory by default.
 */
export function defaultDataDir(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  home: string = os.homedir(),
): string {
  const override = env[DATA_DIR_ENV];
  if (override !== undefined && override !== '') return path.resolve(override);
  if (platform === 'win32') return path.win32.join(env.APPDATA ?? path.win32.join(home, 'AppData', 'Roaming'), 'Soberana');
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Application Support', 'Soberana');
  const configHome = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : path.posix.join(home, '.config');
  return path.posix.join(configHome, 'Soberana');
}
