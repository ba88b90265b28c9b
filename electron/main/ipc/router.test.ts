import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildApi, type Api, type StreamFrame } from '../../common/api.ts';
import { event, rpc, stream } from '../../common/contract/define.ts';
import type { Caller, Handlers } from '../../common/handlers.ts';
import { AppError, fail, ok } from '../../common/result.ts';
import { createBus } from '../services/bus.ts';
import { createMemoryPair } from './memory-transport.ts';
import { createRouter } from './router.ts';
import { serve } from './transport.ts';

const ORIGIN = 'app://soberana';
const trusted: Caller = { origin: ORIGIN, isMainFrame: true };

const testContract = {
  'math.double': rpc({ input: z.object({ n: z.number().int() }).strict(), output: z.object({ value: z.number() }) }),
  'math.broken': rpc({ input: z.object({}), output: z.object({ value: z.number() }) }),
  'math.crash': rpc({ input: z.object({}), output: z.object({}) }),
  'math.refuse': rpc({ input: z.object({}), output: z.object({}) }),
  'count.up': stream({ input: z.object({ to: z.number().int().max(100) }), event: z.object({ n: z.number() }) }),
  'count.forever': stream({ input: z.object({}), event: z.object({ n: z.number() }) }),
  'count.fails': stream({ input: z.object({}), event: z.object({ n: z.number() }) }),
  'count.bad': stream({ input: z.object({}), event: z.object({ n: z.number() }) }),
  'news.posted': event({ payload: z.object({ title: z.string() }) }),
};
type TestContract = typeof testContract;
type TestEvents = { 'news.posted': { title: string }; 'not.inContract': { x: number } };
const kinds = Object.fromEntries(Object.entries(testContract).map(([name, def]) => [name, def.kind]));

