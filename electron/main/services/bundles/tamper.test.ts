import { link, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { Header, Pax } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleLimits } from './archive.ts';
import { canonicalJson } from './canonical.ts';
import { buildBundle, snapshot, trustOf, workspace, type Workspace } from '../../../test-support/bundles-fixtures.ts';
import { installBundle, verifyBundle, type BundleRejection, type TrustSource } from './index.ts';
import { generateKeyPair, loadPrivateKey, signBytes, type GeneratedKeyPair } from './keys.ts';
import { END_OF_ARCHIVE, fileHeader, padding } from './tar-writer.ts';
import { uniform } from '../../../../e2e/fixtures/gguf/prng.ts';

/**
 * Every case is a bundle damaged or crafted in one specific way. Each must be refused with
 * its precise reason, with nothing written outside staging and staging left empty.
 */

const SEED = Number(process.env.TAMPER_SEED ?? 0x7a3f);

const random = uniform(SEED);
const pick = (from: number, to: number): number => from + Math.floor(random() * (to - from));

interface Case {
  readonly name: string;
  readonly expected: BundleRejection;
  readonly make: () => Promise<string>;
  readonly trust?: TrustSource;
  readonly limits?: Partial<BundleLimits>;
  readonly now?: Date;
}

interface Region {
  readonly name: string;
  readonly header: number;
  readonly data: number;
  readonly size: number;
}

let ws: Workspace;
let key: GeneratedKeyPair;
let stranger: GeneratedKeyPair;
let trust: TrustSource;
let base: Buffer;
let regions: Region[];
let older: { v1: string; v3: string };
let counter = 0;

const file = (suffix = '.tar'): string => path.join(ws.src, `case-${(counter += 1)}${suffix}`);
const region = (name: string): Region =>
  regions.find((r) => r.name === name) ??
  (() => {
    throw new Error(name);
  })();

