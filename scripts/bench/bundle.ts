import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { planGguf, presetSpec, writeGguf, type ModelSpec } from '../../e2e/fixtures/gguf/writer.ts';
import { HOST } from '../../electron/cli/bundle-common.ts';
import { addTrustedKey, createBundle, generateKeyPair, signBundle } from '../../electron/main/services/bundles/index.ts';
import { installWithPayloads, verifyForInstall } from '../../electron/main/services/bundles/service.ts';
import { createCore } from '../../electron/main/services/core.ts';
import { listModels } from '../../electron/main/services/models/index.ts';
import { report } from './report.ts';

/*
 * Verifying and installing a signed bundle that holds a 1 GB model, against one core's
 * SHA-256 of the same archive (`openssl dgst -sha256`, which uses the CPU's SHA
 * instructions) in the same run. The bundle is made once with the project's own code (the
 * GGUF writer, createBundle, signBundle) and cached outside the repository, in
 * ~/.cache/soberana-bench/bundle-v1 (or --cache).
 *
 * Each round, in alternating order: `openssl dgst -sha256` of the archive; `cp` of the
 * archive followed by `sync` of the copy (a durable copy, which an install must also make:
 * the model has to be on this disk, fsynced, before the install commits); verifyForInstall
 * (signatures, expiry, rollback, each payload's size and hash) on a fresh core; and
 * installWithPayloads on a fresh core (verification into staging, fsync, rename, the
 * model joins the library by reference after its GGUF check, the registry rows), as
 * `soberana bundle install` and the Bundles screen do. Each core is opened on its own empty
 * data folder before the clock starts (a version once installed is refused as a replay),
 * and an untimed `sync` first writes back what the previous contender left dirty.
 *
 * bundle_mb_s is the install's (it verifies as it stages, so that is the whole cost of
 * taking a bundle in); verify_mb_s is verification alone. An install can go no faster than
 * the slower of one core's SHA-256 and a durable copy, so limit_mb_s is min(sha256_mb_s,
 * cp_sync_mb_s) and ratio_vs_limit the install against it. Medians over the rounds.
 *
 * The page cache cannot be dropped without root, so after the first read the archive comes
 * from memory for every contender: this measures the verify/install pipeline, not the disk.
 *
 *   npm run bench:bundle -- [--mb 1024] [--rounds 3] [--cache DIR] [--dir DIR]
 */

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '1024' },
    rounds: { type: 'string', default: '3' },
    cache: { type: 'string' },
    dir: { type: 'string' },
  },
});
const targetMb = Number(values.mb);
const rounds = Number(values.rounds);
if (!Number.isFinite(targetMb) || targetMb < 16) throw new Error('--mb takes a number of at least 16');
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a whole number of at least 1');

const MB = 1_000_000;
const cacheDir = values.cache ?? path.join(os.homedir(), '.cache', 'soberana-bench', 'bundle-v1');

/** The 0.5B shape in F16 with the layer count that brings the file closest to the target size. */
function specFor(mb: number): ModelSpec {
  const base = presetSpec('0.5b', 'F16', 1);
  const one = planGguf({ ...base, layers: 1 }).totalSize;
  const perLayer = planGguf({ ...base, layers: 2 }).totalSize - one;
  const layers = Math.max(1, Math.round((mb * MB - (one - perLayer)) / perLayer));
  return { ...base, layers, name: `bench-bundle-${layers}l` };
}

