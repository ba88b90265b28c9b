import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../common/result.ts';
import { bundleKinds, createBundle, packBundle, signBundle, type BundleKind, type CreateBundleFile, type FileMeta } from '../main/services/bundles/index.ts';
import { runtimePackFiles } from '../main/services/bundles/runtime-pack-source.ts';
import { PACK_FILE } from '../main/services/knowledge/pack.ts';
import { intOption, UsageError, type Command, type CommandValues } from './command.ts';
import { EXIT } from './exit-codes.ts';
import { readKeyFile, readPrivateKey, reportError } from './keys.ts';
import { formatBytes } from './models.ts';
import { bytesPrinter, many, stringOption } from './bundle-common.ts';

// Bundles from the command line, the publisher's side: create, pack and sign. Offline machines
// inspect and verify (bundle-verify.ts), then install (bundle-install.ts).

// ── create ──────────────────────────────────────────────────────────────────

interface Addition {
  readonly kind: BundleKind;
  readonly source: string;
  readonly given: string;
}

function parseAddition(value: string): Addition {
  // Split at the first colon: kinds have none, and Windows paths keep their drive letter.
  const colon = value.indexOf(':');
  const kind = value.slice(0, colon);
  const given = value.slice(colon + 1).trim();
  if (colon < 0 || !(bundleKinds as readonly string[]).includes(kind) || given === '') {
    throw new UsageError(`--add takes KIND:PATH, where KIND is one of ${bundleKinds.join(', ')}; got "${value}".`);
  }
  return { kind: kind as BundleKind, source: path.resolve(given), given };
}

/** `--meta-name KIND:PATH=Name`: the display name for the --add with that kind and path. */
function displayNames(values: CommandValues, additions: readonly Addition[]): Map<Addition, string> {
  const names = new Map<Addition, string>();
  for (const value of many(values, 'meta-name')) {
    const equals = value.indexOf('=');
    const target = equals < 0 ? null : parseAddition(value.slice(0, equals));
    const name = value.slice(equals + 1).trim();
    const addition = target === null ? undefined : additions.find((candidate) => candidate.kind === target.kind && candidate.source === target.source);
    if (addition === undefined || name === '') throw new UsageError(`--meta-name takes KIND:PATH=Name, with the KIND:PATH of an --add; got "${value}".`);
    names.set(addition, name);
  }
  return names;
}

/** Every file under a folder, relative and `/`-separated, in a stable order. Links are refused: a bundle holds plain files only. */
async function walkFiles(root: string, relative = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(path.join(root, relative), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await walkFiles(root, child)));
    else if (entry.isFile()) out.push(child);
    else throw new AppError('bad_request', `"${path.join(root, child)}" is not a plain file or folder; bundles hold plain files only.`);
  }
  return out;
}

async function packFiles(addition: Addition, displayName: string | undefined): Promise<CreateBundleFile[]> {
  const info = await stat(addition.source).catch(() => null);
  if (info === null || !info.isDirectory())
    throw new AppError('bad_request', `A knowledge pack is a folder made by "soberana knowledge export"; "${addition.given}" is not a folder.`);
  let pack: { collection?: { name?: unknown } };
  try {
    pack = JSON.parse(await readFile(path.join(addition.source, PACK_FILE), 'utf8')) as typeof pack;
  } catch (error) {
    throw new AppError(
      'bad_request',
      `"${addition.given}" is not a knowledge pack: its ${PACK_FILE} is missing or unreadable. Make one with "soberana knowledge export".`,
      error instanceof Error ? error.message : String(error),
    );
  }
  const collection = typeof pack.collection?.name === 'string' ? pack.collection.name : path.basename(addition.source);
  const meta: FileMeta = { displayName: displayName ?? collection, collection };
  // The app imports the pack from its pack.json; the other files are found next to it.
  const folder = path.basename(addition.source);
  return (await walkFiles(addition.source)).map((relative) => ({
    kind: 'knowledge-pack',
    source: path.join(addition.source, ...relative.split('/')),
    path: `${folder}/${relative}`,
    meta,
  }));
}

