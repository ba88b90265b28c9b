import { describe, expect, it } from 'vitest';
import type { EgressKind } from '../../../common/runtime/protocol.ts';
import { createEngine } from './engine.ts';
import { forkLauncher } from './launcher.ts';

// The inference process's egress guard, live: the real process started by the launcher the
// app uses under Node, asked through the protocol to try each way out. Each attempt must be
// refused by its guard (not by the network namespace the suite runs in), and each refusal
// must reach the main process's onEgressBlocked before the answer does.

describe('the inference process', () => {
  it('refuses network access with its egress guard and reports each refusal to the engine', async () => {
    const blocked: { process: string; kind: EgressKind; target: string }[] = [];
    const engine = createEngine({
      launcher: forkLauncher(),
      validate: () => Promise.resolve({ ok: false, message: 'no models in this test' }),
      quarantine: { reasonFor: () => null, add: () => undefined },
      onState: () => undefined,
      onEgressBlocked: (attempt) => blocked.push(attempt),
    });
    try {
      await engine.start();
      const check = await engine.checkEgress();
      expect(check).toEqual({
        guarded: true,
        attempts: [
          { via: 'net.connect', kind: 'connect', blocked: true },
          { via: 'fetch', kind: 'connect', blocked: true },
          { via: 'dns.lookup', kind: 'dns', blocked: true },
          { via: 'dns.resolve4', kind: 'dns', blocked: true },
          { via: 'dgram.send', kind: 'udp', blocked: true },
        ],
      });
      expect(blocked).toEqual([
        { process: 'inference', kind: 'connect', target: '192.0.2.1:9' },
        { process: 'inference', kind: 'connect', target: '192.0.2.1:80' },
        { process: 'inference', kind: 'dns', target: 'soberana-egress-check.invalid' },
        { process: 'inference', kind: 'dns', target: 'soberana-egress-check.invalid' },
        { process: 'inference', kind: 'udp', target: '192.0.2.1:9' },
      ]);
    } finally {
      await engine.stop();
    }
  });
});
