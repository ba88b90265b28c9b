import { z } from 'zod';
import { MarkingScheme } from './markings.ts';

// The machine policy as the renderer sees it: what is fixed, by whom, and why.

export const PolicyInfo = z.object({
  /** none: no policy file (nothing is restricted); invalid: a file is malformed and the app runs locked down. */
  status: z.enum(['none', 'ok', 'invalid']),
  /** managed: a machine policy file is in force (valid or not); development: none is installed, and nothing the user does is restricted. */
  mode: z.enum(['managed', 'development']),
  machineFile: z.string().nullable(),
  userFile: z.string().nullable(),
  hash: z.string().nullable(),
  problems: z.array(z.string()),
  notes: z.array(z.string()),
  description: z.string().nullable(),
  contact: z.string().nullable(),
  /** Settings fixed by policy, by dotted path (e.g. `runtime.threads`), with the reason to show. */
  locked: z.array(z.object({ path: z.string(), reason: z.string() })),
  /** The classification scheme in force (names and colours for the banner and badges); null: markings are off. */
  markings: MarkingScheme.nullable(),
  rules: z.object({
    allowUnsignedModels: z.boolean(),
    allowedModelHashes: z.number().int().nonnegative().nullable(),
    allowIngestion: z.boolean(),
    allowExport: z.boolean(),
    allowPolicyUpdatesByBundle: z.boolean(),
    trustedKeys: z.number().int().nonnegative().nullable(),
    signatureThreshold: z.number().int().positive(),
    expiryGraceDays: z.number().nonnegative(),
    auditLevel: z.enum(['off', 'metadata', 'full']),
    piiIngestion: z.enum(['off', 'warn', 'redact', 'block']),
    piiPrompts: z.enum(['off', 'warn', 'redact', 'block']),
    conversationDays: z.number().nonnegative().nullable(),
    auditDays: z.number().nonnegative().nullable(),
  }),
});
export type PolicyInfo = z.infer<typeof PolicyInfo>;
