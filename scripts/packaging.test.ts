import { extractFile } from '@electron/asar';
import { getCurrentFuseWire } from '@electron/fuses';
import { fork, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNativeBinaries } from '../native/check.ts';
import { manifestFileName, type NativeManifest } from '../native/manifest.ts';
import { currentTarget, isNativeFile, shippedNativePackages } from '../native/targets.ts';
import { archiveEntries, folderSize, nodeViewOf, type ArchiveEntry } from './packaging/archive-layout.ts';
import { buildForTests } from './packaging/build-app.ts';
import { STAND_IN_NOTICE } from './packaging/stand-in-electron.ts';

// The packaged app's layout, proven here without Electron's binary: electron-builder packs the
// real project with the real electron-builder.yml against a stand-in Electron distribution
// (scripts/packaging/stand-in-electron.ts), once for the file. The checks read what it made:
// the archive, the unpacked native files, the fuses it flipped, and the inference entry run
// under Node from that layout with the shared test GGUF.

const root = path.resolve(import.meta.dirname, '..');
const gguf = path.resolve(root, '../shared/fixtures/gguf/llama-2-tiny-random.gguf');
const MB = 1024 * 1024;

let output = '';
let resources = '';
let executable = '';
let entries: ArchiveEntry[] = [];

beforeAll(async () => {
  // `npm test` runs Vitest before its full build: build what the app needs (the global setup
  // built the extraction worker and the runtime). Then pack, in a child process.
  await buildForTests(['main', 'preload', 'renderer']);
  output = await mkdtemp(path.join(os.tmpdir(), 'soberana-pack-'));
  const packed = spawnSync(process.execPath, ['scripts/packaging/pack-stand-in.ts', output], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
  });
  if (packed.status !== 0) throw new Error(`electron-builder failed:\n${packed.stdout}\n${packed.stderr}`);
  const result = JSON.parse(packed.stdout.trim().split('\n').at(-1) ?? '{}') as { resources: string; executable: string };
  ({ resources, executable } = result);
  entries = archiveEntries(path.join(resources, 'app.asar'));
}, 300_000);

afterAll(async () => {
  if (output !== '') await rm(output, { recursive: true, force: true });
});

