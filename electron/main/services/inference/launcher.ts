import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The inference process as the engine sees it, however it was started. */
export interface RuntimeChild {
  readonly pid: number | undefined;
  send(message: unknown): void;
  kill(): void;
  onMessage(listener: (message: unknown) => void): void;
  /** `signal` is known under Node (e.g. SIGKILL); Electron reports only the code. */
  onExit(listener: (exit: { code: number | null; signal: string | null }) => void): void;
}

export type RuntimeLauncher = () => RuntimeChild;

/**
 * Where the inference process's entry is: the TypeScript source when running from
 * source (tests, `npm run cli`), or the bundle next to the bundled caller.
 */
export function defaultRuntimeEntry(callerUrl: string = import.meta.url): string {
  const caller = fileURLToPath(callerUrl);
  if (path.extname(caller) === '.ts') return path.resolve(path.dirname(caller), '../../../runtime/index.ts');
  return path.resolve(path.dirname(caller), '../runtime/index.js');
}

/** child_process.fork: the launcher under plain Node (CLI, harness, tests). */
export function forkLauncher(entry: string = defaultRuntimeEntry(), env: NodeJS.ProcessEnv = process.env): RuntimeLauncher {
  return () => {
    const child = fork(entry, [], {
      env,
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return {
      pid: child.pid,
      send: (message) => {
        if (child.connected) child.send(message as never);
      },
      kill: () => void child.kill('SIGKILL'),
      onMessage: (listener) => void child.on('message', listener),
      onExit: (listener) => {
        child.once('exit', (code, signal) => listener({ code, signal }));
      },
    };
  };
}
