import { z } from 'zod';
import { API_SCOPES, ApiScope, MarkingCompartment, MarkingId, MarkingLevel, Settings, type MarkingScheme } from '../../../common/contract/index.ts';

/** Weakest first: merging keeps the later one of the two. */
export const PII_MODES = ['off', 'warn', 'redact', 'block'] as const;
export const PiiMode = z.enum(PII_MODES);
export type PiiMode = z.infer<typeof PiiMode>;

/** Weakest first, as PII_MODES. */
export const AUDIT_LEVELS = ['off', 'metadata', 'full'] as const;
export const AuditLevel = z.enum(AUDIT_LEVELS);
export type AuditLevel = z.infer<typeof AuditLevel>;

/** What a failed knowledge-pack check does, weakest first, as PII_MODES. */
export const PACK_CHECK_ACTIONS = ['warn', 'disable'] as const;
export const PackCheckAction = z.enum(PACK_CHECK_ACTIONS);
export type PackCheckAction = z.infer<typeof PackCheckAction>;

export const POLICY_VERSION = 1;

/** The inference backends a policy can allow; `cpu` is the fallback and is always allowed. */
export const RUNTIME_BACKENDS = ['cpu', 'cuda', 'vulkan', 'metal'] as const;
export const RuntimeBackendName = z.enum(RUNTIME_BACKENDS);

const PUBLIC_KEY_MESSAGE = 'must be a raw Ed25519 public key: 32 bytes in standard base64 (44 characters ending in "=")';

/** A key is compared by its bytes, so only the canonical spelling is accepted: two spellings of one key would count twice. */
function isRawEd25519Base64(text: string): boolean {
  if (!/^[A-Za-z0-9+/]{43}=$/.test(text)) return false;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === 32 && bytes.toString('base64') === text;
}

export const TrustedKey = z.strictObject({
  id: z.string().trim().min(1).max(100).optional(),
  name: z.string().trim().min(1).max(200),
  publicKey: z.string().trim().refine(isRawEd25519Base64, PUBLIC_KEY_MESSAGE),
});
export type TrustedKey = z.infer<typeof TrustedKey>;

/** Registries and tools print hashes in either case; one spelling keeps intersections exact. */
const Sha256Hex = z
  .string()
  .trim()
  .regex(/^[0-9a-fA-F]{64}$/, 'must be a SHA-256 in hex (64 characters)')
  .transform((hash) => hash.toLowerCase());

/** Longer than any retention or grace anyone means; a bigger number is a typo. */
const MAX_DAYS = 36_500;
const Days = z.number().int().min(1).max(MAX_DAYS);

/**
 * The classification scheme (issue #18). The first machine source defines it (levels are
 * required there); a later source or the user file may only tighten it: a lower `maxLevel`,
 * fewer `grantedCompartments`, more `separated` pairs, `allowLowering` off.
 */
