import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { presetSpec, writeGguf } from '../../../../e2e/fixtures/gguf/writer.ts';
import { AppError } from '../../../common/result.ts';
import type { Gate } from '../domain/gate.ts';
import type { Governance } from '../governance.ts';
import { DEFAULT_POLICY, type EffectivePolicy } from '../policy/schema.ts';
import { createEngine, type RuntimeEngine } from '../inference/engine.ts';
import { forkLauncher } from '../inference/launcher.ts';
import { checkModelFile } from '../inference/model-check.ts';
import { sqliteQuarantine } from '../inference/quarantine.ts';
import { trustOf, workspace, type Workspace } from '../../../test-support/bundles-fixtures.ts';
import { createBundle, generateKeyPair, listBundles, signBundle, type GeneratedKeyPair } from './index.ts';
import { backendChoice } from './runtime-pack.ts';
import { runtimePackFiles } from './runtime-pack-source.ts';
import { installWithPayloads, type BundleDeps } from './service.ts';

// Runtime packs end to end, with node-llama-cpp's real prebuilt-binary packages installed
// here: a pack is made from the package folder, signed, installed through the bundle
// service, and the real inference process loads from it. The machine has no GPU, so the
// Vulkan pack must be tried and set aside with a notice; the CPU pack must be the binary
// the process actually maps (the kernel's /proc/self/maps says which file).

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const packageDir = (name: string) => path.join(root, 'node_modules', '@node-llama-cpp', name);
const onLinuxX64 = process.platform === 'linux' && process.arch === 'x64';

let ws: Workspace;
let key: GeneratedKeyPair;
const engines: RuntimeEngine[] = [];
beforeEach(async () => {
  ws = await workspace('soberana-runtime-pack-');
  key = generateKeyPair();
});
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
  await ws.close();
});

/** The bundle service with this policy; the gate lets everything through (the gate has its own tests). */
function deps(policy: EffectivePolicy): BundleDeps {
  const governance = { policy, trust: () => trustOf([key]) } as unknown as Governance;
  const gate = { check: () => undefined, changed: () => undefined } as unknown as Gate;
  return {
    db: ws.db,
    dataDir: ws.dataDir,
    libraryDir: path.join(ws.dataDir, 'library'),
    picker: null as never,
    governance,
    changed: () => undefined,
    modelsChanged: () => undefined,
    machinePolicyPath: path.join(ws.root, 'machine.json'),
    gate,
    emit: () => undefined,
  };
}

async function packBundle(name: string, id: string): Promise<string> {
  const dir = path.join(ws.root, id);
  await createBundle({
    dir,
    id,
    name: `${name} runtime`,
    version: 1,
    expires: new Date(Date.now() + 86_400_000).toISOString(),
    publisherKeyId: key.keyId,
    files: await runtimePackFiles(packageDir(name)),
  });
  await signBundle(dir, key.privateKeyPem);
  return dir;
}

function engineWith(policy: EffectivePolicy) {
  const engine = createEngine({
    launcher: forkLauncher(),
    validate: checkModelFile,
    quarantine: sqliteQuarantine(ws.db),
    onState: () => undefined,
    backends: () => backendChoice(listBundles(ws.db), ws.dataDir, policy),
  });
  engines.push(engine);
  return engine;
}

