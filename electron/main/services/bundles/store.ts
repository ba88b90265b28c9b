import type { Database } from '../storage/sqlite.ts';
import { transaction } from '../storage/sqlite.ts';
import { decodeCursor, pageOf } from '../storage/keyset.ts';
import type { BundleKind, FileMeta, Manifest } from './manifest.ts';
import type { Signer } from './trust.ts';

/** SQLite rows for installed bundles (migration 7). Paths are relative to the data folder, so it can move. */

const LIST = 'bundles';

export interface InstalledBundle {
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly publisher: string;
  readonly signers: readonly Signer[];
  readonly installedAt: string;
  readonly expires: string;
  readonly manifest: Manifest;
  /** Relative to the data folder: `bundles/installed/<id>/<version>`. */
  readonly path: string;
  readonly files: readonly InstalledFile[];
}

export interface InstalledFile {
  readonly path: string;
  readonly kind: BundleKind;
  readonly size: number;
  readonly sha256: string;
  readonly meta: FileMeta;
}

interface BundleRow {
  id: string;
  name: string;
  version: number;
  publisher: string;
  signers: string;
  installed_at: string;
  expires: string;
  manifest: string;
  path: string;
}

interface FileRow {
  bundle_id: string;
  path: string;
  kind: BundleKind;
  size: number;
  sha256: string;
  meta: string;
}

/** The highest version ever installed for `id`, kept after uninstall so a rollback stays refused. */
export function highestVersion(db: Database, id: string): number | null {
  const row = db.prepare('SELECT highest_version FROM bundle_versions WHERE id = ?').get(id) as { highest_version: number } | undefined;
  return row?.highest_version ?? null;
}

/** Replaces the row for the manifest's id. Caller holds the transaction. */
export function registerBundle(db: Database, manifest: Manifest, signers: readonly Signer[], relativePath: string, now: Date): void {
  const at = now.toISOString();
  db.prepare('DELETE FROM bundles WHERE id = ?').run(manifest.id);
  db.prepare('INSERT INTO bundles (id, name, version, publisher, signers, installed_at, expires, manifest, path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
    manifest.id,
    manifest.name,
    manifest.version,
    manifest.publisher,
    JSON.stringify(signers),
    at,
    manifest.expires,
    JSON.stringify(manifest),
    relativePath,
  );
  const insertFile = db.prepare('INSERT INTO bundle_files (bundle_id, path, kind, size, sha256, meta) VALUES (?, ?, ?, ?, ?, ?)');
  for (const file of manifest.files) insertFile.run(manifest.id, file.path, file.kind, file.size, file.sha256, JSON.stringify(file.meta));
  db.prepare(
    'INSERT INTO bundle_versions (id, highest_version, updated_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET highest_version = max(highest_version, excluded.highest_version), updated_at = excluded.updated_at',
  ).run(manifest.id, manifest.version, at);
}

export function listBundles(db: Database): InstalledBundle[] {
  return pageBundles(db).bundles;
}

/**
 * Installed bundles by name, a page at a time when `limit` is given (a keyset over name and
 * id, so an uninstall between pages shifts nothing), else all of them.
 */
export function pageBundles(
  db: Database,
  { cursor, limit }: { cursor?: string | undefined; limit?: number | undefined } = {},
): {
  bundles: InstalledBundle[];
  nextCursor: string | null;
  total: number;
} {
  const total = (db.prepare('SELECT count(*) AS n FROM bundles').get() as { n: number }).n;
  const params: (string | number)[] = [];
  let where = '';
  if (cursor !== undefined) {
    const [name, id] = decodeCursor(LIST, cursor, ['string', 'string']) as [string, string];
    where = 'WHERE (name COLLATE NOCASE > ? OR (name COLLATE NOCASE = ? AND id > ?))';
    params.push(name, name, id);
  }
  const sql = `SELECT id, name, version, publisher, signers, installed_at, expires, manifest, path FROM bundles ${where} ORDER BY name COLLATE NOCASE, id`;
  const rows = (limit === undefined ? db.prepare(sql).all(...params) : db.prepare(`${sql} LIMIT ?`).all(...params, limit + 1)) as unknown as BundleRow[];
  const page = limit === undefined ? { rows, nextCursor: null } : pageOf(rows, limit, LIST, (row) => [row.name, row.id]);
  const files = new Map<string, InstalledFile[]>();
  const fileRows = db
    .prepare('SELECT bundle_id, path, kind, size, sha256, meta FROM bundle_files WHERE bundle_id IN (SELECT value FROM json_each(?)) ORDER BY bundle_id, path')
    .all(JSON.stringify(page.rows.map((row) => row.id))) as unknown as FileRow[];
  for (const row of fileRows) {
    const list = files.get(row.bundle_id) ?? [];
    list.push({ path: row.path, kind: row.kind, size: row.size, sha256: row.sha256, meta: JSON.parse(row.meta) as FileMeta });
    files.set(row.bundle_id, list);
  }
  const bundles = page.rows.map((row) => ({
    id: row.id,
    name: row.name,
    version: row.version,
    publisher: row.publisher,
    signers: JSON.parse(row.signers) as Signer[],
    installedAt: row.installed_at,
    expires: row.expires,
    manifest: JSON.parse(row.manifest) as Manifest,
    path: row.path,
    files: files.get(row.id) ?? [],
  }));
  return { bundles, nextCursor: page.nextCursor, total };
}

export function getBundle(db: Database, id: string): InstalledBundle | null {
  return listBundles(db).find((bundle) => bundle.id === id) ?? null;
}

/** Removes the rows of an installed bundle, keeping its bundle_versions record. Returns the removed row's path. */
export function forgetBundle(db: Database, id: string): string | null {
  return transaction(db, () => {
    const row = db.prepare('SELECT path FROM bundles WHERE id = ?').get(id) as { path: string } | undefined;
    if (row === undefined) return null;
    db.prepare('DELETE FROM bundle_files WHERE bundle_id = ?').run(id);
    db.prepare('DELETE FROM bundles WHERE id = ?').run(id);
    return row.path;
  });
}

export function installedPaths(db: Database): Set<string> {
  return new Set((db.prepare('SELECT path FROM bundles').all() as { path: string }[]).map((row) => row.path));
}
