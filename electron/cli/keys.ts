import { lstat, mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../common/result.ts';
import { generateKeyPair, keyIdOf, listTrustedKeys, type TrustSource } from '../main/services/bundles/index.ts';
import { decodePublicKey, loadPrivateKey } from '../main/services/bundles/keys.ts';
import { createTrustStore } from '../main/services/bundles/trust-store.ts';
import { openContext, type GovernedContext } from '../main/services/domain/context.ts';
import type { Governance } from '../main/services/governance.ts';
import type { Database } from '../main/services/storage/sqlite.ts';
import { UsageError, type Command } from './command.ts';
import { EXIT } from './exit-codes.ts';
import type { Output } from './output.ts';

// Signing keys for bundles. The publisher's machine makes a key pair and keeps the private
// half; offline machines trust the public half, through the machine policy or, without one,
// the development-mode store in the data folder that these commands edit.

/** File-system failures (a missing file, a full disk) are the user's to fix: exit 1 with the message, not an internal error. */
function asAppError(error: unknown): unknown {
  if (error instanceof AppError || !(error instanceof Error) || typeof (error as NodeJS.ErrnoException).syscall !== 'string') return error;
  const code = (error as NodeJS.ErrnoException).code;
  return new AppError(
    code === 'ENOENT' ? 'not_found' : 'io_error',
    code === 'ENOENT' ? 'A file or folder it needs is not there.' : 'A file could not be read or written.',
    error.message,
  );
}

export function reportError(output: Output, thrown: unknown): number {
  const error = asAppError(thrown);
  if (!(error instanceof AppError)) throw error;
  if (output.json) output.out(JSON.stringify({ error: error.toData() }, null, 2));
  else output.err(`${error.message}${error.details === undefined ? '' : `\n  ${error.details}`}`);
  return EXIT.problem;
}

/**
 * The database and the policy in force, opened as the app opens them at start (the same
 * policy resolution, audit trail and gate), without the rest of the services: trust and the
 * installed bundles need nothing else.
 */
export async function withTrust(
  dataDir: string,
  output: Output,
  run: (db: Database, governance: Governance, context: GovernedContext) => Promise<number> | number,
): Promise<number> {
  let context: GovernedContext | null = null;
  try {
    context = await openContext({ dataDir, log: (level, message) => level === 'error' && process.stderr.write(`[soberana] ${message}\n`) });
    return await run(context.storage, context.governance, context);
  } catch (error) {
    return reportError(output, error);
  } finally {
    context?.close();
  }
}

export const shortId = (keyId: string): string => keyId.slice(0, 8);

/** One line on where trust comes from; a person editing the local store must see when it does not count. */
export function trustLine(trust: TrustSource, governance: Governance): string {
  const needed = `${trust.threshold} signature${trust.threshold === 1 ? '' : 's'} from distinct trusted keys needed`;
  if (trust.source === 'local') return `Trust: this data folder's development-mode keys (no machine policy names trusted keys); ${needed}.`;
  if (governance.loaded.status === 'invalid')
    return 'Trust: the machine policy is invalid, so no key is trusted (locked down). The local development-mode keys are ignored.';
  return `Trust: the machine policy's ${trust.keys.length} key${trust.keys.length === 1 ? '' : 's'}; ${needed}. The local development-mode keys are ignored while a policy is in force.`;
}

export interface KeyFile {
  readonly kind: 'private' | 'public';
  readonly keyId: string;
  readonly publicKey: string;
  readonly name: string | null;
}

interface PublicKeyFile {
  readonly keyId: string;
  readonly name: string;
  readonly publicKey: string;
}

/** Parses a .key (PKCS#8 PEM), a .pub (the JSON `keys generate` writes) or bare base64 of the raw public key. */
export function parseKey(text: string, where: string): KeyFile {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) {
    const key = loadPrivateKey(trimmed);
    return { kind: 'private', keyId: key.keyId, publicKey: key.publicKey, name: null };
  }
  if (trimmed.startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      throw new AppError('bad_request', `${where} is not a key file: it is not valid JSON.`, error instanceof Error ? error.message : String(error));
    }
    const record = (typeof value === 'object' && value !== null ? value : {}) as Partial<Record<keyof PublicKeyFile, unknown>>;
    if (typeof record.publicKey !== 'string') throw new AppError('bad_request', `${where} is not a key file: it has no "publicKey".`);
    const publicKey = decodePublicKey(record.publicKey.trim()).toString('base64');
    const keyId = keyIdOf(publicKey);
    // A key id is derived from the key; one that disagrees means the file was edited by hand.
    if (record.keyId !== undefined && record.keyId !== keyId)
      throw new AppError('bad_request', `${where} names key id ${String(record.keyId)}, but its public key's id is ${keyId}.`);
    return { kind: 'public', keyId, publicKey, name: typeof record.name === 'string' && record.name.trim() !== '' ? record.name.trim() : null };
  }
  const publicKey = decodePublicKey(trimmed).toString('base64');
  return { kind: 'public', keyId: keyIdOf(publicKey), publicKey, name: null };
}

