import { createHash, sign, verify } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../../../common/result.ts';
import { canonicalJson } from '../audit/index.ts';
import { keyIdOf, publicKeyObject } from '../bundles/keys.ts';
import type { InstallationKey } from './installation-key.ts';

// The answer dossier's file format (docs/dossier.md describes it field by field). The file is
// JSON: { format, body, signature }. The signature is Ed25519 over the UTF-8 bytes of the
// body's canonical JSON (keys sorted, no whitespace: audit/chain.ts's canonicalJson), so any
// program that can sort keys can check it; the pretty-printed file is only for reading.

export const DOSSIER_FORMAT = 'soberana-dossier/1';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256 digest');
const text = z.string().max(2_000_000);
const publicKey = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'a base64 Ed25519 public key');
const keyId = z.string().regex(/^[0-9a-f]{16}$/);

/**
 * A classification marking as the markings feature stores it (level and compartments). The
 * dossier keeps the marking as it was at export; null when no marking scheme was in force or
 * the item carried none.
 */
const Marking = z.strictObject({ level: z.string().min(1).max(64), compartments: z.array(z.string().min(1).max(64)).max(32) }).nullable();

const Turn = z.strictObject({
  messageId: z.string().min(1).max(64),
  role: z.enum(['user', 'assistant']),
  /** SHA-256 of the message's text (UTF-8). */
  sha256,
});

export const DossierPassage = z.strictObject({
  /** The passage's number in the answer: [1], [2]… */
  n: z.number().int().min(1),
  chunkId: z.string().min(1).max(64),
  documentId: z.string().min(1).max(64),
  documentName: z.string().max(4096),
  /** SHA-256 of the document file's bytes as it was added. */
  documentSha256: sha256.nullable(),
  collectionId: z.string().min(1).max(64),
  format: z.string().max(64),
  page: z.number().int().positive().nullable(),
  /** The section: the headings above the passage, outermost first. */
  headingPath: z.array(z.string().max(2000)).max(64),
  rows: z.tuple([z.number().int().positive(), z.number().int().positive()]).nullable(),
  /** Character range of the passage in the document's extracted text (UTF-16 code units, end exclusive). */
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
  /** The passage as the model was given it: the nearest heading, a blank line, then the range's text. */
  text,
  /** SHA-256 of `text`. */
  textSha256: sha256,
  /** SHA-256 of the range's text alone: what re-reading the document must give. */
  rangeSha256: sha256,
  marking: Marking,
});
export type DossierPassage = z.infer<typeof DossierPassage>;

export const DossierBody = z.strictObject({
  kind: z.literal('answer-evidence'),
  createdAt: z.string().min(1).max(40),
  product: z.strictObject({ name: z.string().min(1).max(100), version: z.string().min(1).max(64) }),
  installation: z.strictObject({ algorithm: z.literal('Ed25519'), keyId, publicKey }),
  conversation: z.strictObject({ id: z.string().min(1).max(64), title: z.string().max(200), marking: Marking }),
  /** The turns before the question, oldest first, as hashes only. */
  precedingTurns: z.array(Turn).max(100_000),
  question: z.strictObject({ messageId: z.string().min(1).max(64), text, sha256, createdAt: z.string().max(40) }),
  answer: z.strictObject({
    messageId: z.string().min(1).max(64),
    text,
    sha256,
    createdAt: z.string().max(40),
    status: z.enum(['complete', 'interrupted']),
    /** The answer's marking: the highest of its sources' and the conversation's. */
    marking: Marking,
  }),
  model: z.strictObject({ name: z.string().max(500).nullable(), sha256: sha256.nullable() }),
  /** The conversation's generation settings at export; the engine clamps them to the policy's locks. */
  sampling: z.strictObject({
    temperature: z.number(),
    topP: z.number(),
    topK: z.number().int(),
    minP: z.number(),
    repeatPenalty: z.number(),
    maxTokens: z.number().int(),
    seed: z.number().int().nullable(),
    contextSize: z.union([z.literal('auto'), z.number().int()]),
    systemPromptSha256: sha256,
  }),
  policy: z.strictObject({ status: z.enum(['none', 'ok', 'invalid']), sha256: sha256.nullable() }),
  bundles: z.array(z.strictObject({ id: z.string().max(128), name: z.string().max(500), version: z.number().int(), sha256 })).max(10_000),
  passages: z.array(DossierPassage).max(10_000),
  /** The audit records of the turn (its chat.turn), by sequence number and hash, and the log's anchor id. */
  audit: z.strictObject({
    anchorId: sha256.nullable(),
    records: z.array(z.strictObject({ seq: z.number().int().min(1), type: z.string().max(64), at: z.string().max(40), hash: sha256 })).max(1000),
  }),
  /** The dossier's own marking: the highest of everything it holds (null without a marking scheme). */
  marking: Marking,
});
export type DossierBody = z.infer<typeof DossierBody>;

