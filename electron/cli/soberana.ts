#!/usr/bin/env node
import { installEgressGuard } from '../guard/egress.ts';

// The egress guard goes in before the commands and the services they load: hence the
// dynamic import below, since static imports would all be evaluated first.
installEgressGuard({
  process: 'main',
  onBlocked: ({ kind, target }) => process.stderr.write(`soberana: refused ${kind} to ${target}: Soberana makes no outbound connections.\n`),
});

const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