export const PolicyMarkings = z
  .strictObject({
    /** Lowest first. */
    levels: z.array(MarkingLevel).min(2).max(16).optional(),
    compartments: z.array(MarkingCompartment).max(32).optional(),
    /** System high: nothing above it is retrieved or shown. */
    maxLevel: MarkingId.optional(),
    /** For new material that nothing else marks. */
    defaultLevel: MarkingId.optional(),
    /** Absent: every listed compartment. */
    grantedCompartments: z.array(MarkingId).max(32).optional(),
    separated: z
      .array(z.tuple([MarkingId, MarkingId]))
      .max(528)
      .optional(),
    /** Whether an administrator may lower a marking (default false under a machine policy). */
    allowLowering: z.boolean().optional(),
  })
  .superRefine((markings, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const duplicates = (ids: readonly string[], path: string) =>
      ids.forEach((id, index) => {
        const first = ids.indexOf(id);
        if (first !== index) issue([path, index, 'id'], `the same id as ${path}[${first}]`);
      });
    const levels = markings.levels?.map((level) => level.id);
    const compartments = markings.compartments?.map((compartment) => compartment.id);
    if (levels === undefined) {
      // Without levels the group can only tighten a scheme a machine source defines.
      if (markings.compartments !== undefined) issue(['compartments'], 'needs levels: only the file that lists the levels can list compartments');
      if (markings.defaultLevel !== undefined) issue(['defaultLevel'], 'needs levels: only the file that lists the levels can set the default level');
      return;
    }
    duplicates(levels, 'levels');
    if (compartments !== undefined) duplicates(compartments, 'compartments');
    const known = new Set(compartments ?? []);
    if (markings.maxLevel === undefined) issue(['maxLevel'], 'is required with levels: the highest level this machine may hold');
    else if (!levels.includes(markings.maxLevel)) issue(['maxLevel'], `${markings.maxLevel} is not one of the levels (${levels.join(', ')})`);
    if (markings.defaultLevel === undefined) issue(['defaultLevel'], 'is required with levels: the level of new material');
    else if (!levels.includes(markings.defaultLevel)) issue(['defaultLevel'], `${markings.defaultLevel} is not one of the levels (${levels.join(', ')})`);
    else if (markings.maxLevel !== undefined && levels.includes(markings.maxLevel) && levels.indexOf(markings.defaultLevel) > levels.indexOf(markings.maxLevel))
      issue(['defaultLevel'], `${markings.defaultLevel} is above maxLevel ${markings.maxLevel}: new material could never be used on this machine`);
    markings.grantedCompartments?.forEach((id, index) => {
      if (!known.has(id)) issue(['grantedCompartments', index], `${id} is not one of the compartments`);
    });
    markings.separated?.forEach(([a, b], index) => {
      if (a === b) issue(['separated', index], `a compartment cannot be kept apart from itself (${a})`);
      for (const id of [a, b]) if (!known.has(id)) issue(['separated', index], `${id} is not one of the compartments`);
    });
  });
export type PolicyMarkings = z.infer<typeof PolicyMarkings>;

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** The app's Settings with every field optional at every depth: the values a policy fixes. */
export type PolicySettings = DeepPartial<Settings>;

// Derived from Settings rather than written out, so a new setting can be locked without
// touching this file. Strict at every level, so a misspelt setting is an error, not a no-op.
function lockable(schema: z.ZodType): z.ZodType {
  if (!(schema instanceof z.ZodObject)) return schema;
  const shape: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) shape[key] = lockable(field).optional();
  return z.strictObject(shape);
}
export const PolicySettings = lockable(Settings) as unknown as z.ZodType<PolicySettings>;

/**
 * The policy file. Every group and every field in it is optional: what a file leaves out
 * keeps its default (machine file) or the machine's value (user file). Unknown keys are
 * errors at every level, so a typo cannot silently leave a rule unenforced.
 */
