import { installEgressGuard } from '../guard/egress.ts';
import type { RuntimeMessage } from '../common/runtime/protocol.ts';
import { connectToParent } from './parent-port.ts';

// Imported first by the inference process's entry, so the guard is in place before
// node-llama-cpp or anything else loads. Each refusal is reported to the main process,
// which records it (EngineOptions.onEgressBlocked), before the refusal is thrown here.

const parent = connectToParent();

installEgressGuard({
  process: 'inference',
  onBlocked: ({ kind, target }) => {
    const message: RuntimeMessage = { type: 'egressBlocked', kind, target: target.slice(0, 2048) };
    parent.post(message);
  },
});
