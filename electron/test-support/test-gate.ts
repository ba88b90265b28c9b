import path from 'node:path';
import type { AuditEventInput } from '../main/services/audit/index.ts';
import { createAuditTrail } from '../main/services/audit-trail.ts';
import { createGovernance, type Governance } from '../main/services/governance.ts';
import { loadPolicy, userPolicyPath } from '../main/services/policy/index.ts';
import type { Database } from '../main/services/storage/sqlite.ts';
import { subscribeAudit } from '../main/services/domain/audit-subscriber.ts';
import { createDomainBus, emitterOf, type Emit } from '../main/services/domain/events.ts';
import { createGate, type Gate } from '../main/services/domain/gate.ts';

// Test support, never imported by product code: the real gate and audit trail over a test's
// own database and folder, with the events it saw kept in order for assertions.

export interface TestGate {
  readonly gate: Gate;
  readonly emit: Emit;
  readonly governance: Governance;
  /** Every domain event emitted, in order. */
  readonly events: AuditEventInput[];
}

export async function openTestGate(db: Database, dataDir: string, machinePolicy?: string): Promise<TestGate> {
  const loaded = await loadPolicy({ userPath: userPolicyPath(dataDir), machinePath: machinePolicy ?? path.join(dataDir, 'no-machine-policy.json') });
  const governance = createGovernance(loaded);
  const trail = createAuditTrail({ db, dataDir, governance });
  const bus = createDomainBus();
  subscribeAudit(bus, trail);
  const events: AuditEventInput[] = [];
  bus.onAny((type, data) => events.push({ type, data } as AuditEventInput));
  const emit = emitterOf(bus);
  return { gate: createGate({ governance, trail, emit }), emit, governance, events };
}
