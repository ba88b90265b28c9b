import { fork } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

// The binding test stand-in, in a child process of its own (it changes child_process.fork for
// the whole process): node-llama-cpp's real testBindingBinary() must resolve without forking
// the binary test, while other forks still run.

const llamaRoot = path.resolve(import.meta.dirname, '../../node_modules/node-llama-cpp');
const testModule = pathToFileURL(path.join(llamaRoot, 'dist', 'bindings', 'utils', 'testBindingBinary.js')).href;
const standIn = pathToFileURL(path.resolve(import.meta.dirname, 'binding-test.ts')).href;

const script = `
import childProcess from 'node:child_process';
const { answerBindingTestsInProcess } = await import(${JSON.stringify(standIn)});
const { testBindingBinary } = await import(${JSON.stringify(testModule)});
answerBindingTestsInProcess();
// A binding path that does not exist: a real test child would fail to load it.
const passed = await testBindingBinary('/nonexistent/llama-addon.node', undefined, false, 10000);
// Any other fork is real: this one runs Node with -e and exits with 3.
const other = childProcess.fork('unused', [], { execArgv: ['-e', 'process.exit(3)'], stdio: 'ignore' });
const code = await new Promise((resolve) => other.on('exit', resolve));
console.log(JSON.stringify({ passed, otherExit: code }));
`;

describe('answerBindingTestsInProcess', () => {
  it("answers node-llama-cpp's binary test without forking, and leaves other forks alone", async () => {
    const child = fork('--input-type=module', [], { execArgv: ['--input-type=module', '-e', script], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(JSON.parse(out.trim().split('\n').at(-1) ?? '{}')).toEqual({ passed: true, otherExit: 3 });
  });
});
