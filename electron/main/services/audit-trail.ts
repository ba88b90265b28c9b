import { createHash } from 'node:crypto';
import type { AppErrorData } from '../../common/result.ts';
import { AppError } from '../../common/result.ts';
import { createAuditLog, type AuditEventInput, type AuditLog } from './audit/index.ts';
import type { Governance } from './governance.ts';
import { listModels } from './models/index.ts';
import { applyPiiPolicy, type PiiPolicyResult } from './pii/index.ts';
import type { Database } from './storage/sqlite.ts';

// The app's audit trail and PII screening, as the services call them. Recording never
// throws into the action being recorded: a failing audit log is reported once, loudly, and
// the app says so on its Audit screen, rather than turning every chat into an error.

export interface AuditTrail {
  readonly log: AuditLog | null;
  /** Why the log is not recording, when it is not (level off is not a problem). */
  readonly problem: AppErrorData | null;
  record(event: AuditEventInput): void;
  /** The model's SHA-256 for a loaded file path, for chat turns and load events. */
  modelByPath(filePath: string): { id: string; sha256: string } | null;
  /** Screens text by the policy's mode for this context and records what was found (types and counts, never values). */
  screen(text: string, context: 'prompts' | 'ingestion'): PiiPolicyResult;
}

export const sha256Hex = (text: string | Uint8Array): string => createHash('sha256').update(text).digest('hex');

export function createAuditTrail(options: { db: Database; dataDir: string; governance: Governance; log?: (level: string, message: string) => void; user?: string }): AuditTrail {
  const { db, governance } = options;
  let log: AuditLog | null = null;
  let problem: AppErrorData | null = null;
  try {
    log = createAuditLog({ db, dataDir: options.dataDir, level: governance.policy.audit.level, ...(options.user === undefined ? {} : { user: options.user }) });
  } catch (error) {
    problem = error instanceof AppError ? error.toData() : { code: 'internal', message: String(error) };
    options.log?.('error', `The audit log is not recording: ${problem.message}`);
  }

  const record = (event: AuditEventInput) => {
    if (log === null) return;
    try {
      log.record(event);
    } catch (error) {
      options.log?.('error', `An audit record could not be written (${event.type}): ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  return {
    log,
    problem,
    record,
    modelByPath(filePath) {
      const found = listModels(db).find((model) => model.files[0] === filePath);
      return found === undefined ? null : { id: found.id, sha256: found.sha256 };
    },
    screen(text, context) {
      const mode = context === 'prompts' ? governance.policy.pii.prompts : governance.policy.pii.ingestion;
      const result = applyPiiPolicy(text, mode);
      if (result.findings.length > 0 && mode !== 'off') {
        const counts = new Map<string, number>();
        for (const finding of result.findings) counts.set(finding.type, (counts.get(finding.type) ?? 0) + 1);
        for (const [kind, count] of counts) record({ type: 'pii.found', data: { kind, action: mode, context, count } });
      }
      return result;
    },
  };
}

