import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../../common/result.ts';
import type { CreateBundleFile } from './create.ts';
import type { FileMeta } from './manifest.ts';
import { RUNTIME_DIR } from './runtime-pack.ts';

// Publisher side of a runtime pack: the files of one of node-llama-cpp's prebuilt-binary npm
// packages (`@node-llama-cpp/linux-x64-vulkan`, as `npm pack`/`npm install` leave it on disk)
// as bundle entries. The description comes from the package itself: its name and version
// (package.json) and node-llama-cpp's build metadata (bins/<name>/_nlcBuildMetadata.json).
// Only bins/ and the licence are carried: the package's JavaScript is never run from a pack.

const GPU_TO_BACKEND: Record<string, 'cuda' | 'vulkan' | 'metal'> = { cuda: 'cuda', vulkan: 'vulkan', metal: 'metal' };
const NAMES = { cpu: 'CPU', cuda: 'CUDA', vulkan: 'Vulkan', metal: 'Metal' } as const;

interface BuildMetadata {
  readonly buildOptions?: { readonly platform?: unknown; readonly arch?: unknown; readonly gpu?: unknown };
}

export async function runtimePackFiles(folder: string, displayName?: string): Promise<CreateBundleFile[]> {
  const pkg = await readJson<{ name?: unknown; version?: unknown }>(path.join(folder, 'package.json'), folder);
  if (typeof pkg.name !== 'string' || !/^@node-llama-cpp\/[a-z0-9-]+$/.test(pkg.name) || typeof pkg.version !== 'string') {
    throw new AppError(
      'bad_request',
      `"${folder}" is not one of node-llama-cpp's prebuilt-binary packages: its package.json should name "@node-llama-cpp/<platform>-<arch>[-<gpu>]" and a version.`,
    );
  }
  const name = pkg.name.split('/')[1]!;
  const metadata = await readJson<BuildMetadata>(path.join(folder, 'bins', name, '_nlcBuildMetadata.json'), folder);
  const { platform, arch, gpu } = metadata.buildOptions ?? {};
  if (platform !== 'linux' && platform !== 'win' && platform !== 'mac')
    throw new AppError('bad_request', `The build metadata of ${pkg.name} names no platform Soberana knows (${String(platform)}).`);
  if (typeof arch !== 'string') throw new AppError('bad_request', `The build metadata of ${pkg.name} names no architecture.`);
  const backend = gpu === false ? 'cpu' : typeof gpu === 'string' ? GPU_TO_BACKEND[gpu] : undefined;
  if (backend === undefined)
    throw new AppError('bad_request', `The build metadata of ${pkg.name} names a GPU backend Soberana does not know (${String(gpu)}).`);
  const meta: FileMeta = {
    displayName: displayName ?? `${NAMES[backend]} runtime (${platform} ${arch})`,
    backend,
    platform,
    arch,
    package: pkg.name,
    nodeLlamaCpp: pkg.version,
  };
  const binFiles = await walk(path.join(folder, 'bins'));
  const carried = [...binFiles.map((relative) => `bins/${relative}`), ...((await exists(path.join(folder, 'LICENSE'))) ? ['LICENSE'] : [])];
  return carried.map((relative) => ({ kind: 'runtime', source: path.join(folder, ...relative.split('/')), path: `${RUNTIME_DIR}/${name}/${relative}`, meta }));
}

async function readJson<T>(file: string, folder: string): Promise<T> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (error) {
    throw new AppError(
      'bad_request',
      `"${folder}" is not one of node-llama-cpp's prebuilt-binary packages: ${path.relative(folder, file)} is missing or unreadable.`,
      error instanceof Error ? error.message : String(error),
    );
  }
}

async function walk(root: string, relative = ''): Promise<string[]> {
  const entries = await readdir(path.join(root, relative), { withFileTypes: true }).catch(() => null);
  if (entries === null) throw new AppError('bad_request', `"${path.dirname(root)}" has no bins/ folder.`);
  const out: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await walk(root, child)));
    else if (entry.isFile()) out.push(child);
    else throw new AppError('bad_request', `"${path.join(root, child)}" is not a plain file or folder; bundles hold plain files only.`);
  }
  return out;
}

const exists = (file: string) =>
  readFile(file).then(
    () => true,
    () => false,
  );
