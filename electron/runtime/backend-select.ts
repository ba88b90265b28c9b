import type { BackendChoice, BackendSource, GpuBackend, RuntimePack } from '../common/runtime/protocol.ts';
import { installPackResolver, type PackResolver } from './pack-resolver.ts';

// Which binaries the inference process runs on. Runtime packs (GPU builds delivered as
// signed bundles) are tried first, each alone and explicitly: node-llama-cpp tests a
// prebuilt binary in a child process before loading it, so a pack whose GPU, driver or
// library is missing here fails that test and is set aside with a notice, never a crash.
// Then node-llama-cpp's own choice among the built-in binaries, within what the policy
// allows; the CPU is always last.

type GpuOption = 'auto' | false | Exclude<GpuBackend, 'cpu'> | { type: 'auto'; exclude: Exclude<GpuBackend, 'cpu'>[] };

export interface Selected<L> {
  readonly llama: L;
  readonly source: BackendSource;
  readonly notices: readonly string[];
}

const GPU_ORDER: readonly Exclude<GpuBackend, 'cpu'>[] = ['cuda', 'vulkan', 'metal'];
const NAMES: Record<GpuBackend, string> = { cpu: 'CPU', cuda: 'CUDA', vulkan: 'Vulkan', metal: 'Metal' };

const allowed = (choice: BackendChoice, backend: GpuBackend) =>
  backend === 'cpu' || choice.allowedBackends === null || choice.allowedBackends.includes(backend);
const label = (pack: RuntimePack) => `The ${NAMES[pack.backend]} runtime pack (bundle ${pack.bundleId} v${pack.bundleVersion})`;

/** The gpu option for node-llama-cpp's own choice: everything the policy allows, or the CPU alone when it is switched off. */
export function builtinGpuOption(choice: BackendChoice, gpuOff: boolean): GpuOption {
  if (gpuOff) return false;
  const exclude = GPU_ORDER.filter((backend) => !allowed(choice, backend));
  if (exclude.length === 0) return 'auto';
  if (exclude.length === GPU_ORDER.length) return false;
  return { type: 'auto', exclude };
}

export async function selectBackend<L extends { readonly gpu: false | string }>(
  choice: BackendChoice,
  load: (gpu: GpuOption) => Promise<L>,
  options: { readonly gpuOff: boolean; readonly resolver?: (packs: readonly RuntimePack[]) => PackResolver | null },
): Promise<Selected<L>> {
  const notices = [...choice.notices];
  // The main process filtered already; checked again here, where the binaries are loaded.
  const packs = choice.packs.filter((pack) => {
    if (allowed(choice, pack.backend)) return true;
    notices.push(`${label(pack)} is not used: the policy does not allow the ${NAMES[pack.backend]} backend.`);
    return false;
  });
  const resolver = packs.length === 0 ? null : (options.resolver ?? installPackResolver)(packs);
  if (packs.length > 0 && resolver === null)
    notices.push(
      'Runtime packs are not used: this runtime cannot redirect node-llama-cpp to them (it needs Node 22.15 or later). The built-in binaries are used.',
    );
  const usable = resolver === null ? [] : packs;
  const sourceOf = (gpu: false | string): BackendSource => {
    const backend = gpu === false ? 'cpu' : gpu;
    const pack = usable.find((candidate) => candidate.backend === backend && resolver?.served.includes(candidate.package) === true);
    return pack === undefined ? { kind: 'builtin' } : { kind: 'pack', bundleId: pack.bundleId, bundleVersion: pack.bundleVersion, package: pack.package };
  };

  if (options.gpuOff && usable.some((pack) => pack.backend !== 'cpu'))
    notices.push('GPU runtime packs are not tried: the GPU is switched off for this process (SOBERANA_RUNTIME_GPU=off).');
  const tried = new Set<GpuBackend>();
  for (const backend of options.gpuOff ? [] : GPU_ORDER) {
    const pack = usable.find((candidate) => candidate.backend === backend);
    if (pack === undefined || tried.has(backend)) continue;
    tried.add(backend);
    try {
      const llama = await load(backend);
      return { llama, source: sourceOf(llama.gpu), notices };
    } catch (error) {
      notices.push(`${label(pack)} cannot run on this machine, so it is not used: ${reasonOf(error)}`);
    }
  }
  const llama = await load(builtinGpuOption(choice, options.gpuOff));
  return { llama, source: sourceOf(llama.gpu), notices };
}

/** node-llama-cpp's NoBinaryFoundError says only "NoBinaryFoundError"; say what it means here. */
function reasonOf(error: unknown): string {
  const text = error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
  if (/NoBinaryFound/i.test(text)) return 'its binary did not pass node-llama-cpp\u2019s test on this hardware (no supported GPU or driver was found).';
  return text.slice(0, 500);
}
