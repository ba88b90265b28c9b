import { build, type BuildOptions } from 'esbuild';
import { chmod } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as viteBuild } from 'vite';

// Builds the three Electron parts and the CLI. esbuild bundles the Node-side code
// (fast, and one file each); Vite builds the renderer. `--only main|extract-worker|preload|runtime|cli|renderer`
// limits the run; `--watch` is used by `npm start`.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = (...parts: string[]) => path.join(root, 'out', ...parts);

const common: BuildOptions = {
  bundle: true,
  sourcemap: true,
  logLevel: 'warning',
  absWorkingDir: root,
  define: { 'process.env.NODE_ENV': JSON.stringify(process.env.NODE_ENV ?? 'production') },
};

export const targets: Record<string, BuildOptions> = {
  main: {
    ...common,
    entryPoints: ['electron/main/index.ts'],
    outfile: out('main/index.js'),
    platform: 'node',
    format: 'esm',
    target: 'node22',
    external: ['electron', 'node-llama-cpp', '@node-llama-cpp/*', '@lancedb/lancedb', '@lancedb/*', '@napi-rs/canvas'],
    // Bundled CommonJS dependencies may call require(); give ESM output one.
    banner: { js: "import { createRequire as __soberanaRequire } from 'node:module'; const require = __soberanaRequire(import.meta.url);" },
  },
  // Document parsing runs in a worker thread, which needs its own file next to the main bundle
  // (see defaultWorkerEntry in electron/main/services/knowledge/ingestion/extract/pool.ts). pdf.js stays
  // external: it loads its own worker module and data files relative to its package.
  'extract-worker': {
    ...common,
    entryPoints: ['electron/main/services/knowledge/ingestion/extract/worker.ts'],
    outfile: out('main/extract-worker.js'),
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // @napi-rs/canvas is a native addon (pdf pages are rendered on it for OCR); Tesseract's core and
    // trained data are loaded at run time from node_modules (ocr/engine.ts), never bundled.
    external: ['pdfjs-dist', '@napi-rs/canvas', 'tesseract.js', 'tesseract.js-core', '@tesseract.js-data/*'],
    banner: { js: "import { createRequire as __soberanaRequire } from 'node:module'; const require = __soberanaRequire(import.meta.url);" },
  },
  preload: {
    ...common,
    entryPoints: ['electron/preload/index.ts'],
    outfile: out('preload/index.cjs'),
    // A sandboxed preload is one CommonJS file that may require only 'electron'.
    platform: 'browser',
    format: 'cjs',
    target: 'chrome140',
    external: ['electron'],
  },
  runtime: {
    ...common,
    entryPoints: ['electron/runtime/index.ts'],
    outfile: out('runtime/index.js'),
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // Native bindings load their prebuilt binaries from node_modules at run time.
    external: ['node-llama-cpp', '@node-llama-cpp/*'],
    banner: { js: "import { createRequire as __soberanaRequire } from 'node:module'; const require = __soberanaRequire(import.meta.url);" },
  },
  cli: {
    ...common,
    entryPoints: ['electron/cli/soberana.ts'],
    outfile: out('cli/soberana.js'),
    platform: 'node',
    format: 'esm',
    target: 'node24',
    external: ['node-llama-cpp', '@node-llama-cpp/*', '@lancedb/lancedb', '@lancedb/*', '@napi-rs/canvas'],
    // No banner: esbuild keeps the entry's own `#!` line, and a second one is a SyntaxError.
  },
};

async function buildTarget(name: string): Promise<void> {
  if (name === 'renderer') {
    await viteBuild({ configFile: path.join(root, 'vite.config.ts'), logLevel: 'warn' });
    return;
  }
  const options = targets[name];
  if (options === undefined) throw new Error(`Unknown build target "${name}"`);
  await build(options);
  if (name === 'cli') await chmod(out('cli/soberana.js'), 0o755);
}

if (import.meta.main) {
  const onlyIndex = process.argv.indexOf('--only');
  const names = onlyIndex === -1 ? ['main', 'extract-worker', 'preload', 'runtime', 'cli', 'renderer'] : (process.argv[onlyIndex + 1] ?? '').split(',');
  const started = performance.now();
  await Promise.all(names.map(buildTarget));
  console.log(`built ${names.join(', ')} in ${Math.round(performance.now() - started)} ms`);
}
