import dgram from 'node:dgram';
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

// The egress guard: installed first thing in every Soberana Node process (main, CLI,
// inference process, extraction workers), it makes any attempt to open a socket to
// anything but loopback, or to resolve a name, throw before a packet leaves.
//
// Why these patch points: every TCP client in Node (net.connect, tls.connect, http(s),
// http2, and undici, which backs the global fetch and WebSocket) ends in
// net.Socket.prototype.connect, and it calls dns.lookup only from inside that method, so
// one check there runs before any name lookup or syscall (egress.test.ts proves it for
// fetch in Node 24). UDP has its own class (dgram.Socket); name resolution its own module,
// whose top-level functions are bound copies made at load time, so both the functions and
// the Resolver prototypes are replaced. Patching lower (internal bindings) is not public API.
//
// What it is not: a sandbox against code already running in the process, which could undo
// it, nor a cover for native code (llama.cpp) or child programs. The lint ban on network
// modules, the Chromium switches and the OS (firewall, network namespace) are the other layers.

export type EgressProcess = 'main' | 'inference' | 'worker';
/** connect: TCP (and everything over it); listen: a server on a non-loopback address; dns; udp. */
export type EgressKind = 'connect' | 'listen' | 'dns' | 'udp';

export interface EgressAttempt {
  readonly process: EgressProcess;
  readonly kind: EgressKind;
  /** `host:port`, or the name to resolve. */
  readonly target: string;
}

export const EGRESS_BLOCKED = 'ERR_EGRESS_BLOCKED';

export class EgressBlockedError extends Error {
  readonly code = EGRESS_BLOCKED;
  readonly attempt: EgressAttempt;
  constructor(attempt: EgressAttempt) {
    super(
      `Soberana blocks network access: ${describeKind(attempt.kind)} ${attempt.target} was refused in the ${attempt.process} process before anything was sent. Only loopback (127.0.0.1, ::1, localhost) is allowed.`,
    );
    this.name = 'EgressBlockedError';
    this.attempt = attempt;
  }
}

function describeKind(kind: EgressKind): string {
  switch (kind) {
    case 'connect':
      return 'a connection to';
    case 'listen':
      return 'listening on';
    case 'dns':
      return 'resolving the name';
    case 'udp':
      return 'sending UDP to';
  }
}

