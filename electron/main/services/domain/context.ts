import { mkdir } from 'node:fs/promises';
import { createAuditTrail, type AuditTrail } from '../audit-trail.ts';
import { createGovernance, type Governance } from '../governance.ts';
import { resolvePolicyInForce, userPolicyPath } from '../policy/index.ts';
import { openDatabase, type Database } from '../storage/sqlite.ts';
import { subscribeAudit } from './audit-subscriber.ts';
import { createDomainBus, emitterOf, type DomainBus, type Emit } from './events.ts';
import { createGate, type Gate } from './gate.ts';

// What every service needs before it may act: the policy in force, the database, the
// domain event bus with the audit trail subscribed to it, and the gate. The app's core and
// every command-line command that changes data open this, so both go through the same
// rules and the same audit subscriber.

export interface GovernedContext {
  readonly dataDir: string;
  readonly storage: Database;
  readonly governance: Governance;
  readonly trail: AuditTrail;
  readonly events: DomainBus;
  readonly emit: Emit;
  readonly gate: Gate;
  /** Things the user should be told about the policy (a bundle policy ignored, development mode…). */
  readonly notices: readonly string[];
  /** The OS's managed policy location: where an elevated bundle install puts a policy. */
  readonly machinePolicyPath: string;
  close(): void;
}

export interface ContextOptions {
  readonly dataDir: string;
  /** The machine policy file; by default the OS's managed location. */
  readonly policyFile?: string;
  readonly log?: (level: string, message: string) => void;
  readonly onListenerError?: (error: unknown) => void;
}

export async function openContext(options: ContextOptions): Promise<GovernedContext> {
  const { dataDir } = options;
  await mkdir(dataDir, { recursive: true });
  // The machine file, or a kept bundle policy that verifies against its keys, tightened by the user's file.
  const start = await resolvePolicyInForce({
    dataDir,
    userPath: userPolicyPath(dataDir),
    ...(options.policyFile === undefined ? {} : { machinePath: options.policyFile }),
  });
  const governance = createGovernance(start.loaded);
  const storage = openDatabase(dataDir);
  const trail = createAuditTrail({ db: storage, dataDir, governance, ...(options.log === undefined ? {} : { log: options.log }) });
  const events = createDomainBus(options.onListenerError);
  const unsubscribe = subscribeAudit(events, trail);
  const emit = emitterOf(events);
  const gate = createGate({ governance, trail, emit });
  // What start decided about the policy (a kept bundle policy ignored, a new policy in force) is on the record.
  for (const event of start.events) emit(event);
  if (trail.problem === null) await start.commit();
  return {
    dataDir,
    storage,
    governance,
    trail,
    events,
    emit,
    gate,
    notices: start.notices,
    machinePolicyPath: start.machinePath,
    close() {
      unsubscribe();
      if (storage.isOpen) storage.close();
    },
  };
}
