import { purgeConversationsBefore } from '../chat/store.ts';
import type { AuditTrail } from '../audit-trail.ts';
import type { Governance } from '../governance.ts';
import type { Database } from '../storage/sqlite.ts';
import type { Emit } from './events.ts';

const DAY_MS = 86_400_000;

/**
 * The policy's retention, applied at start: conversations older than their days go, and the
 * audit log's sealed periods past theirs. The days are the merged policy's, in which a user
 * file may only lengthen what the machine policy set.
 */
export function applyRetention(deps: {
  db: Database;
  governance: Governance;
  trail: AuditTrail;
  emit: Emit;
  log?: (level: string, message: string) => void;
  now?: () => number;
}): void {
  const { governance } = deps;
  const now = deps.now?.() ?? Date.now();
  const conversationDays = governance.policy.retention.conversationDays;
  if (conversationDays !== null) {
    const removed = purgeConversationsBefore(deps.db, new Date(now - conversationDays * DAY_MS));
    if (removed > 0) deps.emit({ type: 'retention.purge', data: { scope: 'conversations', olderThanDays: conversationDays, removed } });
  }
  const auditDays = governance.policy.retention.auditDays;
  const log = deps.trail.log;
  if (auditDays === null || log === null) return;
  try {
    // The log writes its own purge record, sealed at once.
    log.purge(auditDays);
  } catch (error) {
    deps.log?.('warn', `Old audit records were not purged: ${error instanceof Error ? error.message : String(error)}`);
  }
}
