import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../storage/sqlite.ts';
import { forgetBundle, listBundles, pageBundles, registerBundle } from './store.ts';

// Installed bundles a page at a time (issue 15), by name then id, registered the way the
// installer records them.

let dir: string;
let db: Database;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-bundles-page-'));
  db = openDatabase(dir);
  for (let i = 0; i < 23; i++) {
    // Names repeat in other cases ("Field kit" / "field KIT"), so the id breaks ties.
    const name = i % 2 === 0 ? `Field kit ${i % 5}` : `field KIT ${i % 5}`;
    const id = `bundle-${String(i).padStart(2, '0')}`;
    const file = { path: `models/${id}.gguf`, size: i, sha256: 'b'.repeat(64), kind: 'model' as const, meta: {} };
    const manifest = {
      format: 1 as const,
      id,
      name,
      version: 1,
      created: '2026-01-01T00:00:00Z',
      expires: '2027-01-01T00:00:00Z',
      publisher: 'p'.repeat(16),
      files: [file],
    };
    registerBundle(db, manifest, [], `bundles/${id}`, new Date('2026-02-01T00:00:00Z'));
  }
});

afterEach(async () => {
  if (db.isOpen) db.close();
  await rm(dir, { recursive: true, force: true });
});

describe('installed bundles a page at a time', () => {
  it('pages through every bundle once, in the order of the whole list, each with its files', () => {
    const whole = listBundles(db);
    expect(whole).toHaveLength(23);
    const names = whole.map((bundle) => bundle.name.toLowerCase());
    expect(names).toEqual([...names].sort());
    const seen: string[] = [];
    let cursor: string | undefined;
    let removed = '';
    do {
      const page = pageBundles(db, { cursor, limit: 5 });
      expect(page.total).toBe(seen.length === 0 ? 23 : 22);
      for (const bundle of page.bundles) expect(bundle.files.map((file) => file.path)).toEqual([`models/${bundle.id}.gguf`]);
      seen.push(...page.bundles.map((bundle) => bundle.id));
      if (seen.length === 5) {
        // An uninstall between pages: the first bundle of the next page.
        removed = whole[5]!.id;
        forgetBundle(db, removed);
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(seen).toEqual(whole.map((bundle) => bundle.id).filter((id) => id !== removed));
  });

  it('without a limit returns them all, and refuses a foreign cursor', () => {
    expect(pageBundles(db)).toMatchObject({ nextCursor: null, total: 23 });
    expect(() => pageBundles(db, { cursor: 'bm90IG91cnM', limit: 5 })).toThrow(expect.objectContaining({ code: 'bad_request' }));
  });
});
