import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

// The binding test stand-in, in a child process of its own (it changes child_process.fork for
// the whole process): node-llama-cpp's real testBindingBinary() must give its answer where no
// Node can be forked (as with the runAsNode fuse off), while other forks still run.

const llamaRoot = path.resolve(import.meta.dirname, '../../node_modules/node-llama-cpp');
const testModule = pathToFileURL(path.join(llamaRoot, 'dist', 'bindings', 'utils', 'testBindingBinary.js')).href;
const cpuAddon = path.resolve(import.meta.dirname, '../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/llama-addon.node');
const standIn = pathToFileURL(path.resolve(import.meta.dirname, 'binding-test.ts')).href;

const script = `
import childProcess from 'node:child_process';
const { answerBindingTestsInProcess } = await import(${JSON.stringify(standIn)});
const { testBindingBinary } = await import(${JSON.stringify(testModule)});
answerBindingTestsInProcess();
// As in the packaged app, no Node can be forked: process.execPath leads nowhere.
const realExecPath = process.execPath;
process.execPath = '/nonexistent/soberana-without-run-as-node';
// The CPU addon loads; a path the loader cannot open fails, as in the real test.
const passed = await testBindingBinary(${JSON.stringify(cpuAddon)}, undefined, false, 10000);
const missing = await testBindingBinary('/nonexistent/llama-addon.node', undefined, false, 10000);
process.execPath = realExecPath;
// Any other fork is real: this one runs Node with -e and exits with 3.
const other = childProcess.fork('unused', [], { execArgv: ['-e', 'process.exit(3)'], stdio: 'ignore' });
const code = await new Promise((resolve) => other.on('exit', resolve));
console.log(JSON.stringify({ passed, missing, otherExit: code }));
`;

describe('answerBindingTestsInProcess', () => {
  it.skipIf(!existsSync(cpuAddon))("answers node-llama-cpp's binary test in process, and leaves other forks alone", async () => {
    const child = fork('--input-type=module', [], { execArgv: ['--input-type=module', '-e', script], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(JSON.parse(out.trim().split('\n').at(-1) ?? '{}')).toMatchObject({ passed: true, missing: false, otherExit: 3 });
  });
});