describe.runIf(onLinuxX64 && existsSync(packageDir('linux-x64-vulkan')))('runtime packs', () => {
  it('a Vulkan pack is installed, offered to the inference process, tested there, and set aside for the CPU when the hardware lacks Vulkan', async () => {
    const bundle = await packBundle('linux-x64-vulkan', 'vulkan-runtime');
    const outcome = await installWithPayloads(deps(DEFAULT_POLICY), bundle);
    expect(outcome.ok).toBe(true);
    const choice = backendChoice(listBundles(ws.db), ws.dataDir, DEFAULT_POLICY);
    expect(choice.packs).toEqual([
      expect.objectContaining({ backend: 'vulkan', package: '@node-llama-cpp/linux-x64-vulkan', bundleId: 'vulkan-runtime', bundleVersion: 1 }),
    ]);
    // Inside the data folder, in the bundle's own folder, with the binary node-llama-cpp looks for.
    expect(choice.packs[0]!.binsDir.startsWith(ws.dataDir)).toBe(true);
    expect(existsSync(path.join(choice.packs[0]!.binsDir, 'linux-x64-vulkan', 'llama-addon.node'))).toBe(true);

    const engine = engineWith(DEFAULT_POLICY);
    await engine.start();
    const hardware = await engine.hardware();
    if (hardware.backend === 'vulkan') {
      // A machine with a Vulkan driver: the pack is what runs.
      expect(hardware.backendSource).toEqual({ kind: 'pack', bundleId: 'vulkan-runtime', bundleVersion: 1, package: '@node-llama-cpp/linux-x64-vulkan' });
      expect(hardware.bindingPath?.startsWith(choice.packs[0]!.binsDir)).toBe(true);
    } else {
      expect(hardware.backend).toBe('cpu');
      expect(hardware.backendSource).toEqual({ kind: 'builtin' });
      expect(hardware.backendNotices).toEqual([
        expect.stringMatching(/^The Vulkan runtime pack \(bundle vulkan-runtime v1\) cannot run on this machine, so it is not used: /),
      ]);
      expect(hardware.bindingPath?.startsWith(ws.dataDir) ?? false).toBe(false);
    }
  }, 120_000);

  it('a CPU pack is the binary the inference process maps, and it generates', async () => {
    const bundle = await packBundle('linux-x64', 'cpu-runtime');
    expect((await installWithPayloads(deps(DEFAULT_POLICY), bundle)).ok).toBe(true);
    const engine = engineWith(DEFAULT_POLICY);
    await engine.start();
    const hardware = await engine.hardware();
    expect(hardware.backend).toBe('cpu');
    expect(hardware.backendSource).toEqual({ kind: 'pack', bundleId: 'cpu-runtime', bundleVersion: 1, package: '@node-llama-cpp/linux-x64' });
    expect(hardware.bindingPath).toBe(
      path.join(ws.dataDir, 'bundles', 'installed', 'cpu-runtime', '1', 'payload', 'runtime', 'linux-x64', 'bins', 'linux-x64', 'llama-addon.node'),
    );

    const model = path.join(ws.root, 'tiny.gguf');
    await writeGguf(model, presetSpec('tiny', 'Q8_0', 7));
    await engine.load(model, { gpuLayers: 0, contextSize: 512, threads: 1 });
    const stats = await engine.generate({ prompt: 'Hello', temperature: 0.7, topP: 0.9, topK: 40, repeatPenalty: 1.1, maxTokens: 4, seed: 3 }, () => undefined);
    expect(stats.tokens).toBeGreaterThan(0);
  }, 120_000);

  it('a pack whose backend the policy does not allow is refused at install, and ignored at load if the policy changed after', async () => {
    const cpuOnly: EffectivePolicy = { ...DEFAULT_POLICY, runtime: { allowedBackends: ['cpu'] } };
    const bundle = await packBundle('linux-x64-vulkan', 'vulkan-runtime');
    const refused = await installWithPayloads(deps(cpuOnly), bundle).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/does not allow the Vulkan backend \(runtime\.allowedBackends\)/) });
    expect(listBundles(ws.db)).toEqual([]);
    expect(existsSync(path.join(ws.dataDir, 'bundles', 'installed', 'vulkan-runtime'))).toBe(false);

    // Installed while Vulkan was allowed; the policy then narrowed.
    expect((await installWithPayloads(deps(DEFAULT_POLICY), bundle)).ok).toBe(true);
    const choice = backendChoice(listBundles(ws.db), ws.dataDir, cpuOnly);
    expect(choice.packs).toEqual([]);
    expect(choice.allowedBackends).toEqual(['cpu']);
    expect(choice.notices).toEqual(['The Vulkan runtime pack (bundle vulkan-runtime v1) is not used: the policy does not allow the Vulkan backend.']);
    const engine = engineWith(cpuOnly);
    await engine.start();
    const hardware = await engine.hardware();
    expect(hardware).toMatchObject({ backend: 'cpu', backendSource: { kind: 'builtin' }, backendNotices: choice.notices });
  }, 120_000);
});
