import type { DocumentFailure, IngestFile, IngestProgress } from '../../../../common/contract/knowledge.ts';

// The ingestion queue's progress report: each file's state as the queue updates it in place,
// and the totals, rate and time left the Documents screen shows for the current run.

export const MAX_LISTED_FILES = 300;

/** One file of the current run; the queue updates it in place and reports copies. */
export interface MutableFile {
  path: string;
  name: string;
  collectionId: string;
  state: IngestFile['state'];
  pages: number | null;
  progress: number;
  error: DocumentFailure | null;
}

/** How one file of a run ended: `unchanged` when its content was already indexed. Reported once per file. */
export interface SettledFile {
  readonly collectionId: string;
  readonly path: string;
  readonly outcome: 'added' | 'unchanged' | 'failed' | 'cancelled';
  readonly pages: number | null;
  readonly error: DocumentFailure | null;
}

const OUTCOMES: Partial<Record<IngestFile['state'], SettledFile['outcome']>> = {
  done: 'added',
  skipped: 'unchanged',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** The outcome a file's state means, or null while it is still on its way. */
export const settledOutcome = (state: IngestFile['state']): SettledFile['outcome'] | null => OUTCOMES[state] ?? null;

/**
 * The progress of a run: `files` in queue order, `run` when it started (performance.now())
 * and the pages finished so far, `active` while the queue is draining.
 */
export function progressOf(files: readonly MutableFile[], run: { readonly started: number; readonly pages: number }, active: boolean): IngestProgress {
  const count = (state: IngestFile['state']) => files.filter((file) => file.state === state).length;
  const done = count('done');
  const failed = count('failed');
  const skipped = count('skipped');
  const cancelled = count('cancelled');
  const total = files.length;
  const finished = done + failed + skipped + cancelled;
  const inFlight = files.reduce(
    (sum, file) => sum + (file.state === 'extracting' || file.state === 'embedding' || file.state === 'indexing' ? file.progress : 0),
    0,
  );
  const elapsed = run.started === 0 ? 0 : (performance.now() - run.started) / 1000;
  const pagesPerSecond = elapsed > 0.5 ? run.pages / elapsed : 0;
  const perFile = finished > 0 ? elapsed / (finished + inFlight) : null;
  const remaining = total - finished - inFlight;
  return {
    active,
    total,
    done,
    failed,
    skipped,
    pages: run.pages,
    pagesPerSecond,
    etaSeconds: !active ? 0 : perFile === null ? null : Math.max(0, remaining * perFile),
    progress: total === 0 ? 0 : Math.min(1, (finished + inFlight) / total),
    files: files.slice(-MAX_LISTED_FILES).map((file) => ({ ...file })),
  };
}