function entriesOf(tar: Buffer): Region[] {
  const out: Region[] = [];
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const header = new Header(tar, offset);
    if (header.nullBlock) break;
    const size = header.size ?? 0;
    out.push({ name: header.path ?? '', header: offset, data: offset + 512, size });
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

function flipBit(bytes: Buffer, from: number, to: number): Buffer {
  const copy = Buffer.from(bytes);
  const at = pick(from, to);
  copy[at] = (copy[at] ?? 0) ^ (1 << pick(0, 8));
  return copy;
}

/** A raw tar entry with any header fields, data padded to the block. */
function entry(name: string, data: Buffer | string = '', fields: Partial<ConstructorParameters<typeof Header>[0] & object> = {}): Buffer {
  const body = Buffer.from(data);
  const header = new Header({ path: name, mode: 0o644, size: body.length, mtime: new Date(0), type: 'File', ...fields });
  const block = Buffer.alloc(512);
  header.encode(block);
  return Buffer.concat([block, body, padding(body.length)]);
}

const slice = (r: Region): Buffer => base.subarray(r.data, r.data + r.size);
const head = (): Buffer => base.subarray(0, region('payload/model.gguf').header);
const payloadEntries = (): Buffer => base.subarray(region('payload/model.gguf').header, base.length - END_OF_ARCHIVE.length);

async function writeTar(parts: Buffer[]): Promise<string> {
  const target = file();
  await writeFile(target, Buffer.concat([...parts, END_OF_ARCHIVE]));
  return target;
}

/** A new head: `manifest` (bytes, signed by `signers` unless given raw signatures) replaces the base one. */
function signedHead(manifestBytes: Buffer, signers: readonly GeneratedKeyPair[] = [key], signatures?: string): Buffer {
  const sigs = signatures ?? canonicalJson(signers.map((signer) => signBytes(manifestBytes, loadPrivateKey(signer.privateKeyPem))));
  return Buffer.concat([
    fileHeader('manifest.json', manifestBytes.length),
    manifestBytes,
    padding(manifestBytes.length),
    fileHeader('manifest.sig.json', Buffer.byteLength(sigs)),
    Buffer.from(sigs),
    padding(Buffer.byteLength(sigs)),
  ]);
}

const baseManifest = (): Record<string, unknown> => JSON.parse(slice(region('manifest.json')).toString('utf8')) as Record<string, unknown>;
const manifestWith = (change: (m: Record<string, unknown> & { files: Record<string, unknown>[] }) => void): Buffer => {
  const manifest = baseManifest() as Record<string, unknown> & { files: Record<string, unknown>[] };
  change(manifest);
  return Buffer.from(canonicalJson(manifest));
};

async function dirCopy(change: (dir: string) => Promise<void>): Promise<string> {
  const dir = await buildBundle(ws.src, { form: 'dir', signers: [key], version: 2 });
  await change(dir);
  return dir;
}

function cases(): Case[] {
  const list: Case[] = [];
  const add = (name: string, expected: BundleRejection, make: () => Promise<string>, extra: Partial<Case> = {}): void =>
    void list.push({ name, expected, make, ...extra });
  const manifest = region('manifest.json');
  const model = region('payload/model.gguf');
  const pack = region('payload/packs/handbook.pack');

  for (let i = 0; i < 40; i += 1)
    add(`manifest bit-flip #${i}`, 'bad_signature', async () =>
      writeTar([flipBit(base, manifest.data, manifest.data + manifest.size).subarray(0, base.length - 1024)]),
    );
  for (let i = 0; i < 30; i += 1) {
    add(`signature bit-flip #${i}`, 'bad_signature', async () => {
      const [signature] = JSON.parse(slice(region('manifest.sig.json')).toString()) as { keyId: string; signature: string }[];
      const raw = flipBit(Buffer.from(signature?.signature ?? '', 'base64'), 0, 64);
      return writeTar([signedHead(slice(manifest), [], canonicalJson([{ keyId: key.keyId, signature: raw.toString('base64') }])), payloadEntries()]);
    });
  }
  for (let i = 0; i < 40; i += 1) {
    const target = i % 2 === 0 ? model : pack;
    add(`payload bit-flip #${i} in ${target.name}`, 'hash_mismatch', async () =>
      writeTar([flipBit(base, target.data, target.data + target.size).subarray(0, base.length - 1024)]),
    );
  }
  for (let i = 0; i < 40; i += 1) {
    const cut = i === 0 ? 0 : i === 1 ? base.length - 1 : pick(1, base.length - 1);
    add(`truncated at byte ${cut}`, 'truncated', async () => {
      const target = file();
      await writeFile(target, base.subarray(0, cut));
      return target;
    });
  }

  add('signed by an untrusted key', 'untrusted_key', async () => writeTar([signedHead(slice(manifest), [stranger]), payloadEntries()]));
  add('signed by an untrusted key (folder)', 'untrusted_key', async () => buildBundle(ws.src, { form: 'dir', signers: [stranger], version: 2 }));
  add('unsigned', 'unsigned', async () => writeTar([signedHead(slice(manifest), []), payloadEntries()]));
  add('one of two required signatures', 'below_threshold', async () => writeTar([head(), payloadEntries()]), { trust: trustOf([key, stranger], 2) });
  add(
    'trusted signature plus a bad one',
    'bad_signature',
    async () => {
      const sigs = [
        signBytes(slice(manifest), loadPrivateKey(key.privateKeyPem)),
        { keyId: stranger.keyId, signature: signBytes(Buffer.from('other'), loadPrivateKey(stranger.privateKeyPem)).signature },
      ];
      return writeTar([signedHead(slice(manifest), [], canonicalJson(sigs)), payloadEntries()]);
    },
    { trust: trustOf([key, stranger], 1) },
  );
  add('signature file is not JSON', 'malformed_signature', async () => writeTar([signedHead(slice(manifest), [], 'not json'), payloadEntries()]));
  add('expired', 'expired', async () => writeTar([head(), payloadEntries()]), { now: new Date('2099-02-01T00:00:00Z') });
  add('rolled-back version (freshly signed v2 after v3)', 'rollback', async () => buildBundle(ws.src, { id: 'acme.other', version: 2, signers: [key] }));
  add('replayed older bundle (the genuine v1 file)', 'rollback', async () => older.v1);
  add('replay of the installed version', 'replay', async () => older.v3);
  add('replay of the installed version, re-signed', 'replay', async () => buildBundle(ws.src, { id: 'acme.other', version: 3, signers: [key] }));

  add('manifest not canonical (signed)', 'malformed_manifest', async () => {
    const bytes = Buffer.from(JSON.stringify(baseManifest(), null, 2));
    return writeTar([signedHead(bytes), payloadEntries()]);
  });
  add('manifest not JSON (signed)', 'malformed_manifest', async () => writeTar([signedHead(Buffer.from('{"format":1,')), payloadEntries()]));
  add('manifest with version 0 (signed)', 'malformed_manifest', async () => writeTar([signedHead(manifestWith((m) => (m.version = 0))), payloadEntries()]));
  add('manifest with an unknown kind (signed)', 'malformed_manifest', async () =>
    writeTar([signedHead(manifestWith((m) => (m.files[0]!.kind = 'script'))), payloadEntries()]),
  );
  for (const evil of ['../x', '/etc/x', 'C:\\x', 'C:/x', 'a/../../x', 'a\\..\\x', 'x/./y', 'nul.txt']) {
    add(`manifest lists "${evil}" (signed)`, 'path_traversal', async () =>
      writeTar([signedHead(manifestWith((m) => (m.files[0]!.path = evil))), payloadEntries()]),
    );
  }
  add('manifest lists a path twice, differing in case (signed)', 'duplicate_path', async () =>
    writeTar([signedHead(manifestWith((m) => m.files.push({ ...m.files[0]!, path: 'MODEL.gguf' }))), payloadEntries()]),
  );

  const escapes = [
    '../x',
    '/ABS',
    'C:\\x',
    'C:/x',
    'a/../../x',
    'payload/../../x',
    'payload/../manifest.json',
    'payload/a\\b',
    'payload//model.gguf',
    'payload/./model.gguf',
    './payload/model.gguf',
    '..',
  ];
  for (const name of escapes) {
    const resolved = name === '/ABS' ? () => path.join(ws.root, 'evil') : () => name;
    add(`entry "${name}" after the signed head`, 'path_traversal', async () => writeTar([head(), entry(resolved(), 'evil'), payloadEntries()]));
    add(`entry "${name}" before the manifest`, 'path_traversal', async () => writeTar([entry(resolved(), 'evil'), base.subarray(0, base.length - 1024)]));
  }
  add('PAX header renames a payload to ../evil', 'path_traversal', async () =>
    writeTar([head(), new Pax({ path: '../evil' }).encode(), entry('payload/model.gguf', slice(model))]),
  );
  add('symlink in place of a payload', 'link_entry', async () =>
    writeTar([head(), entry('payload/model.gguf', '', { type: 'SymbolicLink', linkpath: '/etc/passwd', size: 0 }), payloadEntries()]),
  );
  add('symlinked payload folder', 'link_entry', async () =>
    writeTar([head(), entry('payload/packs', '', { type: 'SymbolicLink', linkpath: '../../..', size: 0 }), payloadEntries()]),
  );
  add('hard link to a payload', 'link_entry', async () =>
    writeTar([head(), entry('payload/model.gguf', '', { type: 'Link', linkpath: '/etc/passwd', size: 0 }), payloadEntries()]),
  );
  add('hard link as the first entry', 'link_entry', async () =>
    writeTar([entry('manifest.json', '', { type: 'Link', linkpath: '/etc/passwd', size: 0 }), base.subarray(0, base.length - 1024)]),
  );
  add('character device', 'unsupported_entry', async () =>
    writeTar([head(), entry('payload/model.gguf', '', { type: 'CharacterDevice', size: 0, devmaj: 1, devmin: 3 }), payloadEntries()]),
  );
  add('block device', 'unsupported_entry', async () => writeTar([head(), entry('payload/disk', '', { type: 'BlockDevice', size: 0 }), payloadEntries()]));
  add('FIFO', 'unsupported_entry', async () => writeTar([head(), entry('payload/pipe', '', { type: 'FIFO', size: 0 }), payloadEntries()]));
  add('unknown entry type', 'unsupported_entry', async () => {
    const raw = entry('payload/odd', 'x');
    raw[156] = 'Z'.charCodeAt(0);
    const header = new Header(raw);
    header.encode(raw);
    raw[156] = 'Z'.charCodeAt(0);
    // Recompute the checksum by hand for the unknown type byte.
    raw.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i += 1) sum += raw[i] ?? 0;
    raw.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    return writeTar([head(), raw, payloadEntries()]);
  });

  add('payload twice', 'duplicate_path', async () => writeTar([head(), payloadEntries(), entry('payload/model.gguf', slice(model))]));
  add('payload twice, differing in case', 'duplicate_path', async () =>
    writeTar([head(), entry('payload/model.gguf', slice(model)), entry('payload/MODEL.gguf', slice(model)), entry('payload/packs/handbook.pack', slice(pack))]),
  );
  add('second manifest.json', 'duplicate_path', async () => writeTar([head(), entry('manifest.json', '{}'), payloadEntries()]));
  add('extra payload file', 'unlisted_file', async () => writeTar([head(), payloadEntries(), entry('payload/extra.bin', 'surprise')]));
  add('extra top-level file', 'unlisted_file', async () => writeTar([head(), entry('install.sh', 'rm -rf /'), payloadEntries()]));
  add('extra top-level folder', 'unlisted_file', async () => writeTar([head(), entry('other/', '', { type: 'Directory', size: 0 }), payloadEntries()]));
  add('missing payload', 'missing_file', async () => writeTar([head(), entry('payload/model.gguf', slice(model))]));
  add('no payload at all', 'missing_file', async () => writeTar([head()]));
  add('payload before the head', 'malformed_archive', async () => writeTar([entry('payload/model.gguf', slice(model)), head(), payloadEntries()]));
  add('header checksum damaged', 'malformed_archive', async () => {
    const copy = Buffer.from(base);
    copy[model.header + 10] = (copy[model.header + 10] ?? 0) ^ 0x01;
    return writeTar([copy.subarray(0, copy.length - 1024)]);
  });

  add('declared smaller than the file (signed)', 'oversized', async () =>
    writeTar([signedHead(manifestWith((m) => (m.files[0]!.size = model.size - 1))), payloadEntries()]),
  );
  add('declared larger than the file (signed)', 'size_mismatch', async () =>
    writeTar([signedHead(manifestWith((m) => (m.files[0]!.size = model.size + 1))), payloadEntries()]),
  );
  add('declared larger, tar header agrees, data is short', 'truncated', async () => {
    const target = file();
    await writeFile(
      target,
      Buffer.concat([
        signedHead(manifestWith((m) => (m.files[0]!.size = model.size + 4096))),
        fileHeader('payload/model.gguf', model.size + 4096),
        slice(model),
      ]),
    );
    return target;
  });
  add('entry above the per-file limit', 'oversized', async () => writeTar([head(), payloadEntries()]), { limits: { maxFileBytes: 5000 } });
  add('manifest above its limit', 'oversized', async () => writeTar([head(), payloadEntries()]), { limits: { maxManifestBytes: 100 } });
  // Listed folders count too: the head's own check (2 files + 3) passes at 5, the stream's count does not.
  add(
    'too many entries',
    'too_many_entries',
    async () =>
      writeTar([head(), entry('payload/', '', { type: 'Directory', size: 0 }), entry('payload/packs/', '', { type: 'Directory', size: 0 }), payloadEntries()]),
    { limits: { maxEntries: 5 } },
  );

  // Findings of the review in issue 12: each was accepted, misread or crashed the reader.
  const withText = (from: string, to: string): Buffer => {
    const text = slice(manifest).toString('utf8');
    if (!text.includes(from)) throw new Error(`base manifest lacks ${from}`);
    return Buffer.from(text.replace(from, to));
  };
  add('manifest name holds a lone surrogate (signed)', 'malformed_manifest', async () =>
    writeTar([signedHead(withText('"name":"Acme models"', '"name":"\\ud800"')), payloadEntries()]),
  );
  add('manifest meta holds a lone surrogate (signed)', 'malformed_manifest', async () =>
    writeTar([signedHead(withText('"displayName":"File 0"', '"displayName":"File \\udc00"')), payloadEntries()]),
  );
  add('manifest meta nests arrays 300,000 deep (signed)', 'malformed_manifest', async () =>
    writeTar([signedHead(withText('"displayName":"File 0"', `"deep":${'['.repeat(300_000)}${']'.repeat(300_000)},"displayName":"File 0"`)), payloadEntries()]),
  );
  add('manifest meta nests 34 levels, above the bound of 32 (signed)', 'malformed_manifest', async () =>
    writeTar([signedHead(withText('"displayName":"File 0"', `"deep":${'['.repeat(30)}${']'.repeat(30)},"displayName":"File 0"`)), payloadEntries()]),
  );
  add('PAX global header renaming everything after the head', 'unsupported_entry', async () =>
    writeTar([head(), new Pax({ path: '../evil' }, true).encode(), payloadEntries()]),
  );
  add('PAX global header before the manifest', 'unsupported_entry', async () =>
    writeTar([new Pax({ path: 'payload/model.gguf' }, true).encode(), base.subarray(0, base.length - 1024)]),
  );
  add('PAX global header after the payload', 'unsupported_entry', async () =>
    writeTar([head(), payloadEntries(), new Pax({ comment: 'hello' }, true).encode()]),
  );
  add('PAX path with a NUL inside', 'path_traversal', async () =>
    writeTar([
      head(),
      new Pax({ path: 'payload/model.gguf\0../../evil' }).encode(),
      entry('payload/other', slice(model)),
      entry('payload/packs/handbook.pack', slice(pack)),
    ]),
  );
  add('GNU long name with a NUL inside', 'path_traversal', async () =>
    writeTar([
      head(),
      entry('././@LongLink', 'payload/model.gguf\0../../evil\0', { type: 'NextFileHasLongPath' }),
      entry('payload/other', slice(model)),
      entry('payload/packs/handbook.pack', slice(pack)),
    ]),
  );
  add('PAX linkpath on a plain file', 'malformed_archive', async () => writeTar([head(), new Pax({ linkpath: '/etc/passwd' }).encode(), payloadEntries()]));
  add('PAX key for sparse files', 'unsupported_entry', async () =>
    writeTar([head(), entry('PaxHeader/model.gguf', '24 GNU.sparse.size=9999\n', { type: 'ExtendedHeader' }), payloadEntries()]),
  );
  add('folder entry payload/extra/', 'unlisted_file', async () =>
    writeTar([head(), entry('payload/extra/', '', { type: 'Directory', size: 0 }), payloadEntries()]),
  );
  add('folder entry named like a listed file', 'unlisted_file', async () =>
    writeTar([head(), entry('payload/model.gguf/', '', { type: 'Directory', size: 0 }), payloadEntries()]),
  );
  add('folder entry differing in case from a listed folder', 'unlisted_file', async () =>
    writeTar([head(), entry('payload/PACKS/', '', { type: 'Directory', size: 0 }), payloadEntries()]),
  );
  add('folder entry with data (a smuggled header inside)', 'malformed_archive', async () => {
    const raw = entry('payload/packs/', entry('payload/extra.bin', 'x'), { type: 'File' });
    raw[156] = '5'.charCodeAt(0);
    raw.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i += 1) sum += raw[i] ?? 0;
    raw.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    return writeTar([head(), raw, payloadEntries()]);
  });
  add('old-style folder: a file entry ending in "/" with data', 'path_traversal', async () =>
    writeTar([head(), entry('payload/packs/', entry('payload/extra.bin', 'x')), payloadEntries()]),
  );
  add('gzip-compressed archive', 'malformed_archive', async () => {
    const target = file('.tar.gz');
    await writeFile(target, gzipSync(base));
    return target;
  });
  add('a lone zero block hides entries from other tar readers', 'malformed_archive', async () => writeTar([head(), Buffer.alloc(512), payloadEntries()]));
  add('a V7 header (no ustar magic)', 'malformed_archive', async () => {
    const raw = entry('payload/extra.bin', 'x');
    raw.fill(0, 257, 265);
    raw.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i += 1) sum += raw[i] ?? 0;
    raw.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    return writeTar([head(), raw, payloadEntries()]);
  });
  for (const device of ['CONIN$', 'conout$', 'Conin$.txt', 'CONOUT$.log', 'con .txt']) {
    add(`manifest lists "${device}" (signed)`, 'path_traversal', async () =>
      writeTar([signedHead(manifestWith((m) => (m.files[0]!.path = `dir/${device}`))), payloadEntries()]),
    );
  }
  add('entry "payload/CONIN$" after the signed head', 'path_traversal', async () => writeTar([head(), entry('payload/CONIN$', 'x'), payloadEntries()]));
  add('manifest.sig.json is a folder entry', 'malformed_signature', async () =>
    writeTar([base.subarray(0, region('manifest.sig.json').header), entry('manifest.sig.json/', '', { type: 'Directory', size: 0 }), payloadEntries()]),
  );
  add('folder: manifest.sig.json is a folder', 'malformed_signature', async () =>
    dirCopy(async (dir) => {
      await rm(path.join(dir, 'manifest.sig.json'));
      await mkdir(path.join(dir, 'manifest.sig.json'));
    }),
  );
  add('folder: manifest.json is a folder', 'malformed_manifest', async () =>
    dirCopy(async (dir) => {
      await rm(path.join(dir, 'manifest.json'));
      await mkdir(path.join(dir, 'manifest.json'));
    }),
  );
  add('folder: an extra empty folder', 'unlisted_file', async () => dirCopy(async (dir) => mkdir(path.join(dir, 'payload', 'extra'))));
  add('folder: an extra empty folder inside a listed one', 'unlisted_file', async () =>
    dirCopy(async (dir) => mkdir(path.join(dir, 'payload', 'packs', 'extra'))),
  );
  add('folder: a folder named like a listed file', 'unlisted_file', async () =>
    dirCopy(async (dir) => {
      await rm(path.join(dir, 'payload', 'model.gguf'));
      await mkdir(path.join(dir, 'payload', 'model.gguf'));
    }),
  );

  // The folder form gets the same treatment where it applies.
  for (let i = 0; i < 10; i += 1) {
    add(`folder: manifest bit-flip #${i}`, 'bad_signature', async () =>
      dirCopy(async (dir) => {
        const bytes = await readFile(path.join(dir, 'manifest.json'));
        await writeFile(path.join(dir, 'manifest.json'), flipBit(bytes, 0, bytes.length));
      }),
    );
    add(`folder: payload bit-flip #${i}`, 'hash_mismatch', async () =>
      dirCopy(async (dir) => {
        const target = path.join(dir, 'payload', i % 2 === 0 ? 'model.gguf' : 'packs/handbook.pack');
        const bytes = await readFile(target);
        await writeFile(target, flipBit(bytes, 0, bytes.length));
      }),
    );
  }
  add('folder: symlinked payload', 'link_entry', async () =>
    dirCopy(async (dir) => {
      await rm(path.join(dir, 'payload', 'model.gguf'));
      await symlink('/etc/passwd', path.join(dir, 'payload', 'model.gguf'));
    }),
  );
  add('folder: symlinked payload folder', 'link_entry', async () =>
    dirCopy(async (dir) => {
      await rm(path.join(dir, 'payload', 'packs'), { recursive: true });
      await symlink(ws.root, path.join(dir, 'payload', 'packs'));
    }),
  );
  add('folder: symlinked manifest', 'link_entry', async () =>
    dirCopy(async (dir) => {
      await writeFile(path.join(ws.src, 'elsewhere.json'), await readFile(path.join(dir, 'manifest.json')));
      await rm(path.join(dir, 'manifest.json'));
      await symlink(path.join(ws.src, 'elsewhere.json'), path.join(dir, 'manifest.json'));
    }),
  );
  add('folder: hard-linked payload', 'link_entry', async () =>
    dirCopy(async (dir) => {
      await link(path.join(dir, 'payload', 'model.gguf'), path.join(ws.src, `hard-${counter}`));
    }),
  );
  add('folder: extra payload file', 'unlisted_file', async () => dirCopy(async (dir) => writeFile(path.join(dir, 'payload', 'extra.bin'), 'x')));
  add('folder: extra top-level file', 'unlisted_file', async () => dirCopy(async (dir) => writeFile(path.join(dir, 'README'), 'x')));
  add('folder: missing payload', 'missing_file', async () => dirCopy(async (dir) => rm(path.join(dir, 'payload', 'model.gguf'))));
  add('folder: payload grew', 'oversized', async () =>
    dirCopy(async (dir) =>
      writeFile(path.join(dir, 'payload', 'model.gguf'), Buffer.concat([await readFile(path.join(dir, 'payload', 'model.gguf')), Buffer.from('!')])),
    ),
  );
  add('folder: payload shrank', 'size_mismatch', async () =>
    dirCopy(async (dir) => writeFile(path.join(dir, 'payload', 'model.gguf'), (await readFile(path.join(dir, 'payload', 'model.gguf'))).subarray(1))),
  );
  add('folder: no signature file', 'malformed_signature', async () => dirCopy(async (dir) => rm(path.join(dir, 'manifest.sig.json'))));
  add('folder: no manifest', 'malformed_manifest', async () => dirCopy(async (dir) => rm(path.join(dir, 'manifest.json'))));
  add('folder: payload folder is a file', 'unlisted_file', async () =>
    dirCopy(async (dir) => {
      await rm(path.join(dir, 'payload'), { recursive: true });
      await writeFile(path.join(dir, 'payload'), 'x');
    }),
  );
  return list;
}

