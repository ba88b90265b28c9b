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

  const record = (event: AuditEventInput) => {
    if (level === 'off') return;
    if (!ready()) return;
    // Twice at most: another process of this user (the CLI beside the app) may have appended
    // since this one last wrote. The log refuses to write over that, with nothing written;
    // reopened, it continues from the other writer's last record. A second failure is real.
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      try {
        log!.record(event);
        return;
      } catch (error) {
        if (error instanceof AppError && error.code === 'bad_request') {
          // A malformed event is a bug in the emitter, not a broken log: say so, keep the log open.
          options.log?.('error', `An audit event was not valid (${event.type}): ${error.details ?? error.message}`);
          return;
        }
        if (attempt === 1 && open()) continue;
        problem = asProblem(error);
        log = null;
        options.log?.('error', `An audit record could not be written (${event.type}): ${problem.message}`);
        return;
      }
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
  };
}
