import { randomBytes } from 'node:crypto';
import { readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { Settings, type SettingsPatch } from '../../common/contract/index.ts';
import { AppError } from '../../common/result.ts';
import { writeFileAtomic } from './atomic-file.ts';

export const DEFAULT_SETTINGS: Settings = { theme: 'system', language: 'en', sidebarWidth: 232 };

export const SETTINGS_FILE = 'settings.json';

export interface SettingsStore {
  get(): Settings;
  update(patch: SettingsPatch): Promise<Settings>;
}

/**
 * Loads settings, falling back to defaults field by field. A file that cannot be
 * parsed is moved aside (never deleted) so that nothing the user chose is lost silently.
 */
export async function openSettings(dataDir: string, onChange: (settings: Settings) => void): Promise<SettingsStore> {
  const file = path.join(dataDir, SETTINGS_FILE);
  let current = await load(file);
  // Serialise writes so that two quick updates cannot land out of order.
  let queue: Promise<unknown> = Promise.resolve();

  return {
    get: () => current,
    update(patch) {
      const run = async () => {
        const parsed = Settings.safeParse({ ...current, ...patch });
        if (!parsed.success) throw new AppError('bad_request', 'That setting is not valid.', parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
        const next = parsed.data;
        try {
          await writeFileAtomic(file, `${JSON.stringify(next, null, 2)}\n`);
        } catch (error) {
          throw new AppError('io_error', 'Your settings could not be saved.', error instanceof Error ? error.message : String(error));
        }
        current = next;
        onChange(next);
        return next;
      };
      const result = queue.then(run, run);
      queue = result.catch(() => undefined);
      return result;
    },
  };
}

async function load(file: string): Promise<Settings> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return DEFAULT_SETTINGS;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    await rename(file, `${file}.unreadable-${Date.now()}-${randomBytes(3).toString('hex')}`).catch(() => undefined);
    return DEFAULT_SETTINGS;
  }
  return mergeValid(raw);
}

/** Keeps each stored field that is still valid, so one bad value does not reset the rest. */
export function mergeValid(raw: unknown): Settings {
  const merged: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  if (typeof raw === 'object' && raw !== null) {
    for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof Settings)[]) {
      const field = Settings.shape[key].safeParse((raw as Record<string, unknown>)[key]);
      if (field.success) merged[key] = field.data;
    }
  }
  return Settings.parse(merged);
}
