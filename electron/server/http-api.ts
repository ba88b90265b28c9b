import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ApiListener, ApiService } from '../main/services/api/types.ts';
import { MAX_BODY_BYTES, parseJson, readBody } from './body.ts';
import { errorBody, flavorOf, httpError, RequestError, toHttpError, type ApiFlavor, type HttpError } from './errors.ts';
import { createReply, type Reply } from './reply.ts';
import { badPath, matchRoute, ROUTES } from './routes.ts';
import {
  addressUrl,
  assertLoopbackBind,
  bearerToken,
  checkOrigin,
  corsHeaders,
  isAllowedHost,
  LOOPBACK_BIND_HOSTS,
  type LoopbackBindHost,
} from './security.ts';

// The local API's HTTP server: node:http on 127.0.0.1 and ::1, nothing else. It owns what is
// HTTP (the Host and Origin checks, sizes, time limits, the two APIs' shapes) and asks the
// service (services/api/) everything else: who the token is, what it may do, and the answers.

export interface HttpApiOptions {
  /** Where to listen; every entry must pass assertLoopbackBind. Default: 127.0.0.1 and ::1. */
  readonly hosts?: readonly string[];
  readonly maxBodyBytes?: number;
  /** Headers must arrive within this (slow-loris clients are cut off). */
  readonly headersTimeoutMs?: number;
  /** The whole request (headers and body) must arrive within this. */
  readonly requestTimeoutMs?: number;
  /** A request's answer (queue wait included) must be done within this. */
  readonly generationTimeoutMs?: number;
  readonly keepAliveTimeoutMs?: number;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export const MAX_HEADER_BYTES = 16 * 1024;
const DEFAULTS = { headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, generationTimeoutMs: 10 * 60_000, keepAliveTimeoutMs: 5_000 };
const MAX_CONNECTIONS = 64;

/** Errors from binding ::1 that mean "this machine has no IPv6 loopback", not "the port is taken". */
const NO_IPV6 = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT', 'EINVAL', 'EPROTONOSUPPORT']);

interface Running {
  readonly port: number;
  readonly servers: readonly Server[];
  readonly addresses: readonly string[];
}

export function createHttpApi(service: ApiService, options: HttpApiOptions = {}): ApiListener {
  const hosts = options.hosts ?? LOOPBACK_BIND_HOSTS;
  const limits = { ...DEFAULTS, ...options, maxBodyBytes: options.maxBodyBytes ?? MAX_BODY_BYTES };
  const log = options.log ?? (() => {});
  let allowedOrigins: readonly string[] = [];
  let running: Running | null = null;
  const inFlight = new Set<AbortController>();

  const refuse = (
    reply: Reply,
    flavor: ApiFlavor,
    endpoint: string,
    requestBytes: number,
    error: HttpError,
    headers: Record<string, string> = {},
    token: string | null = null,
  ): void => {
    service.refused({ endpoint, requestBytes }, error.status, error.message, token);
    reply.json(error.status, errorBody(flavor, error), headers);
  };

  async function handle(request: IncomingMessage, response: ServerResponse, port: number): Promise<void> {
    const method = request.method ?? 'GET';
    const pathname = pathOf(request.url);
    const flavor = flavorOf(pathname);
    const endpoint = `${method} ${pathname}`.slice(0, 200);
    const declared = Number(request.headers['content-length'] ?? 0) || 0;
    let reply = createReply(response, {});

    // DNS rebinding: a page whose name now points at 127.0.0.1 still sends its own name as Host.
    if (!isAllowedHost(request.headers.host, port)) {
      const message = `The Host header must be 127.0.0.1:${port}, [::1]:${port} or localhost:${port}.`;
      refuse(reply, flavor, endpoint, declared, httpError(403, 'forbidden_host', message), { Connection: 'close' });
      return;
    }
    // A web page in the user's browser: served only for an origin the user allowed.
    const origin = checkOrigin(request.headers.origin, allowedOrigins);
    if (origin.kind === 'refused') {
      refuse(
        reply,
        flavor,
        endpoint,
        declared,
        httpError(
          403,
          'forbidden_origin',
          `Requests from the web origin ${origin.origin} are not allowed. Add it to the local API's allowed origins in Settings.`,
        ),
      );
      return;
    }
    if (origin.kind === 'allowed') reply = createReply(response, corsHeaders(origin.origin));
    if (method === 'OPTIONS') {
      const headers = origin.kind === 'allowed' ? corsHeaders(origin.origin, request.headers['access-control-request-headers']) : {};
      response.writeHead(204, { ...headers, Allow: 'GET, POST, OPTIONS', 'Content-Length': '0' }).end();
      return;
    }
    const match = matchRoute(method, pathname, ROUTES);
    if (match.kind === 'not_found') return reply.json(404, errorBody(flavor, toHttpError(badPath(pathname))));
    if (match.kind === 'wrong_method')
      return reply.json(405, errorBody(flavor, httpError(405, 'method_not_allowed', `${method} is not allowed on ${pathname}.`)), { Allow: match.allow });
    if (declared > limits.maxBodyBytes) {
      refuse(reply, flavor, endpoint, declared, toHttpError(new RequestError(`The request body is larger than ${limits.maxBodyBytes} bytes.`, null, 413)), {
        Connection: 'close',
      });
      return;
    }

    const controller = new AbortController();
    inFlight.add(controller);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, limits.generationTimeoutMs);
    // The client went away before the answer was complete: stop generating for it.
    response.once('close', () => {
      if (!response.writableFinished) controller.abort();
    });
    let principalName: string | null = null;
    let bodyBytes = declared;
    try {
      const principal = service.authenticate(bearerToken(request.headers.authorization), match.route.scope, { endpoint, requestBytes: declared });
      principalName = principal.name;
      const body = method === 'POST' ? await readBody(request, limits.maxBodyBytes) : Buffer.alloc(0);
      bodyBytes = body.length;
      await match.route.handle({
        service,
        principal,
        info: { endpoint, requestBytes: body.length },
        body: method === 'POST' ? parseJson(body) : {},
        param: match.param,
        reply,
        signal: controller.signal,
      });
    } catch (caught) {
      const error = timedOut
        ? httpError(504, 'timeout', `The request took longer than the server's limit of ${formatSeconds(limits.generationTimeoutMs)}.`)
        : toHttpError(caught);
      if (error.status === 500 && !(caught instanceof RequestError))
        log('error', `${endpoint}: ${caught instanceof Error ? (caught.stack ?? caught.message) : String(caught)}`);
      if (response.destroyed || (controller.signal.aborted && !timedOut)) return;
      // Refusals the server decides (a body it cannot read) go on the record; the service records its own.
      if (caught instanceof RequestError || timedOut) service.refused({ endpoint, requestBytes: bodyBytes }, error.status, error.message, principalName);
      if (reply.streaming) {
        reply.event(flavor === 'ollama' ? 'ndjson' : 'sse', errorBody(flavor, error));
        if (flavor === 'openai') reply.done();
        reply.end();
      } else {
        const headers: Record<string, string> = error.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {};
        // After a refused body the rest of it is not read: close rather than reuse the connection.
        if (error.status === 413) headers['Connection'] = 'close';
        reply.json(error.status, errorBody(flavor, error), headers);
      }
    } finally {
      clearTimeout(timer);
      inFlight.delete(controller);
    }
  }

