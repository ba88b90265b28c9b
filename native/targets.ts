// Which packages carry the native binaries that ship, per target (`<platform>-<arch>`, as
// Node names them). Only the CPU build of node-llama-cpp ships in the installer (plus Metal
// on Apple silicon); CUDA and Vulkan come as runtime packs. LanceDB and @napi-rs/canvas (which
// pdf.js loads at import under Node, for DOMMatrix and Path2D) have one package per target.

export type Target = `${string}-${string}`;

export function currentTarget(): Target {
  return `${process.platform}-${process.arch}`;
}

/** node-llama-cpp's names for the OS part of its binary packages. */
const LLAMA_OS: Readonly<Record<string, string>> = { darwin: 'mac', win32: 'win', linux: 'linux' };

/** The C library suffix npm packages of Rust addons use (napi-rs): glibc on Linux, MSVC on Windows. */
function abiSuffix(platform: string): string {
  if (platform === 'linux') return '-gnu';
  if (platform === 'win32') return '-msvc';
  return '';
}

/** The packages whose native files ship for `target`, in a stable order. */
export function shippedNativePackages(target: Target): readonly string[] {
  const [platform = '', arch = ''] = target.split('-');
  const llamaOs = LLAMA_OS[platform];
  if (llamaOs === undefined) throw new Error(`Soberana does not ship for ${target}.`);
  return [
    `@node-llama-cpp/${llamaOs}-${arch}${platform === 'darwin' && arch === 'arm64' ? '-metal' : ''}`,
    `@lancedb/lancedb-${platform}-${arch}${abiSuffix(platform)}`,
    `@napi-rs/canvas-${platform}-${arch}${abiSuffix(platform)}`,
  ];
}

/** Files the dynamic loader opens: Node addons and the shared libraries they load. */
export function isNativeFile(name: string): boolean {
  return /\.(node|dylib|dll|metallib)$/.test(name) || /\.so(\.[0-9.]+)?$/.test(name);
}
