import { build } from 'esbuild';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { targets } from './build.ts';

// Before any unit test: the CLI's tests run the built `out/cli/soberana.js`, as a user
// would, not the TypeScript source. `npm test` runs Vitest before its full build, so the
// CLI and the two entries it starts beside itself (out/main/extract-worker.js for
// extraction, out/runtime/index.js for inference) are built here, with the options of
// scripts/build.ts. Under a second.
//
// Several test runs may share one working tree, and a CLI test may be reading a file while
// another run builds: a file is written only when its bytes change, and then to a temporary
// name renamed over the old one, so no process ever reads half a bundle.

const CLI_TARGETS = ['cli', 'extract-worker', 'runtime'] as const;

async function same(file: string, contents: Uint8Array): Promise<boolean> {
  try {
    return Buffer.from(contents).equals(await readFile(file));
  } catch {
    return false;
  }
}

async function put(file: string, contents: Uint8Array, mode: number): Promise<void> {
  if (!(await same(file, contents))) {
    await mkdir(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, contents, { mode });
    await chmod(temporary, mode);
    await rename(temporary, file);
  } else if (((await stat(file)).mode & 0o777) !== mode) {
    await chmod(file, mode);
  }
}

export default async function setup(): Promise<void> {
  await Promise.all(
    CLI_TARGETS.map(async (name) => {
      const options = targets[name];
      if (options === undefined) throw new Error(`scripts/build.ts has no "${name}" target`);
      // Vitest sets NODE_ENV=test; the artefact under test is the production build's.
      const result = await build({ ...options, define: { ...options.define, 'process.env.NODE_ENV': '"production"' }, write: false });
      for (const file of result.outputFiles) {
        // `soberana.js` is run directly (its #! line), as `npm run build` leaves it.
        const executable = name === 'cli' && file.path.endsWith('.js');
        await put(file.path, file.contents, executable ? 0o755 : 0o644);
      }
    }),
  );
}
