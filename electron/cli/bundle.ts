import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../common/result.ts';
import {
  bundleKinds,
  createBundle,
  getBundle,
  listBundles,
  packBundle,
  signBundle,
  verifyBundle,
  type BundleKind,
  type CreateBundleFile,
  type FileMeta,
  type InstalledBundle,
  type ManifestFile,
  type Signer,
  type TrustSource,
  type VerificationReport,
} from '../main/services/bundles/index.ts';
import { runtimePackFiles } from '../main/services/bundles/runtime-pack-source.ts';
import { readHead } from '../main/services/bundles/head.ts';
import { installedEntry, installWithPayloads, uninstallWithPayloads } from '../main/services/bundles/service.ts';
import { createCore, type Core } from '../main/services/core.ts';
import type { Governance } from '../main/services/governance.ts';
import { PACK_FILE } from '../main/services/knowledge/pack.ts';
import { listModels } from '../main/services/models/index.ts';
import { intOption, UsageError, type Command, type CommandValues } from './command.ts';
import { EXIT } from './exit-codes.ts';
import { readKeyFile, readPrivateKey, reportError, trustLine, withTrust } from './keys.ts';
import type { Output } from './output.ts';
import { formatBytes } from './models.ts';

// Bundles from the command line. Publishers create, pack and sign; offline machines inspect,
// verify and install through the same code path as the app (installWithPayloads), so a
// model installed here is "verified by bundle …" and a knowledge pack is a read-only
// collection there too.

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };

async function withCore(dataDir: string, output: Output, run: (core: Core) => Promise<number>): Promise<number> {
  let core: Core | null = null;
  try {
    core = await createCore({ dataDir, host: HOST, log: (level, message) => level === 'error' && process.stderr.write(`[soberana] ${message}\n`) });
    return await run(core);
  } catch (error) {
    return reportError(output, error);
  } finally {
    await core?.close();
  }
}


/** Byte progress on stderr: a bar redrawn in place on a terminal, otherwise a line every 10%. */
function bytesPrinter(json: boolean) {
  const tty = process.stderr.isTTY === true;
  let lastLabel = '';
  let lastTenth = -1;
  let drawn = false;
  return {
    update(label: string, done: number, total: number, file?: string) {
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      if (tty) {
        const columns = process.stderr.columns > 0 ? process.stderr.columns : 80;
        const width = Math.max(10, Math.min(30, columns - 60));
        const filled = Math.round(fraction * width);
        const line = `${label.padEnd(10)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${formatBytes(done)} of ${formatBytes(total)}  ${file ?? ''}`;
        // One line, never wrapped: a wrapped line cannot be redrawn in place.
        process.stderr.write(`\r\x1b[2K${line.slice(0, columns - 1)}`);
        drawn = true;
      } else if (!json) {
        // Each phase counts its own tenths.
        if (label !== lastLabel) lastTenth = -1;
        lastLabel = label;
        const tenth = Math.floor(fraction * 10);
        if (tenth > lastTenth) {
          lastTenth = tenth;
          process.stderr.write(`${label}: ${tenth * 10}% of ${formatBytes(total)}\n`);
        }
      }
    },
    /** A phase without a byte count of its own. */
    step(label: string) {
      if (label === lastLabel) return;
      lastLabel = label;
      if (tty) {
        process.stderr.write(`\r\x1b[2K${label}…`);
        drawn = true;
      } else if (!json) process.stderr.write(`${label}…\n`);
    },
    done() {
      if (drawn) process.stderr.write('\r\x1b[2K');
      drawn = false;
    },
  };
}

/** Options declared `multiple`; main passes them on as CommandValues, which has no arrays, so this reads what parseArgs really returns. */
function many(values: CommandValues, name: string): string[] {
  const raw: unknown = values[name];
  const list = Array.isArray(raw) ? (raw as unknown[]) : raw === undefined ? [] : [raw];
  return list.filter((value): value is string => typeof value === 'string');
}