beforeAll(async () => {
  ws = await workspace('soberana-tamper-');
  key = generateKeyPair();
  stranger = generateKeyPair();
  trust = trustOf([key]);
  // A previous state to protect: acme.models v1 installed; acme.other at v3 (after v1 and v2).
  const opts = { db: ws.db, dataDir: ws.dataDir };
  expect((await installBundle(await buildBundle(ws.src, { signers: [key], version: 1 }), trust, opts)).ok).toBe(true);
  older = {
    v1: await buildBundle(ws.src, { id: 'acme.other', signers: [key], version: 1 }),
    v3: await buildBundle(ws.src, { id: 'acme.other', signers: [key], version: 3 }),
  };
  for (const version of [older.v1, await buildBundle(ws.src, { id: 'acme.other', signers: [key], version: 2 }), older.v3])
    expect((await installBundle(version, trust, opts)).ok).toBe(true);
  const baseFile = await buildBundle(ws.src, { signers: [key], version: 2 });
  base = await readFile(baseFile);
  regions = entriesOf(base);
  expect(regions.map((r) => r.name)).toEqual(['manifest.json', 'manifest.sig.json', 'payload/model.gguf', 'payload/packs/handbook.pack']);
  // The untouched base installs fine, in a throwaway data folder: the cases below are the only difference.
  const control = await workspace('soberana-tamper-control-');
  try {
    expect((await verifyBundle(baseFile, trust, { db: control.db })).ok).toBe(true);
  } finally {
    await control.close();
  }
});

