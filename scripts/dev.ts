import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { context } from 'esbuild';
import { createServer } from 'vite';
import { electronBinary } from '../e2e/electron-app.ts';
import { targets } from './build.ts';
import { beforeStart, offlineInstructions, runElectronInstaller } from './electron-install.ts';

// `npm start`: the renderer from Vite's dev server (hot reload), main and preload
// rebuilt by esbuild on change, and Electron restarted when the main process changes.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Electron 45 has no install script: `npm ci` leaves its binary out, and it comes on first
// use. Install it here with Electron's own installer; only if that fails, say why (the
// installer's own error) and how to install it offline (scripts/electron-install.ts).
const { version } = JSON.parse(readFileSync(path.join(root, 'node_modules', 'electron', 'package.json'), 'utf8')) as { version: string };
let decision = beforeStart(electronBinary(), process.env);
if (decision.action === 'install') {
  console.log(`[start] Electron's binary is not installed: installing Electron ${version} with its installer (node_modules/electron/install.js)...`);
  const run = await runElectronInstaller(root);
  decision = beforeStart(electronBinary(), process.env, run);
}
if (decision.action !== 'start') {
  const cause = decision.action === 'explain' ? decision.cause : 'Electron could not be installed.';
  console.error(`\n${offlineInstructions(cause, { version, platform: process.platform, arch: process.arch }, process.env)}`);
  process.exit(1);
}
const binary = decision.binary;

const server = await createServer({ configFile: path.join(root, 'vite.config.ts') });
await server.listen();
const devUrl = server.resolvedUrls?.local[0] ?? 'http://localhost:5173/';

let electron: ChildProcess | null = null;
let quitting = false;
function launch(): void {
  electron = spawn(binary, [path.join(root, 'out/main/index.js')], {
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
