import { describe, expect, it } from 'vitest';
import { AppError } from '../../../common/result.ts';
import { createTurns } from './turns.ts';

// The fair queue, by the order tasks run in; no timing. Each task is held open until the
// test lets it finish, so what waits and what runs next is decided by the queue alone.

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('createTurns', () => {
  it('runs one task at a time', async () => {
    const turns = createTurns();
    const first = gate();
    let running = 0;
    let most = 0;
    const task = (held: Promise<void>) => async () => {
      running += 1;
      most = Math.max(most, running);
      await held;
      running -= 1;
    };
    const a = turns.run('app', task(first.opened));
    const b = turns.run('app', task(Promise.resolve()));
    const c = turns.run('api:1', task(Promise.resolve()));
    expect(turns.waiting()).toBe(2);
    first.open();
    await Promise.all([a, b, c]);
    expect(most).toBe(1);
    expect(turns.waiting()).toBe(0);
  });

  it('serves lanes round-robin, each lane in its order: eight busy API clients let the app through every other turn', async () => {
    const turns = createTurns();
    const order: string[] = [];
    const first = gate();
    const runs: Promise<unknown>[] = [turns.run('api:0', () => first.opened)];
    // Eight tokens with three requests each, queued before the app asks for anything.
    for (let round = 0; round < 3; round += 1)
      for (let token = 1; token <= 8; token += 1) runs.push(turns.run(`api:${token}`, async () => void order.push(`api:${token}#${round}`)));
    for (let n = 0; n < 3; n += 1) runs.push(turns.run('app', async () => void order.push(`app#${n}`)));
    first.open();
    await Promise.all(runs);
    // Each lane's requests keep their order.
    for (let token = 1; token <= 8; token += 1)
      expect(order.filter((name) => name.startsWith(`api:${token}#`))).toEqual([0, 1, 2].map((round) => `api:${token}#${round}`));
    expect(order.filter((name) => name.startsWith('app'))).toEqual(['app#0', 'app#1', 'app#2']);
    // Without a priority lane, the app came last to the queue and waits one round of the others, not all of their requests.
    const appTurns = order.flatMap((name, index) => (name.startsWith('app') ? [index] : []));
    expect(appTurns).toEqual([8, 17, 26]);
  });

  it('the priority lane takes every other turn while it has work, whatever queued before it', async () => {
    const turns = createTurns({ priorityLane: 'app' });
    const order: string[] = [];
    const first = gate();
    const runs: Promise<unknown>[] = [turns.run('api:0', () => first.opened)];
    for (let round = 0; round < 3; round += 1)
      for (let token = 1; token <= 8; token += 1) runs.push(turns.run(`api:${token}`, async () => void order.push(`api:${token}#${round}`)));
    for (let n = 0; n < 3; n += 1) runs.push(turns.run('app', async () => void order.push(`app#${n}`)));
    first.open();
    await Promise.all(runs);
    // The app's three replies come first, third and fifth: it waits for one API reply at most.
    expect(order.flatMap((name, index) => (name.startsWith('app') ? [index] : []))).toEqual([0, 2, 4]);
    // The tokens still share the rest round-robin, each in its order.
    expect(order.filter((name) => name.startsWith('api')).slice(0, 8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((token) => `api:${token}#0`));
    for (let token = 1; token <= 8; token += 1)
      expect(order.filter((name) => name.startsWith(`api:${token}#`))).toEqual([0, 1, 2].map((round) => `api:${token}#${round}`));
  });

  it('the priority lane alone is served in its order, and it waits no turn when nothing else does', async () => {
    const turns = createTurns({ priorityLane: 'app' });
    const order: string[] = [];
    const first = gate();
    const runs: Promise<unknown>[] = [turns.run('app', () => first.opened)];
    for (let n = 1; n <= 3; n += 1) runs.push(turns.run('app', async () => void order.push(`app#${n}`)));
    runs.push(turns.run('api:1', async () => void order.push('api:1#0')));
    first.open();
    await Promise.all(runs);
    // app#0 (held) was the app's turn, so the token goes next; then the app, which is alone.
    expect(order).toEqual(['api:1#0', 'app#1', 'app#2', 'app#3']);
  });

  it('a lane that keeps asking goes to the back each time', async () => {
    const turns = createTurns();
    const order: string[] = [];
    const first = gate();
    const runs: Promise<unknown>[] = [turns.run('busy', () => first.opened)];
    runs.push(turns.run('busy', async () => void order.push('busy#1')));
    runs.push(turns.run('busy', async () => void order.push('busy#2')));
    runs.push(turns.run('app', async () => void order.push('app#0')));
    runs.push(turns.run('other', async () => void order.push('other#0')));
    first.open();
    await Promise.all(runs);
    expect(order).toEqual(['busy#1', 'app#0', 'other#0', 'busy#2']);
  });

  it('a waiting task whose signal aborts leaves the queue, rejected as cancelled; a failing task does not stop the queue', async () => {
    const turns = createTurns();
    const first = gate();
    const ran: string[] = [];
    const head = turns.run('app', async () => {
      await first.opened;
      throw new AppError('internal', 'boom');
    });
    const controller = new AbortController();
    const leaving = turns.run('api:1', async () => void ran.push('leaving'), controller.signal);
    const staying = turns.run('api:2', async () => void ran.push('staying'));
    expect(turns.waiting()).toBe(2);
    controller.abort();
    await expect(leaving).rejects.toMatchObject({ code: 'cancelled' });
    expect(turns.waiting()).toBe(1);
    first.open();
    await expect(head).rejects.toMatchObject({ code: 'internal' });
    await staying;
    expect(ran).toEqual(['staying']);
    // Already aborted: refused at once, nothing queued.
    await expect(turns.run('app', async () => 1, AbortSignal.abort())).rejects.toBeInstanceOf(AppError);
    expect(turns.waiting()).toBe(0);
  });

  it('once a task has started, its signal is its own business', async () => {
    const turns = createTurns();
    const controller = new AbortController();
    const result = await turns.run(
      'app',
      async () => {
        controller.abort();
        return 'finished';
      },
      controller.signal,
    );
    expect(result).toBe('finished');
  });
});
