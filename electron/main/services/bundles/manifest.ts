import { z } from 'zod';
import { canonicalJson } from './canonical.ts';
import { asRejection, reject } from './rejections.ts';

export const bundleKinds = ['model', 'embedding-model', 'reranker', 'knowledge-pack', 'policy', 'runtime'] as const;
export type BundleKind = (typeof bundleKinds)[number];

export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURES_FILE = 'manifest.sig.json';
export const PAYLOAD_DIR = 'payload';

/** Ids become folder names under installed/, so they are kept to a portable, case-folded alphabet. */
const ID = /^[a-z0-9](?:[a-z0-9._-]{0,126}[a-z0-9])?$/;
const KEY_ID = /^[0-9a-f]{16}$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** Settings a model publisher recommends; unknown ones are kept so newer apps can read them. */
const recommended = z.record(z.string().min(1).max(100), z.union([z.string().max(1000), z.number(), z.boolean()])).optional();
const common = {
  displayName: z.string().trim().min(1).max(200),
  license: z.string().max(200).optional(),
  description: z.string().max(4000).optional(),
};

const modelMeta = z.looseObject({ ...common, recommended });
const metaByKind = {
  model: modelMeta,
  'embedding-model': z.looseObject({ ...common, dimensions: z.int().min(1).max(65_536).optional(), recommended }),
  reranker: modelMeta,
  'knowledge-pack': z.looseObject({ ...common, collection: z.string().trim().min(1).max(200).optional() }),
  policy: z.looseObject({ ...common, displayName: common.displayName.optional() }),
  // Every file of a runtime pack carries the same description (see runtime-pack.ts).
  runtime: z.looseObject({
    ...common,
    backend: z.enum(['cpu', 'cuda', 'vulkan', 'metal']),
    platform: z.enum(['linux', 'win', 'mac']),
    arch: z.string().regex(/^[a-z0-9]{1,16}$/),
    package: z.string().regex(/^@node-llama-cpp\/[a-z0-9-]{1,100}$/, 'a package name such as "@node-llama-cpp/linux-x64-vulkan"'),
    nodeLlamaCpp: z.string().regex(/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/, 'the node-llama-cpp version, such as "3.21.1"'),
  }),
} satisfies Record<BundleKind, z.ZodType>;

const fileBase = {
  path: z.string().min(1).max(1024),
  size: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  sha256: z.string().regex(SHA256, 'lowercase hex SHA-256'),
};

const fileOf = <K extends BundleKind>(kind: K) => z.strictObject({ ...fileBase, kind: z.literal(kind), meta: metaByKind[kind] });
const manifestFile = z.discriminatedUnion('kind', [
  fileOf('model'),
  fileOf('embedding-model'),
  fileOf('reranker'),
  fileOf('knowledge-pack'),
  fileOf('policy'),
  fileOf('runtime'),
]);

export type FileMeta = {
  displayName?: string;
  license?: string;
  description?: string;
  recommended?: Record<string, string | number | boolean>;
  [key: string]: unknown;
};

export interface ManifestFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  readonly kind: BundleKind;
  readonly meta: FileMeta;
}

export interface Manifest {
  readonly format: 1;
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly created: string;
  readonly expires: string;
  readonly publisher: string;
  readonly files: readonly ManifestFile[];
}

const isoTimestamp = z.iso.datetime({ offset: true });

export const manifestSchema = z
  .strictObject({
    format: z.literal(1),
    id: z.string().regex(ID, 'lowercase letters, digits, ".", "_" and "-", at most 128 characters'),
    name: z.string().trim().min(1).max(200),
    version: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
    created: isoTimestamp,
    expires: isoTimestamp,
    publisher: z.string().regex(KEY_ID, 'a key id: 16 lowercase hex characters'),
    files: z.array(manifestFile).min(1),
  })
  .refine((manifest) => Date.parse(manifest.created) < Date.parse(manifest.expires), { message: 'expires must be after created', path: ['expires'] });

/** Names Windows opens as devices, whatever the extension (and spaces before it): CON, CONIN$, NUL, COM1… */
const RESERVED_WINDOWS = /^(con|conin\$|conout\$|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]) *(\..*)?$/i;

/**
 * Why `relative` is not a safe path below payload/, or null. Safe means: it resolves inside
 * its folder on every platform the app runs on, so no `..`, no root, no drive or stream
 * (`:`), no backslash (a separator on Windows), and no name Windows would alias.
 */
