import type { PackCheckResult, PackCheckRun, PackCheckTrigger } from '../../../../common/contract/index.ts';
import type { Database } from '../../storage/sqlite.ts';
import type { PackCheck } from '../pack/checks.ts';

// Where a pack's checks and the runs of them are kept (SQLite, see the migration "knowledge
// pack checks"): the checks as the pack brought them, one set per collection, and each run
// with its results. Both go with their collection (ON DELETE CASCADE).

/** Runs kept per collection: enough to see when a check began to fail. */
export const RUNS_KEPT = 50;

export function saveCheckSet(db: Database, collectionId: string, checks: readonly PackCheck[]): void {
  db.prepare('INSERT OR REPLACE INTO pack_check_sets (collection_id, checks) VALUES (?, ?)').run(collectionId, JSON.stringify(checks));
}

export function checkSetOf(db: Database, collectionId: string): PackCheck[] | null {
  const row = db.prepare('SELECT checks FROM pack_check_sets WHERE collection_id = ?').get(collectionId) as { checks: string } | undefined;
  return row === undefined ? null : (JSON.parse(row.checks) as PackCheck[]);
}

/** Collections that carry checks, oldest first. */
export function checkedCollections(db: Database): string[] {
  return (
    db.prepare('SELECT s.collection_id AS id FROM pack_check_sets s JOIN collections c ON c.id = s.collection_id ORDER BY c.created_at, c.id').all() as {
      id: string;
    }[]
  ).map((row) => row.id);
}

/** The bundle that brought the collection, and its version, when it came from one. */
export function bundleOf(db: Database, collectionId: string): { id: string; version: number } | null {
  const row = db
    .prepare('SELECT b.id AS id, b.version AS version FROM bundle_collections bc JOIN bundles b ON b.id = bc.bundle_id WHERE bc.collection_id = ?')
    .get(collectionId) as { id: string; version: number } | undefined;
  return row === undefined ? null : { id: row.id, version: Number(row.version) };
}

export function collectionsOfBundle(db: Database, bundleId: string): string[] {
  return (db.prepare('SELECT collection_id AS id FROM bundle_collections WHERE bundle_id = ? ORDER BY collection_id').all(bundleId) as { id: string }[]).map(
    (row) => row.id,
  );
}

export interface NewRun {
  readonly collectionId: string;
  readonly bundle: { readonly id: string; readonly version: number } | null;
  readonly trigger: PackCheckTrigger;
  /** What embedded the queries: the embedding key, or "words" when the collection was searched by words only. */
  readonly embedding: string;
  readonly ranAt: string;
  readonly results: readonly PackCheckResult[];
}

interface RunRow {
  id: number;
  collection_id: string;
  name: string;
  bundle_id: string | null;
  bundle_version: number | null;
  ran_at: string;
  trigger: PackCheckTrigger;
  embedding: string;
  total: number;
  passed: number;
  failed: number;
  results: string;
}

export function recordRun(db: Database, run: NewRun): number {
  const passed = run.results.filter((result) => result.passed).length;
  const inserted = db
    .prepare(
      `INSERT INTO pack_checks (collection_id, bundle_id, bundle_version, ran_at, trigger, embedding, total, passed, failed, results)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      run.collectionId,
      run.bundle?.id ?? null,
      run.bundle?.version ?? null,
      run.ranAt,
      run.trigger,
      run.embedding,
      run.results.length,
      passed,
      run.results.length - passed,
      JSON.stringify(run.results),
    );
  db.prepare('DELETE FROM pack_checks WHERE collection_id = ? AND id NOT IN (SELECT id FROM pack_checks WHERE collection_id = ? ORDER BY id DESC LIMIT ?)').run(
    run.collectionId,
    run.collectionId,
    RUNS_KEPT,
  );
  return Number(inserted.lastInsertRowid);
}

const SELECT_RUN = `SELECT p.*, c.name AS name FROM pack_checks p JOIN collections c ON c.id = p.collection_id`;

function toRun(row: RunRow, disabled: boolean): PackCheckRun {
  return {
    id: Number(row.id),
    collectionId: row.collection_id,
    collectionName: row.name,
    bundleId: row.bundle_id,
    bundleVersion: row.bundle_version === null ? null : Number(row.bundle_version),
    ranAt: row.ran_at,
    trigger: row.trigger,
    embedding: row.embedding,
    total: Number(row.total),
    passed: Number(row.passed),
    failed: Number(row.failed),
    results: JSON.parse(row.results) as PackCheckResult[],
    disabled,
  };
}

/** The latest run of each collection given, in that order; collections never checked are left out. */
export function latestRuns(db: Database, collectionIds: readonly string[], disabled: ReadonlySet<string>): PackCheckRun[] {
  const statement = db.prepare(`${SELECT_RUN} WHERE p.collection_id = ? ORDER BY p.id DESC LIMIT 1`);
  return collectionIds.flatMap((id) => {
    const row = statement.get(id) as RunRow | undefined;
    return row === undefined ? [] : [toRun(row, disabled.has(id))];
  });
}

/**
 * Collections kept out of retrieval: under `disable`, those whose latest run failed a check.
 * Derived from the runs, so a rerun that passes, or a policy back at `warn`, restores them at once.
 */
export function disabledCollections(db: Database, action: 'warn' | 'disable'): Set<string> {
  if (action !== 'disable') return new Set();
  const rows = db
    .prepare(
      `SELECT p.collection_id AS id FROM pack_checks p
       WHERE p.id = (SELECT max(q.id) FROM pack_checks q WHERE q.collection_id = p.collection_id) AND p.failed > 0`,
    )
    .all() as { id: string }[];
  return new Set(rows.map((row) => row.id));
}
