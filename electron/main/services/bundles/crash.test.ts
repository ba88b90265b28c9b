import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../storage/sqlite.ts';
import { buildBundle, pseudoRandom, sha256, trustOf, workspace, type Workspace } from '../../../test-support/bundles-fixtures.ts';
import { bundleDir, cleanupBundles, generateKeyPair, installBundle, listBundles } from './index.ts';
import { uniform } from '../../../../e2e/fixtures/gguf/prng.ts';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../test-support/bundles-install-child.ts');
const KILLS = 30;
const PAYLOAD_BYTES = 4 * 1024 * 1024;
const SEED = Number(process.env.CRASH_SEED ?? 0xb0d1e);

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** Runs the child and kills it `delayMs` after it is ready (or lets it finish). */
function runAndKill(args: string[], delayMs: number): Promise<{ out: string; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-warnings', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (timer === undefined && out.includes('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ out, signal, stderr });
    });
  });
}

describe('bundle install under SIGKILL', () => {
  let ws: Workspace;
  afterAll(async () => {
    await ws?.close();
  });

  it(`leaves the previous or the new version, never half, across ${KILLS} kills`, { timeout: 90_000 }, async () => {
    const started = performance.now();
    const random = uniform(SEED);
    ws = await workspace('soberana-bundle-crash-');
    const key = generateKeyPair();
    const trust = trustOf([key]);
    const payloadOf = (version: number) => [
      { path: 'model.gguf', kind: 'model' as const, bytes: pseudoRandom(PAYLOAD_BYTES, version) },
      { path: 'notes/pack.bin', kind: 'knowledge-pack' as const, bytes: pseudoRandom(64 * 1024, version + 1000) },
    ];
    const build = (version: number) => buildBundle(ws.src, { signers: [key], version, payloads: payloadOf(version) });
    expect((await installBundle(await build(1), trust, { db: ws.db, dataDir: ws.dataDir })).ok).toBe(true);
    ws.db.close();

    let installed = 1;
    let pending: { version: number; file: string } | null = null;
    const outcomes = { previous: 0, next: 0, finished: 0 };
    for (let run = 0; run < KILLS; run += 1) {
      pending ??= { version: installed + 1, file: await build(installed + 1) };
      // Spread kills from the first streamed bytes to past the commit.
      const delay = Math.floor(random() * 400);
      const { out, signal, stderr } = await runAndKill([ws.dataDir, pending.file, JSON.stringify(trust)], delay);
      if (signal === null) expect(out, stderr).toContain('installed');

      const db = openDatabase(ws.dataDir);
      try {
        await cleanupBundles(ws.dataDir, db);
        const bundles = listBundles(db);
        expect(bundles).toHaveLength(1);
        const [bundle] = bundles;
        expect([installed, pending.version]).toContain(bundle!.version);
        // Whichever version is listed is whole: every file there, every byte right.
        const dir = bundleDir(ws.dataDir, bundle!);
        for (const payload of payloadOf(bundle!.version)) expect(sha256(await readFile(path.join(dir, 'payload', payload.path)))).toBe(sha256(payload.bytes));
        expect(existsSync(path.join(dir, '.installing'))).toBe(false);
        // Nothing else is left: one version folder, an empty staging.
        expect(await readdir(path.join(ws.dataDir, 'bundles', 'installed', 'acme.models'))).toEqual([String(bundle!.version)]);
        expect(await readdir(path.join(ws.dataDir, 'bundles', 'staging'))).toEqual([]);
        if (signal === null) outcomes.finished += 1;
        if (bundle!.version === pending.version) {
          outcomes.next += 1;
          installed = pending.version;
          pending = null;
        } else {
          outcomes.previous += 1;
        }
      } finally {
        db.close();
      }
    }
    const elapsed = performance.now() - started;
    console.log(
      `${KILLS} kills: ${outcomes.previous} kept the previous version, ${outcomes.next} had the new one (${outcomes.finished} finished before the kill), ${Math.round(elapsed)} ms (seed ${SEED})`,
    );
    // Both sides of the commit were hit, or the timings above need retuning.
    expect(outcomes.previous).toBeGreaterThan(0);
    expect(outcomes.next).toBeGreaterThan(0);
  });
});
