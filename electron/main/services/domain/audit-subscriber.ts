import type { AuditEventInput } from '../audit/index.ts';
import type { AuditTrail } from '../audit-trail.ts';
import type { DomainBus } from './events.ts';

/** The audit trail's only way in: every domain event becomes one record, in the order it was emitted. */
export function subscribeAudit(bus: DomainBus, trail: Pick<AuditTrail, 'record'>): () => void {
  return bus.onAny((type, data) => trail.record({ type, data } as AuditEventInput));
}