/** True when the error (or its cause, as fetch wraps it) is the guard's refusal. */
export function isEgressBlocked(error: unknown): error is EgressBlockedError {
  for (let current = error, depth = 0; current !== null && current !== undefined && depth < 5; depth += 1) {
    if ((current as { code?: unknown }).code === EGRESS_BLOCKED) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** Loopback literals only: `localhost`, 127.0.0.0/8, ::1 (also bracketed or IPv4-mapped). Never a name that needs DNS. */
export function isLoopbackHost(host: string): boolean {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.split('.')[0] === '127';
  if (net.isIPv6(h)) {
    const mapped = /^(?:0{0,4}:){0,4}:?(?:0{0,4}:)?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    if (mapped?.[1] !== undefined) return isLoopbackHost(mapped[1]);
    return isIpv6Loopback(h);
  }
  return false;
}

function isIpv6Loopback(h: string): boolean {
  // Expand `::` and compare the eight groups with 0:0:0:0:0:0:0:1.
  const [head = '', tail] = h.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  if (groups.length !== 8) return false;
  return groups.every((group, index) => Number.parseInt(group, 16) === (index === 7 ? 1 : 0));
}

export interface EgressGuardOptions {
  readonly process: EgressProcess;
  /** Called for each blocked attempt, before the error is thrown; its own errors are swallowed. */
  readonly onBlocked?: (attempt: EgressAttempt) => void;
}

export interface EgressGuard {
  readonly process: EgressProcess;
  /**
   * Adds a listener for blocked attempts, e.g. the audit trail once it exists. Attempts
   * blocked before anyone subscribed (up to 100) are replayed to the first subscriber.
   */
  subscribe(listener: (attempt: EgressAttempt) => void): () => void;
}

const EARLY_LIMIT = 100;
let installed: EgressGuard | null = null;

/** The guard installed in this process (or thread), if any. */
export function egressGuard(): EgressGuard | null {
  return installed;
}

/**
 * Installs the guard for this process or worker thread (each thread has its own modules).
 * Installing again returns the guard already there; it cannot be removed.
 */
export function installEgressGuard(options: EgressGuardOptions): EgressGuard {
  if (installed !== null) return installed;
  const listeners = new Set<(attempt: EgressAttempt) => void>();
  const early: EgressAttempt[] = [];
  if (options.onBlocked !== undefined) listeners.add(options.onBlocked);

  const block = (kind: EgressKind, target: string): EgressBlockedError => {
    const attempt: EgressAttempt = { process: options.process, kind, target };
    if (listeners.size === 0 && early.length < EARLY_LIMIT) early.push(attempt);
    for (const listener of listeners) {
      try {
        listener(attempt);
      } catch {
        // A failing listener must not turn a refusal into a different error, or into a pass.
      }
    }
    return new EgressBlockedError(attempt);
  };

  patchNet(block);
  patchDgram(block);
  patchDns(block);
  // `import { lookup } from 'node:dns'` reads the ESM named exports, which are copies.
  syncBuiltinESMExports();

  installed = {
    process: options.process,
    subscribe(listener) {
      listeners.add(listener);
      for (const attempt of early.splice(0)) listener(attempt);
      return () => void listeners.delete(listener);
    },
  };
  return installed;
}

type Block = (kind: EgressKind, target: string) => EgressBlockedError;

function patchNet(block: Block): void {
  const connect = net.Socket.prototype.connect;
  // net.connect passes its normalised arguments as one array; direct calls pass
  // (options | path | port[, host][, listener]).
  net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
    const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
    const target = tcpTarget(first, Array.isArray(args[0]) ? undefined : args[1]);
    if (target !== null && !isLoopbackHost(target.host)) throw block('connect', `${target.host}:${target.port}`);
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof connect;

  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function guardedListen(this: net.Server, ...args: unknown[]) {
    const host = listenHost(args);
    // No host means every interface, which is reachable from the network.
    if (host !== null && !isLoopbackHost(host)) throw block('listen', `${host === '' ? 'every interface' : host}:${listenPort(args)}`);
    return (listen as (...a: unknown[]) => net.Server).apply(this, args);
  } as typeof listen;
}

/** The TCP host and port, or null for a unix socket, a named pipe or an existing handle. */
function tcpTarget(first: unknown, second: unknown): { host: string; port: string } | null {
  if (typeof first === 'object' && first !== null) {
    const options = first as { path?: unknown; host?: unknown; port?: unknown };
    if (options.path !== undefined && options.path !== null) return null;
    return { host: typeof options.host === 'string' && options.host !== '' ? options.host : 'localhost', port: String(options.port) };
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) return null; // a path
  return { host: typeof second === 'string' && second !== '' ? second : 'localhost', port: String(first) };
}

/** The host a listen() call binds: '' for every interface, null for a path, pipe or handle. */
function listenHost(args: readonly unknown[]): string | null {
  const [first, second] = args;
  if (typeof first === 'object' && first !== null) {
    const options = first as { path?: unknown; host?: unknown; port?: unknown; fd?: unknown; handle?: unknown; _handle?: unknown };
    if (options.path !== undefined || options.fd !== undefined || options.handle !== undefined || options._handle !== undefined) return null;
    if (!('port' in options) && !('host' in options)) return null; // a handle object itself
    return typeof options.host === 'string' ? options.host : '';
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) return null;
  return typeof second === 'string' ? second : '';
}

function listenPort(args: readonly unknown[]): string {
  const [first] = args;
  if (typeof first === 'object' && first !== null) return String((first as { port?: unknown }).port ?? 0);
  return String(first ?? 0);
}

function patchDgram(block: Block): void {
  const proto = dgram.Socket.prototype;
  const send = proto.send;
  // send(msg[, offset, length], port[, address][, callback]); the address defaults to
  // loopback, and a connected socket sends where connect() (checked below) pointed it.
  proto.send = function guardedSend(this: dgram.Socket, ...args: unknown[]) {
    if (!isConnected(this)) {
      const [, offset, length, port, address] = args;
      const explicit = address !== undefined || (port !== undefined && typeof port !== 'function');
      const host = explicit ? address : length;
      const to = explicit ? port : offset;
      if (typeof host === 'string' && host !== '' && !isLoopbackHost(host)) throw block('udp', `${host}:${String(to)}`);
    }
    return (send as (...a: unknown[]) => void).apply(this, args);
  } as typeof send;

  const connect = proto.connect;
  proto.connect = function guardedConnect(this: dgram.Socket, ...args: unknown[]) {
    const [port, address] = args;
    if (typeof address === 'string' && address !== '' && !isLoopbackHost(address)) throw block('udp', `${address}:${String(port)}`);
    return (connect as (...a: unknown[]) => void).apply(this, args);
  } as typeof connect;
}

function isConnected(socket: dgram.Socket): boolean {
  try {
    socket.remoteAddress();
    return true;
  } catch {
    return false;
  }
}

/** Every resolver method that sends a query; lookup and lookupService use the OS resolver. */
const RESOLVER_METHODS = [
  'resolve',
  'resolve4',
  'resolve6',
  'resolveAny',
  'resolveCaa',
  'resolveCname',
  'resolveMx',
  'resolveNaptr',
  'resolveNs',
  'resolvePtr',
  'resolveSoa',
  'resolveSrv',
  'resolveTlsa',
  'resolveTxt',
  'reverse',
] as const;

function patchDns(block: Block): void {
  const api = dns as unknown as Record<string, unknown>;
  const promises = dns.promises as unknown as Record<string, unknown>;
  const name = (value: unknown) => (typeof value === 'string' ? value : String(value));

  // lookup('localhost') stays: net.connect('localhost') resolves it this way, from the hosts file.
  const lookup = dns.lookup;
  api.lookup = function guardedLookup(hostname: unknown, ...rest: unknown[]) {
    if (typeof hostname !== 'string' || !isLoopbackHost(hostname)) throw block('dns', name(hostname));
    return (lookup as (...a: unknown[]) => unknown)(hostname, ...rest);
  };
  const lookupPromise = dns.promises.lookup;
  promises.lookup = function guardedLookup(hostname: unknown, ...rest: unknown[]) {
    if (typeof hostname !== 'string' || !isLoopbackHost(hostname)) return Promise.reject(block('dns', name(hostname)));
    return (lookupPromise as (...a: unknown[]) => unknown)(hostname, ...rest);
  };
  api.lookupService = (address: unknown, port: unknown) => {
    throw block('dns', `${name(address)}:${name(port)}`);
  };
  promises.lookupService = (address: unknown, port: unknown) => Promise.reject(block('dns', `${name(address)}:${name(port)}`));

  for (const method of RESOLVER_METHODS) {
    const refuse = (value: unknown) => block('dns', name(value));
    const sync = function guardedResolve(value: unknown) {
      throw refuse(value);
    };
    const async = function guardedResolve(value: unknown) {
      return Promise.reject(refuse(value));
    };
    if (method in api) api[method] = sync;
    if (method in promises) promises[method] = async;
    const callbackProto = dns.Resolver.prototype as unknown as Record<string, unknown>;
    const promiseProto = dns.promises.Resolver.prototype as unknown as Record<string, unknown>;
    if (method in callbackProto) callbackProto[method] = sync;
    if (method in promiseProto) promiseProto[method] = async;
  }
}
