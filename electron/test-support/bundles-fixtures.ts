import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../main/services/storage/sqlite.ts';
import { createBundle, signBundle } from '../main/services/bundles/create.ts';
import { generateKeyPair, type GeneratedKeyPair } from '../main/services/bundles/keys.ts';
import type { BundleKind } from '../main/services/bundles/manifest.ts';
import type { TrustSource } from '../main/services/bundles/trust.ts';

/** Shared by the bundle tests: real folders, real SQLite, real keys. */

export interface Workspace {
  readonly root: string;
  readonly dataDir: string;
  readonly src: string;
  readonly db: Database;
  close(): Promise<void>;
}

export async function workspace(prefix = 'soberana-bundles-'): Promise<Workspace> {
  const root = await mkdtemp(path.join(os.tmpdir(), prefix));
  const dataDir = path.join(root, 'data');
  const src = path.join(root, 'src');
  const db = openDatabase(dataDir);
  return {
    root,
    dataDir,
    src,
    db,
    async close() {
      if (db.isOpen) db.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export const trustOf = (keys: readonly GeneratedKeyPair[], threshold = 1, source: TrustSource['source'] = 'policy'): TrustSource => ({
  keys: keys.map((key, index) => ({ id: key.keyId, publicKey: key.publicKey, name: `Key ${index + 1}` })),
  threshold,
  source,
});

export interface PayloadSpec {
  readonly path: string;
  readonly kind: BundleKind;
  readonly bytes: Buffer;
}

export const defaultPayloads = (seed = 1): PayloadSpec[] => [
  { path: 'model.gguf', kind: 'model', bytes: pseudoRandom(3000 + seed, seed) },
  { path: 'packs/handbook.pack', kind: 'knowledge-pack', bytes: pseudoRandom(10_000, seed + 1) },
];

export function pseudoRandom(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < size; index += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[index] = state & 0xff;
  }
  return out;
}

export interface BuildOptions {
  readonly id?: string;
  readonly version?: number;
  readonly expires?: string;
  readonly created?: string;
  readonly payloads?: readonly PayloadSpec[];
  readonly signers?: readonly GeneratedKeyPair[];
  readonly form?: 'dir' | 'tar';
  readonly publisher?: GeneratedKeyPair;
}

/** Writes the payload sources, creates the bundle and signs it with each signer. */
export async function buildBundle(src: string, options: BuildOptions = {}): Promise<string> {
  const tag = randomBytes(4).toString('hex');
  const sourceDir = path.join(src, `sources-${tag}`);
  const payloads = options.payloads ?? defaultPayloads();
  const files = [];
  for (const [index, payload] of payloads.entries()) {
    const source = path.join(sourceDir, `${index}.bin`);
    await writeFileDeep(source, payload.bytes);
    files.push({ kind: payload.kind, source, path: payload.path, meta: { displayName: `File ${index}`, license: 'Apache-2.0' } });
  }
  const signers = options.signers ?? [];
  const publisher = options.publisher ?? signers[0] ?? generateKeyPair();
  const target = path.join(src, `bundle-${tag}${options.form === 'dir' ? '' : '.tar'}`);
  await createBundle({
    ...(options.form === 'dir' ? { dir: target } : { out: target }),
    id: options.id ?? 'acme.models',
    name: 'Acme models',
    version: options.version ?? 1,
    created: options.created ?? '2025-01-01T00:00:00Z',
    expires: options.expires ?? '2099-01-01T00:00:00Z',
    publisherKeyId: publisher.keyId,
    files,
  });
  for (const signer of signers) await signBundle(target, signer.privateKeyPem);
  await rm(sourceDir, { recursive: true, force: true });
  return target;
}

async function writeFileDeep(file: string, data: Buffer): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, data);
}

/** Every file and folder under `root` (minus `skip`), with file sizes and hashes. */
export async function snapshot(root: string, skip: (relative: string) => boolean): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (relative: string): Promise<void> => {
    for (const entry of await readdir(path.join(root, relative), { withFileTypes: true })) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (skip(child)) continue;
      if (entry.isDirectory()) {
        out[child] = 'dir';
        await walk(child);
      } else if (entry.isFile()) {
        const bytes = await readFile(path.join(root, child));
        out[child] = `${(await stat(path.join(root, child))).size}:${createHash('sha256').update(bytes).digest('hex')}`;
      } else {
        out[child] = 'other';
      }
    }
  };
  await walk('');
  return out;
}

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