export async function readKeyFile(file: string): Promise<KeyFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new AppError('not_found', `The key file "${file}" could not be read.`, error instanceof Error ? error.message : String(error));
  }
  return parseKey(text, `"${file}"`);
}

/** Private key PEM from a .key file, with a clear error for a .pub given by mistake. */
export async function readPrivateKey(file: string): Promise<{ pem: string; keyId: string }> {
  const resolved = path.resolve(file);
  const key = await readKeyFile(resolved);
  if (key.kind !== 'private')
    throw new AppError('bad_request', `"${resolved}" is a public key; signing needs the private key (the .key file made by "soberana keys generate").`);
  return { pem: await readFile(resolved, 'utf8'), keyId: key.keyId };
}

const exists = (file: string) =>
  lstat(file).then(
    () => true,
    () => false,
  );

export const keysGenerate: Command = {
  summary: 'Make an Ed25519 key pair for signing bundles',
  help: `Usage: soberana keys generate --out DIR [--name NAME] [--json]

Writes two files to DIR (created if needed):
  <key id>.key  the private key (PKCS#8 PEM, readable by you only). Keep it on the
                publisher's machine; never copy it to the machines that install bundles.
  <key id>.pub  the public key (base64 of the raw 32 bytes) with its key id and name,
                as JSON. Give it to the machines that will trust your bundles.
Prints the key id and the public key. Existing files are never overwritten.

Options:
  --out DIR    Where to write the key files
  --name NAME  A name for the key, shown when a bundle it signed is checked
               (default: "Bundle key <key id>")

Exit codes: 0 written, 1 a file is already there or cannot be written, 2 bad usage.`,
  options: { out: { type: 'string' }, name: { type: 'string' } },
  async run({ output, values }) {
    const out = typeof values.out === 'string' ? values.out.trim() : '';
    if (out === '') throw new UsageError('--out needs the folder to write the key files to.');
    if (values.name !== undefined && (typeof values.name !== 'string' || values.name.trim() === '' || values.name.trim().length > 200)) {
      throw new UsageError('--name takes 1 to 200 characters.');
    }
    const dir = path.resolve(out);
    const pair = generateKeyPair();
    const name = typeof values.name === 'string' ? values.name.trim() : `Bundle key ${pair.keyId}`;
    const privateFile = path.join(dir, `${pair.keyId}.key`);
    const publicFile = path.join(dir, `${pair.keyId}.pub`);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      for (const file of [privateFile, publicFile]) if (await exists(file)) throw new AppError('bad_request', `"${file}" already exists; nothing was written.`);
      const publicJson: PublicKeyFile = { keyId: pair.keyId, name, publicKey: pair.publicKey };
      let wrote = false;
      try {
        // 'wx': never replaces a file, even one that appeared since the check above.
        const handle = await open(privateFile, 'wx', 0o600);
        wrote = true;
        try {
          await handle.writeFile(pair.privateKeyPem);
          await handle.sync();
        } finally {
          await handle.close();
        }
        const pub = await open(publicFile, 'wx', 0o644);
        try {
          await pub.writeFile(`${JSON.stringify(publicJson, null, 2)}\n`);
        } finally {
          await pub.close();
        }
      } catch (error) {
        // A private key without its public half would be a key nobody can trust.
        if (wrote) await rm(privateFile, { force: true });
        throw error instanceof AppError
          ? error
          : new AppError('io_error', `The key files could not be written to "${dir}".`, error instanceof Error ? error.message : String(error));
      }
      if (output.json) output.out(JSON.stringify({ ...publicJson, privateKeyFile: privateFile, publicKeyFile: publicFile }, null, 2));
      else
        output.out(
          [
            `key id       ${pair.keyId}`,
            `name         ${name}`,
            `public key   ${pair.publicKey}`,
            `private key  ${privateFile}  (keep it secret; never copy it to the offline machines)`,
            `public file  ${publicFile}  (trust it with "soberana keys trust ${publicFile}")`,
          ].join('\n'),
        );
      return EXIT.ok;
    } catch (error) {
      return reportError(output, error);
    }
  },
};

export const keysShow: Command = {
  summary: 'Show the key id and public key of a .pub or .key file',
  help: `Usage: soberana keys show FILE [--json]

Reads a public key file (.pub, or bare base64) or a private key file (.key) and prints
its key id and public key, and the entry to add to a policy's bundles.trustedKeys.

Exit codes: 0 ok, 1 the file is not a key, 2 bad usage.`,
  positionals: { min: 1, max: 1 },
  async run({ output, positionals }) {
    try {
      const file = path.resolve(positionals[0]!);
      const key = await readKeyFile(file);
      const policyEntry = { name: key.name ?? `Bundle key ${key.keyId}`, publicKey: key.publicKey };
      if (output.json) output.out(JSON.stringify({ file, ...key, policyEntry }, null, 2));
      else
        output.out(
          [
            `${key.kind === 'private' ? 'private key' : 'public key'}  ${file}`,
            `  key id      ${key.keyId}`,
            ...(key.name === null ? [] : [`  name        ${key.name}`]),
            `  public key  ${key.publicKey}`,
            `  for a policy's bundles.trustedKeys: ${JSON.stringify(policyEntry)}`,
          ].join('\n'),
        );
      return EXIT.ok;
    } catch (error) {
      return reportError(output, error);
    }
  },
};

