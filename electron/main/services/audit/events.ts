import { z } from 'zod';

// What the audit log may hold. Every stored record's {type, data} must parse with
// `auditEventSchema`: the objects are strict, so a field nobody reviewed (a PII value, a
// prompt at the metadata level) cannot slip into the log, and verify rejects a record that
// does not parse even when its hash is intact.

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256 digest');
const id = z.string().min(1).max(200);
const name = z.string().min(1).max(500);
const version = z.string().min(1).max(64);
const count = z.number().int().min(0);
/** A category name, never a value: letters, digits and underscores, starting with a letter. */
const category = z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'a lowercase category name such as "email"');
/** A service action's name, such as `chat.delete` or `models.import`. */
const action = z.string().regex(/^[a-z][a-zA-Z0-9]{0,39}(\.[a-z][a-zA-Z0-9]{0,39}){0,2}$/, 'an action name such as "chat.delete"');

const event = <T extends string, D extends z.ZodType>(type: T, data: D) => z.strictObject({ type: z.literal(type), data });

/** A classification marking as text, language-independent: "RESTRICTED // FINANCE" (common/markings.ts markingText). */
const marking = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]{0,31}( \/\/ [A-Z][A-Z0-9_]{0,31}( \/ [A-Z][A-Z0-9_]{0,31}){0,31})?$/, 'a marking such as "RESTRICTED // FINANCE"');

const chatTurnCommon = {
  conversationId: id,
  modelSha256: sha256,
  /** Collection ids the answer searched. */
  collections: z.array(id).max(1000),
  /** Chunk ids of the passages the model was given. */
  chunkIds: z.array(id).max(10_000),
  /** The answer's marking, when the policy defines markings. */
  marking: marking.optional(),
};

const apiRequestCommon = {
  /** The token's name (never the token), or null when the request carried none that was valid. */
  token: z.string().min(1).max(100).nullable(),
  /** e.g. `POST /v1/chat/completions`. */
  endpoint: z.string().min(1).max(200),
  status: z.number().int().min(100).max(599),
  modelSha256: sha256.nullable(),
  collections: z.array(id).max(1000),
  requestBytes: count,
  responseBytes: count,
  promptTokens: count,
  completionTokens: count,
  /** The highest marking of the passages served, when the policy defines markings and any were. */
  marking: marking.optional(),
};

/** The local API: it started or stopped listening (addresses such as `http://127.0.0.1:11435`). */
const apiLifecycle = z.strictObject({ addresses: z.array(z.string().min(1).max(200)).max(8), port: count });

