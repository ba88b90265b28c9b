import type { AppErrorData } from '../common/result.ts';
import { keyFilePath, type AuditLevel } from '../main/services/audit/index.ts';
import { readMeta, recordCount } from '../main/services/audit/store.ts';
import { createAuditTrail } from '../main/services/audit-trail.ts';
import { createGovernance } from '../main/services/governance.ts';
import { resolvePolicyInForce, userPolicyPath } from '../main/services/policy/index.ts';
import { openDatabase } from '../main/services/storage/sqlite.ts';

// The audit log's health for `soberana doctor`: the level the policy in force asks for, and
// whether the log can take the next record. The answer is the audit trail's own (the one
// the gate asks before every audited action), so doctor and the refusals never disagree.

export interface AuditHealth {
  /** The policy in force's level; null when the policy or the database could not be read. */
  readonly level: AuditLevel | null;
  /** Whether the next audited action would be recorded (and so allowed). */
  readonly recording: boolean;
  /** False until the log is first set up (with the data folder, by the app or a command that acts). */
  readonly created: boolean;
  readonly keyFile: string;
  readonly problem: AppErrorData | null;
}

export interface AuditCheck {
  readonly id: 'audit';
  readonly status: 'pass' | 'warn' | 'fail';
  readonly detail: string;
}

const REFUSED = 'Audited actions (chat, model import, ingestion, export, bundle install and other changes) are refused until it is restored.';

/**
 * Reads only: the policy is resolved without being recorded as applied, and a data folder
 * whose log was never set up is left as it is (the trail would create the anchor and key).
 * Call after the sqlite check, which creates the database of a new folder.
 */
export async function auditHealth(dataDir: string): Promise<AuditHealth> {
  const keyFile = keyFilePath(dataDir);
  let level: AuditLevel | null = null;
  try {
    const { loaded } = await resolvePolicyInForce({ dataDir, userPath: userPolicyPath(dataDir) });
    const governance = createGovernance(loaded);
    level = governance.policy.audit.level;
    const db = openDatabase(dataDir);
    try {
      if (readMeta(db) === null && recordCount(db) === 0) return { level, recording: level !== 'off', created: false, keyFile, problem: null };
      const trail = createAuditTrail({ db, dataDir, governance });
      const recording = level !== 'off' && trail.ready();
      return { level, recording, created: true, keyFile, problem: trail.problem };
    } finally {
      if (db.isOpen) db.close();
    }
  } catch (error) {
    const problem: AppErrorData = {
      code: 'io_error',
      message: 'The audit log could not be checked.',
      details: error instanceof Error ? error.message : String(error),
    };
    return { level, recording: false, created: false, keyFile, problem };
  }
}

export function auditCheck(health: AuditHealth): AuditCheck {
  const { level, problem, keyFile } = health;
  if (level === 'off') {
    return problem === null
      ? { id: 'audit', status: 'pass', detail: 'Level off: the policy in force records nothing.' }
      : {
          id: 'audit',
          status: 'warn',
          detail: `Level off, so nothing is refused; but the log could not record if the level were raised: ${problem.message} (key file ${keyFile})`,
        };
  }
  if (problem !== null || !health.recording) {
    const why =
      problem === null
        ? 'The audit log cannot record.'
        : `${problem.message}${problem.details === undefined || problem.details === keyFile ? '' : ` (${problem.details})`}`;
    return { id: 'audit', status: 'fail', detail: `${why} Key file: ${keyFile}. ${REFUSED} Restore the key file from a backup, or ask your IT team.` };
  }
  if (!health.created) return { id: 'audit', status: 'pass', detail: `Level ${level}: the log is set up when the data folder is first used.` };
  return { id: 'audit', status: 'pass', detail: `Level ${level}: recording.` };
}