afterAll(async () => {
  await ws?.close();
});

const outsideStaging = (relative: string): boolean =>
  relative === 'data/bundles/staging' || relative.startsWith('data/bundles/staging/') || relative.endsWith('.db-shm');

describe(`tampered bundles (seed ${SEED})`, () => {
  it('are each refused with the precise reason, writing nothing outside staging', { timeout: 60_000 }, async () => {
    const all = cases();
    expect(all.length).toBeGreaterThanOrEqual(200);
    const started = performance.now();
    const failures: string[] = [];
    const seen = new Set<BundleRejection>();
    for (const testCase of all) {
      const bundle = await testCase.make();
      const before = await snapshot(ws.root, outsideStaging);
      const rows = ws.db
        .prepare(
          'SELECT (SELECT count(*) FROM bundles) AS b, (SELECT count(*) FROM bundle_files) AS f, (SELECT group_concat(id || highest_version) FROM bundle_versions) AS v',
        )
        .get();
      const outcome = await installBundle(bundle, testCase.trust ?? trust, {
        db: ws.db,
        dataDir: ws.dataDir,
        ...(testCase.limits === undefined ? {} : { limits: testCase.limits }),
        ...(testCase.now === undefined ? {} : { now: testCase.now }),
      }).catch((error: unknown) => ({ ok: 'threw' as const, error }));
      const code = outcome.ok === 'threw' ? `threw ${String(outcome.error)}` : outcome.ok ? 'accepted' : outcome.report.reason?.code;
      if (code !== testCase.expected)
        failures.push(
          `${testCase.name}: expected ${testCase.expected}, got ${code}${outcome.ok === false ? ` (${outcome.report.reason?.details ?? ''})` : ''}`,
        );
      else seen.add(testCase.expected);
      if (outcome.ok === false) expect(outcome.report.reason?.message.length).toBeGreaterThan(40);
      expect(await snapshot(ws.root, outsideStaging), testCase.name).toEqual(before);
      expect(
        ws.db
          .prepare(
            'SELECT (SELECT count(*) FROM bundles) AS b, (SELECT count(*) FROM bundle_files) AS f, (SELECT group_concat(id || highest_version) FROM bundle_versions) AS v',
          )
          .get(),
        testCase.name,
      ).toEqual(rows);
      expect(await readdir(path.join(ws.dataDir, 'bundles', 'staging')), testCase.name).toEqual([]);
      await rm(bundle, { recursive: true, force: true });
    }
    expect(failures).toEqual([]);
    const elapsed = performance.now() - started;
    console.log(`${all.length} tamper cases, ${seen.size} distinct reasons, ${Math.round(elapsed)} ms (seed ${SEED})`);
  });

  it('reads folder entries of listed folders, PAX paths and GNU long names', async () => {
    const dir = (name: string): Buffer => entry(name, '', { type: 'Directory', size: 0 });
    const variants = [
      [head(), dir('payload/'), dir('payload/packs/'), payloadEntries()],
      [
        head(),
        new Pax({ path: 'payload/model.gguf' }).encode(),
        entry('payload/other', slice(region('payload/model.gguf'))),
        entry('payload/packs/handbook.pack', slice(region('payload/packs/handbook.pack'))),
      ],
      [
        head(),
        entry('././@LongLink', 'payload/model.gguf\0', { type: 'NextFileHasLongPath' }),
        entry('payload/other', slice(region('payload/model.gguf'))),
        entry('payload/packs/handbook.pack', slice(region('payload/packs/handbook.pack'))),
      ],
    ];
    const control = await workspace('soberana-tamper-readable-');
    try {
      for (const parts of variants) {
        const report = await verifyBundle(await writeTar(parts), trust, { db: control.db });
        expect(report.reason).toBeUndefined();
        expect(report.ok).toBe(true);
      }
    } finally {
      await control.close();
    }
  });

  it('verifyBundle gives the same reasons without a data folder to write to', async () => {
    const all = cases().filter((_, index) => index % 7 === 0);
    for (const testCase of all) {
      const bundle = await testCase.make();
      const report = await verifyBundle(bundle, testCase.trust ?? trust, {
        db: ws.db,
        ...(testCase.limits === undefined ? {} : { limits: testCase.limits }),
        ...(testCase.now === undefined ? {} : { now: testCase.now }),
      });
      expect(report.reason?.code, testCase.name).toBe(testCase.expected);
      await rm(bundle, { recursive: true, force: true });
    }
  });
});
