import { createHash } from 'node:crypto';
import type { AppErrorData } from '../../common/result.ts';
import { AppError } from '../../common/result.ts';
import { createAuditLog, type AuditEventInput, type AuditLog } from './audit/index.ts';
import type { Governance } from './governance.ts';
import type { Database } from './storage/sqlite.ts';

// The app's audit trail: the one writer of the audit log. The trail fails
// closed: when the policy wants a log and a record cannot be written (missing or unreadable
// key, full disk, database error), `problem` says why and the gate refuses every audited
// action until the log works again. Each check first tries to reopen a broken log, so
// restoring the key file (or freeing the disk) is enough: no restart needed.

export interface AuditTrail {
  readonly log: AuditLog | null;
  /** Why the log is not recording, when it should and cannot (level off is not a problem). */
  readonly problem: AppErrorData | null;
  /** Whether the log can take the next record; reopens a broken log first. */
  ready(): boolean;
  /** Records one event; a failure marks the trail broken (it never throws into the caller). */
  record(event: AuditEventInput): void;
  /**
   * Runs `fn` and records the events it emits (synchronously) together once it returns, in
   * order: one key-file update per key period instead of one per record, which is what a
   * record costs (two fsync'd rewrites). For bursts, such as the documents one index write
   * made searchable. Inside another `together`, the outer one records them.
   */
  together<T>(fn: () => T): T;
}

export const sha256Hex = (text: string | Uint8Array): string => createHash('sha256').update(text).digest('hex');

const asProblem = (error: unknown): AppErrorData =>
  error instanceof AppError
    ? error.toData()
    : { code: 'io_error', message: 'The audit log could not be written.', details: error instanceof Error ? error.message : String(error) };

export function createAuditTrail(options: {
  db: Database;
  dataDir: string;
  governance: Governance;
  log?: (level: string, message: string) => void;
  user?: string;
}): AuditTrail {
  const { db, governance } = options;
  const level = governance.policy.audit.level;
  let log: AuditLog | null = null;
  let problem: AppErrorData | null = null;

  const open = (): boolean => {
    try {
      log = createAuditLog({ db, dataDir: options.dataDir, level, ...(options.user === undefined ? {} : { user: options.user }) });
      problem = null;
      return true;
    } catch (error) {
      log = null;
      const next = asProblem(error);
      // Said once per cause, not at every refused action.
      if (problem?.message !== next.message) options.log?.('error', `The audit log is not recording: ${next.message}`);
      problem = next;
      return false;
    }
  };
  open();

  const ready = (): boolean => {
    if (level === 'off') return true;
    if (log === null || problem !== null) return open();
    return true;
  };

  /** Writes the first of `events` (one key period at most); returns how many it is done with. */
  const writeSome = (events: readonly AuditEventInput[]): number => {
    // Twice at most: another process of this user (the CLI beside the app) may have appended
    // since this one last wrote. The log refuses to write over that, with nothing written;
    // reopened, it continues from the other writer's last record. A second failure is real.
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      try {
        return Math.max(1, log!.recordSome(events).length);
      } catch (error) {
        if (error instanceof AppError && error.code === 'bad_request') {
          // A malformed event is a bug in the emitter, not a broken log: say so, keep the log open,
          // and record the others (one by one, so the bad one is named and the rest kept).
          if (events.length > 1) {
            for (const event of events) if (ready()) writeSome([event]);
            return events.length;
          }
          options.log?.('error', `An audit event was not valid (${events[0]!.type}): ${error.details ?? error.message}`);
          return 1;
        }
        if (attempt === 1 && open()) continue;
        problem = asProblem(error);
        log = null;
        options.log?.('error', `An audit record could not be written (${events[0]!.type}): ${problem.message}`);
        // That event is lost, as a lone record would be; the next ones try the log again.
        return 1;
      }
    }
    return 1;
  };

  const writeAll = (events: readonly AuditEventInput[]) => {
    for (let at = 0; at < events.length;) {
      if (!ready()) return;
      at += writeSome(events.slice(at));
    }
  };

  let held: AuditEventInput[] | null = null;

  const record = (event: AuditEventInput) => {
    if (level === 'off') return;
    if (held !== null) held.push(event);
    else writeAll([event]);
  };

  const together = <T>(fn: () => T): T => {
    if (level === 'off' || held !== null) return fn();
    held = [];
    try {
      return fn();
    } finally {
      const events = held;
      held = null;
      writeAll(events);
    }
  };

  return {
    get log() {
      return log;
    },
    get problem() {
      return problem;
    },
    ready,
    record,
    together,
  };
}
