import childProcess, { type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { syncBuiltinESMExports } from 'node:module';

// node-llama-cpp tests a prebuilt binary before loading it (always on Linux; GPU builds on
// Windows) by running its own `testBindingBinary.js` in a child process, so that a binary
// that crashes takes down only that child. In Electron it forks with `utilityProcess.fork`,
// which exists only in the main process; this inference process is itself a utility process,
// so node-llama-cpp falls back to `child_process.fork`, which runs `process.execPath` (the
// app's Electron binary) as Node. With the runAsNode fuse off that cannot work: Electron
// throws, or starts a second copy of the app. getLlama has no option to skip the test.
//
// The test's purpose is already served here: this process is the isolation. The main
// process survives it crashing and restarts it (electron/main/services/runtime). So under
// Electron, forks of node-llama-cpp's test file are answered in this process by a stand-in
// child that reports the binary passed; node-llama-cpp then loads the binary for real, here,
// and a binary that fails to load still throws and is handled by getLlama's fallback. Any
// other fork goes to the real `child_process.fork`. Under plain Node (tests, the CLI) nothing
// changes and the real test runs.

const TEST_FILE = /[\\/]testBindingBinary\.js$/;

type TestMessage = { readonly type: 'start' | 'test' | 'exit' };

/** A child process that answers node-llama-cpp's binding-test protocol with "passed". */
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
    const reply = message.type === 'start' ? 'loaded' : message.type === 'test' ? 'done' : null;
    if (reply !== null) queueMicrotask(() => child.emit('message', { type: reply }));
    else if (message.type === 'exit') exit(0);
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
    TEST_FILE.test(String(modulePath)) ? passedTestChild() : (realFork as (...args: unknown[]) => ChildProcess)(modulePath, ...rest)) as typeof childProcess.fork;
  // node-llama-cpp imports `fork` by name from node:child_process: update the ESM view too.
  syncBuiltinESMExports();
}
