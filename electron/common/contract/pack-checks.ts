import { z } from 'zod';

// Acceptance checks of knowledge packs as the renderer sees them: each run of a collection's
// checks (after install, after an install rolled back, after its embedding model changed, or
// asked for), with the result of every check.

export const PackCheckTrigger = z.enum(['install', 'rollback', 'embedding', 'manual']);
export type PackCheckTrigger = z.infer<typeof PackCheckTrigger>;

export const PackCheckResult = z.object({
  id: z.string(),
  question: z.string(),
  expected: z.object({ document: z.string(), page: z.number().int().positive().nullable() }),
  /** Retrieval found the expected document (and page) among the first passages, and the answer held its phrases when that was checked. */
  passed: z.boolean(),
  /** 1-based rank of the first passage from the expected document (and page); null when it was not among them. */
  rank: z.number().int().positive().nullable(),
  /** What retrieval returned instead, in order: document name and page. */
  found: z.array(z.object({ document: z.string(), page: z.number().int().positive().nullable() })),
  /** none: the check has no answer phrases; skipped: no chat model is installed, so only retrieval was checked. */
  answer: z.enum(['none', 'skipped', 'passed', 'failed']),
  /** Phrases the answer lacked. */
  missingPhrases: z.array(z.string()),
});
export type PackCheckResult = z.infer<typeof PackCheckResult>;

export const PackCheckRun = z.object({
  id: z.number().int(),
  collectionId: z.string(),
  collectionName: z.string(),
  bundleId: z.string().nullable(),
  bundleVersion: z.number().int().nullable(),
  ranAt: z.string(),
  trigger: PackCheckTrigger,
  /** The embedding key the questions were embedded with, or "words" when the collection was searched by words only. */
  embedding: z.string(),
  total: z.number().int().nonnegative(),
  passed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  results: z.array(PackCheckResult),
  /** The policy keeps the collection out of search and chat until a rerun passes (packs.onCheckFailure: disable). */
  disabled: z.boolean(),
});
export type PackCheckRun = z.infer<typeof PackCheckRun>;