export const DossierSignature = z.strictObject({ algorithm: z.literal('Ed25519'), keyId, publicKey, value: z.string().regex(/^[A-Za-z0-9+/]{86}==$/) });

export const DossierFile = z.strictObject({ format: z.literal(DOSSIER_FORMAT), body: DossierBody, signature: DossierSignature });
export type DossierFile = z.infer<typeof DossierFile>;

export const sha256Text = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

/** The exact bytes the signature covers. */
export const signedBytes = (body: DossierBody): Buffer => Buffer.from(canonicalJson(body), 'utf8');

export function signDossier(body: DossierBody, key: InstallationKey): DossierFile {
  const value = sign(null, signedBytes(body), key.privateKey).toString('base64');
  return { format: DOSSIER_FORMAT, body, signature: { algorithm: 'Ed25519', keyId: key.keyId, publicKey: key.publicKey, value } };
}

/** The file as written: pretty JSON (the signature does not depend on the layout). */
export const dossierText = (file: DossierFile): string => `${JSON.stringify(file, null, 2)}\n`;

export type SignatureCheck = { ok: true; keyId: string; publicKey: string } | { ok: false; reason: string };

/**
 * Parses a dossier file's text and checks its signature. A file that is not a dossier at all
 * throws `bad_request`; one that parses but whose signature fails is `{ ok: false }`.
 */
export function readDossier(textContent: string): { file: DossierFile | null; signature: SignatureCheck } {
  let json: unknown;
  try {
    json = JSON.parse(textContent);
  } catch (error) {
    // One changed byte can break the JSON itself; that is a bad signature as much as a changed value.
    return { file: null, signature: { ok: false, reason: `The file is no longer valid JSON: ${error instanceof Error ? error.message : String(error)}` } };
  }
  if (typeof json !== 'object' || json === null || (json as { format?: unknown }).format !== DOSSIER_FORMAT) {
    throw new AppError('bad_request', 'This is not an answer dossier.', `expected "format": "${DOSSIER_FORMAT}"`);
  }
  const parsed = DossierFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      file: null,
      signature: { ok: false, reason: `The file does not have the dossier's shape (${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}).` },
    };
  }
  return { file: parsed.data, signature: checkSignature(parsed.data) };
}

export function checkSignature(file: DossierFile): SignatureCheck {
  const { body, signature } = file;
  if (signature.publicKey !== body.installation.publicKey || signature.keyId !== body.installation.keyId) {
    return { ok: false, reason: 'The signature names another key than the dossier body.' };
  }
  if (keyIdOf(signature.publicKey) !== signature.keyId) return { ok: false, reason: 'The key id does not belong to the public key.' };
  const good = verify(null, signedBytes(body), publicKeyObject(signature.publicKey), Buffer.from(signature.value, 'base64'));
  return good
    ? { ok: true, keyId: signature.keyId, publicKey: signature.publicKey }
    : { ok: false, reason: 'The signature does not match the dossier: it was changed after it was signed.' };
}
