import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_POLICY, validatePolicyText, type EffectivePolicy, type PolicyDocument, type PolicyValidation } from './schema.ts';
import { lockDown, resolvePolicy, tightenPolicy } from './merge.ts';
import { lockedSettings, type LockedSetting } from './settings-lock.ts';
import { systemOsPolicyReader, type OsPolicyKind, type OsPolicyRead, type OsPolicyReader } from './os-source.ts';

export const POLICY_FILE_ENV = 'SOBERANA_POLICY_FILE';
export const POLICY_FILE_NAME = 'policy.json';
/** A policy is a few kilobytes; the cap keeps a wrong path from reading a disk image at start. */
export const MAX_POLICY_BYTES = 1024 * 1024;

/** Where IT installs the machine policy on each system. */
export function defaultPolicyPath(platform: NodeJS.Platform = process.platform, _env: NodeJS.ProcessEnv = process.env): string {
  // Fixed, never from %ProgramData%: any program the user runs can set that variable and
  // point the app at a "machine" policy of its own. Where ProgramData lives elsewhere, IT
  // uses the registry source (Group Policy), which no variable redirects.
  if (platform === 'win32') return path.win32.join('C:\\ProgramData', 'Soberana', POLICY_FILE_NAME);
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
  /**
   * The OS's managed source (registry, managed preferences). By default this machine's, read
   * only on the platform it belongs to; null: none; tests give recorded output.
   */
  readonly osPolicy?: OsPolicyReader | null;
}

export type PolicyStatus = 'none' | 'ok' | 'invalid';

export type PolicySourceKind = OsPolicyKind | 'machine-file' | 'bundle' | 'user-file';

/** One place a policy was found, for `policy show` and Settings. */
export interface PolicySourceInfo {
  readonly kind: PolicySourceKind;
  /** The registry key or the file. */
  readonly location: string;
  readonly status: 'ok' | 'invalid';
  /** SHA-256 of what was read (the file's bytes, the tool's output); null when nothing could be read. */
  readonly sha256: string | null;
  /** 'sets': the first managed source found, over the defaults; 'tightens': every later one, which can only tighten it. */
  readonly role: 'sets' | 'tightens';
}

