import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Settings } from '../../common/contract/index.ts';
import { DEFAULT_SETTINGS, mergeValid, openSettings, SETTINGS_FILE } from './settings.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-settings-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const settingsPath = () => path.join(dir, SETTINGS_FILE);
const readStored = async (): Promise<unknown> => JSON.parse(await readFile(settingsPath(), 'utf8'));
const ignore = () => undefined;

describe('openSettings', () => {
  it('starts from the defaults in a fresh directory', async () => {
    const store = await openSettings(dir, ignore);
    expect(DEFAULT_SETTINGS).toEqual({ theme: 'system', language: 'en', sidebarWidth: 232 });
    expect(store.get()).toEqual(DEFAULT_SETTINGS);
  });

  it('persists an update and reads it back on the next open', async () => {
    const store = await openSettings(dir, ignore);
    const updated = await store.update({ theme: 'dark' });
    const expected: Settings = { theme: 'dark', language: 'en', sidebarWidth: 232 };
    expect(updated).toEqual(expected);
    expect(store.get()).toEqual(expected);
    expect(await readStored()).toEqual(expected);

    const reopened = await openSettings(dir, ignore);
    expect(reopened.get()).toEqual(expected);
  });

  it('calls onChange with the new settings', async () => {
    const seen: Settings[] = [];
    const store = await openSettings(dir, (next) => seen.push(next));
    await store.update({ language: 'es', sidebarWidth: 300 });
    expect(seen).toEqual([{ theme: 'system', language: 'es', sidebarWidth: 300 }]);
  });

  it('rejects an invalid patch and leaves the file and the settings unchanged', async () => {
    const seen: Settings[] = [];
    const store = await openSettings(dir, (next) => seen.push(next));
    await store.update({ theme: 'light' });
    const before = await readFile(settingsPath(), 'utf8');

    await expect(store.update({ sidebarWidth: 5 })).rejects.toMatchObject({ code: 'bad_request', details: expect.stringMatching(/sidebarWidth/) });

    expect(await readFile(settingsPath(), 'utf8')).toBe(before);
    expect(store.get()).toEqual({ theme: 'light', language: 'en', sidebarWidth: 232 });
    expect(seen).toHaveLength(1);
    expect(await readdir(dir)).toEqual([SETTINGS_FILE]);
  });

  it('keeps working after a rejected update', async () => {
    const store = await openSettings(dir, ignore);
    await expect(store.update({ sidebarWidth: 10_000 })).rejects.toThrow();
    expect(await store.update({ sidebarWidth: 480 })).toEqual({ ...DEFAULT_SETTINGS, sidebarWidth: 480 });
    expect(await readStored()).toEqual({ ...DEFAULT_SETTINGS, sidebarWidth: 480 });
  });

  it('moves an unreadable file aside, keeping its content, and uses the defaults', async () => {
    await writeFile(settingsPath(), 'this is {not json');
    const store = await openSettings(dir, ignore);
    expect(store.get()).toEqual(DEFAULT_SETTINGS);

    const names = await readdir(dir);
    expect(names).toHaveLength(1);
    const [aside] = names;
    expect(aside).toBeDefined();
    if (aside === undefined) return;
    expect(aside).not.toBe(SETTINGS_FILE);
    expect(aside).toContain('unreadable');
    expect(await readFile(path.join(dir, aside), 'utf8')).toBe('this is {not json');
  });

  it('keeps the valid fields of a stored file with one invalid field', async () => {
    await writeFile(settingsPath(), JSON.stringify({ theme: 'dark', language: 'klingon', sidebarWidth: 300 }));
    const store = await openSettings(dir, ignore);
    expect(store.get()).toEqual({ theme: 'dark', language: 'en', sidebarWidth: 300 });
  });

  it('lands two concurrent updates in order, the last one winning', async () => {
    const seen: Settings[] = [];
    const store = await openSettings(dir, (next) => seen.push(next));
    const first = store.update({ theme: 'dark', sidebarWidth: 200 });
    const second = store.update({ language: 'es', sidebarWidth: 300 });
    const [a, b] = await Promise.all([first, second]);

    expect(a).toEqual({ theme: 'dark', language: 'en', sidebarWidth: 200 });
    expect(b).toEqual({ theme: 'dark', language: 'es', sidebarWidth: 300 });
    expect(seen).toEqual([a, b]);
    expect(store.get()).toEqual(b);
    expect(await readStored()).toEqual(b);
    expect(await readdir(dir)).toEqual([SETTINGS_FILE]);
  });
});

describe('mergeValid', () => {
  it('keeps valid fields and replaces invalid ones with defaults', () => {
    expect(mergeValid({ theme: 'light', language: 'es', sidebarWidth: 159 })).toEqual({ theme: 'light', language: 'es', sidebarWidth: 232 });
    expect(mergeValid({ theme: 42, language: 'es', sidebarWidth: 400 })).toEqual({ theme: 'system', language: 'es', sidebarWidth: 400 });
  });

  it('drops unknown fields', () => {
    expect(mergeValid({ theme: 'dark', extra: true })).toEqual({ theme: 'dark', language: 'en', sidebarWidth: 232 });
  });

  it('returns the defaults for anything that is not an object', () => {
    for (const raw of [null, undefined, 'dark', 7, true]) {
      expect(mergeValid(raw)).toEqual(DEFAULT_SETTINGS);
    }
  });
});
