import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { BackendChoice, GpuBackend, RuntimePack } from '../../../common/runtime/protocol.ts';
import { AppError } from '../../../common/result.ts';
import type { EffectivePolicy } from '../policy/index.ts';
import { PAYLOAD_DIR, type ManifestFile } from './manifest.ts';
import { bundleDir } from './install.ts';
import type { InstalledBundle } from './store.ts';

// A runtime pack: node-llama-cpp's prebuilt binaries for one backend, as published in its
// `@node-llama-cpp/<platform>-<arch>[-<gpu>]` npm package, carried by a signed bundle. Its
// files sit under `runtime/<package name without scope>/`, and every one of them names the
// pack in its meta (backend, platform, arch, package, node-llama-cpp version), so the
// signature covers the description as well as each file's SHA-256. The pack stays in its
// bundle's folder (like a model from a bundle): uninstalling the bundle removes it, and a
// crash between copy and commit leaves nothing elsewhere to reconcile.

export const RUNTIME_DIR = 'runtime';

export interface PackDescription {
  readonly backend: GpuBackend;
  readonly platform: 'linux' | 'win' | 'mac';
  readonly arch: string;
  readonly package: string;
  readonly nodeLlamaCpp: string;
  /** Relative to payload/: `runtime/<name>`; the binaries are in `<root>/bins/<name>/`. */
  readonly root: string;
  readonly displayName: string;
}

const NAMES: Record<GpuBackend, string> = { cpu: 'CPU', cuda: 'CUDA', vulkan: 'Vulkan', metal: 'Metal' };

/** The packs a bundle's runtime files make up; throws `bad_request` naming what is wrong with one. */
export function describePacks(files: readonly Pick<ManifestFile, 'path' | 'kind' | 'meta'>[]): PackDescription[] {
  const packs = new Map<string, PackDescription & { paths: string[] }>();
  for (const file of files) {
    if (file.kind !== 'runtime') continue;
    const meta = file.meta as Record<string, unknown>;
    const name = String(meta.package).split('/')[1] ?? '';
    const root = `${RUNTIME_DIR}/${name}`;
    if (!file.path.startsWith(`${root}/`))
      throw new AppError('bad_request', `The runtime file "${file.path}" is not under "${root}/", where the pack for ${String(meta.package)} belongs.`);
    const description: PackDescription = {
      backend: meta.backend as GpuBackend,
      platform: meta.platform as PackDescription['platform'],
      arch: String(meta.arch),
      package: String(meta.package),
      nodeLlamaCpp: String(meta.nodeLlamaCpp),
      root,
      displayName: String(meta.displayName),
    };
    const seen = packs.get(description.package);
    if (seen === undefined) packs.set(description.package, { ...description, paths: [file.path] });
    else if (
      seen.backend !== description.backend ||
      seen.platform !== description.platform ||
      seen.arch !== description.arch ||
      seen.nodeLlamaCpp !== description.nodeLlamaCpp
    ) {
      throw new AppError(
        'bad_request',
        `The files of the runtime pack ${description.package} do not all describe the same backend, platform, architecture and node-llama-cpp version.`,
      );
    } else seen.paths.push(file.path);
  }
  return [...packs.values()].map(({ paths, ...pack }) => {
    const folder = `${pack.root}/bins/${pack.package.split('/')[1]}`;
    // What node-llama-cpp needs to accept a prebuilt folder.
    for (const needed of ['llama-addon.node', '_nlcBuildMetadata.json']) {
      if (!paths.includes(`${folder}/${needed}`))
        throw new AppError('bad_request', `The runtime pack ${pack.package} has no ${folder}/${needed}; it is not node-llama-cpp's prebuilt binaries.`);
    }
    return pack;
  });
}

/** The version of node-llama-cpp this app runs, or null where it cannot be read. */
export function appNodeLlamaCppVersion(): string | null {
  try {
    const require = createRequire(import.meta.url);
    let dir = path.dirname(require.resolve('node-llama-cpp'));
    // The package's exports hide package.json; walk up from its entry point.
    for (let depth = 0; depth < 4; depth += 1, dir = path.dirname(dir)) {
      try {
        const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'node-llama-cpp' && typeof pkg.version === 'string') return pkg.version;
      } catch {
        // Not this folder.
      }
    }
  } catch {
    // Not resolvable from here (a bundled build without it): the inference process still checks.
  }
  return null;
}

