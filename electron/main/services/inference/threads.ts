import { readFileSync } from 'node:fs';
import os from 'node:os';

/*
 * How many CPU threads `auto` means.
 *
 * llama.cpp splits each step across its threads and makes them wait for each other at
 * every barrier, spinning. So one thread that loses its CPU stalls all of them: more
 * threads than the CPUs the process really gets is a catastrophe, not a slowdown
 * (node-llama-cpp's default of 4 threads on a 2-core machine decodes 100 times slower
 * than 2 threads). This count is what prompts are evaluated with, which is arithmetic and
 * gets faster with every core, and the most that decoding may use:
 *
 * 1. Start from llama.cpp's "math cores": physical cores, without SMT siblings (which
 *    share the core's arithmetic units and add nothing) and, on Linux x86, without
 *    efficiency cores (a slow core holds back every barrier).
 * 2. Never more than the CPUs this process may use: its affinity mask
 *    (`os.availableParallelism`) and, in a container, its cgroup CPU quota, which the
 *    core count does not show.
 * 3. When that leaves no spare CPU (no SMT, or a quota) and there are more than 4, keep
 *    one for the app itself: the main process and the renderer stream and draw the reply
 *    while it is generated, and a thread they preempt stalls the others. With 4 or fewer
 *    a whole core is too large a share of prompt speed to give up.
 *
 * Decoding reads every weight once per token, so a few threads saturate the memory bus;
 * the best decode count depends on the model and the machine, and the inference process
 * measures it among `decodeThreadCandidates` (electron/runtime/decode-threads.ts).
 *
 * On this project's 2-core build machines (2 vCPUs, no SMT) this gives 2: prompts of a
 * 0.5B Q8_0 model are evaluated 1.9 times faster with 2 threads than with 1 (node-llama-cpp
 * 3.21.1); decoding is measured, and settles on 1 for that model and 2 for a 1B one. An
 * 8-core laptop or desktop with SMT (16 logical CPUs) gets 8; one without SMT, or an
 * 8-vCPU VM, gets 7. A 16-core desktop with SMT gets 16; a 16-vCPU VM gets 15. An Apple
 * M-series chip gets its performance cores (llama.cpp counts those). A container limited
 * to 2 CPUs on a 32-core host gets 2, where the core count alone would ask for 16 or 32.
 */

export interface CpuFacts {
  /** llama.cpp's count of cores useful for math (node-llama-cpp's `cpuMathCores`); 0 when unknown. */
  readonly mathCores: number;
  /** Logical CPUs this process may run on. */
  readonly logicalCores: number;
  /** The cgroup CPU quota in CPUs, or null when there is none. */
  readonly quotaCores: number | null;
}

/** Above this many usable CPUs, one is left for the app when none is spare. */
const KEEP_ONE_FOR_APP_ABOVE = 4;

export function autoThreads(facts: CpuFacts): number {
  const quota = facts.quotaCores === null ? Infinity : Math.max(1, Math.floor(facts.quotaCores));
  const usable = Math.max(1, Math.min(Math.floor(facts.logicalCores) || 1, quota));
  // Unknown math cores: assume two logical CPUs per core, the common SMT case.
  const cores = facts.mathCores >= 1 ? Math.min(Math.floor(facts.mathCores), usable) : Math.max(1, Math.floor(usable / 2));
  if (cores >= usable && cores > KEEP_ONE_FOR_APP_ABOVE) return cores - 1;
  return cores;
}

/**
 * The thread counts the inference process tries for decoding (it keeps the fastest; see
 * electron/runtime/decode-threads.ts): the full count, then halves, down to an eighth of
 * it. Decoding saturates the memory bus with a few threads, so the best count can be
 * well below the full one, but never below an eighth on a large machine: 16 cores try
 * 16, 8, 4 and 2; 8 try 8, 4, 2 and 1; 2 try 2 and 1.
 */
export function decodeThreadCandidates(threads: number): number[] {
  const full = Math.max(1, Math.floor(threads));
  const floor = Math.max(1, Math.ceil(full / 8));
  const candidates: number[] = [];
  for (let count = full; count >= floor; count = Math.ceil(count / 2)) {
    candidates.push(count);
    if (count === 1) break;
  }
  return candidates;
}

/** Parses cgroup v2's `cpu.max` ("max 100000" or "<quota> <period>"). */
export function parseCpuMax(text: string): number | null {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || quota === 'max') return null;
  const cpus = Number(quota) / Number(period ?? 100_000);
  return Number.isFinite(cpus) && cpus > 0 ? cpus : null;
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/**
 * The tightest CPU quota on this process's cgroup and its ancestors, or null. Linux only;
 * elsewhere, and when the files are unreadable, there is no quota to respect.
 */
export function readCpuQuota(root = '/sys/fs/cgroup', selfCgroup: string | null = readText('/proc/self/cgroup')): number | null {
  if (process.platform !== 'linux' || selfCgroup === null) return null;
  let tightest: number | null = null;
  const consider = (cpus: number | null) => {
    if (cpus !== null && (tightest === null || cpus < tightest)) tightest = cpus;
  };
  // Walks from the process's own cgroup up to the root: a parent's limit binds too.
  const walk = (base: string, cgroupPath: string, read: (dir: string) => number | null) => {
    const parts = cgroupPath.split('/').filter((part) => part !== '' && part !== '..');
    for (let depth = parts.length; depth >= 0; depth -= 1) consider(read([base, ...parts.slice(0, depth)].join('/')));
  };
  for (const line of selfCgroup.split('\n')) {
    const [, controllers, cgroupPath] = line.split(':');
    if (controllers === undefined || cgroupPath === undefined) continue;
    if (controllers === '') {
      walk(root, cgroupPath, (dir) => {
        const text = readText(`${dir}/cpu.max`);
        return text === null ? null : parseCpuMax(text);
      });
    } else if (controllers.split(',').includes('cpu')) {
      walk(`${root}/${controllers}`, cgroupPath, (dir) => {
        const quota = Number(readText(`${dir}/cpu.cfs_quota_us`));
        const period = Number(readText(`${dir}/cpu.cfs_period_us`));
        return quota > 0 && period > 0 ? quota / period : null;
      });
    }
  }
  return tightest;
}

export function cpuFacts(mathCores: number): CpuFacts {
  return { mathCores, logicalCores: os.availableParallelism(), quotaCores: readCpuQuota() };
}
