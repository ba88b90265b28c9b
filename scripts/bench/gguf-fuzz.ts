import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { buildGgufBytes, fuzzBases, fuzzCase, inconsistency, planGguf } from '../../e2e/fixtures/gguf/index.ts';
import type { FuzzBase } from '../../e2e/fixtures/gguf/index.ts';
import { checkGgufBytes } from '../../electron/main/services/gguf/validator.ts';
import { GGUF_REJECTION_CODES } from '../../electron/main/services/gguf/types.ts';
import type { GgufResult } from '../../electron/main/services/gguf/types.ts';
import { report } from './report.ts';

/*
 * Fuzzes the GGUF validator with seeded mutations of well-formed headers and counts
 * crashes (it threw, or reported `internal`), hangs, inconsistent answers, rejections and
 * acceptances. Cases run in a worker thread; the main thread watches a shared progress
 * counter and, if one case runs away, terminates the worker, counts a hang and resumes
 * after it, so a real hang is counted instead of stalling the benchmark.
 *
 * With `--llama N`, it then writes the first N mutated files the validator accepts (header
 * plus tensor data) and loads each in llama.cpp through node-llama-cpp, in child
 * processes: a child that dies counts as a llama.cpp crash on a file the validator let
 * through. That is the question the validator exists to answer.
 *
 *   npm run bench:gguf-fuzz -- [--cases N] [--seed S] [--hang-ms MS] [--stall-ms MS] [--llama N]
 */

/** Layout of the shared counters. */
const SLOT = {
  next: 0,
  threw: 1,
  internal: 2,
  slow: 3,
  inconsistent: 4,
  accepted: 5,
  rejected: 6,
  slowestMicros: 7,
  checkMicros: 8,
  codes: 9,
} as const;
const SLOTS = SLOT.codes + GGUF_REJECTION_CODES.length;
/** Findings printed in full; the rest are only counted. */
const MAX_FINDINGS = 20;

interface Job {
  readonly seed: number;
  readonly from: number;
  readonly to: number;
  readonly hangMs: number;
  readonly counters: SharedArrayBuffer;
}

interface Finding {
  readonly index: number;
  readonly what: string;
}

function work(job: Job): void {
  const counters = new Int32Array(job.counters);
  const bases = fuzzBases();
  let posted = 0;
  const post = (finding: Finding) => {
    if (posted++ < MAX_FINDINGS) parentPort?.postMessage(finding);
  };
  for (let i = job.from; i < job.to; i++) {
    // Published before the case runs: if it never returns, the watchdog knows which one.
    Atomics.store(counters, SLOT.next, i);
    const c = fuzzCase(bases, job.seed, i);
    const started = performance.now();
    let result: GgufResult;
    try {
      result = checkGgufBytes(c.bytes, c.fileSize);
    } catch (error) {
      Atomics.add(counters, SLOT.threw, 1);
      post({ index: i, what: `threw ${String(error)} (${c.base}: ${c.operations.join('; ')})` });
      continue;
    }
    const micros = Math.round((performance.now() - started) * 1000);
    Atomics.add(counters, SLOT.checkMicros, micros);
    if (micros > Atomics.load(counters, SLOT.slowestMicros)) Atomics.store(counters, SLOT.slowestMicros, micros);
    if (micros > job.hangMs * 1000) {
      Atomics.add(counters, SLOT.slow, 1);
      post({ index: i, what: `took ${micros / 1000} ms (${c.base}: ${c.operations.join('; ')})` });
    }
    if (result.ok) Atomics.add(counters, SLOT.accepted, 1);
    else {
      Atomics.add(counters, SLOT.rejected, 1);
      Atomics.add(counters, SLOT.codes + GGUF_REJECTION_CODES.indexOf(result.rejection.code), 1);
      if (result.rejection.code === 'internal') Atomics.add(counters, SLOT.internal, 1);
    }
    const wrong = inconsistency(result, c);
    if (wrong !== null) {
      Atomics.add(counters, SLOT.inconsistent, 1);
      post({ index: i, what: `${wrong} (${c.base}: ${c.operations.join('; ')})` });
    }
  }
  Atomics.store(counters, SLOT.next, job.to);
}

