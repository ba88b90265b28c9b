import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { planGguf, presetSpec, writeGguf } from '../../e2e/fixtures/gguf/writer.ts';
import type { ModelSpec } from '../../e2e/fixtures/gguf/writer.ts';
import { importModel, libraryDirFor, removeModel, scanModels } from '../../electron/main/services/models/index.ts';
import { openDatabase } from '../../electron/main/services/storage/sqlite.ts';
import { report } from './report.ts';

/*
 * Import throughput against its physical limit, in the same run and on the same disk. The
 * model is written with the project's GGUF writer (F16, the 0.5B shape with as many layers
 * as the size needs). A verified copy does two unavoidable things: copy the bytes (at best
 * what `cp` does, in the kernel) and hash them (at best one core's SHA-256), and it can do
 * them at the same time, so its limit is the slower of the two: `limit_mb_s` =
 * min(`cp_mb_s`, `sha256_mb_s`), and `ratio_vs_limit` = import / limit.
 *
 * Each round times, in an order that alternates between rounds: `cp`; `cp` followed by an
 * fsync of the copy (`sync FILE`: the import fsyncs, plain `cp` does not);
 * `openssl dgst -sha256` of the source (OpenSSL with the CPU's SHA instructions, one core;
 * when openssl is missing, node's one-core SHA-256 of the file read in 1 MiB chunks stands
 * in, and `sha256_tool=` says which); and importModel in copy mode (GGUF check, kernel copy
 * beside a hash on a worker thread, sample check, fsync, rename, registry row). Before each
 * timing, an untimed `sync` writes back what the previous contender left dirty, so that no
 * one pays for another's writes. Medians are reported, and the median, least and most of
 * each round's own import / min(cp, sha256) (`ratio_vs_limit_round_*`), which show how
 * far a busy machine spreads the figure. `node_sha256_mb_s` is node's
 * SHA-256 of 256 MB in memory (no file reads): the hash the import runs.
 *
 * The page cache cannot be dropped without root, so after the first read every contender
 * reads the source from memory: this measures the copy and hash pipeline, not the disk
 * it reads from. Writes go through the page cache for all contenders.
 *
 *   npm run bench:import -- [--mb 1024] [--rounds 3] [--dir DIR]
 */

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '1024' },
    rounds: { type: 'string', default: '3' },
    dir: { type: 'string' },
  },
});
const targetMb = Number(values.mb);
const rounds = Number(values.rounds);
if (!Number.isFinite(targetMb) || targetMb < 16) throw new Error('--mb takes a number of at least 16');
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a whole number of at least 1');

const MB = 1_000_000;

/** The 0.5B shape in F16 with the layer count that brings the file closest to the target size. */
function specFor(mb: number): ModelSpec {
  const base = presetSpec('0.5b', 'F16', 1);
  const one = planGguf({ ...base, layers: 1 }).totalSize;
  const perLayer = planGguf({ ...base, layers: 2 }).totalSize - one;
  const layers = Math.max(1, Math.round((mb * MB - (one - perLayer)) / perLayer));
  return { ...base, layers, name: `bench-import-${layers}l` };
}

