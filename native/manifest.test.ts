import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkNativeBinaries } from './check.ts';
import { computeManifest, manifestFileName, NATIVE_DIR, serializeManifest, type NativeManifest } from './manifest.ts';
import { currentTarget, isNativeFile, shippedNativePackages } from './targets.ts';

const root = path.resolve(NATIVE_DIR, '..');
const committed = ['linux-x64'] as const;
const temporary: string[] = [];
afterEach(async () => {
  await Promise.all(temporary.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('targets', () => {
  it('ships the CPU build of node-llama-cpp (Metal on Apple silicon), never CUDA or Vulkan', () => {
    for (const target of ['linux-x64', 'linux-arm64', 'win32-x64', 'win32-arm64', 'darwin-arm64', 'darwin-x64'] as const) {
      const packages = shippedNativePackages(target);
      expect(
        packages.some((name) => /cuda|vulkan/.test(name)),
        target,
      ).toBe(false);
      expect(
        packages.filter((name) => name.startsWith('@node-llama-cpp/')),
        target,
      ).toHaveLength(1);
    }
    expect(shippedNativePackages('darwin-arm64')).toContain('@node-llama-cpp/mac-arm64-metal');
    expect(shippedNativePackages('win32-x64')).toEqual(['@node-llama-cpp/win-x64', '@lancedb/lancedb-win32-x64-msvc', '@napi-rs/canvas-win32-x64-msvc']);
    expect(() => shippedNativePackages('aix-ppc64')).toThrow(/does not ship/);
  });

  it('knows which files the dynamic loader opens', () => {
    for (const name of ['a.node', 'libggml.so', 'libllama.so.0.4', 'x.dylib', 'ggml.dll', 'default.metallib']) expect(isNativeFile(name), name).toBe(true);
    for (const name of ['index.js', 'package.json', 'so.txt', 'a.node.map']) expect(isNativeFile(name), name).toBe(false);
  });
});

describe('the committed manifest', () => {
  for (const target of committed) {
    it.skipIf(currentTarget() !== target)(
      `matches node_modules for ${target} (after an upgrade: node native/write-manifest.ts, and review the diff)`,
      async () => {
        const fresh = serializeManifest(await computeManifest(root, target));
        expect(await readFile(path.join(NATIVE_DIR, manifestFileName(target)), 'utf8')).toBe(fresh);
      },
    );
  }

  it.skipIf(currentTarget() !== 'linux-x64')('lists the llama.cpp CPU addon and the libraries it loads, LanceDB and canvas, and no GPU build', async () => {
    const manifest = JSON.parse(await readFile(path.join(NATIVE_DIR, manifestFileName('linux-x64')), 'utf8')) as NativeManifest;
    const paths = manifest.files.map((file) => file.path);
    expect(paths).toContain('node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/llama-addon.node');
    expect(paths).toContain('node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-cpu-x64.so');
    expect(paths.some((file) => file.endsWith('.node') && file.includes('@lancedb/'))).toBe(true);
    expect(paths.some((file) => /cuda|vulkan/.test(file))).toBe(false);
    for (const file of manifest.files) expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('checkNativeBinaries', () => {
  /** A folder laid out like app.asar.unpacked: node_modules with two fake addons, and the manifest. */
  async function layout(): Promise<{ dir: string; manifest: NativeManifest }> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-native-'));
    temporary.push(dir);
    const [llama = '', lance = ''] = shippedNativePackages('linux-x64');
    for (const [name, file, bytes] of [
      [llama, 'bins/linux-x64/llama-addon.node', 'addon'],
      [llama, 'bins/linux-x64/libggml-base.so', 'ggml'],
      [lance, 'lancedb.linux-x64-gnu.node', 'lance'],
    ] as const) {
      const packageDir = path.join(dir, 'node_modules', ...name.split('/'));
      await mkdir(path.dirname(path.join(packageDir, file)), { recursive: true });
      await writeFile(path.join(packageDir, 'package.json'), JSON.stringify({ name, version: '1.0.0' }));
      await writeFile(path.join(packageDir, file), bytes);
    }
    const canvas = path.join(dir, 'node_modules', '@napi-rs', 'canvas-linux-x64-gnu');
    await mkdir(canvas, { recursive: true });
    await writeFile(path.join(canvas, 'package.json'), JSON.stringify({ version: '1.0.0' }));
    const manifest = await computeManifest(dir, 'linux-x64');
    await mkdir(path.join(dir, 'native'));
    await writeFile(path.join(dir, 'native', manifestFileName('linux-x64')), serializeManifest(manifest));
    return { dir, manifest };
  }

  it('passes when every listed file is in place, byte for byte', async () => {
    const { dir, manifest } = await layout();
    expect(manifest.files).toHaveLength(3);
    expect(await checkNativeBinaries(dir, 'linux-x64')).toEqual({ target: 'linux-x64', ok: true, checked: 3, problems: [] });
  });

  it('reports a changed, a missing and an unlisted binary', async () => {
    const { dir } = await layout();
    const llamaDir = path.join(dir, 'node_modules', '@node-llama-cpp', 'linux-x64', 'bins', 'linux-x64');
    await writeFile(path.join(llamaDir, 'llama-addon.node'), 'tampered');
    await rm(path.join(llamaDir, 'libggml-base.so'));
    await writeFile(path.join(llamaDir, 'libggml-cuda.so'), 'gpu');
    const result = await checkNativeBinaries(dir, 'linux-x64');
    expect(result.ok).toBe(false);
    expect(result.problems.map((problem) => [problem.kind, path.basename(problem.path)])).toEqual([
      ['missing', 'libggml-base.so'],
      ['changed', 'llama-addon.node'],
      ['unexpected', 'libggml-cuda.so'],
    ]);
  });

  it('says so when there is no manifest for the target', async () => {
    const { dir } = await layout();
    const result = await checkNativeBinaries(dir, 'darwin-arm64');
    expect(result.ok).toBe(false);
    expect(result.problems[0]?.kind).toBe('no-manifest');
  });

  it.skipIf(currentTarget() !== 'linux-x64')('passes on this project folder, whose node_modules the committed manifest describes', async () => {
    const copy = await mkdtemp(path.join(os.tmpdir(), 'soberana-native-root-'));
    temporary.push(copy);
    // The real files, through the committed manifest; copying only what it lists keeps this fast.
    await cp(path.join(NATIVE_DIR, manifestFileName('linux-x64')), path.join(copy, 'native', manifestFileName('linux-x64')));
    await cp(path.join(root, 'node_modules', '@node-llama-cpp', 'linux-x64'), path.join(copy, 'node_modules', '@node-llama-cpp', 'linux-x64'), {
      recursive: true,
    });
    expect((await checkNativeBinaries(root, 'linux-x64')).ok).toBe(true);
    // Only llama.cpp was copied: LanceDB's and canvas's addons are missing there.
    const partial = await checkNativeBinaries(copy, 'linux-x64');
    expect(partial.problems.every((problem) => problem.kind === 'missing' && !problem.path.includes('@node-llama-cpp'))).toBe(true);
    expect(partial.problems.length).toBeGreaterThan(0);
  });
});