function runWorker(job: Job, stallMs: number, onFinding: (f: Finding) => void): Promise<{ stalledAt: number | null }> {
  return new Promise((resolve, reject) => {
    const counters = new Int32Array(job.counters);
    const worker = new Worker(new URL(import.meta.url), { workerData: job });
    let last = -1;
    let lastChange = performance.now();
    let stalledAt: number | null = null;
    const watchdog = setInterval(() => {
      const now = Atomics.load(counters, SLOT.next);
      if (now !== last) {
        last = now;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > stallMs) {
        stalledAt = now;
        void worker.terminate();
      }
    }, 100);
    worker.on('message', (finding: Finding) => onFinding(finding));
    worker.on('error', (error) => {
      clearInterval(watchdog);
      reject(error);
    });
    worker.on('exit', () => {
      clearInterval(watchdog);
      resolve({ stalledAt });
    });
  });
}

function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cases: { type: 'string' },
      seed: { type: 'string' },
      'hang-ms': { type: 'string' },
      'stall-ms': { type: 'string' },
      llama: { type: 'string' },
      'llama-child': { type: 'string', multiple: true },
    },
  });
  const child = values['llama-child'];
  if (child !== undefined) return llamaChild(child);
  const cases = positiveInt(values.cases, 100_000, 'cases');
  const seed = positiveInt(values.seed, 20_251_126, 'seed');
  const hangMs = positiveInt(values['hang-ms'], 1000, 'hang-ms');
  const stallMs = Math.max(positiveInt(values['stall-ms'], 10_000, 'stall-ms'), hangMs);

  const counters = new SharedArrayBuffer(SLOTS * 4);
  const view = new Int32Array(counters);
  const findings: Finding[] = [];
  let stalls = 0;
  const started = performance.now();
  for (let from = 0; from < cases;) {
    const { stalledAt } = await runWorker({ seed, from, to: cases, hangMs, counters }, stallMs, (f) => findings.push(f));
    if (stalledAt === null) break;
    stalls++;
    findings.push({ index: stalledAt, what: `no answer within ${stallMs} ms; worker terminated` });
    from = stalledAt + 1;
  }
  const seconds = (performance.now() - started) / 1000;

  const at = (slot: number) => Atomics.load(view, slot);
  const threw = at(SLOT.threw);
  const internal = at(SLOT.internal);
  const checked = at(SLOT.accepted) + at(SLOT.rejected);
  const hangs = at(SLOT.slow) + stalls;
  const figures: Record<string, number | string> = {
    cases,
    crashes: threw + internal,
    hangs,
    rejections: at(SLOT.rejected),
    acceptances: at(SLOT.accepted),
    inconsistent: at(SLOT.inconsistent),
    threw,
    internal_errors: internal,
    cases_per_s: Math.round(cases / seconds),
    check_mean_us: checked === 0 ? 0 : Math.round((at(SLOT.checkMicros) / checked) * 10) / 10,
    slowest_case_ms: at(SLOT.slowestMicros) / 1000,
    hang_threshold_ms: hangMs,
    seed,
    seconds: Math.round(seconds * 100) / 100,
  };
  GGUF_REJECTION_CODES.forEach((code, i) => {
    const n = at(SLOT.codes + i);
    if (n > 0) figures[`code_${code}`] = n;
  });
  const llamaCases = values.llama === undefined ? 0 : positiveInt(values.llama, 0, 'llama');
  if (llamaCases > 0) Object.assign(figures, await crossCheck(seed, llamaCases, findings));
  for (const finding of findings.slice(0, MAX_FINDINGS)) console.error(`case ${finding.index}: ${finding.what}`);
  const file = report('gguf-fuzz', figures);
  console.error(`wrote ${file}`);
  if (threw + internal + at(SLOT.inconsistent) + hangs + Number(figures.llama_crashes ?? 0) > 0) process.exitCode = 1;
}

/** Files larger than this are skipped by the cross-check (a mutated size can claim anything). */
const CROSS_CHECK_MAX_BYTES = 16 * 1024 * 1024;

