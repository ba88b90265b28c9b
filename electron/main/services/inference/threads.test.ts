import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autoThreads, cpuFacts, decodeThreadCandidates, parseCpuMax, readCpuQuota } from './threads.ts';

describe('the automatic thread count', () => {
  it('uses every core on the 2-core build machines (2 vCPUs, no SMT)', () => {
    expect(autoThreads({ mathCores: 2, logicalCores: 2, quotaCores: null })).toBe(2);
  });

  it('uses the physical cores of 8- and 16-core machines with SMT, leaving the siblings to the app', () => {
    expect(autoThreads({ mathCores: 8, logicalCores: 16, quotaCores: null })).toBe(8);
    expect(autoThreads({ mathCores: 16, logicalCores: 32, quotaCores: null })).toBe(16);
  });

  it('keeps one CPU for the app on 8- and 16-core machines without a spare one', () => {
    expect(autoThreads({ mathCores: 8, logicalCores: 8, quotaCores: null })).toBe(7);
    expect(autoThreads({ mathCores: 16, logicalCores: 16, quotaCores: null })).toBe(15);
    expect(autoThreads({ mathCores: 4, logicalCores: 4, quotaCores: null })).toBe(4);
  });

  it('uses only the performance cores llama.cpp counts (hybrid CPUs, Apple silicon)', () => {
    expect(autoThreads({ mathCores: 6, logicalCores: 20, quotaCores: null })).toBe(6);
    expect(autoThreads({ mathCores: 4, logicalCores: 8, quotaCores: null })).toBe(4);
  });

  it('never asks for more CPUs than the affinity mask or a container quota allows', () => {
    expect(autoThreads({ mathCores: 16, logicalCores: 32, quotaCores: 2 })).toBe(2);
    expect(autoThreads({ mathCores: 16, logicalCores: 32, quotaCores: 1.5 })).toBe(1);
    expect(autoThreads({ mathCores: 16, logicalCores: 32, quotaCores: 0.5 })).toBe(1);
    expect(autoThreads({ mathCores: 8, logicalCores: 3, quotaCores: null })).toBe(3);
    expect(autoThreads({ mathCores: 32, logicalCores: 64, quotaCores: 12 })).toBe(11);
  });

  it('assumes two logical CPUs per core when llama.cpp cannot count them', () => {
    expect(autoThreads({ mathCores: 0, logicalCores: 16, quotaCores: null })).toBe(8);
    expect(autoThreads({ mathCores: 0, logicalCores: 1, quotaCores: null })).toBe(1);
  });

  it('reads this machine’s facts', () => {
    const facts = cpuFacts(2);
    expect(facts.logicalCores).toBe(os.availableParallelism());
    expect(autoThreads(facts)).toBeGreaterThanOrEqual(1);
  });
});

describe('the decode thread candidates', () => {
  it('halves from the full count down to an eighth of it', () => {
    expect(decodeThreadCandidates(1)).toEqual([1]);
    expect(decodeThreadCandidates(2)).toEqual([2, 1]);
    expect(decodeThreadCandidates(7)).toEqual([7, 4, 2, 1]);
    expect(decodeThreadCandidates(8)).toEqual([8, 4, 2, 1]);
    expect(decodeThreadCandidates(15)).toEqual([15, 8, 4, 2]);
    expect(decodeThreadCandidates(16)).toEqual([16, 8, 4, 2]);
  });
});

describe('cgroup CPU quotas', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'soberana-cgroup-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('parses cgroup v2 cpu.max', () => {
    expect(parseCpuMax('max 100000\n')).toBeNull();
    expect(parseCpuMax('200000 100000\n')).toBe(2);
    expect(parseCpuMax('150000 100000')).toBe(1.5);
    expect(parseCpuMax('garbage')).toBeNull();
  });

  it.runIf(process.platform === 'linux')('takes the tightest limit of the process’s cgroup and its ancestors (v2)', async () => {
    await mkdir(path.join(root, 'v2/app.slice/soberana.scope'), { recursive: true });
    await writeFile(path.join(root, 'v2/cpu.max'), 'max 100000\n');
    await writeFile(path.join(root, 'v2/app.slice/cpu.max'), '300000 100000\n');
    await writeFile(path.join(root, 'v2/app.slice/soberana.scope/cpu.max'), 'max 100000\n');
    expect(readCpuQuota(path.join(root, 'v2'), '0::/app.slice/soberana.scope\n')).toBe(3);
    expect(readCpuQuota(path.join(root, 'v2'), '0::/\n')).toBeNull();
  });

  it.runIf(process.platform === 'linux')('reads cgroup v1 quotas, and none when unlimited', async () => {
    await mkdir(path.join(root, 'v1/cpu,cpuacct/docker/abc'), { recursive: true });
    await writeFile(path.join(root, 'v1/cpu,cpuacct/cpu.cfs_quota_us'), '-1\n');
    await writeFile(path.join(root, 'v1/cpu,cpuacct/cpu.cfs_period_us'), '100000\n');
    await writeFile(path.join(root, 'v1/cpu,cpuacct/docker/abc/cpu.cfs_quota_us'), '200000\n');
    await writeFile(path.join(root, 'v1/cpu,cpuacct/docker/abc/cpu.cfs_period_us'), '100000\n');
    expect(readCpuQuota(path.join(root, 'v1'), '4:cpu,cpuacct:/docker/abc\n3:memory:/docker/abc\n')).toBe(2);
    expect(readCpuQuota(path.join(root, 'v1'), '4:cpu,cpuacct:/\n')).toBeNull();
    expect(readCpuQuota(path.join(root, 'missing'), '0::/\n')).toBeNull();
  });
});
