import type { PackCheckRun, PackCheckTrigger } from '../../../../common/contract/index.ts';
import { embeddingOf, runPackChecks, type CheckParts } from './run.ts';
import { checkedCollections, checkSetOf, collectionsOfBundle, disabledCollections, latestRuns } from './store.ts';

// The knowledge service's pack checks: run them for a bundle's collections (after install,
// after an install rolled back, or asked for), rerun them when a collection's embedding
// changed, and say which collections the policy keeps out of retrieval. Runs are queued one
// after another: two runs of one collection at once would both read the index while it moves.

export interface PackChecksDeps extends Omit<CheckParts, 'disabled'> {
  /** The policy's packs.onCheckFailure, read at each use (it can change at a start). */
  readonly action: () => 'warn' | 'disable';
  readonly log?: ((level: string, message: string) => void) | undefined;
}

export function createPackChecks(deps: PackChecksDeps) {
  const disabled = () => disabledCollections(deps.db, deps.action());
  const parts: CheckParts = { ...deps, disabled };
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };
  const withChecks = (ids: readonly string[]) => ids.filter((id) => checkSetOf(deps.db, id) !== null);

  return {
    /** Collections kept out of search and chat now. */
    disabled,

    /** Runs one collection's checks. */
    run: (collectionId: string, trigger: PackCheckTrigger) => serial(() => runPackChecks(parts, collectionId, trigger)),

    /** Runs the checks of every collection the bundle brought that carries some. */
    runForBundle: (bundleId: string, trigger: PackCheckTrigger): Promise<PackCheckRun[]> =>
      serial(async () => {
        const runs: PackCheckRun[] = [];
        for (const id of withChecks(collectionsOfBundle(deps.db, bundleId))) runs.push(await runPackChecks(parts, id, trigger));
        return runs;
      }),

    /** The latest run of each of the bundle's collections that carries checks. */
    runsOfBundle: (bundleId: string): PackCheckRun[] => latestRuns(deps.db, collectionsOfBundle(deps.db, bundleId), disabled()),

    /** How many checks each of the bundle's collections carries (those never run yet included). */
    countsOfBundle: (bundleId: string): { collectionId: string; checks: number }[] =>
      collectionsOfBundle(deps.db, bundleId).flatMap((collectionId) => {
        const checks = checkSetOf(deps.db, collectionId);
        return checks === null ? [] : [{ collectionId, checks: checks.length }];
      }),

    /**
     * Reruns the checks of each collection whose query embedding is not the one its latest
     * run used: its embedding model was removed (searched by words only), came back, or the
     * collection was moved to another model. Returns the new runs.
     */
    recheckEmbeddings: (): Promise<PackCheckRun[]> =>
      serial(async () => {
        const runs: PackCheckRun[] = [];
        const ids = checkedCollections(deps.db);
        const latest = new Map(latestRuns(deps.db, ids, new Set()).map((run) => [run.collectionId, run]));
        for (const id of ids) {
          const previous = latest.get(id);
          if (previous === undefined || previous.embedding === embeddingOf(deps, id)) continue;
          try {
            runs.push(await runPackChecks(parts, id, 'embedding'));
          } catch (error) {
            deps.log?.('warn', `The checks of a knowledge pack could not run: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
        return runs;
      }),
  };
}

export type PackChecks = ReturnType<typeof createPackChecks>;