export interface LoadedPolicy {
  readonly status: PolicyStatus;
  /**
   * machine: the managed source that sets the policy (the registry key, the managed
   * preferences or the machine file, in that order of precedence); user: the user's file.
   */
  readonly source: { readonly machine: string | null; readonly user: string | null };
  /** Every source found, in order of precedence (see docs/policy.md). */
  readonly sources: readonly PolicySourceInfo[];
  readonly policy: EffectivePolicy;
  /**
   * SHA-256 (hex) of the managed policy, for the audit log: of the machine file's bytes when
   * it is the only managed source; with several, of their kinds and hashes, one per line
   * ("registry <sha256>\nmachine-file <sha256>"). null when there is none.
   */
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
export async function machinePolicyLocation(
  options: LoadPolicyOptions,
  exists: (file: string) => Promise<boolean> = fileExists,
): Promise<MachinePolicyLocation> {
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
  readonly kind: PolicySourceKind;
  readonly path: string | null;
  readonly bytes: Buffer | null;
  readonly doc: PolicyDocument | null;
  readonly problems: readonly string[];
}

async function loadFile(file: string | null, kind: PolicySourceKind): Promise<FileOutcome> {
  return fileOutcome(file, kind, file === null ? { kind: 'missing' } : await readPolicyFile(file));
}

function fileOutcome(file: string | null, kind: PolicySourceKind, read: FileRead): FileOutcome {
  if (file === null || read.kind === 'missing') return { kind, path: null, bytes: null, doc: null, problems: [] };
  if (read.kind === 'error') return { kind, path: file, bytes: null, doc: null, problems: [`${file}: ${read.message}`] };
  const result = validatePolicyBytes(read.bytes);
  return result.ok
    ? { kind, path: file, bytes: read.bytes, doc: result.policy, problems: [] }
    : { kind, path: file, bytes: read.bytes, doc: null, problems: result.problems.map((problem) => `${file}: ${problem}`) };
}

function osReader(options: LoadPolicyOptions): OsPolicyReader | null {
  return options.osPolicy === undefined ? systemOsPolicyReader(options.platform ?? process.platform, options.env ?? process.env) : options.osPolicy;
}

/** What the OS source held, checked by the same schema as a file, so its problems read the same. */
function osOutcome(reader: OsPolicyReader | null, sync: boolean): FileOutcome | Promise<FileOutcome> {
  if (reader === null) return { kind: 'machine-file', path: null, bytes: null, doc: null, problems: [] };
  const { kind, location } = reader.source;
  const outcome = (read: OsPolicyRead): FileOutcome => {
    if (read.kind === 'missing') return { kind, path: null, bytes: null, doc: null, problems: [] };
    const result: PolicyValidation = read.raw === null ? { ok: false, problems: read.problems } : validatePolicyText(JSON.stringify(read.raw));
    return result.ok
      ? { kind, path: location, bytes: read.bytes, doc: result.policy, problems: [] }
      : { kind, path: location, bytes: read.bytes, doc: null, problems: result.problems.map((problem) => `${location}: ${problem}`) };
  };
  return sync ? outcome(reader.readSync()) : reader.read().then(outcome);
}

/**
 * The policy in force: the machine file over permissive defaults, tightened by the user's
 * file. Any file that exists but is broken makes the result 'invalid' and locks the app
 * down (see LOCKDOWN) until it is fixed; the valid parts still apply where they are stricter.
 */
export async function loadPolicy(options: LoadPolicyOptions = {}): Promise<LoadedPolicy> {
  const location = await machinePolicyLocation(options);
  const os = await osOutcome(osReader(options), false);
  return compose([os, await loadFile(location.path, 'machine-file')], await loadFile(options.userPath ?? null, 'user-file'), location.notes);
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
export async function loadPolicyFromBytes(
  machine: MachinePolicyBytes,
  userPath: string | null,
  notes: readonly string[] = [],
  options: Pick<LoadPolicyOptions, 'osPolicy' | 'platform' | 'env'> = {},
): Promise<LoadedPolicy> {
  const os = await osOutcome(osReader(options), false);
  return compose([os, fileOutcome(machine.path, 'bundle', { kind: 'read', bytes: machine.bytes })], await loadFile(userPath, 'user-file'), notes);
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/**
 * The managed sources in order of precedence: the first one found sets the policy over the
 * defaults, every later one (and then the user's file) can only tighten it. So no source can
 * loosen another: a GPO cannot be undone by a file in ProgramData, nor the other way round.
 */
function compose(managedSources: readonly FileOutcome[], user: FileOutcome, locationNotes: readonly string[]): LoadedPolicy {
  const notes = [...locationNotes];
  const managed = managedSources.filter((source) => source.path !== null);
  let policy: EffectivePolicy = DEFAULT_POLICY;
  let set = false;
  for (const source of managed) {
    if (source.doc === null) continue;
    if (!set) {
      policy = resolvePolicy(source.doc);
      set = true;
      continue;
    }
    const tightened = tightenPolicy(policy, source.doc, 'machine', source.path ?? source.kind);
    // Who to ask is not a rule: a later source may say it where the first one did not.
    policy = { ...tightened.policy, description: policy.description ?? source.doc.description ?? null, contact: policy.contact ?? source.doc.contact ?? null };
    notes.push(...tightened.ignored);
  }
  if (user.doc !== null) {
    const tightened = tightenPolicy(policy, user.doc, 'user', user.path ?? 'user policy');
    policy = tightened.policy;
    notes.push(...tightened.ignored);
  }
  const problems = [...managed.flatMap((source) => source.problems), ...user.problems];
  if (problems.length > 0) policy = lockDown(policy);

  const found = [...managed, ...(user.path === null ? [] : [user])];
  const sources = found.map((source, index): PolicySourceInfo => ({
    kind: source.kind,
    location: source.path ?? source.kind,
    status: source.problems.length > 0 ? 'invalid' : 'ok',
    sha256: source.bytes === null ? null : sha256(source.bytes),
    role: index === 0 && source.kind !== 'user-file' ? 'sets' : 'tightens',
  }));
  const hashed = sources.filter((source) => source.kind !== 'user-file' && source.sha256 !== null);
  const hash =
    hashed.length === 0
      ? null
      : hashed.length === 1
        ? hashed[0]!.sha256
        : sha256(Buffer.from(hashed.map((source) => `${source.kind} ${source.sha256 ?? ''}`).join('\n')));
  return {
    status: problems.length > 0 ? 'invalid' : found.length > 0 ? 'ok' : 'none',
    source: { machine: managed[0]?.path ?? null, user: user.path },
    sources,
    policy,
    hash,
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
  const os = osOutcome(osReader(options), true) as FileOutcome;
  return compose([os, fileOutcome(file, 'machine-file', found)], fileOutcome(null, 'user-file', { kind: 'missing' }), []).policy;
}
