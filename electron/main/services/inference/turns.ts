import type { RuntimeModel } from '../../../common/contract/schemas.ts';
import { AppError } from '../../../common/result.ts';
import type { LoadOptions } from '../../../common/runtime/protocol.ts';
import type { RuntimeEngine } from './engine.ts';

// The inference process answers one reply at a time. Who goes next is decided here, fairly:
// each caller has a lane (the app's own chats, and each local API token), lanes take turns
// round-robin, and within a lane tasks keep their order, so one busy token cannot starve
// another. The priority lane (the app's, in core.ts) takes every other turn while it has
// work: the person at the keyboard waits for at most one API reply, however many scripts
// are queued, not for one reply of each. A task whose caller gives up (its signal aborts)
// while it waits leaves the queue.

export interface Turns {
  /**
   * Runs `task` when its lane's turn comes, after the task running now. Rejects with AppError
   * `cancelled` if `signal` aborts before the task starts; once started, the task owns the signal.
   */
  run<T>(lane: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Tasks waiting for their turn (not the one running). */
  waiting(): number;
}

interface Waiting {
  readonly start: () => void;
  readonly cancel: () => void;
}

export interface TurnsOptions {
  /** A lane served every other turn while it has work (the app's own), ahead of the round-robin. */
  readonly priorityLane?: string;
}

export function createTurns(options: TurnsOptions = {}): Turns {
  /** Lanes with waiting tasks, in the order they are served; a lane served goes to the back. */
  const lanes = new Map<string, Waiting[]>();
  const priority = options.priorityLane;
  let running = false;
  let count = 0;
  let lastWasPriority = false;

  /** The priority lane if it has work and did not have the last turn (or nobody else waits); else the first in line. */
  const pick = (): string | undefined => {
    if (priority !== undefined && lanes.has(priority) && (!lastWasPriority || lanes.size === 1)) return priority;
    for (const lane of lanes.keys()) if (lane !== priority) return lane;
    return lanes.keys().next().value;
  };

  const next = () => {
    if (running) return;
    const lane = pick();
    if (lane === undefined) return;
    const queue = lanes.get(lane)!;
    lastWasPriority = lane === priority;
    const item = queue.shift()!;
    count -= 1;
    lanes.delete(lane);
    // Back of the line: every other lane with work goes first.
    if (queue.length > 0) lanes.set(lane, queue);
    running = true;
    item.start();
  };

  return {
    run<T>(lane: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (signal?.aborted) return Promise.reject(new AppError('cancelled', 'Cancelled.'));
      return new Promise<T>((resolve, reject) => {
        const onAbort = () => item.cancel();
        const item: Waiting = {
          start: () => {
            signal?.removeEventListener('abort', onAbort);
            void (async () => {
              try {
                resolve(await task());
              } catch (error) {
                reject(error);
              } finally {
                running = false;
                next();
              }
            })();
          },
          cancel: () => {
            const queue = lanes.get(lane);
            const index = queue?.indexOf(item) ?? -1;
            if (queue === undefined || index < 0) return;
            queue.splice(index, 1);
            count -= 1;
            if (queue.length === 0) lanes.delete(lane);
            reject(new AppError('cancelled', 'Cancelled while waiting for a turn.'));
          },
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        const queue = lanes.get(lane);
        if (queue === undefined) lanes.set(lane, [item]);
        else queue.push(item);
        count += 1;
        next();
      });
    },
    waiting: () => count,
  };
}

type LoadArgs = readonly [filePath: string, options: LoadOptions, displayName: string | undefined];

/** How each recent model was loaded, by the real path the engine reports, for engines wrapped by rememberLoads. */
const loadsOf = new WeakMap<object, Map<string, LoadArgs>>();
const REMEMBERED_LOADS = 8;

/**
 * `engine` noting how each model it loads was asked for, so that a lane can load it again
 * (see laneEngine). Wrap the engine every lane shares, the one the local API loads through too.
 */
export function rememberLoads<E extends RuntimeEngine>(engine: E): E {
  const loads = new Map<string, LoadArgs>();
  const wrapped: E = {
    ...engine,
    async load(filePath, options, onProgress, signal, displayName) {
      const model = await engine.load(filePath, options, onProgress, signal, displayName);
      loads.delete(model.path);
      loads.set(model.path, [filePath, options, displayName]);
      for (const oldest of loads.keys()) {
        if (loads.size <= REMEMBERED_LOADS) break;
        loads.delete(oldest);
      }
      return model;
    },
  };
  loadsOf.set(wrapped, loads);
  return wrapped;
}

const sameModel = (a: RuntimeModel, b: RuntimeModel | null) =>
  b !== null && a.path === b.path && a.contextSize === b.contextSize && a.gpuLayers === b.gpuLayers && a.threads === b.threads;

/**
 * `engine` with its loads and replies taken in turns in `lane`: load, unload, generate, chat and
 * complete wait for their turn; everything else (state, embeddings, token counts, ranking)
 * passes through, since the inference process serves those alongside a reply.
 *
 * A caller decides which model answers before its reply waits (the app's chat checks the
 * loaded model, loads another if needed, then asks for the reply). Another lane's turn may
 * load a different model in between, so a reply's turn first puts back the model that was
 * loaded when the reply was asked for, if the engine remembers how it was loaded
 * (rememberLoads); the reply is never written by a model its caller did not see.
 */
export function laneEngine<E extends RuntimeEngine>(engine: E, turns: Turns, lane: string): E {
  const loads = loadsOf.get(engine);
  const reply = <T>(task: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> => {
    const expected = engine.state().model;
    return turns.run(
      lane,
      async () => {
        const load = expected === null || sameModel(expected, engine.state().model) ? undefined : loads?.get(expected.path);
        if (load !== undefined) await engine.load(load[0], load[1], undefined, signal, load[2]);
        return task();
      },
      signal,
    );
  };
  return {
    ...engine,
    load: (filePath, options, onProgress, signal, displayName) =>
      turns.run(lane, () => engine.load(filePath, options, onProgress, signal, displayName), signal),
    unload: () => turns.run(lane, () => engine.unload()),
    generate: (params, onDelta, signal) => reply(() => engine.generate(params, onDelta, signal), signal),
    chat: (request, onDelta, signal) => reply(() => engine.chat(request, onDelta, signal), signal),
    complete: (params, onDelta, signal) => reply(() => engine.complete(params, onDelta, signal), signal),
  };
}