export function unsafePathReason(relative: string): string | null {
  if (relative.length === 0) return 'empty path';
  if (relative.length > 1024) return 'path longer than 1024 characters';
  if (relative.includes('\\')) return 'backslash in path';
  if (relative.includes(':')) return 'drive letter or ":" in path';
  if (relative.startsWith('/')) return 'absolute path';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(relative)) return 'control character in path';
  for (const segment of relative.split('/')) {
    if (segment === '' || segment === '.') return 'empty or "." path segment';
    if (segment === '..') return '".." path segment';
    if (segment.length > 255) return 'path segment longer than 255 characters';
    if (/[. ]$/.test(segment)) return 'path segment ending in "." or a space';
    if (RESERVED_WINDOWS.test(segment)) return `reserved device name "${segment}"`;
  }
  return null;
}

/** Two paths that one file system might treat as the same file collide. */
export const collisionKey = (relative: string): string => relative.normalize('NFC').toLowerCase();

/**
 * Parses manifest.json. Its bytes must be the canonical JSON of the manifest: the signature
 * covers exactly those bytes, so there is never a question of what was signed.
 */
export function parseManifest(bytes: Buffer): Manifest {
  try {
    return parseManifestStrict(bytes);
  } catch (error) {
    // Any input the checks below did not foresee is still a malformed manifest, not a crash.
    throw asRejection(error, 'malformed_manifest');
  }
}

/** Deeper than any genuine manifest (about 4 levels), shallow enough for every recursive step after. */
export const MAX_MANIFEST_DEPTH = 32;

/** The deepest nesting of arrays and objects in JSON text, counted without recursion. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === 0x5c) index += 1;
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x5b || char === 0x7b) deepest = Math.max(deepest, (depth += 1));
    else if (char === 0x5d || char === 0x7d) depth -= 1;
  }
  return deepest;
}

function parseManifestStrict(bytes: Buffer): Manifest {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (error) {
    reject('malformed_manifest', 'The bundle manifest (manifest.json) is not valid UTF-8. Rebuild the bundle with "soberana bundle create".', errorText(error));
  }
  // Bounded before anything recursive (the schema, canonical JSON) sees the value.
  const depth = jsonDepth(text);
  if (depth > MAX_MANIFEST_DEPTH) {
    reject(
      'malformed_manifest',
      `The bundle manifest (manifest.json) nests values ${depth} levels deep, more than the ${MAX_MANIFEST_DEPTH} allowed. Rebuild the bundle with "soberana bundle create".`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    reject('malformed_manifest', 'The bundle manifest (manifest.json) is not valid JSON. Rebuild the bundle with "soberana bundle create".', errorText(error));
  }
  let canonical: string;
  try {
    canonical = canonicalJson(value);
  } catch (error) {
    // A lone surrogate ("\ud800") has no UTF-8 form: readers would disagree on what it says.
    reject(
      'malformed_manifest',
      'The bundle manifest (manifest.json) holds a value that is not valid JSON text (for example a string that is not valid Unicode). Rebuild the bundle with "soberana bundle create".',
      errorText(error),
    );
  }
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) {
    reject(
      'malformed_manifest',
      'The bundle manifest (manifest.json) does not follow the bundle format. Rebuild the bundle with "soberana bundle create".',
      z.prettifyError(parsed.error),
    );
  }
  const manifest = parsed.data as Manifest;
  if (canonical !== text) {
    reject(
      'malformed_manifest',
      'The bundle manifest (manifest.json) is not in canonical form, so its signature cannot be checked. Rebuild the bundle with "soberana bundle create".',
    );
  }
  checkManifestFiles(manifest);
  return manifest;
}

export function checkManifestFiles(manifest: Manifest): void {
  const seen = new Set<string>();
  for (const file of manifest.files) {
    const unsafe = unsafePathReason(file.path);
    if (unsafe !== null) {
      reject(
        'path_traversal',
        `The bundle lists a file at an unsafe location ("${file.path}"): ${unsafe}. Such a bundle could write outside its folder; do not install it.`,
      );
    }
    const key = collisionKey(file.path);
    if (seen.has(key)) reject('duplicate_path', `The bundle manifest lists "${file.path}" twice (letter case aside). Rebuild the bundle.`);
    seen.add(key);
  }
  for (const file of manifest.files) {
    const segments = collisionKey(file.path).split('/');
    for (let depth = 1; depth < segments.length; depth += 1) {
      if (seen.has(segments.slice(0, depth).join('/')))
        reject(
          'duplicate_path',
          `The bundle manifest uses "${file.path.split('/').slice(0, depth).join('/')}" both as a file and as a folder. Rebuild the bundle.`,
        );
    }
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
