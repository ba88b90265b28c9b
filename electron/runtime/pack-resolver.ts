import module from 'node:module';
import { readFileSync } from 'node:fs';
import type { RuntimePack } from '../common/runtime/protocol.ts';

// How a runtime pack reaches node-llama-cpp. node-llama-cpp finds its prebuilt binaries by
// importing `@node-llama-cpp/<platform>-<arch>[-<gpu>]` and calling the package's
// `getBinsDir()`, which returns `{ binsDir, packageVersion }`; it then loads
// `<binsDir>/<platform>-<arch>[-<gpu>]/llama-addon.node` (after testing it in a child process)
// and ignores a package whose version is not its own. getLlama takes no binary path, and an
// ESM `import()` ignores NODE_PATH, so a module resolution hook answers that import instead:
// the package name resolves to a two-line module (a data: URL) that returns the pack's folder.
// No JavaScript from the pack runs; only its native binaries are loaded, by node-llama-cpp.

export interface PackResolver {
  /** Package names this process resolved to a pack, in the order node-llama-cpp asked. */
  readonly served: readonly string[];
}

/** The module that stands in for the package: what the package's own dist/index.js returns, pointing at the pack. */
export function packModuleUrl(pack: Pick<RuntimePack, 'binsDir' | 'version'>): string {
  const source = `export function getBinsDir() { return { binsDir: ${JSON.stringify(pack.binsDir)}, packageVersion: ${JSON.stringify(pack.version)} }; }\n`;
  return `data:text/javascript,${encodeURIComponent(source)}`;
}

/**
 * Registers the hook for these packs (once per process, before node-llama-cpp's first
 * getLlama). Returns null, and changes nothing, where the runtime has no synchronous
 * resolution hooks (Node before 22.15): the built-in binaries are used then.
 */
export function installPackResolver(packs: readonly RuntimePack[]): PackResolver | null {
  const registerHooks = (module as { registerHooks?: (hooks: { resolve: ResolveHook }) => unknown }).registerHooks;
  if (typeof registerHooks !== 'function') return null;
  const byPackage = new Map(packs.map((pack) => [pack.package, pack]));
  const served: string[] = [];
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const pack = byPackage.get(specifier);
      if (pack === undefined) return nextResolve(specifier, context);
      served.push(specifier);
      return { url: packModuleUrl(pack), format: 'module', shortCircuit: true };
    },
  });
  return { served };
}

type ResolveHook = (
  specifier: string,
  context: unknown,
  nextResolve: (specifier: string, context: unknown) => { url: string },
) => { url: string; format?: string; shortCircuit?: boolean };

/**
 * The llama-addon.node this process has mapped, from the kernel's own list (Linux). The
 * proof of which binary is in use, independent of what node-llama-cpp or the hook believe.
 */
export function mappedBindingPath(): string | null {
  try {
    const maps = readFileSync('/proc/self/maps', 'utf8');
    const line = maps.split('\n').find((entry) => entry.endsWith('/llama-addon.node'));
    return line === undefined ? null : line.slice(line.indexOf('/'));
  } catch {
    return null;
  }
}
