import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RuntimeSettings, Settings } from '../../common/contract/index.ts';
import { DEFAULT_SETTINGS, LEGACY_SETTINGS_FILE, mergeValid, openSettings } from './settings.ts';
import { listEvents } from './storage/events.ts';
import { openDatabase, type Database } from './storage/sqlite.ts';

let dir: string;
let db: Database;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-settings-'));
  db = openDatabase(dir);
});

afterEach(async () => {
  if (db.isOpen) db.close();
  await rm(dir, { recursive: true, force: true });
});

const ignore = () => undefined;
const open = (onChange: (settings: Settings) => void = ignore) => openSettings(db, dir, onChange);

/** Closes and reopens the database file, as a restart would. */
function restart(): void {
  db.close();
  db = openDatabase(dir);
}

const rows = () =>
  Object.fromEntries(
    (db.prepare('SELECT key, value FROM settings ORDER BY key').all() as { key: string; value: string }[]).map((row) => [
      row.key,
      JSON.parse(row.value) as unknown,
    ]),
  );

const store = (key: string, value: unknown) =>
  db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)').run(key, JSON.stringify(value), new Date().toISOString());

const legacyPath = () => path.join(dir, LEGACY_SETTINGS_FILE);

const runtime = (overrides: Partial<RuntimeSettings> = {}, sampling: Partial<RuntimeSettings['sampling']> = {}): RuntimeSettings => ({
  ...DEFAULT_SETTINGS.runtime,
  ...overrides,
  sampling: { ...DEFAULT_SETTINGS.runtime.sampling, ...sampling },
});

describe('openSettings', () => {
  it('starts from the defaults on a fresh database and writes nothing', async () => {
    const settings = await open();
    expect(DEFAULT_SETTINGS).toMatchObject({ theme: 'system', language: 'en', sidebarWidth: 232, runtime: { gpuLayers: 'auto', threads: 'auto' } });
    expect(settings.get()).toEqual(DEFAULT_SETTINGS);
    expect(rows()).toEqual({});
  });

  it('persists an update as one row per field and reads it back after a restart', async () => {
    const settings = await open();
    const updated = await settings.update({ theme: 'dark', sidebarWidth: 300 });
    const expected: Settings = { ...DEFAULT_SETTINGS, theme: 'dark', sidebarWidth: 300 };
    expect(updated).toEqual(expected);
    expect(settings.get()).toEqual(expected);
    expect(rows()).toEqual({ theme: 'dark', sidebarWidth: 300 });

    restart();
    expect((await open()).get()).toEqual(expected);
  });

  it('calls onChange with the new settings', async () => {
    const seen: Settings[] = [];
    const settings = await open((next) => seen.push(next));
    await settings.update({ language: 'es', sidebarWidth: 300 });
    expect(seen).toEqual([{ ...DEFAULT_SETTINGS, language: 'es', sidebarWidth: 300 }]);
  });

  it('rejects an invalid patch and writes nothing, not even its valid fields', async () => {
    const seen: Settings[] = [];
    const settings = await open((next) => seen.push(next));
    await settings.update({ theme: 'light' });
    const before = db.prepare('SELECT * FROM settings').all();

    await expect(settings.update({ language: 'es', sidebarWidth: 5 })).rejects.toMatchObject({
      code: 'bad_request',
      details: expect.stringMatching(/sidebarWidth/),
    });

    expect(db.prepare('SELECT * FROM settings').all()).toEqual(before);
    expect(settings.get()).toEqual({ ...DEFAULT_SETTINGS, theme: 'light' });
    expect(seen).toHaveLength(1);
  });

  it('keeps working after a rejected update', async () => {
    const settings = await open();
    await expect(settings.update({ sidebarWidth: 10_000 })).rejects.toThrow();
    expect(await settings.update({ sidebarWidth: 480 })).toEqual({ ...DEFAULT_SETTINGS, sidebarWidth: 480 });
    expect(rows()).toEqual({ sidebarWidth: 480 });
  });

  it('falls back to the default for an invalid stored field, keeping the others, and ignores unknown keys', async () => {
    store('theme', 'dark');
    store('language', 'klingon');
    store('sidebarWidth', 300);
    store('runtime', { gpuLayers: 'all' });
    store('retired', true);
    const settings = await open();
    expect(settings.get()).toEqual({ ...DEFAULT_SETTINGS, theme: 'dark', sidebarWidth: 300 });

    // The next update rewrites only the fields it names; the rest keep falling back.
    await settings.update({ language: 'es' });
    expect(rows()).toMatchObject({ language: 'es', runtime: { gpuLayers: 'all' }, retired: true });
  });

  it('lands concurrent updates in order, the last one winning', async () => {
    const seen: Settings[] = [];
    const settings = await open((next) => seen.push(next));
    const first = settings.update({ theme: 'dark', sidebarWidth: 200 });
    const rejected = settings.update({ sidebarWidth: 1 });
    const second = settings.update({ language: 'es', sidebarWidth: 300 });
    const [a, b] = await Promise.all([first, second]);
    await expect(rejected).rejects.toMatchObject({ code: 'bad_request' });

    expect(a).toEqual({ ...DEFAULT_SETTINGS, theme: 'dark', sidebarWidth: 200 });
    expect(b).toEqual({ ...DEFAULT_SETTINGS, theme: 'dark', language: 'es', sidebarWidth: 300 });
    expect(seen).toEqual([a, b]);
    expect(settings.get()).toEqual(b);
    expect(rows()).toEqual({ theme: 'dark', language: 'es', sidebarWidth: 300 });
  });

  it('reports a database that cannot be written as io_error and keeps the old settings', async () => {
    const settings = await open();
    db.exec('DROP TABLE settings; CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL, CHECK (0))');
    await expect(settings.update({ theme: 'dark' })).rejects.toMatchObject({ code: 'io_error', message: 'Your settings could not be saved.' });
    expect(settings.get()).toEqual(DEFAULT_SETTINGS);
  });
});