async function bundleFiles(additions: readonly Addition[], names: Map<Addition, string>): Promise<CreateBundleFile[]> {
  const files: CreateBundleFile[] = [];
  for (const addition of additions) {
    const name = names.get(addition);
    if (addition.kind === 'knowledge-pack') {
      files.push(...(await packFiles(addition, name)));
      continue;
    }
    if (addition.kind === 'runtime') {
      files.push(...(await runtimePackFiles(addition.source, name)));
      continue;
    }
    const info = await lstat(addition.source).catch(() => null);
    if (info === null) throw new AppError('not_found', `"${addition.given}" was not found.`);
    if (!info.isFile()) throw new AppError('bad_request', `"${addition.given}" is not a plain file; --add ${addition.kind}:… takes a file.`);
    const fallback = addition.kind === 'policy' ? undefined : path.basename(addition.source).replace(/\.gguf$/i, '');
    const displayName = name ?? fallback;
    files.push({ kind: addition.kind, source: addition.source, meta: displayName === undefined ? {} : { displayName } });
  }
  return files;
}

function expiry(values: CommandValues, now: Date): string {
  const given = stringOption(values, 'expires');
  const days = intOption(values['expires-in-days'], 'expires-in-days', 1, 36_500);
  if (given !== undefined && days !== undefined) throw new UsageError('Give --expires or --expires-in-days, not both.');
  if (given !== undefined) {
    // A date alone means midnight UTC; anything Date cannot read is refused rather than guessed.
    const at = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/i.test(given) ? Date.parse(given) : Number.NaN;
    if (!Number.isFinite(at)) throw new UsageError(`--expires takes an ISO 8601 date or timestamp, e.g. 2027-01-31 or 2027-01-31T12:00:00Z; got "${given}".`);
    if (at <= now.getTime()) throw new UsageError(`--expires is in the past: ${new Date(at).toISOString()}.`);
    return new Date(at).toISOString();
  }
  return new Date(now.getTime() + (days ?? 365) * 86_400_000).toISOString();
}

export const bundleCreate: Command = {
  summary: 'Build a bundle from models, knowledge packs and a policy',
  help: `Usage: soberana bundle create --id ID --name NAME --version N
       (--key FILE.key | --publisher KEYID) --add KIND:PATH [--add KIND:PATH…]
       [--meta-name KIND:PATH=NAME…] [--expires ISO | --expires-in-days DAYS]
       (--out FILE.tar | --dir DIR) [--json]

Copies the files into a new bundle, hashing them as they go, and writes its manifest.
The bundle is unsigned: sign it next with "soberana bundle sign". Progress goes to stderr.

Options:
  --id ID               Bundle id: lowercase letters, digits, ".", "_", "-"
  --name NAME           The name people see
  --version N           A whole number, higher with each release of this id
  --key FILE.key        The publisher's key (only its id is recorded), or
  --publisher KEYID     the publisher's key id
  --add KIND:PATH       Repeatable. KIND is model, embedding-model, reranker (a GGUF
                        file), knowledge-pack (a folder made by "soberana knowledge
                        export"), policy (a policy JSON file) or runtime (a folder
                        holding one of node-llama-cpp's prebuilt-binary packages,
                        such as node_modules/@node-llama-cpp/linux-x64-vulkan)
  --meta-name KIND:PATH=NAME
                        The display name of the --add with that KIND:PATH (default:
                        the file name, or the pack's collection name)
  --expires ISO         When the bundle stops being accepted, or
  --expires-in-days N   that many days from now (default 365)
  --out FILE.tar        Write one archive file, or
  --dir DIR             a bundle folder (new or empty)

Exit codes: 0 created, 1 a file is missing or the description is invalid, 2 bad usage.`,
  options: {
    id: { type: 'string' },
    name: { type: 'string' },
    version: { type: 'string' },
    key: { type: 'string' },
    publisher: { type: 'string' },
    add: { type: 'string', multiple: true },
    'meta-name': { type: 'string', multiple: true },
    expires: { type: 'string' },
    'expires-in-days': { type: 'string' },
    out: { type: 'string' },
    dir: { type: 'string' },
  },
  async run({ output, values }) {
    const id = stringOption(values, 'id');
    const name = stringOption(values, 'name');
    if (id === undefined || name === undefined) throw new UsageError('--id and --name are required.');
    if (values.version === undefined) throw new UsageError('--version is required.');
    const version = intOption(values.version, 'version', 1, Number.MAX_SAFE_INTEGER)!;
    const out = stringOption(values, 'out');
    const dir = stringOption(values, 'dir');
    if ((out === undefined) === (dir === undefined)) throw new UsageError('Give either --out FILE.tar or --dir DIR.');
    const additions = many(values, 'add').map(parseAddition);
    if (additions.length === 0) throw new UsageError('Add at least one file with --add KIND:PATH.');
    const names = displayNames(values, additions);
    const keyFile = stringOption(values, 'key');
    const publisher = stringOption(values, 'publisher')?.toLowerCase();
    if (keyFile === undefined && publisher === undefined) throw new UsageError('Give the publisher: --key FILE.key or --publisher KEYID.');
    if (publisher !== undefined && !/^[0-9a-f]{16}$/.test(publisher)) throw new UsageError('--publisher takes a key id: 16 hex characters.');
    const expires = expiry(values, new Date());
    try {
      const keyId = keyFile === undefined ? undefined : (await readKeyFile(path.resolve(keyFile))).keyId;
      if (keyId !== undefined && publisher !== undefined && keyId !== publisher)
        throw new AppError('bad_request', `--publisher ${publisher} is not the id of --key's key (${keyId}).`);
      if (out !== undefined && (await lstat(path.resolve(out)).catch(() => null)) !== null)
        throw new AppError('bad_request', `"${path.resolve(out)}" already exists; choose another --out, nothing was overwritten.`);
      const files = await bundleFiles(additions, names);
      const printer = bytesPrinter(output.json);
      const created = await createBundle(
        {
          ...(out === undefined ? {} : { out: path.resolve(out) }),
          ...(dir === undefined ? {} : { dir: path.resolve(dir) }),
          id,
          name,
          version,
          expires,
          publisherKeyId: (keyId ?? publisher)!,
          files,
        },
        (progress) => printer.update('copying', progress.bytesDone, progress.bytesTotal, progress.file),
      ).finally(() => printer.done());
      const { manifest } = created;
      const total = manifest.files.reduce((sum, file) => sum + file.size, 0);
      if (output.json) output.out(JSON.stringify({ path: created.path, manifest }, null, 2));
      else {
        output.out(
          `created  ${manifest.id} v${manifest.version} (“${manifest.name}”): ${manifest.files.length} files, ${formatBytes(total)}, expires ${manifest.expires}`,
        );
        output.out(`  ${created.path}`);
        output.err(`Unsigned: sign it with "soberana bundle sign ${created.path} --key FILE.key".`);
      }
      return EXIT.ok;
    } catch (error) {
      return reportError(output, error);
    }
  },
};

