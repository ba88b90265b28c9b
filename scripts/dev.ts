import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { context } from 'esbuild';
import { createServer } from 'vite';
import { electronBinary } from '../e2e/electron-app.ts';
import { targets } from './build.ts';

// `npm start`: the renderer from Vite's dev server (hot reload), main and preload
// rebuilt by esbuild on change, and Electron restarted when the main process changes.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const binary = electronBinary();
if (binary === null) {
  console.error(`Electron's binary is not installed, so the app cannot start here.

This happens when dependencies were installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1,
as on air-gapped build machines. To install it without a network, put Electron's zip
for this platform (electron-v<version>-<platform>-<arch>.zip) in a folder, then run:

  electron_config_cache=/path/to/folder node node_modules/electron/install.js

Everything but the Electron shell runs without it: npm test drives the real renderer
in Chromium against the real services.`);
  process.exit(1);
}

const server = await createServer({ configFile: path.join(root, 'vite.config.ts') });
await server.listen();
const devUrl = server.resolvedUrls?.local[0] ?? 'http://localhost:5173/';

let electron: ChildProcess | null = null;
let quitting = false;
function launch(): void {
  electron = spawn(binary!, [path.join(root, 'out/main/index.js')], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, VITE_DEV_SERVER_URL: devUrl, NODE_ENV: 'development' },
  });
  electron.on('exit', (code) => {
    if (quitting) return;
    if (restarting) {
      restarting = false;
      launch();
      return;
    }
    void shutdown(code ?? 0);
  });
}

let restarting = false;
async function shutdown(code: number): Promise<void> {
  quitting = true;
  electron?.kill();
  await Promise.all([server.close(), ...contexts.map((ctx) => ctx.dispose())]);
  process.exit(code);
}

const contexts = await Promise.all(
  (['main', 'extract-worker', 'preload'] as const).map((name) =>
    context({
      ...targets[name],
      define: { 'process.env.NODE_ENV': '"development"' },
      plugins: [
        {
          name: 'restart-electron',
          setup(build) {
            let first = true;
            build.onEnd((result) => {
              if (result.errors.length > 0 || first) {
                first = false;
                return;
              }
              console.log(`[dev] ${name} rebuilt; restarting Electron`);
              restarting = true;
              electron?.kill();
            });
          },
        },
      ],
    }),
  ),
);
await Promise.all(contexts.map((ctx) => ctx.rebuild()));
await Promise.all(contexts.map((ctx) => ctx.watch()));
launch();

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
