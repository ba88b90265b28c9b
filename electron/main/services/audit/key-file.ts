import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../../../common/result.ts';
import { anchorId, KEY_BYTES, sameHex, stateMac } from './chain.ts';

// The two files beside the database. `key` holds the current period's key and the log's
// counters; it is replaced on every record. `anchor` holds K0 and is written once, for the
// IT team to move somewhere safe: whoever holds it can verify, and also forge, the log.

export const AUDIT_DIR = 'audit';
export const KEY_FILE = 'key';
export const ANCHOR_FILE = 'anchor';
const KEY_FORMAT = 'soberana-audit-key/1';
const ANCHOR_FORMAT = 'soberana-audit-anchor/1';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const seq = z.number().int().min(0);

/** A record written to the database whose key-file update may not have happened yet. */
const PendingSchema = z.strictObject({ seq, hash: hex64, seals: z.boolean() });
export type PendingRecord = z.infer<typeof PendingSchema>;

const KeyStateSchema = z.strictObject({
  period: seq,
  key: hex64,
  /** Records ever written: equal to lastSeq, since seq runs 1, 2, 3… without gaps. */
  records: seq,
  lastSeq: seq,
  lastHash: hex64,
  pending: PendingSchema.nullable(),
});
export type AuditKeyState = z.infer<typeof KeyStateSchema>;

const KeyFileSchema = KeyStateSchema.extend({ format: z.literal(KEY_FORMAT), mac: hex64 }).strict();
/** The key file as read: the state plus the MAC the writer put on it (checked by verify, not here). */
export type AuditKeyFile = z.infer<typeof KeyFileSchema>;

export const auditDir = (dataDir: string) => path.join(dataDir, AUDIT_DIR);
export const keyFilePath = (dataDir: string) => path.join(auditDir(dataDir), KEY_FILE);
export const anchorFilePath = (dataDir: string) => path.join(auditDir(dataDir), ANCHOR_FILE);

export function sealKeyState(state: AuditKeyState): AuditKeyFile {
  const body = { format: KEY_FORMAT, ...state } as const;
  return { ...body, mac: stateMac(Buffer.from(state.key, 'hex'), body) };
}

/** Whether the file's MAC matches its own key: catches edits by anyone who did not use that key. */
export function keyFileMacOk(file: AuditKeyFile): boolean {
  const { mac, ...body } = file;
  return sameHex(stateMac(Buffer.from(file.key, 'hex'), body), mac);
}

/** Null when there is no key file; throws when there is one that cannot be read. */
export function readKeyFile(dataDir: string): AuditKeyFile | null {
  const file = keyFilePath(dataDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new AppError('io_error', 'The audit key file could not be read.', `${file}: ${String(error)}`);
  }
  return parseKeyFile(text, file);
}

export function parseKeyFile(text: string, where = 'key file'): AuditKeyFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AppError('io_error', 'The audit key file is damaged.', `${where}: not JSON`);
  }
  const parsed = KeyFileSchema.safeParse(json);
  if (!parsed.success) throw new AppError('io_error', 'The audit key file is damaged.', `${where}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

export function writeKeyFile(dataDir: string, state: AuditKeyState): void {
  writeFileAtomicSync(keyFilePath(dataDir), `${JSON.stringify(sealKeyState(state))}\n`);
}

export function newAnchor(): Buffer {
  return randomBytes(KEY_BYTES);
}

export function writeAnchorFile(dataDir: string, anchor: Uint8Array, createdAt: string): void {
  const body = { format: ANCHOR_FORMAT, anchorId: anchorId(anchor), key: Buffer.from(anchor).toString('hex'), createdAt };
  writeFileAtomicSync(anchorFilePath(dataDir), `${JSON.stringify(body, null, 2)}\n`);
}

/** The installation's signing key (services/dossier/), as the anchor file records it. */
export interface AnchorInstallationKey {
  readonly algorithm: 'Ed25519';
  readonly keyId: string;
  /** The raw 32-byte public key, base64. */
  readonly publicKey: string;
  readonly createdAt: string;
}

/**
 * Adds the installation's public signing key to the anchor file, when the file is still on
 * this machine and does not name that key yet. K0 and the other fields are left as they
 * are, and readers of the anchor take only `key`, so anchors with or without the field both
 * verify. Returns whether the file was written.
 */
export function addInstallationKeyToAnchor(dataDir: string, installationKey: AnchorInstallationKey): boolean {
  const file = anchorFilePath(dataDir);
  if (!existsSync(file)) return false;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    // A bare hex anchor (put back by hand) has nowhere to hold the key: leave it untouched.
    return false;
  }
  if (json === null || typeof json !== 'object' || json.format !== ANCHOR_FORMAT || typeof json.key !== 'string') return false;
  const recorded = json.installationKey as { publicKey?: unknown } | undefined;
  if (recorded?.publicKey === installationKey.publicKey) return false;
  writeFileAtomicSync(file, `${JSON.stringify({ ...json, installationKey }, null, 2)}\n`);
  return true;
}

/** The installation public key the anchor file's JSON names, or null (an older anchor, or a bare hex one). */
export function anchorInstallationKey(text: string): AnchorInstallationKey | null {
  try {
    const json = JSON.parse(text) as { installationKey?: Partial<AnchorInstallationKey> };
    const found = json.installationKey;
    if (found === undefined || typeof found.publicKey !== 'string' || typeof found.keyId !== 'string') return null;
    return { algorithm: 'Ed25519', keyId: found.keyId, publicKey: found.publicKey, createdAt: typeof found.createdAt === 'string' ? found.createdAt : '' };
  } catch {
    return null;
  }
}

/** The anchor K0 from the anchor file's JSON or from a bare 64-character hex string (what an IT team may keep in a vault). */
export function parseAnchor(text: string): Buffer {
  const trimmed = text.trim();
  let candidate = trimmed;
  if (trimmed.startsWith('{')) {
    try {
      const json = JSON.parse(trimmed) as { key?: unknown };
      candidate = typeof json.key === 'string' ? json.key : '';
    } catch {
      candidate = '';
    }
  }
  if (!/^[0-9a-fA-F]{64}$/.test(candidate)) {
    throw new AppError('bad_request', 'That is not an audit verification anchor.', 'expected the anchor file or 64 hexadecimal characters');
  }
  return Buffer.from(candidate.toLowerCase(), 'hex');
}

/** Null when the file is not there (typically: moved off the machine, as it should be). */
export function readAnchorFile(file: string): Buffer | null {
  if (!existsSync(file)) return null;
  return parseAnchor(readFileSync(file, 'utf8'));
}

/**
 * Synchronous twin of writeFileAtomic: the key file must be durable before the record it
 * describes commits, and the caller is inside a synchronous SQLite transaction.
 */
function writeFileAtomicSync(file: string, data: string): void {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(temp, 'wx', 0o600);
    try {
      const bytes = Buffer.from(data, 'utf8');
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  // Windows cannot open a directory for fsync; the rename is already durable there.
  if (process.platform === 'win32') return;
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
