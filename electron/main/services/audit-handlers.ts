import type { Contract } from '../../common/contract/index.ts';
import type { Handlers } from '../../common/handlers.ts';
import { AppError, ok } from '../../common/result.ts';
import { AUDIT_EVENT_TYPES } from './audit/index.ts';
import { auditRecordsPage } from './audit/page.ts';
import type { AuditTrail } from './audit-trail.ts';
import type { Emit } from './domain/events.ts';
import type { Gate } from './domain/gate.ts';
import type { FilePicker } from './files.ts';
import type { Governance } from './governance.ts';
import type { Database } from './storage/sqlite.ts';

type AuditHandlers = Pick<Handlers<Contract>, 'audit.list' | 'audit.verify' | 'audit.export'>;

export function createAuditHandlers(deps: {
  db: Database;
  trail: AuditTrail;
  governance: Governance;
  picker: FilePicker;
  gate: Gate;
  emit: Emit;
}): AuditHandlers {
  const { db, trail } = deps;
  const level = () => trail.log?.level ?? deps.governance.policy.audit.level;
  return {
    // Newest first, as an investigator reads it; the log itself is verified in seq order.
    'audit.list': (query) => {
      // A repaired log (the key restored) opens again here, so the screen never reports a stale problem.
      trail.ready();
      return ok({
        level: level(),
        problem: trail.problem?.message ?? null,
        ...auditRecordsPage(db, query),
        types: [...AUDIT_EVENT_TYPES],
      });
    },

    'audit.verify': () => {
      trail.ready();
      if (trail.log === null) throw new AppError('unavailable', trail.problem?.message ?? 'The audit log is off on this machine.');
      const result = trail.log.verify();
      return ok({
        ok: result.ok,
        records: result.records,
        checkpoints: result.checkpoints,
        firstBroken: result.firstBroken === undefined ? null : { seq: result.firstBroken.seq, reason: result.firstBroken.reason },
        sealedThrough: result.sealedThrough,
        macsChecked: result.macsChecked,
      });
    },

    'audit.export': async ({ from, to }) => {
      deps.gate.check('audit.export');
      if (trail.log === null) throw new AppError('unavailable', trail.problem?.message ?? 'The audit log is off on this machine.');
      const lines = [...trail.log.export({ ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) })];
      let saved: string | null;
      try {
        saved = await deps.picker.saveFile(`soberana-audit-${new Date().toISOString().slice(0, 10)}.jsonl`, `${lines.join('\n')}\n`);
      } catch (error) {
        throw new AppError(
          'io_error',
          'The export could not be saved. Check that the folder exists and that you can write to it.',
          error instanceof Error ? error.message : String(error),
        );
      }
      if (saved !== null) deps.emit({ type: 'export', data: { what: 'audit', format: 'jsonl', items: Math.max(0, lines.length - 2) } });
      return ok({ saved: saved !== null, path: saved });
    },
  };
}
