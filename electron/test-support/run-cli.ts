import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// For the CLI's tests: runs `soberana` as a user would, in its own process, against a
// data directory the test owns. The parent's data-dir and policy variables never leak in.
// It runs the built artefact, out/cli/soberana.js (what `npm run build` ships, with the
// extraction worker and the inference entry it finds beside itself in out/), not the
// TypeScript source: Vitest's global setup (scripts/vitest-global-setup.ts) builds it first.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_ENTRY = path.join(ROOT, 'out', 'cli', 'soberana.js');

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliRunOptions {
  readonly dataDir: string;
  /** Extra environment, e.g. SOBERANA_POLICY_FILE. */
  readonly env?: Readonly<Record<string, string>>;
  /** Written to stdin. */
  readonly input?: string;
  readonly timeoutMs?: number;
}

export function runCli(args: readonly string[], options: CliRunOptions): CliRun {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.SOBERANA_DATA_DIR;
  delete env.SOBERANA_POLICY_FILE;
  Object.assign(env, options.env);
  const result = spawnSync(process.execPath, ['--no-warnings', CLI_ENTRY, ...args, '--data-dir', options.dataDir], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
