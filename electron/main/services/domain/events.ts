import type { AuditEventInput } from '../audit/index.ts';
import { createBus, type Bus } from '../bus.ts';

// What the services say happened, as typed domain events. Every event that matters to
// governance has the shape the audit log takes, so the audit trail is one subscriber
// (domain/audit-subscriber.ts) and no service writes a record by hand.

export type DomainEvents = { [E in AuditEventInput as E['type']]: E['data'] };
export type DomainEventName = keyof DomainEvents & string;
export type DomainBus = Bus<DomainEvents>;

/** Emits one event given as `{ type, data }`, the form the audit log and the tests read. */
export type Emit = (event: AuditEventInput) => void;

export function createDomainBus(onListenerError?: (error: unknown) => void): DomainBus {
  return createBus<DomainEvents>(onListenerError);
}

export const emitterOf =
  (bus: DomainBus): Emit =>
  (event) =>
    bus.emit(event.type, event.data as never);