function setup(caller: Caller = trusted, validateOutputs = true) {
  const log: { finallyRan: number; internal: unknown[]; signals: AbortSignal[] } = { finallyRan: 0, internal: [], signals: [] };
  const handlers: Handlers<TestContract> = {
    'math.double': ({ n }) => ok({ value: n * 2 }),
    // A handler returning the wrong shape: caught by output validation.
    'math.broken': () => ok({ value: 'two' as unknown as number }),
    'math.crash': () => {
      throw new Error('secret internal path /etc/shadow');
    },
    'math.refuse': () => fail('not_found', 'No such thing.'),
    'count.up': async function* ({ to }) {
      for (let n = 1; n <= to; n += 1) yield { n };
    },
    'count.forever': async function* (_input, { signal }) {
      log.signals.push(signal);
      try {
        for (let n = 0; ; n += 1) {
          yield { n };
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      } finally {
        log.finallyRan += 1;
      }
    },
    'count.fails': async function* () {
      yield { n: 1 };
      throw new AppError('io_error', 'The disk is full.');
    },
    'count.bad': async function* () {
      yield { n: 'x' as unknown as number };
    },
  };
  const router = createRouter(testContract, handlers, {
    trustedOrigins: [ORIGIN],
    validateOutputs,
    onInternalError: (_endpoint, error) => log.internal.push(error),
  });
  const bus = createBus<TestEvents>();
  const pair = createMemoryPair(caller);
  const stop = serve(router, bus, pair.transport);
  const api = buildApi(kinds, pair.bridge) as Api<TestContract>;
  return { api, bus, pair, stop, log, router };
}

function collect<E>(start: (onFrame: (frame: StreamFrame<E>) => void) => () => void): { frames: StreamFrame<E>[]; done: Promise<void>; cancel: () => void } {
  const frames: StreamFrame<E>[] = [];
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const cancel = start((frame) => {
    frames.push(frame);
    if (frame.type !== 'event') finish();
  });
  return { frames, done, cancel };
}

describe('router over the in-memory transport', () => {
  it('answers an rpc call with the handler’s result', async () => {
    const { api } = setup();
    expect(await api.math.double({ n: 21 })).toEqual({ ok: true, value: { value: 42 } });
  });

  it('rejects a call from a foreign origin before the handler runs', async () => {
    const { api } = setup({ origin: 'https://evil.example', isMainFrame: true });
    const result = await api.math.double({ n: 1 });
    expect(result).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('rejects a call from a subframe of the trusted origin', async () => {
    const { api } = setup({ origin: ORIGIN, isMainFrame: false });
    expect(await api.math.double({ n: 1 })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('rejects a malformed payload with bad_request and says which field', async () => {
    const { api } = setup();
    const wrongType = await api.math.double({ n: 'one' as unknown as number });
    expect(wrongType).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(wrongType.ok ? '' : wrongType.error.details).toContain('n');
    const extraKey = await api.math.double({ n: 1, admin: true } as unknown as { n: number });
    expect(extraKey).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    const notAnObject = await api.math.double(null as unknown as { n: number });
    expect(notAnObject).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  });

  it('refuses unknown endpoints, including prototype names', async () => {
    const { router } = setup();
    for (const name of ['math.nothing', '__proto__', 'constructor', 'toString', 'count.up']) {
      expect(await router.call(trusted, name, {})).toMatchObject({ ok: false, error: { code: 'unknown_endpoint' } });
    }
  });

  it('validates outputs in development and test builds', async () => {
    const { api, log } = setup();
    expect(await api.math.broken({})).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(log.internal).toHaveLength(1);
    const lax = setup(trusted, false);
    expect(await lax.api.math.broken({})).toEqual({ ok: true, value: { value: 'two' } });
  });

  it('turns a thrown error into an internal error without leaking its text', async () => {
    const { api, log } = setup();
    const result = await api.math.crash({});
    expect(result).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(JSON.stringify(result)).not.toContain('shadow');
    expect(String(log.internal[0])).toContain('shadow');
  });

  it('passes a handler’s own failure through', async () => {
    const { api } = setup();
    expect(await api.math.refuse({})).toEqual({ ok: false, error: { code: 'not_found', message: 'No such thing.' } });
  });

  it('streams events in order, then end', async () => {
    const { api } = setup();
    const run = collect<{ n: number }>((onFrame) => api.count.up({ to: 5 }, onFrame));
    await run.done;
    expect(run.frames).toEqual([...[1, 2, 3, 4, 5].map((n) => ({ type: 'event', event: { n } })), { type: 'end' }]);
  });

  it('rejects a stream from a foreign origin with an error frame', async () => {
    const { api } = setup({ origin: 'null', isMainFrame: true });
    const run = collect<{ n: number }>((onFrame) => api.count.up({ to: 2 }, onFrame));
    await run.done;
    expect(run.frames).toEqual([{ type: 'error', error: expect.objectContaining({ code: 'forbidden' }) }]);
  });

  it('rejects a malformed stream request', async () => {
    const { api } = setup();
    const run = collect<{ n: number }>((onFrame) => api.count.up({ to: 1000 }, onFrame));
    await run.done;
    expect(run.frames[0]).toMatchObject({ type: 'error', error: { code: 'bad_request' } });
  });

  it('aborts a stream when the caller cancels, and runs the handler’s cleanup', async () => {
    const { api, log } = setup();
    const run = collect<{ n: number }>((onFrame) => api.count.forever({}, onFrame));
    await new Promise((resolve) => setTimeout(resolve, 30));
    run.cancel();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const seen = run.frames.length;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(run.frames.length).toBe(seen); // nothing after cancel
    expect(log.signals[0]?.aborted).toBe(true);
    expect(log.finallyRan).toBe(1);
  });

  it('aborts every open stream when the window goes away', async () => {
    const { api, pair, log } = setup();
    collect<{ n: number }>((onFrame) => api.count.forever({}, onFrame));
    collect<{ n: number }>((onFrame) => api.count.forever({}, onFrame));
    await new Promise((resolve) => setTimeout(resolve, 20));
    pair.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(log.signals.map((signal) => signal.aborted)).toEqual([true, true]);
    expect(log.finallyRan).toBe(2);
  });

  it('ends a stream with the AppError a handler threw', async () => {
    const { api } = setup();
    const run = collect<{ n: number }>((onFrame) => api.count.fails({}, onFrame));
    await run.done;
    expect(run.frames).toEqual([
      { type: 'event', event: { n: 1 } },
      { type: 'error', error: { code: 'io_error', message: 'The disk is full.' } },
    ]);
  });

  it('validates stream events', async () => {
    const { api } = setup();
    const run = collect<{ n: number }>((onFrame) => api.count.bad({}, onFrame));
    await run.done;
    expect(run.frames).toEqual([{ type: 'error', error: expect.objectContaining({ code: 'internal' }) }]);
  });

  it('broadcasts contract events from the bus and drops what the contract does not allow', async () => {
    const { api, bus } = setup();
    const seen: unknown[] = [];
    const off = api.news.posted((payload) => seen.push(payload));
    bus.emit('news.posted', { title: 'hello' });
    bus.emit('news.posted', { title: 42 } as unknown as { title: string });
    bus.emit('not.inContract', { x: 1 });
    off();
    bus.emit('news.posted', { title: 'after unsubscribe' });
    expect(seen).toEqual([{ title: 'hello' }]);
  });
});

describe('Handlers<C>', () => {
  it('makes a missing handler a compile error', () => {
    // @ts-expect-error 'math.double' and the rest are missing: `npm run typecheck` fails if this compiles.
    const incomplete: Handlers<TestContract> = { 'math.crash': () => ok({}) };
    expect(Object.keys(incomplete)).toEqual(['math.crash']);
  });
});
