import { AppError } from '../../../common/result.ts';
import type { AuditTrail } from '../audit-trail.ts';
import type { Governance } from '../governance.ts';
import type { Emit } from './events.ts';

// The one place where the organisation's rules meet the actions that change data. Every
// service calls `check` before it acts, whoever called the service: the app's handlers,
// the command line, a later local API. A refusal is itself an audit event.
//
// Two kinds of rule apply:
// - the policy's own (no hand imports, no ingestion, no export, no trust changes under a
//   machine policy), listed in POLICY_RULES;
// - fail closed: while the policy wants an audit log and the log cannot record, every
//   action that changes data is refused, since it could not be accounted for.

/** Every action that changes data, by the name its audit records give it. */
export const GOVERNED_ACTIONS = [
  'chat.create',
  'chat.update',
  'chat.delete',
  'chat.restore',
  'chat.switchBranch',
  'chat.send',
  'chat.export',
  'presets.save',
  'presets.delete',
  'presets.import',
  'presets.export',
  'runtime.load',
  'runtime.generate',
  'models.import',
  'models.rename',
  'models.remove',
  'models.verify',
  'models.setDefault',
  'models.setLoadSettings',
  'knowledge.createCollection',
  'knowledge.updateCollection',
  'knowledge.deleteCollection',
  'knowledge.ingest',
  'knowledge.removeDocument',
  'knowledge.unwatch',
  'knowledge.export',
  'knowledge.setMarking',
  'knowledge.lowerMarking',
  'bundles.install',
  'bundles.uninstall',
  'bundles.test',
  'settings.update',
  'audit.export',
  'keys.trust',
  'keys.untrust',
  'api.serve',
  'api.tokens.create',
  'api.tokens.revoke',
] as const;
export type GovernedAction = (typeof GOVERNED_ACTIONS)[number];

const EXPORTS: readonly GovernedAction[] = ['chat.export', 'presets.export', 'knowledge.export', 'audit.export'];

/** The policy rules, by action: each throws `forbidden` with words a person can act on. */
const POLICY_RULES: Partial<Record<GovernedAction, (governance: Governance) => void>> = {
  'models.import': (governance) => governance.assertUnsignedImportAllowed(),
  'knowledge.ingest': (governance) => governance.assertIngestionAllowed(),
  'keys.trust': (governance) => governance.assertLocalTrustEditable(),
  'api.serve': (governance) => assertApiAllowed(governance),
  'api.tokens.create': (governance) => assertApiAllowed(governance),
  'knowledge.lowerMarking': (governance) => assertLoweringAllowed(governance),
  ...Object.fromEntries(EXPORTS.map((action) => [action, (governance: Governance) => governance.assertExportAllowed()])),
};

/** The policy's `api.allowed`: the local API may not listen, nor tokens be made for it. */
function assertApiAllowed(governance: Governance): void {
  if (!governance.policy.api.allowed)
    throw new AppError('forbidden', "This machine's policy does not allow the local API. Ask your IT team if scripts need to reach the local models.");
}

/**
 * Lowering a marking releases material to whoever may see the lower level: an administrator's
 * action. Without a machine policy (development) the person at the keyboard is that
 * administrator; under one, only where the policy says `markings.allowLowering: true`.
 */
function assertLoweringAllowed(governance: Governance): void {
  if (governance.mode === 'development') return;
  if (governance.policy.markings?.allowLowering !== true)
    throw new AppError(
      'forbidden',
      "This machine's policy does not allow lowering a classification marking. Ask your IT team: lowering needs markings.allowLowering in the machine policy.",
    );
}

export interface Gate {
  /** Throws when the action may not run now; the refusal is recorded. */
  check(action: GovernedAction): void;
  /** The policy's allow-list of model hashes, for an import or a load of this model. */
  checkModel(action: 'models.import' | 'runtime.load', model: { sha256: string; name: string }): void;
  /** A change with no event of its own, for the audit log. */
  changed(action: GovernedAction, target: string | null): void;
  /** check, then `act` (sync or async), then `changed`: a governed change with no event of its own. */
  perform<T>(action: GovernedAction, target: string | null, act: () => T): T;
}

export function createGate(deps: { governance: Governance; trail: Pick<AuditTrail, 'ready' | 'problem'>; emit: Emit }): Gate {
  const { governance, trail, emit } = deps;
  const refuse = (action: GovernedAction, error: AppError): never => {
    emit({ type: 'action.refused', data: { action, reason: `${error.code}: ${error.message}`.slice(0, 2000) } });
    throw error;
  };
  const auditReady = (action: GovernedAction) => {
    if (governance.policy.audit.level === 'off' || trail.ready()) return;
    // Not recorded: the log is what failed. The app says so on the Audit screen and in doctor.
    throw new AppError(
      'audit_unavailable',
      `This action was refused because the audit log cannot record it: ${trail.problem?.message ?? 'the log could not be opened.'} Ask your IT team to repair the audit log; run "soberana doctor" for details.`,
      `${action}${trail.problem?.details === undefined ? '' : `: ${trail.problem.details}`}`,
    );
  };
  const changed = (action: GovernedAction, target: string | null) =>
    emit({ type: 'change', data: { action, target: target === null ? null : target.slice(0, 500) } });
  return {
    check(action) {
      auditReady(action);
      const rule = POLICY_RULES[action];
      if (rule === undefined) return;
      try {
        rule(governance);
      } catch (error) {
        if (error instanceof AppError) refuse(action, error);
        throw error;
      }
    },
    checkModel(action, model) {
      try {
        governance.assertModelAllowed(model.sha256, model.name);
      } catch (error) {
        if (error instanceof AppError) refuse(action, error);
        throw error;
      }
    },
    changed,
    perform(action, target, act) {
      this.check(action);
      const result = act();
      if (result instanceof Promise) return result.then((value: unknown) => (changed(action, target), value)) as typeof result;
      changed(action, target);
      return result;
    },
  };
}