export const PolicyDocument = z
  .strictObject({
    /** For editors; ignored. */
    $schema: z.string().optional(),
    version: z.literal(POLICY_VERSION, { error: `must be ${POLICY_VERSION}: the only policy version this Soberana understands` }),
    description: z.string().trim().min(1).max(500).optional(),
    contact: z.string().trim().min(1).max(200).optional(),
    bundles: z
      .strictObject({
        trustedKeys: z.array(TrustedKey).max(64).nullable().optional(),
        signatureThreshold: z.number().int().min(1).max(64).optional(),
        allowPolicyUpdates: z.boolean().optional(),
        expiryGraceDays: z.number().int().min(0).max(MAX_DAYS).optional(),
      })
      .optional(),
    models: z
      .strictObject({
        allowedHashes: z.array(Sha256Hex).max(100_000).nullable().optional(),
        allowUnsigned: z.boolean().optional(),
      })
      .optional(),
    documents: z.strictObject({ allowIngestion: z.boolean().optional() }).optional(),
    pii: z.strictObject({ ingestion: PiiMode.optional(), prompts: PiiMode.optional() }).optional(),
    audit: z.strictObject({ level: AuditLevel.optional() }).optional(),
    retention: z
      .strictObject({
        conversationDays: Days.nullable().optional(),
        auditDays: Days.nullable().optional(),
      })
      .optional(),
    export: z.strictObject({ allowed: z.boolean().optional() }).optional(),
    storage: z.strictObject({ allowDataDirOverride: z.boolean().optional() }).optional(),
    runtime: z.strictObject({ allowedBackends: z.array(RuntimeBackendName).max(RUNTIME_BACKENDS.length).nullable().optional() }).optional(),
    api: z.strictObject({ allowed: z.boolean().optional(), scopes: z.array(ApiScope).max(API_SCOPES.length).nullable().optional() }).optional(),
    packs: z.strictObject({ onCheckFailure: PackCheckAction.optional() }).optional(),
    markings: PolicyMarkings.optional(),
    settings: PolicySettings.optional(),
  })
  .superRefine((doc, ctx) => {
    const keys = doc.bundles?.trustedKeys;
    if (keys === undefined || keys === null) return;
    const seenKey = new Map<string, number>();
    const seenId = new Map<string, number>();
    keys.forEach((key, index) => {
      const earlier = seenKey.get(key.publicKey);
      // A repeated key would let one signer meet a threshold of two.
      if (earlier !== undefined)
        ctx.addIssue({ code: 'custom', path: ['bundles', 'trustedKeys', index, 'publicKey'], message: `the same key as trustedKeys[${earlier}]` });
      else seenKey.set(key.publicKey, index);
      if (key.id === undefined) return;
      const earlierId = seenId.get(key.id);
      if (earlierId !== undefined)
        ctx.addIssue({ code: 'custom', path: ['bundles', 'trustedKeys', index, 'id'], message: `the same id as trustedKeys[${earlierId}]` });
      else seenId.set(key.id, index);
    });
    const threshold = doc.bundles?.signatureThreshold;
    if (threshold !== undefined && keys.length > 0 && threshold > keys.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['bundles', 'signatureThreshold'],
        message: `asks for ${threshold} signatures but only ${keys.length} trusted key${keys.length === 1 ? ' is' : 's are'} listed, so no bundle could ever be accepted`,
      });
    }
  });
export type PolicyDocument = z.infer<typeof PolicyDocument>;

export type PolicyOrigin = 'machine' | 'user';

/** The policy in force: every rule has a value. Plain JSON, so it can cross IPC and be printed. */
export interface EffectivePolicy {
  readonly version: typeof POLICY_VERSION;
  /** From the machine file only: a user file cannot speak for IT. */
  readonly description: string | null;
  readonly contact: string | null;
  readonly bundles: {
    /** null: the policy does not restrict which keys may sign; [] : no bundle is trusted. */
    readonly trustedKeys: readonly TrustedKey[] | null;
    readonly signatureThreshold: number;
    readonly allowPolicyUpdates: boolean;
    readonly expiryGraceDays: number;
  };
  readonly models: {
    /** null: any model; otherwise only files with one of these SHA-256s (lower-case hex). */
    readonly allowedHashes: readonly string[] | null;
    readonly allowUnsigned: boolean;
  };
  readonly documents: { readonly allowIngestion: boolean };
  readonly pii: { readonly ingestion: PiiMode; readonly prompts: PiiMode };
  readonly audit: { readonly level: AuditLevel };
  /** Days; null keeps records until the user deletes them. */
  readonly retention: { readonly conversationDays: number | null; readonly auditDays: number | null };
  readonly export: { readonly allowed: boolean };
  /** Read from the machine file only, before the data folder is known (see data-dir.ts). */
  readonly storage: { readonly allowDataDirOverride: boolean };
  /** null: any backend, built in or from a runtime pack; otherwise only these (the CPU always remains as the fallback). */
  readonly runtime: { readonly allowedBackends: readonly (typeof RUNTIME_BACKENDS)[number][] | null };
  /** The local API: whether it may listen at all, and the scopes its tokens may use (null: all). */
  readonly api: { readonly allowed: boolean; readonly scopes: readonly ApiScope[] | null };
  /** Knowledge packs' acceptance checks: a failure warns, or keeps the collection out of retrieval until a rerun passes. */
  readonly packs: { readonly onCheckFailure: PackCheckAction };
  /** The classification scheme; null: the policy defines none, and markings are off (no banner, no filtering). */
  readonly markings: MarkingScheme | null;
  readonly settings: PolicySettings;
  /** Which file fixed each locked setting, by dotted path, so the UI can say who to ask. */
  readonly settingOrigins: Readonly<Record<string, PolicyOrigin>>;
}