describe('nested runtime settings', () => {
  it('stores and reads back the whole runtime object', async () => {
    const settings = await open();
    const next = runtime({ gpuLayers: 33, contextSize: 8192 }, { temperature: 0.2, maxTokens: 2048 });
    expect(await settings.update({ runtime: next })).toEqual({ ...DEFAULT_SETTINGS, runtime: next });
    restart();
    expect((await open()).get().runtime).toEqual(next);
  });

  it('rejects an invalid nested value, naming its path', async () => {
    const settings = await open();
    await expect(settings.update({ runtime: runtime({}, { temperature: 5 }) })).rejects.toMatchObject({
      code: 'bad_request',
      details: expect.stringContaining('runtime.sampling.temperature'),
    });
    await expect(settings.update({ runtime: runtime({ threads: 0 }) })).rejects.toMatchObject({ details: expect.stringContaining('runtime.threads') });
    await expect(settings.update({ runtime: runtime({ contextSize: 'max' as unknown as 'auto' }) })).rejects.toMatchObject({ code: 'bad_request' });
    expect(rows()).toEqual({});
  });

  it('falls back to the default runtime when the stored one is incomplete', async () => {
    store('runtime', { gpuLayers: 10, contextSize: 'auto', threads: 4 });
    expect((await open()).get().runtime).toEqual(DEFAULT_SETTINGS.runtime);
  });
});

describe('legacy settings.json', () => {
  it('imports the valid fields once, renames the file and records the import', async () => {
    const legacy = JSON.stringify({ theme: 'dark', language: 'klingon', sidebarWidth: 300, extra: 1 });
    await writeFile(legacyPath(), legacy);

    const settings = await open();
    expect(settings.get()).toEqual({ ...DEFAULT_SETTINGS, theme: 'dark', sidebarWidth: 300 });
    expect(rows()).toEqual({ theme: 'dark', sidebarWidth: 300 });
    expect((await readdir(dir)).filter((name) => name.startsWith('settings'))).toEqual(['settings.json.imported']);
    expect(await readFile(`${legacyPath()}.imported`, 'utf8')).toBe(legacy);
    expect(listEvents(db, { type: 'settings.imported' })).toMatchObject([
      { data: { from: 'settings.json', readable: true, imported: ['theme', 'sidebarWidth'], ignored: ['language', 'extra'] } },
    ]);

    await settings.update({ theme: 'light' });
    restart();
    expect((await open()).get().theme).toBe('light');
    expect(listEvents(db, { type: 'settings.imported' })).toHaveLength(1);
  });

  it('never overwrites settings already in the database, and never deletes a file', async () => {
    await (await open()).update({ theme: 'light' });
    await writeFile(`${legacyPath()}.imported`, 'first import');
    await writeFile(legacyPath(), JSON.stringify({ theme: 'dark', sidebarWidth: 400 }));

    expect((await open()).get()).toEqual({ ...DEFAULT_SETTINGS, theme: 'light' });
    const names = (await readdir(dir)).filter((name) => name.startsWith('settings')).sort();
    expect(names).toHaveLength(2);
    expect(names[0]).toBe('settings.json.imported');
    expect(names[1]).toMatch(/^settings\.json\.imported-\d+$/);
    expect(await readFile(`${legacyPath()}.imported`, 'utf8')).toBe('first import');
  });

  it('keeps an unreadable file aside and starts from the defaults', async () => {
    await writeFile(legacyPath(), 'this is {not json');
    expect((await open()).get()).toEqual(DEFAULT_SETTINGS);
    expect(await readFile(`${legacyPath()}.imported`, 'utf8')).toBe('this is {not json');
    expect(listEvents(db, { type: 'settings.imported' })).toMatchObject([{ data: { readable: false, imported: [] } }]);
  });
});

describe('mergeValid', () => {
  it('keeps valid fields and replaces invalid ones with defaults', () => {
    expect(mergeValid({ theme: 'light', language: 'es', sidebarWidth: 159 })).toEqual({ ...DEFAULT_SETTINGS, theme: 'light', language: 'es' });
    expect(mergeValid({ theme: 42, language: 'es', sidebarWidth: 400 })).toEqual({ ...DEFAULT_SETTINGS, language: 'es', sidebarWidth: 400 });
  });

  it('drops unknown fields', () => {
    expect(mergeValid({ theme: 'dark', extra: true })).toEqual({ ...DEFAULT_SETTINGS, theme: 'dark' });
  });

  it('returns the defaults for anything that is not an object', () => {
    for (const raw of [null, undefined, 'dark', 7, true]) {
      expect(mergeValid(raw)).toEqual(DEFAULT_SETTINGS);
    }
  });
});