function stringOption(values: CommandValues, name: string): string | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${name} needs a value.`);
  return value.trim();
}

const signerText = (signers: readonly Signer[]) => (signers.length === 0 ? 'nobody trusted here' : signers.map((signer) => `${signer.name} (${signer.keyId})`).join(', '));

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
  if (info === null || !info.isDirectory()) throw new AppError('bad_request', `A knowledge pack is a folder made by "soberana knowledge export"; "${addition.given}" is not a folder.`);
  let pack: { collection?: { name?: unknown } };
  try {
    pack = JSON.parse(await readFile(path.join(addition.source, PACK_FILE), 'utf8')) as typeof pack;
  } catch (error) {
    throw new AppError('bad_request', `"${addition.given}" is not a knowledge pack: its ${PACK_FILE} is missing or unreadable. Make one with "soberana knowledge export".`, error instanceof Error ? error.message : String(error));
  }
  const collection = typeof pack.collection?.name === 'string' ? pack.collection.name : path.basename(addition.source);
  const meta: FileMeta = { displayName: displayName ?? collection, collection };
  // The app imports the pack from its pack.json; the other files are found next to it.
  const folder = path.basename(addition.source);
  return (await walkFiles(addition.source)).map((relative) => ({ kind: 'knowledge-pack', source: path.join(addition.source, ...relative.split('/')), path: `${folder}/${relative}`, meta }));
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
      if (keyId !== undefined && publisher !== undefined && keyId !== publisher) throw new AppError('bad_request', `--publisher ${publisher} is not the id of --key's key (${keyId}).`);
      if (out !== undefined && (await lstat(path.resolve(out)).catch(() => null)) !== null) throw new AppError('bad_request', `"${path.resolve(out)}" already exists; choose another --out, nothing was overwritten.`);
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
        output.out(`created  ${manifest.id} v${manifest.version} (“${manifest.name}”): ${manifest.files.length} files, ${formatBytes(total)}, expires ${manifest.expires}`);
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
      if (output.json) output.out(JSON.stringify({ path: bundle, keyId: signed.keyId, signatures: signed.signatures.map((signature) => signature.keyId) }, null, 2));
      else output.out(`signed  ${bundle}\n  by ${signed.keyId}; ${signed.signatures.length} signature${signed.signatures.length === 1 ? '' : 's'}: ${signed.signatures.map((signature) => signature.keyId).join(', ')}`);
      return EXIT.ok;
    } catch (error) {
      return reportError(output, error);
    }
  },
};

export const bundleInspect: Command = {
  summary: "Show a bundle's manifest and signatures, without judging it",
  help: `Usage: soberana bundle inspect BUNDLE [--json]

Prints what the bundle says about itself: id, name, version, dates, publisher, files and
who signed it. Nothing is checked against this machine's trusted keys and no payload is
read: use "soberana bundle verify" for that.

Exit codes: 0 ok, 1 the bundle's manifest or signatures cannot be read (the reason's code
and message are printed), 2 bad usage.`,
  positionals: { min: 1, max: 1 },
  async run({ output, positionals }) {
    const bundle = path.resolve(positionals[0]!);
    try {
      await mustExist(bundle);
      const reading = await readHead(bundle);
      if (!reading.ok) {
        const { reason } = reading;
        if (output.json) output.out(JSON.stringify({ path: bundle, ok: false, rejection: { code: reason.code, message: reason.message, details: reason.details ?? null } }, null, 2));
        else output.err([`unreadable  ${bundle}`, `  ${reason.code}: ${reason.message}`, ...(reason.details === undefined ? [] : [`  ${reason.details}`])].join('\n'));
        return EXIT.problem;
      }
      const { head } = reading;
      const { manifest } = head;
      if (output.json) output.out(JSON.stringify({ path: bundle, form: head.form, manifest, signatures: head.signatures.map((signature) => ({ keyId: signature.keyId })) }, null, 2));
      else {
        output.out(
          [
            `${head.form === 'dir' ? 'bundle folder' : 'bundle archive'}  ${bundle}  (not verified)`,
            ...headLines(manifest),
            `  signatures ${head.signatures.length === 0 ? 'none' : head.signatures.map((signature) => signature.keyId).join(', ')}`,
            ...fileLines(manifest.files),
          ].join('\n'),
        );
      }
      return EXIT.ok;
    } catch (error) {
      return reportError(output, error);
    }
  },
};

async function mustExist(bundle: string): Promise<void> {
  if ((await stat(bundle).catch(() => null)) === null) throw new AppError('not_found', `There is no bundle at "${bundle}".`);
}

function headLines(manifest: { id: string; name: string; version: number; created: string; expires: string; publisher: string }): string[] {
  return [
    `  bundle     ${manifest.id} v${manifest.version} (“${manifest.name}”)`,
    `  created    ${manifest.created}`,
    `  expires    ${manifest.expires}`,
    `  publisher  ${manifest.publisher}`,
  ];
}