function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} exited with ${code}`))));
  });
}

function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

interface Cached {
  readonly bundle: string;
  readonly publicKey: string;
  readonly modelBytes: number;
}

/** The signed bundle for this size, made once: a GGUF model written by the project's writer, packed into a .tar and signed. */
async function cachedBundle(mb: number): Promise<Cached> {
  const dir = path.join(cacheDir, `${mb}mb`);
  const bundle = path.join(dir, 'bundle.tar');
  const keyFile = path.join(dir, 'key.json');
  if (existsSync(bundle) && existsSync(keyFile)) {
    const key = JSON.parse(await readFile(keyFile, 'utf8')) as { publicKey: string; modelBytes: number };
    return { bundle, publicKey: key.publicKey, modelBytes: key.modelBytes };
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const spec = specFor(mb);
  const model = path.join(dir, 'model.gguf');
  process.stderr.write(`making the bundle once: a ${(planGguf(spec).totalSize / MB).toFixed(0)} MB F16 model (${spec.layers} layers) in ${dir}\n`);
  await writeGguf(model, spec);
  const modelBytes = (await stat(model)).size;
  const key = generateKeyPair();
  await createBundle({
    out: bundle,
    id: 'bench.bundle',
    name: 'Benchmark bundle',
    version: 1,
    expires: '2099-01-01T00:00:00Z',
    publisherKeyId: key.keyId,
    files: [{ kind: 'model', source: model, path: 'models/bench.gguf', meta: { displayName: 'Bench model', license: 'Apache-2.0' } }],
  });
  await signBundle(bundle, key.privateKeyPem);
  await rm(model);
  // Written last: its presence says the bundle is whole.
  await writeFile(keyFile, JSON.stringify({ publicKey: key.publicKey, modelBytes }));
  return { bundle, publicKey: key.publicKey, modelBytes };
}

const cached = await cachedBundle(targetMb);
const archiveBytes = (await stat(cached.bundle)).size;
const work = await mkdtemp(path.join(values.dir ?? os.tmpdir(), 'soberana-bench-bundle-'));
let fresh = 0;

/** A core on an empty data folder that trusts the bundle's key; the clock starts after this. */
async function freshCore() {
  fresh += 1;
  const dataDir = path.join(work, `data-${fresh}`);
  const core = await createCore({ dataDir, host: HOST });
  addTrustedKey(core.storage, { publicKey: cached.publicKey, name: 'Bench publisher' });
  return { core, dataDir };
}

try {
  const contenders = {
    sha256: async () => {
      const started = performance.now();
      await run('openssl', ['dgst', '-sha256', cached.bundle]);
      return performance.now() - started;
    },
    cpSync: async () => {
      const target = path.join(work, 'cp-sync-copy.tar');
      const started = performance.now();
      await run('cp', [cached.bundle, target]);
      await run('sync', [target]);
      const ms = performance.now() - started;
      await rm(target);
      return ms;
    },
    verify: async () => {
      const { core, dataDir } = await freshCore();
      try {
        const started = performance.now();
        const verified = await verifyForInstall(core.bundles, cached.bundle);
        const ms = performance.now() - started;
        if (!verified.ok) throw new Error(`the bundle was refused: ${verified.reason?.code ?? '?'} ${verified.reason?.message ?? ''}`);
        return ms;
      } finally {
        await core.close();
        await rm(dataDir, { recursive: true, force: true });
      }
    },
    install: async () => {
      const { core, dataDir } = await freshCore();
      try {
        const started = performance.now();
        const outcome = await installWithPayloads(core.bundles, cached.bundle);
        const ms = performance.now() - started;
        if (!outcome.ok) throw new Error(`the bundle was refused: ${outcome.report.reason?.code ?? '?'} ${outcome.report.reason?.message ?? ''}`);
        const models = listModels(core.storage);
        if (models.length !== 1 || models[0]!.verifiedByBundle === null) throw new Error('the install did not add the model to the library');
        return ms;
      } finally {
        await core.close();
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  } as const;
  type Name = keyof typeof contenders;
  const samples: Record<Name, number[]> = { sha256: [], cpSync: [], verify: [], install: [] };
  // Warm the page cache once so that no contender pays for the first read alone.
  await run('openssl', ['dgst', '-sha256', cached.bundle]);
  for (let r = 0; r < rounds; r++) {
    const order: Name[] = r % 2 === 0 ? ['sha256', 'install', 'cpSync', 'verify'] : ['verify', 'cpSync', 'install', 'sha256'];
    for (const name of order) {
      await run('sync', []);
      const ms = await contenders[name]();
      const bytes = name === 'sha256' || name === 'cpSync' ? archiveBytes : cached.modelBytes;
      samples[name].push(bytes / MB / (ms / 1000));
      process.stderr.write(`round ${r + 1}: ${name.padEnd(7)} ${(bytes / MB / (ms / 1000)).toFixed(0)} MB/s\n`);
    }
  }
  const bundleMbS = median(samples.install);
  const verifyMbS = median(samples.verify);
  const sha256MbS = median(samples.sha256);
  const cpSyncMbS = median(samples.cpSync);
  const limitMbS = Math.min(sha256MbS, cpSyncMbS);
  process.stderr.write('note: the page cache cannot be dropped without root; the archive is read from memory after the first round.\n');
  report('bundle', {
    bundle_mb_s: round2(bundleMbS),
    verify_mb_s: round2(verifyMbS),
    sha256_mb_s: round2(sha256MbS),
    ratio_vs_sha256: round2(bundleMbS / sha256MbS),
    verify_ratio_vs_sha256: round2(verifyMbS / sha256MbS),
    cp_sync_mb_s: round2(cpSyncMbS),
    limit_mb_s: round2(limitMbS),
    ratio_vs_limit: round2(bundleMbS / limitMbS),
    bundle_min_mb_s: round2(Math.min(...samples.install)),
    bundle_max_mb_s: round2(Math.max(...samples.install)),
    model_mb: round2(cached.modelBytes / MB),
    rounds,
    sha256_tool: 'openssl dgst -sha256',
    page_cache: 'warm (cannot drop without root)',
  });
} finally {
  await rm(work, { recursive: true, force: true });
}
