import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { targets } from '../build.ts';

// Builds the parts of the app that the packaging and wiring tests need, as `npm run build`
// does (production), for test files that may run at the same time in one working tree:
// one builder at a time (a lock folder), and each bundle written under a temporary name
// and renamed over the old one, so no reader ever sees half a file. The renderer (Vite) is
// built only when it is missing: `npm test` rebuilds everything after Vitest anyway.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const lock = path.join(root, 'out', '.test-build-lock');

async function withLock<T>(task: () => Promise<T>): Promise<T> {
  await mkdir(path.dirname(lock), { recursive: true });
  const started = Date.now();
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      // A crashed holder would leave the lock: after five minutes it is taken over.
      if (Date.now() - started > 300_000) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    return await task();
  } finally {
    await rmdir(lock).catch(() => undefined);
  }
}

export function buildForTests(names: readonly ('main' | 'preload' | 'renderer')[]): Promise<void> {
  return withLock(async () => {
    for (const name of names) {
      if (name === 'renderer') {
        if (existsSync(path.join(root, 'out', 'renderer', 'index.html'))) continue;
        const result = spawnSync(process.execPath, ['scripts/build.ts', '--only', 'renderer'], {
          cwd: root,
          encoding: 'utf8',
          env: { ...process.env, NODE_ENV: 'production' },
        });
        if (result.status !== 0) throw new Error(`renderer build failed: ${result.stderr}`);
        continue;
      }
      const options = targets[name];
      if (options === undefined) throw new Error(`scripts/build.ts has no "${name}" target`);
      const result = await build({ ...options, define: { ...options.define, 'process.env.NODE_ENV': '"production"' }, write: false });
      for (const file of result.outputFiles) {
        await mkdir(path.dirname(file.path), { recursive: true });
        const temporary = `${file.path}.${process.pid}.tmp`;
        await writeFile(temporary, file.contents);
        await rename(temporary, file.path);
      }
    }
  });
}