function fileLines(files: readonly Pick<ManifestFile, 'path' | 'kind' | 'size' | 'meta'>[]): string[] {
  const total = files.reduce((sum, file) => sum + file.size, 0);
  const kindWidth = Math.max(...files.map((file) => file.kind.length));
  const pathWidth = Math.max(...files.map((file) => file.path.length));
  return [
    `Contents: ${files.length} file${files.length === 1 ? '' : 's'}, ${formatBytes(total)}`,
    ...files.map((file) => {
      const name = typeof file.meta.displayName === 'string' ? `  ${file.meta.displayName}` : '';
      return `  ${file.kind.padEnd(kindWidth)}  ${file.path.padEnd(pathWidth)}  ${formatBytes(file.size).padStart(9)}${name}`;
    }),
  ];
}

function reportJson(bundle: string, report: VerificationReport, trust: TrustSource) {
  return {
    path: bundle,
    ok: report.ok,
    rejection: report.reason === undefined ? null : { code: report.reason.code, message: report.reason.message, details: report.reason.details ?? null },
    manifest: report.manifest,
    signers: report.signers,
    version: report.version,
    expires: report.expires,
    files: report.files,
    totalBytes: report.files.reduce((sum, file) => sum + file.size, 0),
    trust: { source: trust.source, threshold: trust.threshold, keys: trust.keys.map((key) => ({ id: key.id, name: key.name })) },
  };
}

/** The verification report for people: the verdict first, then who signed, then what is inside. */
function printReport(output: Output, bundle: string, report: VerificationReport, trust: TrustSource, governance: Governance): void {
  if (report.ok && report.manifest !== null) {
    output.out([`ok  ${bundle}`, ...headLines(report.manifest), `  signed by  ${signerText(report.signers)}`, ...fileLines(report.files)].join('\n'));
    output.err(trustLine(trust, governance));
    return;
  }
  const reason = report.reason;
  const lines = [`refused  ${bundle}`, `  ${reason?.code ?? 'refused'}: ${reason?.message ?? 'The bundle was refused.'}`];
  if (reason?.details !== undefined) lines.push(`  ${reason.details}`);
  // Before the signatures are accepted the manifest is only a claim; after, it is the publisher's word.
  if (report.manifest !== null && report.signers.length > 0) lines.push(...headLines(report.manifest), `  signed by  ${signerText(report.signers)}`);
  else if (report.manifest !== null) lines.push('What the bundle claims (not verified):', ...headLines(report.manifest));
  lines.push(trustLine(trust, governance));
  output.err(lines.join('\n'));
}

export const bundleVerify: Command = {
  summary: 'Check a bundle against this machine’s trusted keys, without installing',
  help: `Usage: soberana bundle verify BUNDLE [--json]

Checks the bundle completely, as an install would: signatures against this machine's
trusted keys (the policy's, or the development-mode keys of "soberana keys"), format,
expiry, that its version is newer than any installed, and every file's size and SHA-256.
Prints who signed it, its version and expiry, and its contents. Nothing is installed.

Exit codes: 0 the bundle would be accepted, 1 refused (the reason's code and message are
printed), 2 bad usage.`,
  positionals: { min: 1, max: 1 },
  async run({ dataDir, output, positionals, signal }) {
    const bundle = path.resolve(positionals[0]!);
    return withTrust(dataDir, output, async (db, governance) => {
      await mustExist(bundle);
      const trust = governance.trust(db);
      const printer = bytesPrinter(output.json);
      const report = await verifyBundle(bundle, trust, {
        db,
        graceDays: governance.policy.bundles.expiryGraceDays,
        signal,
        onProgress: (progress) => printer.update('verifying', progress.bytesDone, progress.bytesTotal, progress.file),
      }).finally(() => printer.done());
      if (output.json) output.out(JSON.stringify(reportJson(bundle, report, trust), null, 2));
      else printReport(output, bundle, report, trust, governance);
      return report.ok ? EXIT.ok : EXIT.problem;
    });
  },
};

/** Collections that came with a bundle, so the install and uninstall summaries can name them. */
function bundleCollections(core: Core, bundleId: string): string[] {
  const ids = new Set((core.storage.prepare('SELECT collection_id AS id FROM bundle_collections WHERE bundle_id = ?').all(bundleId) as { id: string }[]).map((row) => row.id));
  return core.knowledge
    .collections()
    .filter((collection) => ids.has(collection.id))
    .map((collection) => collection.name);
}

const bundleModels = (core: Core, bundle: Pick<InstalledBundle, 'id' | 'version'>) =>
  listModels(core.storage)
    .filter((model) => model.verifiedByBundle?.startsWith(`bundle ${bundle.id} v${bundle.version},`) === true)
    .map((model) => model.displayName);

