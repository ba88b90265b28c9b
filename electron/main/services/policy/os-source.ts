import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { managedPreferencesToPolicy } from './managed-preferences-source.ts';
import { MANAGED_PREFERENCES_PATH, REGISTRY_ROOT_SHORT } from './os-layout.ts';
import { registryToPolicy } from './registry-source.ts';

// The policy an OS's management tools put in place: Group Policy in the registry on Windows,
// an MDM profile's managed preferences on macOS. Read by running the OS's own tool (no native
// addon); what the tool printed is interpreted by the pure parsers next door.

export type OsPolicyKind = 'registry' | 'managed-preferences';

export interface OsPolicySource {
  readonly kind: OsPolicyKind;
  /** What `policy show` and the audit log name: the key or the file. */
  readonly location: string;
}

/** Which OS source a platform has; null where there is none (Linux: the file in /etc is the managed source). */
export function osPolicySource(platform: NodeJS.Platform): OsPolicySource | null {
  if (platform === 'win32') return { kind: 'registry', location: REGISTRY_ROOT_SHORT };
  if (platform === 'darwin') return { kind: 'managed-preferences', location: MANAGED_PREFERENCES_PATH };
  return null;
}

/** What running the tool gave: its exit code and output, or why it could not run. */
export interface ToolRun {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  /** Set when the tool could not be started or was stopped (not found, timeout). */
  readonly failure?: string;
}

export type OsPolicyRead =
  | { readonly kind: 'missing' }
  | { readonly kind: 'read'; readonly bytes: Buffer; readonly raw: Record<string, unknown> | null; readonly problems: readonly string[] };

const firstLine = (text: string): string => text.trim().split(/\r?\n/)[0] ?? '';

/**
 * reg.exe's exit code is 1 both when the key does not exist and on other errors, and its
 * messages are translated, so "missing" is exit 1 with nothing listed. Anything else that
 * went wrong is a problem: the policy is locked down rather than silently dropped.
 */
export function interpretRegQuery(run: ToolRun): OsPolicyRead {
  if (run.failure !== undefined) return { kind: 'read', bytes: run.stdout, raw: null, problems: [`reg.exe could not be run: ${run.failure}`] };
  const text = run.stdout.toString('utf8');
  if (run.code === 1 && text.trim() === '') return { kind: 'missing' };
  if (run.code !== 0)
    return { kind: 'read', bytes: run.stdout, raw: null, problems: [`reg.exe failed (exit ${String(run.code)}): ${firstLine(run.stderr) || firstLine(text)}`] };
  const parsed = registryToPolicy(text);
  return { kind: 'read', bytes: run.stdout, raw: parsed.raw, problems: parsed.problems };
}

/** plutil runs only when the file exists, so any failure is a problem (a broken or unconvertible plist). */
export function interpretPlutil(run: ToolRun): OsPolicyRead {
  if (run.failure !== undefined) return { kind: 'read', bytes: run.stdout, raw: null, problems: [`plutil could not be run: ${run.failure}`] };
  if (run.code !== 0)
    return {
      kind: 'read',
      bytes: run.stdout,
      raw: null,
      problems: [`plutil could not convert it (exit ${String(run.code)}): ${firstLine(run.stderr) || firstLine(run.stdout.toString('utf8'))}`],
    };
  const parsed = managedPreferencesToPolicy(run.stdout.toString('utf8'));
  return { kind: 'read', bytes: run.stdout, raw: parsed.raw, problems: parsed.problems };
}

/** Reads one OS source. Tests give a reader that returns recorded output. */
export interface OsPolicyReader {
  readonly source: OsPolicySource;
  read(): Promise<OsPolicyRead>;
  readSync(): OsPolicyRead;
}

interface Invocation {
  readonly command: string;
  readonly args: readonly string[];
}

const TOOL_TIMEOUT_MS = 15_000;
/** The output of a policy at the 1 MiB cap, with room for reg.exe's layout. */
const TOOL_MAX_OUTPUT = 8 * 1024 * 1024;

/**
 * reg.exe by its full path, not through PATH: a user could put a reg.exe of their own first
 * in PATH and answer "no policy". %SystemRoot% is an environment variable too, so it is only
 * the fallback for a Windows not installed in C:\Windows.
 */
export function regExePath(env: NodeJS.ProcessEnv, exists: (file: string) => boolean = existsSync): string {
  const standard = 'C:\\Windows\\System32\\reg.exe';
  if (exists(standard)) return standard;
  return path.win32.join(env.SystemRoot ?? env.windir ?? 'C:\\Windows', 'System32', 'reg.exe');
}

function runAsync(invocation: Invocation): Promise<ToolRun> {
  return new Promise((resolve) => {
    execFile(
      invocation.command,
      [...invocation.args],
      { encoding: 'buffer', timeout: TOOL_TIMEOUT_MS, maxBuffer: TOOL_MAX_OUTPUT, windowsHide: true },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        const failure = error !== null && code === null ? error.message : undefined;
        resolve({ code, stdout, stderr: stderr.toString('utf8'), ...(failure === undefined ? {} : { failure }) });
      },
    );
  });
}

function runSync(invocation: Invocation): ToolRun {
  const result = spawnSync(invocation.command, [...invocation.args], { timeout: TOOL_TIMEOUT_MS, maxBuffer: TOOL_MAX_OUTPUT, windowsHide: true });
  const stdout = result.stdout ?? Buffer.alloc(0);
  const stderr = (result.stderr ?? Buffer.alloc(0)).toString('utf8');
  if (result.error !== undefined) return { code: null, stdout, stderr, failure: result.error.message };
  if (result.status === null) return { code: null, stdout, stderr, failure: `stopped by ${String(result.signal)}` };
  return { code: result.status, stdout, stderr };
}

/**
 * The reader of this machine's OS source, or null. It runs only on the platform it reads:
 * `platform` is injectable for tests, and asking for Windows' registry on Linux must find
 * nothing rather than try to run reg.exe.
 */
export function systemOsPolicyReader(platform: NodeJS.Platform, env: NodeJS.ProcessEnv = process.env): OsPolicyReader | null {
  const source = osPolicySource(platform);
  if (source === null || platform !== process.platform) return null;
  if (source.kind === 'registry') {
    const invocation = { command: regExePath(env), args: ['query', REGISTRY_ROOT_SHORT, '/s'] };
    return { source, read: async () => interpretRegQuery(await runAsync(invocation)), readSync: () => interpretRegQuery(runSync(invocation)) };
  }
  const invocation = { command: '/usr/bin/plutil', args: ['-convert', 'json', '-o', '-', MANAGED_PREFERENCES_PATH] };
  const missing: OsPolicyRead = { kind: 'missing' };
  return {
    source,
    read: async () => (existsSync(MANAGED_PREFERENCES_PATH) ? interpretPlutil(await runAsync(invocation)) : missing),
    readSync: () => (existsSync(MANAGED_PREFERENCES_PATH) ? interpretPlutil(runSync(invocation)) : missing),
  };
}

/** A reader that returns what was recorded: for tests, and for showing a recorded listing. */
export function recordedOsPolicyReader(source: OsPolicySource, run: ToolRun | null): OsPolicyReader {
  const read = (): OsPolicyRead => (run === null ? { kind: 'missing' } : source.kind === 'registry' ? interpretRegQuery(run) : interpretPlutil(run));
  return { source, read: () => Promise.resolve(read()), readSync: read };
}
