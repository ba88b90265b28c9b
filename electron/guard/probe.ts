import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import { egressGuard, isEgressBlocked, type EgressKind } from './egress.ts';

// The guard's self-check: a process tries each way out, to fixed targets that can never be
// a real host, and reports whether the guard refused each one. The inference process and
// the extraction workers answer it on request, so the main process (doctor, tests) can see
// the guard live in each of them through the real code path.

/** RFC 5737 TEST-NET-1 (never routed) and the RFC 6761 `.invalid` name (never resolves). */
export const PROBE_ADDRESS = '192.0.2.1';
export const PROBE_NAME = 'soberana-egress-check.invalid';
const PROBE_PORT = 9; // discard

export type ProbeVia = 'net.connect' | 'fetch' | 'dns.lookup' | 'dns.resolve4' | 'dgram.send';

export interface ProbeAttempt {
  readonly via: ProbeVia;
  readonly kind: EgressKind;
  /** True when the guard refused it; false means the attempt went ahead (and was cut off here). */
  readonly blocked: boolean;
}

export interface EgressCheck {
  /** True when every attempt was refused by the guard. */
  readonly guarded: boolean;
  readonly attempts: readonly ProbeAttempt[];
}

async function attempt(via: ProbeVia, kind: EgressKind, run: () => Promise<void> | void): Promise<ProbeAttempt> {
  try {
    await run();
    return { via, kind, blocked: false };
  } catch (error) {
    return { via, kind, blocked: isEgressBlocked(error) };
  }
}

/**
 * Tries each way out once. A process without the guard tries nothing and reports
 * `guarded: false`, so the check itself never sends anything anywhere.
 */
export async function checkEgress(): Promise<EgressCheck> {
  if (egressGuard() === null) return { guarded: false, attempts: [] };
  const attempts = [
    await attempt('net.connect', 'connect', () => {
      // Without the guard this would start a connection: stop it at once.
      net
        .connect(PROBE_PORT, PROBE_ADDRESS)
        .on('error', () => undefined)
        .destroy();
    }),
    await attempt('fetch', 'connect', async () => {
      // Port 80: fetch itself refuses port 9 (a "bad port"), which would prove nothing.
      // eslint-disable-next-line no-restricted-globals -- the self-check of the guard that blocks fetch
      await fetch(`http://${PROBE_ADDRESS}/`, { signal: AbortSignal.timeout(2000) });
    }),
    await attempt('dns.lookup', 'dns', () => {
      dns.lookup(PROBE_NAME, () => undefined);
    }),
    await attempt('dns.resolve4', 'dns', () => new dns.promises.Resolver().resolve4(PROBE_NAME).then(() => undefined)),
    await attempt('dgram.send', 'udp', () => {
      const socket = dgram.createSocket('udp4').on('error', () => undefined);
      try {
        socket.send('soberana egress check', PROBE_PORT, PROBE_ADDRESS);
      } finally {
        socket.close();
      }
    }),
  ];
  return { guarded: attempts.every((entry) => entry.blocked), attempts };
}
