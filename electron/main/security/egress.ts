import { installEgressGuard } from '../../guard/egress.ts';

// Imported first by the Electron main process's entry, so the egress guard is in place
// before the services and their libraries load. Refusals go to the log at once; the audit
// trail subscribes once it exists (egressGuard().subscribe, which replays earlier ones).

export const mainEgressGuard = installEgressGuard({
  process: 'main',
  onBlocked: ({ kind, target }) => console.error(`[egress] refused ${kind} to ${target}: Soberana makes no outbound connections.`),
});