/** The events that are the same whether given to `record()` or read back from the log. */
const sharedEvents = [
  event('app.start', z.strictObject({ version })),
  event('app.stop', z.strictObject({ version })),
  // Mirrors LoadedPolicy: with no machine policy there is no hash, and that fact is itself worth recording.
  event(
    'policy.loaded',
    z.strictObject({
      status: z.enum(['none', 'ok', 'invalid']),
      sha256: sha256.nullable(),
      machineFile: z.string().min(1).max(1000).nullable(),
      userFile: z.string().min(1).max(1000).nullable(),
    }),
  ),
  event('bundle.verified', z.strictObject({ name, sha256 })),
  event('bundle.installed', z.strictObject({ name, sha256 })),
  event('bundle.rejected', z.strictObject({ name, sha256: sha256.nullable(), reason: z.string().min(1).max(2000) })),
  event('model.imported', z.strictObject({ modelId: id, name, sha256 })),
  event('model.loaded', z.strictObject({ modelId: id, sha256 })),
  event('model.unloaded', z.strictObject({ modelId: id, sha256 })),
  event('document.ingested', z.strictObject({ documentId: id, collectionId: id, name, sha256 })),
  event('document.deleted', z.strictObject({ documentId: id, collectionId: id, sha256 })),
  event(
    'pii.found',
    z.strictObject({
      kind: category,
      /** The PII policy mode that applied (services/pii). */
      action: z.enum(['warn', 'redact', 'block']),
      /** Where it was found: a PII policy context such as `prompts` or `ingestion`. */
      context: category,
      count: z.number().int().min(1),
    }),
  ),
  event('export', z.strictObject({ what: category, format: category, items: count })),
  event('setting.changed', z.strictObject({ key: z.string().min(1).max(200), value: z.json() })),
  // A gate refused an action: which action, and the rule's words (never the user's data).
  event('action.refused', z.strictObject({ action, reason: z.string().min(1).max(2000) })),
  // A data change that has no event of its own (a rename, a delete, a preset saved…).
  event('change', z.strictObject({ action, target: z.string().min(1).max(500).nullable() })),
  // The network guard stopped a connection or a name lookup before anything left the machine.
  event('egress.blocked', z.strictObject({ process: category, kind: category, target: z.string().min(1).max(500) })),
  // The policy in force is not the one of the previous start.
  event('policy.changed', z.strictObject({ from: sha256.nullable(), to: sha256.nullable() })),
  // A policy kept from a bundle did not count: unsigned, badly signed, tampered, or no machine key vouches for it.
  event('policy.bundle_ignored', z.strictObject({ reason: z.string().min(1).max(2000) })),
  // The app was started on another data folder; written to the old folder's log.
  event('data_dir.changed', z.strictObject({ from: z.string().min(1).max(4096), to: z.string().min(1).max(4096) })),
  // The installation's signing key for answer dossiers was made (services/dossier/): its public half, on the record.
  event(
    'installation.key',
    z.strictObject({
      /** The raw 32-byte Ed25519 public key, base64. */
      publicKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'a base64 Ed25519 public key'),
      /** First 16 hex characters of SHA-256 over the raw public key. */
      keyId: z.string().regex(/^[0-9a-f]{16}$/),
    }),
  ),
  // A knowledge pack's acceptance checks ran (after install, a rolled-back install, an embedding change, or asked for).
  event(
    'pack.checked',
    z.strictObject({
      /** e.g. "field-kit v3"; null for a collection that came from no bundle. */
      bundle: z.string().min(1).max(200).nullable(),
      collectionId: id,
      trigger: z.enum(['install', 'rollback', 'embedding', 'manual']),
      total: count,
      passed: count,
      failed: count,
    }),
  ),
  // A collection's or a document's classification marking was set; `lowered` when it went down (an administrator's action).
  event(
    'marking.changed',
    z.strictObject({
      target: z.enum(['collection', 'document']),
      id,
      /** null: it had none (the scheme's default level). */
      from: marking.nullable(),
      to: marking,
      lowered: z.boolean(),
    }),
  ),
  event('api.started', apiLifecycle),
  event('api.stopped', apiLifecycle),
  // The local API refused a request before serving it: no token, a wrong, revoked or expired one, a missing scope, a foreign Host or Origin, a limit.
  event(
    'api.refused',
    z.strictObject({
      token: z.string().min(1).max(100).nullable(),
      endpoint: z.string().min(1).max(200),
      status: z.number().int().min(100).max(599),
      reason: z.string().min(1).max(2000),
      /** A summary record: this many refusals in the same minute were not recorded one by one (api/refusal-log.ts). */
      omitted: count.optional(),
    }),
  ),
  event(
    'retention.purge',
    z.strictObject({
      /** `audit` is the log's own purge (`throughSeq` is then the new chain base); only the log writes it. */
      scope: category,
      olderThanDays: z.number().min(0),
      removed: count,
      throughSeq: count.optional(),
    }),
  ),
] as const;

/** A record's `type` and `data` as stored. A chat turn holds hashes, and the text only at the `full` level. */
export const auditEventSchema = z.discriminatedUnion('type', [
  ...sharedEvents,
  event(
    'chat.turn',
    z.strictObject({
      ...chatTurnCommon,
      promptSha256: sha256,
      responseSha256: sha256,
      prompt: z.string().optional(),
      response: z.string().optional(),
    }),
  ),
  // One request served by the local API; like a chat turn, its text is kept only at the `full` level.
  event(
    'api.request',
    z.strictObject({
      ...apiRequestCommon,
      promptSha256: sha256.nullable(),
      responseSha256: sha256.nullable(),
      prompt: z.string().optional(),
      response: z.string().optional(),
    }),
  ),
]);
export type AuditEvent = z.infer<typeof auditEventSchema>;

/** What the app passes to `record()`: a chat turn brings its text, which the log hashes (and keeps only at `full`). */
export const auditEventInputSchema = z.discriminatedUnion('type', [
  ...sharedEvents,
  event('chat.turn', z.strictObject({ ...chatTurnCommon, prompt: z.string(), response: z.string() })),
  event('api.request', z.strictObject({ ...apiRequestCommon, prompt: z.string().nullable(), response: z.string().nullable() })),
]);
export type AuditEventInput = z.infer<typeof auditEventInputSchema>;

export type AuditEventType = AuditEvent['type'];
export const AUDIT_EVENT_TYPES: readonly AuditEventType[] = auditEventSchema.options.map((option) => option.shape.type.value);