export const backendAllowed = (policy: Pick<EffectivePolicy, 'runtime'>, backend: GpuBackend): boolean =>
  backend === 'cpu' || policy.runtime.allowedBackends === null || policy.runtime.allowedBackends.includes(backend);

/**
 * The install-time check of a bundle's runtime packs: the policy must allow each backend and
 * the binaries must be built for this app's node-llama-cpp. Another platform's pack is
 * accepted (one bundle may serve a mixed fleet) and ignored where it does not apply.
 */
export function checkPacksForInstall(
  files: readonly ManifestFile[],
  policy: Pick<EffectivePolicy, 'runtime'>,
  appVersion: string | null = appNodeLlamaCppVersion(),
): PackDescription[] {
  const packs = describePacks(files);
  for (const pack of packs) {
    if (!backendAllowed(policy, pack.backend)) {
      throw new AppError(
        'forbidden',
        `This bundle carries a ${NAMES[pack.backend]} runtime pack, and this machine's policy does not allow the ${NAMES[pack.backend]} backend (runtime.allowedBackends). Ask IT whether it should be allowed.`,
        pack.package,
      );
    }
    if (appVersion !== null && pack.nodeLlamaCpp !== appVersion) {
      throw new AppError(
        'rejected_file',
        `The runtime pack ${pack.package} was built for node-llama-cpp ${pack.nodeLlamaCpp}, and this Soberana uses ${appVersion}: its binaries would not load. Ask for a pack made for this version.`,
        pack.package,
      );
    }
  }
  return packs;
}

const platformNow = (): PackDescription['platform'] | null =>
  process.platform === 'linux' ? 'linux' : process.platform === 'win32' ? 'win' : process.platform === 'darwin' ? 'mac' : null;

/**
 * What the inference process may use, asked at each of its starts: the policy's backends,
 * and per package the pack of the most recently installed bundle that fits this machine.
 * Packs the policy forbids (a policy changed since the install) or made for another platform,
 * architecture or node-llama-cpp are left out with a notice.
 */
export function backendChoice(
  bundles: readonly InstalledBundle[],
  dataDir: string,
  policy: Pick<EffectivePolicy, 'runtime'>,
  appVersion: string | null = appNodeLlamaCppVersion(),
): BackendChoice {
  const notices: string[] = [];
  const chosen = new Map<string, { pack: RuntimePack; installedAt: string }>();
  for (const bundle of bundles) {
    let packs: PackDescription[];
    try {
      packs = describePacks(bundle.files);
    } catch (error) {
      notices.push(`The runtime packs of bundle ${bundle.id} v${bundle.version} are not used: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    for (const pack of packs) {
      const named = `The ${NAMES[pack.backend]} runtime pack (bundle ${bundle.id} v${bundle.version})`;
      if (pack.platform !== platformNow() || pack.arch !== process.arch) continue; // Another machine's: says nothing about this one.
      if (!backendAllowed(policy, pack.backend)) {
        notices.push(`${named} is not used: the policy does not allow the ${NAMES[pack.backend]} backend.`);
        continue;
      }
      if (appVersion !== null && pack.nodeLlamaCpp !== appVersion) {
        notices.push(`${named} is not used: it was built for node-llama-cpp ${pack.nodeLlamaCpp}, and this Soberana uses ${appVersion}.`);
        continue;
      }
      const candidate: RuntimePack = {
        backend: pack.backend,
        package: pack.package,
        version: pack.nodeLlamaCpp,
        binsDir: path.join(bundleDir(dataDir, bundle), PAYLOAD_DIR, ...pack.root.split('/'), 'bins'),
        bundleId: bundle.id,
        bundleVersion: bundle.version,
      };
      const earlier = chosen.get(pack.package);
      if (earlier === undefined || earlier.installedAt < bundle.installedAt) chosen.set(pack.package, { pack: candidate, installedAt: bundle.installedAt });
    }
  }
  return {
    allowedBackends: policy.runtime.allowedBackends === null ? null : [...policy.runtime.allowedBackends],
    packs: [...chosen.values()].map(({ pack }) => pack),
    notices,
  };
}