export const bundleInstall: Command = {
  summary: 'Verify and install a bundle: models, knowledge packs, policy',
  help: `Usage: soberana bundle install BUNDLE [--json]

Verifies the bundle as "soberana bundle verify" does, then installs it as the app does:
models join the library marked as verified by the bundle, knowledge packs become
read-only collections. Nothing is changed unless every check passes; an install that
fails or is cancelled (Ctrl-C) leaves nothing behind. Progress goes to stderr.

Exit codes: 0 installed, 1 refused (the reason is printed) or the install failed,
2 bad usage.`,
  positionals: { min: 1, max: 1 },
  async run({ dataDir, output, positionals, signal }) {
    const bundle = path.resolve(positionals[0]!);
    return withCore(dataDir, output, async (core) => {
      await mustExist(bundle);
      const trust = core.governance.trust(core.storage);
      const printer = bytesPrinter(output.json);
      const outcome = await installWithPayloads(core.bundles, bundle, {
        signal,
        onProgress: (progress) => {
          if (progress.phase === 'verifying') printer.update('verifying', progress.bytesDone, progress.bytesTotal, progress.file);
          else if (progress.phase !== 'done') printer.step(progress.phase);
        },
      }).finally(() => printer.done());
      if (!outcome.ok) {
        if (output.json) output.out(JSON.stringify(reportJson(bundle, outcome.report, trust), null, 2));
        else printReport(output, bundle, outcome.report, trust, core.governance);
        return EXIT.problem;
      }
      const installed = outcome.bundle;
      const models = bundleModels(core, installed);
      const collections = bundleCollections(core, installed.id);
      if (output.json) output.out(JSON.stringify({ ok: true, bundle: installedEntry(installed), models, collections }, null, 2));
      else {
        output.out(`installed  ${installed.id} v${installed.version} (“${installed.name}”), signed by ${signerText(installed.signers)}`);
        if (models.length > 0) output.out(`  models       ${models.join(', ')}`);
        if (collections.length > 0) output.out(`  collections  ${collections.map((name) => `“${name}” (read-only)`).join(', ')}`);
      }
      return EXIT.ok;
    });
  },
};

export const bundleList: Command = {
  summary: 'List the installed bundles',
  help: `Usage: soberana bundle list [--json]

One line per installed bundle: id, version, name, who signed it, when it was installed
and when it expires.`,
  async run({ dataDir, output }) {
    return withTrust(dataDir, output, (db) => {
      const bundles = listBundles(db);
      if (output.json) output.out(JSON.stringify(bundles.map(installedEntry), null, 2));
      else if (bundles.length === 0) output.out('No bundle is installed. Install one with "soberana bundle install BUNDLE".');
      else {
        const header = ['ID', 'VERSION', 'INSTALLED', 'EXPIRES', 'SIGNED BY', 'NAME'];
        const rows = bundles.map((b) => [b.id, String(b.version), b.installedAt.slice(0, 10), b.expires.slice(0, 10), b.signers.map((s) => s.name).join(', ') || '-', b.name]);
        const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
        for (const row of [header, ...rows]) output.out(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
      }
      return EXIT.ok;
    });
  },
};

export const bundleUninstall: Command = {
  summary: 'Uninstall a bundle and what it brought',
  help: `Usage: soberana bundle uninstall ID [--json]

Removes an installed bundle: the models it brought leave the library (models that were
already there lose their "verified by bundle" mark) and its collections are deleted.
Its version stays recorded, so an older version of it is still refused.

Exit codes: 0 removed, 1 no bundle with that id is installed, 2 bad usage.`,
  positionals: { min: 1, max: 1 },
  async run({ dataDir, output, positionals }) {
    const id = positionals[0]!.trim();
    return withCore(dataDir, output, async (core) => {
      const bundle = getBundle(core.storage, id);
      if (bundle === null) throw new AppError('not_found', `No bundle with the id "${id}" is installed. Run "soberana bundle list" to see them.`);
      const models = bundleModels(core, bundle);
      const collections = bundleCollections(core, id);
      await uninstallWithPayloads(core.bundles, id);
      if (output.json) output.out(JSON.stringify({ removed: { id, version: bundle.version }, models, collections }, null, 2));
      else
        output.out(
          `uninstalled  ${id} v${bundle.version} (“${bundle.name}”)` +
            `${models.length > 0 ? `\n  models       ${models.join(', ')}` : ''}${collections.length > 0 ? `\n  collections  ${collections.map((name) => `“${name}”`).join(', ')}` : ''}`,
        );
      return EXIT.ok;
    });
  },
};