export const keysTrust: Command = {
  summary: 'Trust a public key for bundles (development mode, no policy)',
  help: `Usage: soberana keys trust FILE|BASE64 [--name NAME] [--json]

Adds a public key to this data folder's development-mode trust store, so that bundles it
signs can be installed here. FILE is a .pub file made by "soberana keys generate"; BASE64
is the raw public key itself. The name defaults to the one in the .pub file.

Refused where a machine policy is installed: then only the keys the policy lists
(bundles.trustedKeys) are trusted, and this store is never used.

Exit codes: 0 trusted, 1 not a public key or a machine policy is installed, 2 bad usage.`,
  options: { name: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run({ dataDir, output, values, positionals }) {
    const given = positionals[0]!.trim();
    if (values.name !== undefined && (typeof values.name !== 'string' || values.name.trim() === '')) throw new UsageError('--name needs a name for the key.');
    return withTrust(dataDir, output, async (db, governance, context) => {
      const key = (await exists(given)) ? await readKeyFile(path.resolve(given)) : parseKey(given, 'The argument');
      if (key.kind === 'private')
        throw new AppError('bad_request', 'That is a private key. Trust the public key (the .pub file) instead, and keep the private key off this machine.');
      const name = typeof values.name === 'string' ? values.name.trim() : key.name;
      if (name === null) throw new UsageError('--name is needed: the key has no name of its own.');
      const stored = createTrustStore({ db, gate: context.gate }).trust({ publicKey: key.publicKey, name });
      const trust = governance.trust(db);
      if (output.json)
        output.out(
          JSON.stringify({ trusted: stored, effective: trust.source === 'local', trust: { source: trust.source, threshold: trust.threshold } }, null, 2),
        );
      else {
        output.out(`trusted  ${stored.id}  “${stored.name}”`);
        if (trust.source === 'policy') output.err(`${trustLine(trust, governance)} Add the key to the policy for it to count here.`);
      }
      return EXIT.ok;
    });
  },
};

export const keysList: Command = {
  summary: 'List the keys trusted to sign bundles',
  help: `Usage: soberana keys list [--json]

Lists the keys whose signatures this machine accepts, and how many are needed: the
machine policy's keys when it names any, otherwise this data folder's development-mode
store (edited with "soberana keys trust" and "soberana keys untrust").`,
  async run({ dataDir, output }) {
    return withTrust(dataDir, output, (db, governance) => {
      const trust = governance.trust(db);
      const local = listTrustedKeys(db);
      if (output.json) {
        output.out(
          JSON.stringify(
            { source: trust.source, threshold: trust.threshold, keys: trust.keys, localKeys: local, localIgnored: trust.source === 'policy' },
            null,
            2,
          ),
        );
        return EXIT.ok;
      }
      output.out(trustLine(trust, governance));
      const rows = (keys: readonly { id: string; name: string }[]) => keys.map((key) => `  ${key.id}  ${key.name}`);
      if (trust.source === 'policy') {
        output.out(trust.keys.length === 0 ? 'No key is trusted.' : ['Policy keys:', ...rows(trust.keys)].join('\n'));
        if (local.length > 0) output.out(['Development-mode keys (ignored):', ...rows(local)].join('\n'));
      } else output.out(local.length === 0 ? 'No key is trusted yet. Add one with "soberana keys trust FILE.pub".' : ['Keys:', ...rows(local)].join('\n'));
      return EXIT.ok;
    });
  },
};

export const keysUntrust: Command = {
  summary: 'Stop trusting a key (development mode)',
  help: `Usage: soberana keys untrust KEYID [--json]

Removes a key from this data folder's development-mode trust store. KEYID is the full
16-character id, or a unique prefix of at least 4. Bundles already installed stay.

Exit codes: 0 removed, 1 no such key, 2 bad usage.`,
  positionals: { min: 1, max: 1 },
  async run({ dataDir, output, positionals }) {
    const given = positionals[0]!.trim().toLowerCase();
    if (given.length < 4) throw new UsageError('Give the key id (at least its first 4 characters).');
    return withTrust(dataDir, output, (db, governance, context) => {
      const matches = listTrustedKeys(db).filter((key) => key.id.startsWith(given));
      if (matches.length > 1) throw new AppError('bad_request', `"${given}" matches ${matches.length} keys; give more of the id.`);
      const key = matches[0];
      if (key === undefined || !createTrustStore({ db, gate: context.gate }).untrust(key.id))
        throw new AppError('not_found', `No trusted key has the id "${given}". Run "soberana keys list" to see them.`);
      const trust = governance.trust(db);
      if (output.json) output.out(JSON.stringify({ removed: { id: key.id, name: key.name } }, null, 2));
      else {
        output.out(`untrusted  ${key.id}  “${key.name}”`);
        if (trust.source === 'policy') output.err(trustLine(trust, governance));
      }
      return EXIT.ok;
    });
  },
};