describe('the packaged app (electron-builder --dir, stand-in Electron)', () => {
  it('holds the main, preload, renderer, runtime and worker entry points in the archive', () => {
    const paths = new Set(entries.map((entry) => entry.path));
    for (const entry of [
      'package.json',
      'out/main/index.js',
      'out/preload/index.cjs',
      'out/renderer/index.html',
      'out/runtime/index.js',
      'out/main/extract-worker.js',
    ]) {
      expect(paths.has(entry), entry).toBe(true);
    }
    expect((JSON.parse(extractFile(path.join(resources, 'app.asar'), 'package.json').toString('utf8')) as { main: string }).main).toBe('out/main/index.js');
  });

  it('ships nothing from e2e/, no tests, no source maps, no sources, no CLI', () => {
    const bad = entries.filter(
      ({ path: file }) =>
        /^(e2e|electron|renderer|scripts|docs)\//.test(file) || /\.(test|spec)\.[cm]?[jt]sx?$/.test(file) || file.endsWith('.map') || /^out\/cli\//.test(file),
    );
    expect(bad.map((entry) => entry.path)).toEqual([]);
  });

  it('leaves out GPU builds, other platforms and LanceDB’s optional cloud and ML packages', () => {
    const packages = new Set(entries.map(({ path: file }) => /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1]).filter((name) => name !== undefined));
    expect([...packages].filter((name) => /cuda|vulkan|linux-arm|armv7|win-|mac-|darwin|win32/.test(name))).toEqual([]);
    for (const name of ['openai', '@huggingface/transformers', 'onnxruntime-node', 'sharp', '@reflink/reflink']) expect(packages.has(name), name).toBe(false);
    for (const name of ['node-llama-cpp', '@lancedb/lancedb', 'pdfjs-dist', ...shippedNativePackages(currentTarget())])
      expect(packages.has(name), name).toBe(true);
    expect(entries.some((entry) => entry.path.endsWith('gitRelease.bundle'))).toBe(false);
  });

  it('unpacks every native binary, and only native binaries and what must run outside the archive', async () => {
    const natives = entries.filter((entry) => isNativeFile(path.basename(entry.path)));
    expect(natives.length).toBeGreaterThan(0);
    for (const entry of natives) {
      expect(entry.unpacked, entry.path).toBe(true);
      expect(existsSync(path.join(resources, 'app.asar.unpacked', entry.path)), entry.path).toBe(true);
    }
    // JavaScript stays inside, except the extraction worker and pdf.js with the loader it requires (electron-builder.yml says why).
    const outsideJs = entries.filter((entry) => entry.unpacked && /\.[cm]?js$/.test(entry.path)).map((entry) => entry.path);
    expect(outsideJs.filter((file) => !/^(out\/main\/extract-worker\.js|node_modules\/(pdfjs-dist|@napi-rs\/canvas)\/)/.test(file))).toEqual([]);
    // The manifest ships beside the binaries and matches them byte for byte.
    const unpacked = path.join(resources, 'app.asar.unpacked');
    const check = await checkNativeBinaries(unpacked, currentTarget());
    expect(check.problems).toEqual([]);
    const manifest = JSON.parse(await readFile(path.join(unpacked, 'native', manifestFileName(currentTarget())), 'utf8')) as NativeManifest;
    expect(manifest.files.map((file) => file.path).sort()).toEqual(natives.map((entry) => entry.path).sort());
  });

  it('runs the extraction worker’s imports from the unpacked folder alone, where Electron resolves them', () => {
    const unpacked = path.join(resources, 'app.asar.unpacked');
    const fromWorker = createRequire(path.join(unpacked, 'out', 'main', 'extract-worker.js'));
    const pdfjs = fromWorker.resolve('pdfjs-dist/legacy/build/pdf.mjs');
    expect(pdfjs.startsWith(unpacked + path.sep)).toBe(true);
    expect(
      createRequire(pdfjs)
        .resolve('@napi-rs/canvas')
        .startsWith(unpacked + path.sep),
    ).toBe(true);
  });

  it('flips the fuses on the executable: no run-as-Node, NODE_OPTIONS or inspector; asar integrity and only-load-from-asar on', async () => {
    expect(await readFile(executable, 'utf8')).toContain(STAND_IN_NOTICE);
    const wire = await getCurrentFuseWire(executable);
    const state = (index: number) => String.fromCharCode(wire[index as 0] as number);
    expect([0, 1, 2, 3, 4, 5, 7].map(state)).toEqual(['0', '1', '0', '0', '1', '1', '0']);
  });

  it.skipIf(!existsSync(gguf))(
    'runs the packaged inference entry under Node from that layout: loads the shared test GGUF and generates',
    { timeout: 120_000 },
    async () => {
      const view = await nodeViewOf(resources, path.join(output, 'node-view'));
      const child = fork(path.join(view, 'out', 'runtime', 'index.js'), [], {
        execArgv: [],
        env: { ...process.env, SOBERANA_RUNTIME_GPU: 'off', NODE_ENV: 'production' },
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const replies = new Map<number, (value: unknown) => void>();
      const deltas: string[] = [];
      child.on('message', (message: { type: string; id?: number; result?: unknown; text?: string }) => {
        if (message.type === 'delta') deltas.push(String(message.text));
        if (message.type === 'result' && message.id !== undefined) replies.get(message.id)?.(message.result);
      });
      const call = (id: number, request: object) =>
        new Promise<{ ok: boolean; value?: unknown; error?: unknown }>((resolve) => {
          replies.set(id, resolve as (value: unknown) => void);
          child.send({ id, ...request });
        });
      try {
        const info = await call(1, { op: 'info' });
        expect(info.ok, JSON.stringify(info)).toBe(true);
        const loaded = await call(2, { op: 'load', path: gguf, options: { gpuLayers: 0, contextSize: 256, threads: 1 } });
        expect(loaded.ok, JSON.stringify(loaded)).toBe(true);
        const generated = await call(3, {
          op: 'generate',
          params: { prompt: 'Once upon a time', temperature: 0, topP: 1, topK: 0, repeatPenalty: 1, maxTokens: 4 },
        });
        expect(generated.ok, JSON.stringify(generated)).toBe(true);
        // GenerateStats (electron/common/runtime/protocol.ts).
        expect((generated.value as { tokens: number }).tokens).toBeGreaterThan(0);
        expect(deltas.join('').length).toBeGreaterThan(0);
      } finally {
        child.kill('SIGKILL');
      }
    },
  );

  it('reports the unpacked size and the native binaries that ship, per platform', async () => {
    const lines: string[] = [];
    for (const target of ['linux-x64', 'linux-arm64', 'darwin-arm64', 'darwin-x64', 'win32-x64'] as const) {
      const installed = shippedNativePackages(target).every((name) => existsSync(path.join(root, 'node_modules', ...name.split('/'))));
      if (target === currentTarget()) {
        const asar = (await stat(path.join(resources, 'app.asar'))).size;
        const unpacked = await folderSize(path.join(resources, 'app.asar.unpacked'));
        const natives = entries.filter((entry) => isNativeFile(path.basename(entry.path)));
        lines.push(`${target}: app.asar ${(asar / MB).toFixed(1)} MB, app.asar.unpacked ${(unpacked / MB).toFixed(1)} MB, ${natives.length} native binaries:`);
        for (const entry of natives)
          lines.push(`  ${entry.path} (${((await stat(path.join(resources, 'app.asar.unpacked', entry.path))).size / MB).toFixed(1)} MB)`);
      } else {
        lines.push(
          `${target}: not packed here (${installed ? 'packages installed, but electron-builder packs for this machine' : 'its native packages are not installed on this machine'})`,
        );
      }
    }
    console.log(lines.join('\n'));
    expect(lines[0]).toMatch(/MB/);
  });
});