function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}`))));
  });
}

function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** True when `openssl` runs here. */
function hasOpenssl(): Promise<boolean> {
  return run('openssl', ['version']).then(
    () => true,
    () => false,
  );
}

/** Node's one-core SHA-256 of a file, 1 MiB at a time: the stand-in for openssl. */
async function nodeFileHash(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
    hash.digest();
  } finally {
    await handle.close();
  }
}

/** SHA-256 of 256 MB in memory: the hash the import runs, without reading a file. */
function hashSpeed(): number {
  const block = Buffer.alloc(8 * 1024 * 1024, 0x5a);
  const hash = createHash('sha256');
  const started = performance.now();
  for (let i = 0; i < 32; i++) hash.update(block);
  hash.digest();
  return (32 * block.length) / MB / ((performance.now() - started) / 1000);
}

const work = await mkdtemp(path.join(values.dir ?? os.tmpdir(), 'soberana-bench-import-'));
try {
  const source = path.join(work, 'model.gguf');
  const spec = specFor(targetMb);
  process.stderr.write(`writing a ${(planGguf(spec).totalSize / MB).toFixed(0)} MB F16 model (${spec.layers} layers) to ${work}\n`);
  await writeGguf(source, spec);
  const bytes = (await stat(source)).size;
  const dataDir = path.join(work, 'data');
  const library = libraryDirFor(dataDir);
  const db = openDatabase(dataDir);
  const [candidate] = (await scanModels(source)).candidates;
  if (candidate === undefined) throw new Error('the scanner did not find the model');

  const openssl = await hasOpenssl();
  const contenders = {
    sha256: async () => {
      const started = performance.now();
      if (openssl) await run('openssl', ['dgst', '-sha256', source]);
      else await nodeFileHash(source);
      return performance.now() - started;
    },
    cp: async () => {
      const target = path.join(work, 'cp-copy.gguf');
      const started = performance.now();
      await run('cp', [source, target]);
      const ms = performance.now() - started;
      await rm(target);
      return ms;
    },
    cpSync: async () => {
      const target = path.join(work, 'cp-sync-copy.gguf');
      const started = performance.now();
      await run('cp', [source, target]);
      await run('sync', [target]);
      const ms = performance.now() - started;
      await rm(target);
      return ms;
    },
    import: async () => {
      const started = performance.now();
      const record = await importModel(db, library, candidate, { mode: 'copy' });
      const ms = performance.now() - started;
      await removeModel(db, library, record.id);
      return ms;
    },
  } as const;
  type Name = keyof typeof contenders;
  const samples: Record<Name, number[]> = { sha256: [], cp: [], cpSync: [], import: [] };
  // Warm the page cache once so that no contender pays for the first read alone.
  await run('cat', [source]).catch(() => undefined);
  const hashSamples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    hashSamples.push(hashSpeed());
    const order: Name[] = r % 2 === 0 ? ['cp', 'sha256', 'import', 'cpSync'] : ['cpSync', 'import', 'sha256', 'cp'];
    for (const name of order) {
      await run('sync', []);
      const ms = await contenders[name]();
      samples[name].push(bytes / MB / (ms / 1000));
      process.stderr.write(`round ${r + 1}: ${name.padEnd(6)} ${(bytes / MB / (ms / 1000)).toFixed(0)} MB/s\n`);
    }
  }
  db.close();

  const importMbS = median(samples.import);
  const cpMbS = median(samples.cp);
  const cpSyncMbS = median(samples.cpSync);
  const nodeSha256MbS = median(hashSamples);
  const sha256MbS = median(samples.sha256);
  const limitMbS = Math.min(cpMbS, sha256MbS);
  // Each round's own ratio, against that round's cp and hash: how far the noise of a busy machine spreads it.
  const roundRatios = samples.import.map((mbS, r) => mbS / Math.min(samples.cp[r]!, samples.sha256[r]!));
  process.stderr.write('note: the page cache cannot be dropped without root; sources are read from memory after the first round.\n');
  report('import', {
    import_mb_s: round2(importMbS),
    limit_mb_s: round2(limitMbS),
    ratio_vs_limit: round2(importMbS / limitMbS),
    ratio_vs_limit_round_median: round2(median(roundRatios)),
    ratio_vs_limit_round_min: round2(Math.min(...roundRatios)),
    ratio_vs_limit_round_max: round2(Math.max(...roundRatios)),
    cp_mb_s: round2(cpMbS),
    ratio_vs_cp: round2(importMbS / cpMbS),
    cp_sync_mb_s: round2(cpSyncMbS),
    ratio_vs_cp_sync: round2(importMbS / cpSyncMbS),
    sha256_mb_s: round2(sha256MbS),
    sha256_tool: openssl ? 'openssl dgst -sha256' : 'node one-core sha256',
    node_sha256_mb_s: round2(nodeSha256MbS),
    ceiling_ratio_vs_cp: round2(Math.min(1, sha256MbS / cpMbS)),
    model_mb: round2(bytes / MB),
    rounds,
    page_cache: 'warm (cannot drop without root)',
  });
} finally {
  await rm(work, { recursive: true, force: true });
}
