import type { Contract, RuntimeSettings } from '../../../common/contract/index.ts';
import type { Handlers } from '../../../common/handlers.ts';
import { AppError, ok } from '../../../common/result.ts';
import type { FilePicker, FileTokens } from '../files.ts';
import type { RuntimeEngine } from './engine.ts';
import { loadOptionsFrom } from './load-options.ts';

type RuntimeHandlers = Pick<Handlers<Contract>, 'files.pickModel' | 'runtime.state' | 'runtime.load' | 'runtime.unload' | 'runtime.generate'>;

export interface RuntimeHandlerDeps {
  readonly engine: RuntimeEngine;
  readonly files: FileTokens;
  readonly picker: FilePicker;
  readonly settings: () => RuntimeSettings;
}

/** Turns a stream of callbacks into an async generator the router can iterate. */
export async function* pump<E>(start: (push: (event: E) => void) => Promise<E>): AsyncGenerator<E> {
  const queue: E[] = [];
  let wake: (() => void) | null = null;
  let finished = false;
  let failure: unknown = null;
  const push = (event: E) => {
    queue.push(event);
    wake?.();
  };
  start(push).then(
    (last) => {
      queue.push(last);
      finished = true;
      wake?.();
    },
    (error: unknown) => {
      failure = error;
      finished = true;
      wake?.();
    },
  );
  for (;;) {
    while (queue.length > 0) yield queue.shift()!;
    if (finished) {
      if (failure !== null) throw failure;
      return;
    }
    await new Promise<void>((resolve) => (wake = resolve));
    wake = null;
  }
}

export function createRuntimeHandlers({ engine, files, picker, settings }: RuntimeHandlerDeps): RuntimeHandlers {
  return {
    'files.pickModel': async () => ok(await files.pick(picker)),
    'runtime.state': () => ok(engine.state()),
    'runtime.unload': async () => {
      await engine.unload();
      return ok(engine.state());
    },
    'runtime.load': (input, { signal }) =>
      pump(async (push) => {
        const filePath = files.resolve(input.fileToken);
        if (filePath === null) throw new AppError('not_found', 'That file is no longer available. Choose it again.');
        const hardware = engine.state().hardware ?? (await engine.hardware());
        const overrides = {
          ...(input.gpuLayers === undefined ? {} : { gpuLayers: input.gpuLayers }),
          ...(input.contextSize === undefined ? {} : { contextSize: input.contextSize }),
        };
        const options = loadOptionsFrom(settings(), hardware.cpuCores, overrides);
        let last = -1;
        const model = await engine.load(
          filePath,
          options,
          (progress) => {
            if (progress - last >= 0.01 || progress === 1) {
              last = progress;
              push({ type: 'progress', progress });
            }
          },
          signal,
        );
        return { type: 'loaded', model };
      }),
    'runtime.generate': (input, { signal }) =>
      pump(async (push) => {
        const sampling = { ...settings().sampling };
        for (const [key, value] of Object.entries(input.sampling ?? {})) {
          if (value !== undefined) sampling[key as keyof typeof sampling] = value;
        }
        const stats = await engine.generate(
          { prompt: input.prompt, ...sampling },
          (delta) => push({ type: 'delta', text: delta.text, tokens: delta.tokens }),
          signal,
        );
        return { type: 'done', stats };
      }),
  };
}
