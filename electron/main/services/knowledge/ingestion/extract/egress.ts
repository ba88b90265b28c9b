import { parentPort } from 'node:worker_threads';
import { installEgressGuard } from '../../../../../guard/egress.ts';
import type { EgressBlockedNotice } from './protocol.ts';

// Imported first by the extraction worker's entry, so the guard is in place before the
// parsers (pdf.js and the rest) load. A worker thread has its own copy of Node's modules,
// so the main thread's guard does not cover it. Each refusal is reported to the pool, which
// records it (ExtractorOptions.onEgressBlocked), before the refusal is thrown here.

installEgressGuard({
  process: 'worker',
  onBlocked: ({ kind, target }) => {
    const notice: EgressBlockedNotice = { type: 'egressBlocked', kind, target };
    parentPort?.postMessage(notice);
  },
});
