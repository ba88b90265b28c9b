import { z } from 'zod';

// Signed offline bundles as the renderer sees them: a verification report before anything
// is installed, install progress, and the installed bundles.

export const BundleKind = z.enum(['model', 'embedding-model', 'reranker', 'knowledge-pack', 'policy', 'runtime']);
export type BundleKind = z.infer<typeof BundleKind>;

export const BundleFile = z.object({
  path: z.string(),
  kind: BundleKind,
  size: z.number().int().nonnegative(),
  sha256: z.string(),
  displayName: z.string().nullable(),
  license: z.string().nullable(),
});
export type BundleFile = z.infer<typeof BundleFile>;

export const BundleSigner = z.object({ keyId: z.string(), name: z.string() });

export const BundleReport = z.object({
  /** The picked file, named by an opaque token; the renderer never sees a path. */
  token: z.string(),
  fileName: z.string(),
  ok: z.boolean(),
  /** Why it was refused, in words an IT person can act on; null when it passed. */
  rejection: z.object({ code: z.string(), message: z.string(), details: z.string().nullable() }).nullable(),
  id: z.string().nullable(),
  name: z.string().nullable(),
  version: z.number().int().nullable(),
  created: z.string().nullable(),
  expires: z.string().nullable(),
  publisher: z.string().nullable(),
  signers: z.array(BundleSigner),
  files: z.array(BundleFile),
  totalBytes: z.number().int().nonnegative(),
  /** The version installed now for this id, if any (an upgrade), and the highest ever seen. */
  installedVersion: z.number().int().nullable(),
});
export type BundleReport = z.infer<typeof BundleReport>;

export const InstalledBundleEntry = z.object({
  id: z.string(),
  name: z.string(),
  version: z.number().int(),
  publisher: z.string(),
  signers: z.array(BundleSigner),
  installedAt: z.string(),
  expires: z.string(),
  files: z.array(BundleFile),
  /** Its knowledge packs' acceptance checks, summed over their latest runs; null or absent when they carry none or have not run. */
  checks: z
    .object({ total: z.number().int().nonnegative(), passed: z.number().int().nonnegative(), failed: z.number().int().nonnegative(), disabled: z.boolean() })
    .nullable()
    .optional(),
});
export type InstalledBundleEntry = z.infer<typeof InstalledBundleEntry>;

export const BundleInstallEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('progress'),
    phase: z.enum(['verifying', 'installing', 'registering', 'done']),
    file: z.string().nullable(),
    bytesDone: z.number().nonnegative(),
    bytesTotal: z.number().nonnegative(),
  }),
  z.object({ type: z.literal('done'), bundle: InstalledBundleEntry }),
  z.object({ type: z.literal('rejected'), report: BundleReport }),
]);
export type BundleInstallEvent = z.infer<typeof BundleInstallEvent>;

export const TrustInfo = z.object({
  source: z.enum(['policy', 'local']),
  threshold: z.number().int().positive(),
  keys: z.array(z.object({ id: z.string(), name: z.string() })),
});
export type TrustInfo = z.infer<typeof TrustInfo>;
