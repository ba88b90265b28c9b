import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { policyMode, type PolicyMode } from '../main/services/governance.ts';
import {
  POLICY_FILE_ENV,
  resolvePolicyInForce,
  userPolicyPath,
  validatePolicyBytes,
  type EffectivePolicy,
  type LoadedPolicy,
  type PolicySourceInfo,
} from '../main/services/policy/index.ts';
import type { Command } from './command.ts';
import { EXIT } from './exit-codes.ts';

export const policyValidate: Command = {
  summary: 'Check a policy file before installing it',
  help: `Usage: soberana policy validate <file> [--json]

Checks a policy file against the schema (docs/policy.md) and prints each problem with
where it is, e.g. "models.allowedHashes[2]: must be a SHA-256 in hex". Unknown keys are
errors, so a misspelt rule cannot go unnoticed.

Exit codes: 0 the file is valid, 1 it is not, 2 bad usage, 3 internal error.`,
  positionals: { min: 1, max: 1 },
  async run({ positionals, output }) {
    const file = path.resolve(positionals[0]!);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (error) {
      const problem = `cannot be read: ${error instanceof Error ? error.message : String(error)}`;
      if (output.json) output.out(JSON.stringify({ file, ok: false, sha256: null, problems: [problem] }, null, 2));
      else output.err(`invalid  ${file}\n  ${problem}`);
      return EXIT.problem;
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const result = validatePolicyBytes(bytes);
    if (output.json) {
      output.out(JSON.stringify({ file, ok: result.ok, sha256, problems: result.problems }, null, 2));
    } else if (result.ok) {
      output.out(`ok  ${file}\n  sha256  ${sha256}`);
    } else {
      output.err([`invalid  ${file}`, ...result.problems.map((problem) => `  ${problem}`)].join('\n'));
    }
    return result.ok ? EXIT.ok : EXIT.problem;
  },
};

export const policyShow: Command = {
  summary: 'Show the policy in force, where it comes from and its hash',
  help: `Usage: soberana policy show [--policy-file FILE] [--data-dir DIR] [--json]

Loads the policy as the app does at start, from every source, in this order: the OS's
managed source (Windows: the registry key HKLM\\SOFTWARE\\Policies\\Soberana set by Group
Policy; macOS: the managed preferences an MDM profile installs), the machine policy file
(the system location, or $${POLICY_FILE_ENV} where none is installed there; a policy kept
from a signed bundle in its place if it verifies against the machine policy's keys), and
the user's <data-dir>/policy.json. The first source found sets the policy; each later one
can only tighten it. Lists each source with its role, and prints the rules in force. A broken file locks the app down; its problems are listed.
Without a machine policy the app runs in development mode, and this says so.

Options:
  --policy-file FILE  Use FILE as the machine policy

Exit codes: 0 a valid policy or none, 1 a policy file is invalid, 2 bad usage, 3 internal error.`,
  options: { 'policy-file': { type: 'string' } },
  async run({ values, dataDir, output }) {
    const machinePath = values['policy-file'];
    // Read only: the hash is not recorded as applied (that is the app's start, with its audit record).
    const { loaded } = await resolvePolicyInForce({ dataDir, ...(typeof machinePath === 'string' ? { machinePath } : {}), userPath: userPolicyPath(dataDir) });
    const mode = policyMode(loaded);
    output.out(output.json ? JSON.stringify({ ...loaded, mode }, null, 2) : describe(loaded, mode));
    return loaded.status === 'invalid' ? EXIT.problem : EXIT.ok;
  },
};

const STATUS_LINE: Record<LoadedPolicy['status'], string> = {
  none: 'none: no policy file, nothing is restricted',
  ok: 'ok',
  invalid: 'INVALID: the app is locked down until the problems below are fixed',
};

const SOURCE_KIND: Record<PolicySourceInfo['kind'], string> = {
  registry: 'registry (GPO)',
  'managed-preferences': 'managed preferences',
  'machine-file': 'machine file',
  bundle: 'bundle policy',
  'user-file': 'user file',
};

const MODE_LINE: Record<PolicyMode, string> = {
  managed: 'managed: a machine policy is in force',
  development: 'DEVELOPMENT: no machine policy is installed, so the user decides every rule and the local trust store is used',
};

function describe(loaded: LoadedPolicy, mode: PolicyMode): string {
  const lines = [`Policy  ${STATUS_LINE[loaded.status]}`, `  mode     ${MODE_LINE[mode]}`, `  machine  ${loaded.source.machine ?? '(none)'}`];
  if (loaded.hash !== null) lines.push(`  sha256   ${loaded.hash}`);
  lines.push(`  user     ${loaded.source.user ?? '(none)'}`);
  lines.push('', 'Sources (the first sets the policy, each later one can only tighten it)');
  if (loaded.sources.length === 0) lines.push('  (none)');
  for (const source of loaded.sources) {
    lines.push(
      `  ${source.role.padEnd(8)}  ${SOURCE_KIND[source.kind].padEnd(19)}  ${source.status === 'ok' ? 'ok     ' : 'INVALID'}  ${source.location}${source.sha256 === null ? '' : `  sha256 ${source.sha256}`}`,
    );
  }
  const { description, contact } = loaded.policy;
  if (description !== null) lines.push(`  about    ${description}`);
  if (contact !== null) lines.push(`  contact  ${contact}`);
  if (loaded.problems.length > 0) lines.push('', 'Problems', ...loaded.problems.map((problem) => `  ${problem}`));
  if (loaded.notes.length > 0) lines.push('', 'Notes', ...loaded.notes.map((note) => `  ${note}`));
  const rules = ruleLines(loaded.policy);
  const width = Math.max(...rules.map(([name]) => name.length));
  lines.push('', 'Rules', ...rules.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`));
  lines.push('', 'Locked settings');
  if (loaded.locked.length === 0) lines.push('  (none)');
  const lockWidth = Math.max(0, ...loaded.locked.map((lock) => lock.path.length));
  for (const lock of loaded.locked) lines.push(`  ${lock.path.padEnd(lockWidth)}  ${JSON.stringify(lock.value)}  ${lock.reason}`);
  return lines.join('\n');
}

function ruleLines(policy: EffectivePolicy): [string, string][] {
  const list = (items: readonly string[] | null, any: string) => (items === null ? any : items.length === 0 ? 'none' : items.join(', '));
  const days = (value: number | null) => (value === null ? 'keep' : `${value} days`);
  return [
    ['bundles.trustedKeys', list(policy.bundles.trustedKeys?.map((key) => `${key.name} (${key.publicKey})`) ?? null, 'not restricted')],
    ['bundles.signatureThreshold', String(policy.bundles.signatureThreshold)],
    ['bundles.allowPolicyUpdates', String(policy.bundles.allowPolicyUpdates)],
    ['bundles.expiryGraceDays', String(policy.bundles.expiryGraceDays)],
    ['models.allowedHashes', list(policy.models.allowedHashes, 'any model')],
    ['models.allowUnsigned', String(policy.models.allowUnsigned)],
    ['documents.allowIngestion', String(policy.documents.allowIngestion)],
    ['pii.ingestion', policy.pii.ingestion],
    ['pii.prompts', policy.pii.prompts],
    ['audit.level', policy.audit.level],
    ['retention.conversationDays', days(policy.retention.conversationDays)],
    ['retention.auditDays', days(policy.retention.auditDays)],
    ['export.allowed', String(policy.export.allowed)],
    ['storage.allowDataDirOverride', String(policy.storage.allowDataDirOverride)],
    ['packs.onCheckFailure', policy.packs.onCheckFailure],
    ...markingLines(policy),
  ];
}

/** The classification scheme (docs/markings.md): off, or its levels, system high and compartments. */
function markingLines(policy: EffectivePolicy): [string, string][] {
  const scheme = policy.markings;
  if (scheme === null) return [['markings', 'off (the policy defines no classification scheme)']];
  const ids = (items: readonly { id: string }[]) => items.map((item) => item.id);
  return [
    ['markings.levels', ids(scheme.levels).join(' < ')],
    ['markings.maxLevel', scheme.maxLevel],
    ['markings.defaultLevel', scheme.defaultLevel],
    ['markings.compartments', ids(scheme.compartments).join(', ') || 'none'],
    ['markings.grantedCompartments', scheme.grantedCompartments.join(', ') || 'none'],
    ['markings.separated', scheme.separated.map(([a, b]) => `${a} / ${b}`).join(', ') || 'none'],
    ['markings.allowLowering', String(scheme.allowLowering)],
  ];
}
