import childProcess, { type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createRequire, syncBuiltinESMExports } from 'node:module';

// node-llama-cpp tests a prebuilt binary before loading it (always on Linux; GPU builds on
// Windows) by running its own `testBindingBinary.js` in a child process, so that a binary
// that crashes takes down only that child. In Electron it forks with `utilityProcess.fork`,
// which exists only in the main process; this inference process is itself a utility process,
// so node-llama-cpp falls back to `child_process.fork`, which runs `process.execPath` (the
// app's Electron binary) as Node. With the runAsNode fuse off that cannot work: Electron
// throws, or starts a second copy of the app. getLlama has no option to skip the test.
//
// Under Electron, forks of node-llama-cpp's test file are answered in this process by a
// stand-in child: it loads the addon here (`require`, as node-llama-cpp does next), and
// reports failure when that throws (a missing library, say libvulkan or libcuda for a runtime
// pack: the dynamic loader refuses it), so getLlama sets the binary aside and falls back as
// it would after the real test. What it cannot catch is a binary that crashes the process
// (illegal instruction, a driver fault): that takes down this process, which is itself the
// isolation (the main process survives it and restarts it: electron/main/services/inference).
// It does not run the real test's GPU-type check (that needs `init()`, which node-llama-cpp
// then runs again). Any other fork goes to the real `child_process.fork`. Under plain Node
// (tests, the CLI) nothing changes and the real test runs.

const TEST_FILE = /[\\/]testBindingBinary\.js$/;

type TestMessage = { readonly type: 'start' | 'test' | 'exit'; readonly bindingBinaryPath?: string };

const requireAddon = createRequire(import.meta.url);

/** Loads the addon as node-llama-cpp will; false when the dynamic loader refuses it. */
function loads(bindingBinaryPath: string | undefined): boolean {
  if (bindingBinaryPath === undefined) return false;
  try {
    requireAddon(bindingBinaryPath);
    return true;
  } catch {
    return false;
  }
}

/** A child process that answers node-llama-cpp's binding-test protocol in this process. */
function passedTestChild(): ChildProcess {
  const child = new EventEmitter() as EventEmitter & { exitCode: number | null; killed: boolean; send(message: TestMessage): boolean; kill(): boolean };
  child.exitCode = null;
  child.killed = false;
  const exit = (code: number) => {
    if (child.exitCode !== null) return;
    child.exitCode = code;
    queueMicrotask(() => child.emit('exit', code, null));
  };
  child.send = (message) => {
    if (message.type === 'start') {
      if (loads(message.bindingBinaryPath)) queueMicrotask(() => child.emit('message', { type: 'loaded' }));
      else exit(1);
    } else if (message.type === 'test') queueMicrotask(() => child.emit('message', { type: 'done' }));
    else exit(0);
    return true;
  };
  child.kill = () => {
    child.killed = true;
    exit(0);
    return true;
  };
  queueMicrotask(() => child.emit('message', { type: 'ready' }));
  return child as unknown as ChildProcess;
}

let installed = false;

/** Routes node-llama-cpp's binding-test forks to an in-process answer. Idempotent. */
export function answerBindingTestsInProcess(): void {
  if (installed) return;
  installed = true;
  const realFork = childProcess.fork;
  childProcess.fork = ((modulePath: string | URL, ...rest: unknown[]) =>
    TEST_FILE.test(String(modulePath))
      ? passedTestChild()
      : (realFork as (...args: unknown[]) => ChildProcess)(modulePath, ...rest)) as typeof childProcess.fork;
  // node-llama-cpp imports `fork` by name from node:child_process: update the ESM view too.
  syncBuiltinESMExports();
}
