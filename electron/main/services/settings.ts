import { access, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_API_PORT, Settings, type SettingsPatch } from '../../common/contract/index.ts';
import { AppError } from '../../common/result.ts';
import { appendEvent } from './storage/events.ts';
import { messageOf, transaction, type Database } from './storage/sqlite.ts';

export const DEFAULT_SETTINGS: Settings = {
  theme: 'system',
  language: 'en',
  sidebarWidth: 232,
  runtime: {
    gpuLayers: 'auto',
    contextSize: 'auto',
    threads: 'auto',
    sampling: { temperature: 0.7, topP: 0.9, topK: 40, repeatPenalty: 1.1, maxTokens: 512 },
  },
  api: { enabled: false, port: DEFAULT_API_PORT, allowedOrigins: [] },
};

/** Where versions before SQLite kept settings. Read once, then renamed to `settings.json.imported`. */
export const LEGACY_SETTINGS_FILE = 'settings.json';
export const LEGACY_IMPORTED_SUFFIX = '.imported';

export interface SettingsStore {
  get(): Settings;
  update(patch: SettingsPatch): Promise<Settings>;
}

const SETTING_KEYS = Object.keys(DEFAULT_SETTINGS) as (keyof Settings)[];

/**
 * Loads settings from the `settings` table (one row per top-level field, the value as JSON),
 * falling back to defaults field by field. A legacy `settings.json` in `dataDir` is imported
 * first when the table is still empty.
 */
export async function openSettings(db: Database, dataDir: string, onChange: (settings: Settings) => void): Promise<SettingsStore> {
  await importLegacy(db, dataDir);
  let current = mergeValid(readRows(db));
  // update() is synchronous today, but callers rely on the order of their awaits; the queue
  // keeps that order if a write ever becomes asynchronous.
  let queue: Promise<unknown> = Promise.resolve();

  return {
    get: () => current,
    update(patch) {
      const run = async () => {
        const parsed = Settings.safeParse({ ...current, ...patch });
        if (!parsed.success)
          throw new AppError(
            'bad_request',
            'That setting is not valid.',
            parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
          );
        const next = parsed.data;
        const keys = SETTING_KEYS.filter((key) => Object.hasOwn(patch, key));
        try {
          writeRows(
            db,
            keys.map((key) => [key, next[key]]),
          );
        } catch (error) {
          throw new AppError('io_error', 'Your settings could not be saved.', messageOf(error));
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

/** Keeps each stored field that is still valid, so one bad value does not reset the rest. */
export function mergeValid(raw: unknown): Settings {
  const merged: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  if (typeof raw === 'object' && raw !== null) {
    for (const key of SETTING_KEYS) {
      const field = Settings.shape[key].safeParse((raw as Record<string, unknown>)[key]);
      if (field.success) merged[key] = field.data;
    }
  }
  return Settings.parse(merged);
}

function readRows(db: Database): Record<string, unknown> {
  const rows = db.prepare('SELECT key, value FROM settings').all() as unknown as { key: string; value: string }[];
  const raw: Record<string, unknown> = {};
  for (const row of rows) {
    try {
      raw[row.key] = JSON.parse(row.value);
    } catch {
      // The column only accepts valid JSON; this guards against a file edited by hand. mergeValid falls back.
    }
  }
  return raw;
}

function writeRows(db: Database, entries: readonly (readonly [string, unknown])[], after?: () => void): void {
  const at = new Date().toISOString();
  const upsert = db.prepare(
    'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
  );
  transaction(db, () => {
    for (const [key, value] of entries) upsert.run(key, JSON.stringify(value), at);
    after?.();
  });
}

/**
 * Moves a `settings.json` from before SQLite into the table. Only an empty table takes the
 * import, so that a crash between the commit and the rename, or a rename that keeps failing,
 * can never overwrite choices made since. The file is renamed, never deleted.
 */
async function importLegacy(db: Database, dataDir: string): Promise<void> {
  const file = path.join(dataDir, LEGACY_SETTINGS_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return;
  }
  const empty = db.prepare('SELECT count(*) AS n FROM settings').get() as { n: number };
  if (empty.n === 0) {
    let raw: unknown;
    let readable = true;
    try {
      raw = JSON.parse(text);
    } catch {
      readable = false;
    }
    const valid = mergeValid(raw);
    const record = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
    const imported = SETTING_KEYS.filter((key) => Settings.shape[key].safeParse(record[key]).success);
    const ignored = Object.keys(record).filter((key) => !(imported as string[]).includes(key));
    writeRows(
      db,
      imported.map((key) => [key, valid[key]]),
      () => appendEvent(db, 'settings.imported', { from: LEGACY_SETTINGS_FILE, readable, imported, ignored }),
    );
  }
  await rename(file, await freeName(`${file}${LEGACY_IMPORTED_SUFFIX}`)).catch(() => {
    // The settings are safe in the table; the next start tries the rename again.
  });
}

/** `base`, or `base-<time>` when an earlier import already used that name: nothing is overwritten. */
async function freeName(base: string): Promise<string> {
  const taken = await access(base).then(
    () => true,
    () => false,
  );
  return taken ? `${base}-${Date.now()}` : base;
}