  function makeServer(port: () => number): Server {
    const server = createServer(
      {
        maxHeaderSize: MAX_HEADER_BYTES,
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        // The timeouts above are checked this often; Node's default (30 s) would let a slow client linger.
        connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
        requireHostHeader: false,
        noDelay: true,
      },
      (request, response) => {
        handle(request, response, port()).catch((error: unknown) => {
          log('error', `local API: ${String(error)}`);
          if (!response.headersSent) response.writeHead(500);
          response.end();
        });
      },
    );
    server.maxConnections = MAX_CONNECTIONS;
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => onClientError(error, socket));
    return server;
  }

  /** Requests Node's parser refused before our handler ran: headers too large, too slow, malformed. */
  function onClientError(error: NodeJS.ErrnoException, socket: Socket): void {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const reason =
      status === 431
        ? `The request's headers are larger than ${MAX_HEADER_BYTES} bytes.`
        : status === 408
          ? 'The request did not arrive in time.'
          : 'The request is not valid HTTP.';
    service.refused({ endpoint: 'unparsed request', requestBytes: 0 }, status, reason, null);
    const body = JSON.stringify({ error: { message: reason, type: 'invalid_request_error', param: null, code: String(status) } });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  async function bind(port: number): Promise<Running> {
    for (const host of hosts) assertLoopbackBind(host);
    const servers: Server[] = [];
    const addresses: string[] = [];
    let actual = port;
    try {
      for (const host of hosts as readonly LoopbackBindHost[]) {
        const server = makeServer(() => actual);
        try {
          actual = await listen(server, host, actual);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? '';
          if (host === '::1' && NO_IPV6.has(code) && servers.length > 0) {
            log('warn', `IPv6 loopback (::1) is not available here (${code}); the local API listens on 127.0.0.1 only.`);
            continue;
          }
          throw error;
        }
        servers.push(server);
        addresses.push(addressUrl(host, actual));
      }
    } catch (error) {
      await Promise.all(servers.map(close));
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new Error(`Port ${actual} is already in use by another program.`, { cause: error });
      throw error;
    }
    return { port: actual, servers, addresses };
  }

  async function stop(): Promise<void> {
    const current = running;
    running = null;
    for (const controller of inFlight) controller.abort();
    if (current !== null) await Promise.all(current.servers.map(close));
  }

  return {
    async start(port, startOptions) {
      // New origins apply to the next request; the same port keeps its sockets.
      allowedOrigins = [...startOptions.allowedOrigins];
      if (running !== null && (running.port === port || port === 0)) return running.addresses;
      if (running !== null) await stop();
      running = await bind(port);
      log('info', `The local API listens on ${running.addresses.join(' and ')}.`);
      return running.addresses;
    },
    stop,
  };
}

function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return seconds >= 120 ? `${Math.round(seconds / 60)} minutes` : `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} seconds`;
}

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  // Origin-form only ("/v1/models?x"); an absolute-form target keeps just its path.
  const path = raw.startsWith('/') ? raw : raw.replace(/^[a-z]+:\/\/[^/]*/i, '');
  const end = path.search(/[?#]/);
  return (end === -1 ? path : path.slice(0, end)) || '/';
}

function listen(server: Server, host: LoopbackBindHost, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen({ port, host, ipv6Only: host === '::1', exclusive: true }, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