/**
 * No policy file: nothing is restricted (development mode). The exceptions restrict nothing
 * the user can do and close doors a program running as the user could open: auditing
 * metadata (a machine file may still turn it off), no policy from bundles, no grace for an
 * expired bundle, and no data folder chosen by an environment variable in the packaged app.
 */
export const DEFAULT_POLICY: EffectivePolicy = {
  version: POLICY_VERSION,
  description: null,
  contact: null,
  bundles: { trustedKeys: null, signatureThreshold: 1, allowPolicyUpdates: false, expiryGraceDays: 0 },
  models: { allowedHashes: null, allowUnsigned: true },
  documents: { allowIngestion: true },
  pii: { ingestion: 'off', prompts: 'off' },
  audit: { level: 'metadata' },
  retention: { conversationDays: null, auditDays: null },
  export: { allowed: true },
  storage: { allowDataDirOverride: false },
  runtime: { allowedBackends: null },
  api: { allowed: true, scopes: null },
  packs: { onCheckFailure: 'warn' },
  markings: null,
  settings: {},
  settingOrigins: {},
};

/**
 * What a broken policy file is merged with: the tightest value of every rule, except
 * retention, which is left alone so that a typo can never delete anyone's conversations or
 * audit trail, and the model allow-list, so models already in the library still load
 * (nothing new can be imported: unsigned imports are off and no key is trusted).
 */
export const LOCKDOWN: PolicyDocument = {
  version: POLICY_VERSION,
  bundles: { trustedKeys: [], allowPolicyUpdates: false, expiryGraceDays: 0 },
  models: { allowUnsigned: false },
  documents: { allowIngestion: false },
  pii: { ingestion: 'block', prompts: 'block' },
  audit: { level: 'full' },
  export: { allowed: false },
  storage: { allowDataDirOverride: false },
  api: { allowed: false },
  packs: { onCheckFailure: 'disable' },
};

export type PolicyValidation =
  { readonly ok: true; readonly policy: PolicyDocument; readonly problems: readonly [] } | { readonly ok: false; readonly problems: readonly string[] };

/** Parses and checks a policy file's text; each problem names where it is ("models.allowedHashes[2]: …"). */
export function validatePolicyText(text: string): PolicyValidation {
  // Notepad and some Windows tools write a byte-order mark, which JSON.parse rejects.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') return { ok: false, problems: ['the file is empty; a policy needs at least {"version": 1}'] };
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (error) {
    return { ok: false, problems: [`not valid JSON: ${error instanceof Error ? error.message : String(error)}`] };
  }
  const parsed = PolicyDocument.safeParse(raw);
  if (parsed.success) return { ok: true, policy: parsed.data, problems: [] };
  return { ok: false, problems: parsed.error.issues.flatMap(describeIssue) };
}

export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' ? String(part) : `.${String(part)}`;
  }
  return text === '' ? '(top level)' : text;
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code !== 'unrecognized_keys') return [`${formatPath(issue.path)}: ${issue.message}`];
  const known = knownKeysAt(issue.path);
  return issue.keys.map((key) => {
    const guess = closest(key, known);
    const hint = guess === null ? (known.length > 0 ? ` (known here: ${known.join(', ')})` : '') : ` (did you mean "${guess}"?)`;
    return `${formatPath([...issue.path, key])}: unknown key${hint}`;
  });
}

/** The keys the schema accepts at a path of the document, for "did you mean". */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType = PolicyDocument;
  for (const part of [...path, null]) {
    for (;;) {
      if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) schema = schema.unwrap() as z.ZodType;
      else break;
    }
    if (part === null) break;
    if (schema instanceof z.ZodArray && typeof part === 'number') schema = schema.element as z.ZodType;
    else if (schema instanceof z.ZodObject && typeof part === 'string' && Object.hasOwn(schema.shape, part))
      schema = (schema.shape as Record<string, z.ZodType>)[part]!;
    else return [];
  }
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = candidate.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