export const bundlePack: Command = {
  summary: 'Pack a bundle folder into one archive file',
  help: `Usage: soberana bundle pack DIR --out FILE.tar [--json]

Writes a bundle folder (made by "soberana bundle create --dir") as one archive, checking
each file against the manifest as it goes. Signatures already on the folder are kept.

Exit codes: 0 packed, 1 the folder is not a valid bundle, 2 bad usage.`,
  options: { out: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run({ output, values, positionals }) {
    const out = stringOption(values, 'out');
    if (out === undefined) throw new UsageError('--out needs the archive file to write.');
    try {
      await packBundle(path.resolve(positionals[0]!), path.resolve(out));
      if (output.json) output.out(JSON.stringify({ path: path.resolve(out) }, null, 2));
      else output.out(`packed  ${path.resolve(out)}`);
      return EXIT.ok;
    } catch (error) {
      return reportError(output, error);
    }
  },
};

export const bundleSign: Command = {
  summary: 'Sign a bundle with a private key',
  help: `Usage: soberana bundle sign BUNDLE --key FILE.key [--json]

Adds this key's Ed25519 signature over the bundle's manifest (replacing an earlier one
by the same key); other signatures stay. BUNDLE is an archive or a bundle folder.

Exit codes: 0 signed, 1 not a bundle or not a private key, 2 bad usage.`,
  options: { key: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run({ output, values, positionals }) {
    const keyFile = stringOption(values, 'key');
    if (keyFile === undefined) throw new UsageError('--key needs the private key file (.key).');
    const bundle = path.resolve(positionals[0]!);
    try {
      const key = await readPrivateKey(keyFile);
      const signed = await signBundle(bundle, key.pem);
      if (output.json)
        output.out(JSON.stringify({ path: bundle, keyId: signed.keyId, signatures: signed.signatures.map((signature) => signature.keyId) }, null, 2));
      else
        output.out(
          `signed  ${bundle}\n  by ${signed.keyId}; ${signed.signatures.length} signature${signed.signatures.length === 1 ? '' : 's'}: ${signed.signatures.map((signature) => signature.keyId).join(', ')}`,
        );
      return EXIT.ok;
    } catch (error) {
      return reportError(output, error);
    }
  },
};
