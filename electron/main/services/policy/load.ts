import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_POLICY, validatePolicyText, type EffectivePolicy, type PolicyDocument, type PolicyValidation } from './schema.ts';
import { lockDown, resolvePolicy, tightenPolicy } from './merge.ts';
import { lockedSettings, type LockedSetting } from './settings-lock.ts';

export const POLICY_FILE_ENV = 'SOBERANA_POLICY_FILE';
export const POLICY_FILE_NAME = 'policy.json';
/** A policy is a few kilobytes; the cap keeps a wrong path from reading a disk image at start. */
export const MAX_POLICY_BYTES = 1024 * 1024;

/** Where IT installs the machine policy on each system. */
export function defaultPolicyPath(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  if (platform === 'win32') {
    const programData = nonEmpty(env.ProgramData) ?? nonEmpty(env.ALLUSERSPROFILE) ?? 'C:\\ProgramData';
    return path.win32.join(programData, 'Soberana', POLICY_FILE_NAME);
  }
  if (platform === 'darwin') return path.posix.join('/Library/Application Support/Soberana', POLICY_FILE_NAME);
  return path.posix.join('/etc/soberana', POLICY_FILE_NAME);
}

export function userPolicyPath(dataDir: string): string {
  return path.join(dataDir, POLICY_FILE_NAME);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

export interface LoadPolicyOptions {
  /** The machine file, used as is: for tests and `soberana policy show --policy-file`. */
  readonly machinePath?: string;
  /** The user's file, normally userPolicyPath(dataDir); absent or null: none. */
  readonly userPath?: string | null;
  readonly platform?: NodeJS.Platform;
  readonly env?: NodeJS.ProcessEnv;
}

export type PolicyStatus = 'none' | 'ok' | 'invalid';

export interface LoadedPolicy {
  readonly status: PolicyStatus;
  /** The files that were found (valid or not). */
  readonly source: { readonly machine: string | null; readonly user: string | null };
  readonly policy: EffectivePolicy;
  /** SHA-256 (hex) of the machine file's bytes, for the audit log; null when there is none. */
  readonly hash: string | null;
  /** Why the policy is invalid, one line each, starting with the file. Empty unless status is 'invalid'. */
  readonly problems: readonly string[];
  /** Things that did not make the policy invalid but were not applied: a user file's attempts to loosen it, an ignored override. */
  readonly notes: readonly string[];
  readonly locked: readonly LockedSetting[];
}

type FileRead = { readonly kind: 'missing' } | { readonly kind: 'read'; readonly bytes: Buffer } | { readonly kind: 'error'; readonly message: string };

async function readPolicyFile(file: string): Promise<FileRead> {
  try {
    const info = await stat(file);
    if (!info.isFile()) return { kind: 'error', message: 'is not a file' };
    if (info.size > MAX_POLICY_BYTES) return { kind: 'error', message: `is ${info.size} bytes; a policy file may be at most ${MAX_POLICY_BYTES}` };
    return { kind: 'read', bytes: await readFile(file) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    return { kind: 'error', message: `cannot be read: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export interface MachinePolicyLocation {
  readonly path: string;
  readonly notes: readonly string[];
}

/**
 * Which file is the machine policy. SOBERANA_POLICY_FILE stands in for the system location
 * only where nothing is installed there: anyone can set an environment variable, and it
 * must not be a way around the policy IT installed.
 */
export async function machinePolicyLocation(options: LoadPolicyOptions, exists: (file: string) => Promise<boolean> = fileExists): Promise<MachinePolicyLocation> {
  if (options.machinePath !== undefined) return { path: path.resolve(options.machinePath), notes: [] };
  const env = options.env ?? process.env;
  const system = defaultPolicyPath(options.platform ?? process.platform, env);
  const override = nonEmpty(env[POLICY_FILE_ENV]);
  if (override === undefined) return { path: system, notes: [] };
  if (await exists(system)) return { path: system, notes: [`${POLICY_FILE_ENV} is ignored because a machine policy is installed at ${system}.`] };
  return { path: path.resolve(override), notes: [] };
}

async function fileExists(file: string): Promise<boolean> {
  return (await readPolicyFile(file)).kind !== 'missing';
}

/** validatePolicyText for a file's bytes, as the loader reads them: size-capped, UTF-8 only. */
export function validatePolicyBytes(bytes: Uint8Array): PolicyValidation {
  if (bytes.length > MAX_POLICY_BYTES) return { ok: false, problems: [`the file is ${bytes.length} bytes; a policy file may be at most ${MAX_POLICY_BYTES}`] };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, problems: ['not UTF-8 text'] };
  }
  return validatePolicyText(text);
}

interface FileOutcome {
  readonly path: string | null;
  readonly bytes: Buffer | null;
  readonly doc: PolicyDocument | null;
  readonly problems: readonly string[];
}

async function loadFile(file: string | null): Promise<FileOutcome> {
  if (file === null) return { path: null, bytes: null, doc: null, problems: [] };
  const read = await readPolicyFile(file);
  if (read.kind === 'missing') return { path: null, bytes: null, doc: null, problems: [] };
  if (read.kind === 'error') return { path: file, bytes: null, doc: null, problems: [`${file}: ${read.message}`] };
  const result = validatePolicyBytes(read.bytes);
  return result.ok
    ? { path: file, bytes: read.bytes, doc: result.policy, problems: [] }
    : { path: file, bytes: read.bytes, doc: null, problems: result.problems.map((problem) => `${file}: ${problem}`) };
}

/**
 * The policy in force: the machine file over permissive defaults, tightened by the user's
 * file. Any file that exists but is broken makes the result 'invalid' and locks the app
 * down (see LOCKDOWN) until it is fixed; the valid parts still apply where they are stricter.
 */
export async function loadPolicy(options: LoadPolicyOptions = {}): Promise<LoadedPolicy> {
  const location = await machinePolicyLocation(options);
  return compose(await loadFile(location.path), await loadFile(options.userPath ?? null), location.notes);
}

/** A machine policy whose bytes were already read and checked, e.g. a bundle's policy after its signature was verified. */
export interface MachinePolicyBytes {
  readonly path: string;
  readonly bytes: Buffer;
}

/**
 * As loadPolicy, with the machine policy given as bytes. Parsing the very bytes that were
 * verified leaves no gap in which the file could be swapped between check and use.
 */
export async function loadPolicyFromBytes(machine: MachinePolicyBytes, userPath: string | null, notes: readonly string[] = []): Promise<LoadedPolicy> {
  const result = validatePolicyBytes(machine.bytes);
  const outcome: FileOutcome = result.ok
    ? { path: machine.path, bytes: machine.bytes, doc: result.policy, problems: [] }
    : { path: machine.path, bytes: machine.bytes, doc: null, problems: result.problems.map((problem) => `${machine.path}: ${problem}`) };
  return compose(outcome, await loadFile(userPath), notes);
}

function compose(machine: FileOutcome, user: FileOutcome, locationNotes: readonly string[]): LoadedPolicy {
  const notes = [...locationNotes];
  let policy = machine.doc === null ? DEFAULT_POLICY : resolvePolicy(machine.doc);
  if (user.doc !== null) {
    const tightened = tightenPolicy(policy, user.doc, 'user', user.path ?? 'user policy');
    policy = tightened.policy;
    notes.push(...tightened.ignored);
  }
  const problems = [...machine.problems, ...user.problems];
  if (problems.length > 0) policy = lockDown(policy);

  const found = machine.path !== null || user.path !== null;
  return {
    status: problems.length > 0 ? 'invalid' : found ? 'ok' : 'none',
    source: { machine: machine.path, user: user.path },
    policy,
    hash: machine.bytes === null ? null : createHash('sha256').update(machine.bytes).digest('hex'),
    problems,
    notes,
    locked: lockedSettings(policy),
  };
}

/**
 * The machine file alone, read synchronously: the Electron shell needs the data-folder rule
 * before the app is ready, and before any data folder (so any user file) is known. A file
 * that is missing gives the defaults; one that is broken or unreadable gives the lockdown.
 */
export function loadMachinePolicySync(options: Omit<LoadPolicyOptions, 'userPath'> = {}): EffectivePolicy {
  const env = options.env ?? process.env;
  const system = defaultPolicyPath(options.platform ?? process.platform, env);
  const override = nonEmpty(env[POLICY_FILE_ENV]);
  const read = (file: string): FileRead => {
    try {
      const info = statSync(file);
      if (!info.isFile() || info.size > MAX_POLICY_BYTES) return { kind: 'error', message: 'not a policy file' };
      return { kind: 'read', bytes: readFileSync(file) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'ENOENT' || code === 'ENOTDIR' ? { kind: 'missing' } : { kind: 'error', message: String(error) };
    }
  };
  let file = options.machinePath === undefined ? system : path.resolve(options.machinePath);
  let found = read(file);
  if (options.machinePath === undefined && found.kind === 'missing' && override !== undefined) {
    file = path.resolve(override);
    found = read(file);
  }
  if (found.kind === 'missing') return DEFAULT_POLICY;
  if (found.kind === 'error') return lockDown(DEFAULT_POLICY);
  const result = validatePolicyBytes(found.bytes);
  return result.ok ? resolvePolicy(result.policy) : lockDown(DEFAULT_POLICY);
}
