import { z } from 'zod';

// The audit log as the renderer sees it: records, a verification report, an export.

export const AuditEntry = z.object({
  seq: z.number().int().positive(),
  at: z.string(),
  user: z.string(),
  type: z.string(),
  data: z.json(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditPage = z.object({
  level: z.enum(['off', 'metadata', 'full']),
  /** Why the log is not recording, when it is not (level off is not a problem). */
  problem: z.string().nullable(),
  records: z.array(AuditEntry),
  /** Records matching the filter, for paging. */
  total: z.number().int().nonnegative(),
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: z.string().nullable(),
  types: z.array(z.string()),
});
export type AuditPage = z.infer<typeof AuditPage>;

export const AuditCheck = z.object({
  ok: z.boolean(),
  records: z.number().int().nonnegative(),
  checkpoints: z.number().int().nonnegative(),
  firstBroken: z.object({ seq: z.number().int(), reason: z.string() }).nullable(),
  sealedThrough: z.number().int().nonnegative(),
  /** False when the anchor is no longer on this machine (IT keeps it elsewhere), so checkpoint keys were not checked. */
  macsChecked: z.boolean(),
});
export type AuditCheck = z.infer<typeof AuditCheck>;

export const AuditFilter = z
  .object({
    type: z.string().max(64).optional(),
    from: z.string().max(40).optional(),
    to: z.string().max(40).optional(),
    limit: z.number().int().min(1).max(500).optional(),
    offset: z.number().int().min(0).optional(),
    /** The previous page's `nextCursor` (opaque): records older than that page's last. */
    cursor: z.string().min(1).max(1024).optional(),
  })
  .strict();