async function crossCheck(seed: number, wanted: number, findings: Finding[]): Promise<Record<string, number>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-gguf-xcheck-'));
  try {
    const bases = fuzzBases();
    const data = new Map<string, Uint8Array>(bases.map((b: FuzzBase) => [b.name, buildGgufBytes(b.spec).subarray(planGguf(b.spec).dataStart)]));
    const caseOf: number[] = [];
    for (let i = 0; caseOf.length < wanted && i < wanted * 1000; i++) {
      const c = fuzzCase(bases, seed, i);
      if (c.fileSize > CROSS_CHECK_MAX_BYTES || !checkGgufBytes(c.bytes, c.fileSize).ok) continue;
      // The mutated header, then the base's tensor data, cut or zero-padded to the claimed size.
      const file = new Uint8Array(c.fileSize);
      file.set(c.bytes.subarray(0, Math.min(c.bytes.length, c.fileSize)));
      if (c.fileSize > c.bytes.length) file.set(data.get(c.base)!.subarray(0, c.fileSize - c.bytes.length), c.bytes.length);
      await writeFile(path.join(dir, `${caseOf.length}.gguf`), file);
      caseOf.push(i);
    }
    const log = path.join(dir, 'log');
    let loaded = 0;
    let refused = 0;
    let crashes = 0;
    for (let from = 0; from < caseOf.length;) {
      const { code, stderr } = await runChild([dir, String(from), String(caseOf.length)]);
      let started = from - 1;
      let done = from - 1;
      for (const line of readFileSync(log, 'utf8').split('\n')) {
        const [status, at] = line.split(' ');
        const index = Number(at);
        if (!(index >= from)) continue;
        if (status === 'start') started = index;
        else {
          done = index;
          if (status === 'loaded') loaded++;
          else refused++;
        }
      }
      if (started < from) throw new Error(`the llama.cpp child failed before loading any file (exit ${code}): ${stderr.slice(-500)}`);
      // The log, not the exit code, tells: a crash leaves a file started and never done.
      if (started > done) {
        crashes++;
        const reason = /GGML_ASSERT\([^\n]*|terminate called[^\n]*|Segmentation fault[^\n]*/.exec(stderr)?.[0] ?? `exit ${code}`;
        findings.push({ index: caseOf[started] ?? -1, what: `llama.cpp crashed on an accepted file: ${reason}` });
      }
      from = started + 1;
    }
    return { llama_cases: caseOf.length, llama_crashes: crashes, llama_refused: refused, llama_loaded: loaded };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function runChild(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const script = fileURLToPath(import.meta.url);
    const child = spawn(process.execPath, [script, ...args.flatMap((a) => ['--llama-child', a])], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      // Keep the tail: the assertion message comes last.
      stderr = (stderr + chunk.toString()).slice(-8192);
    });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal === null ? 1 : 128), stderr }));
  });
}

/** Child mode: load files `from`..`to` of `dir`, logging `start <i>` before each and `<outcome> <i>` after. */
async function llamaChild([dir, from, to]: string[]): Promise<void> {
  const { getLlama } = await import('node-llama-cpp');
  const llama = await getLlama({ build: 'never', gpu: false, skipDownload: true, usePrebuiltBinaries: true, logLevel: 'error' as never, progressLogs: false });
  const log = path.join(dir!, 'log');
  for (let i = Number(from); i < Number(to); i++) {
    // Written before loading, so that a crash leaves a start without an outcome.
    appendFileSync(log, `start ${i}\n`);
    let status = 'loaded';
    try {
      const model = await llama.loadModel({ modelPath: path.join(dir!, `${i}.gguf`), gpuLayers: 0 });
      try {
        const context = await model.createContext({ threads: 1, contextSize: 128 });
        await context.getSequence().evaluateWithoutGeneratingNewTokens(model.tokenize('Hello, world! ¿Qué tal? 你好'));
        await context.dispose();
      } finally {
        await model.dispose();
      }
    } catch {
      status = 'refused';
    }
    appendFileSync(log, `${status} ${i}\n`);
  }
  // llama.dispose() can leave its promise unsettled after many loads; the process is done anyway.
  process.exit(0);
}

if (isMainThread) {
  await main();
} else {
  work(workerData as Job);
}
