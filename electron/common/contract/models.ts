import { z } from 'zod';
import { autoOr, FitEstimate, KvCacheType } from '../runtime/protocol.ts';

// The model library as the renderer sees it. Paths appear for display only: every
// action names a model by id, and imports name files by the token the main process
// gave when the user picked them.

/** What a model remembers for its next load; a missing field falls back to the runtime settings. */
export const ModelLoadSettings = z
  .object({
    gpuLayers: autoOr(z.number().int().min(0).max(1000)).optional(),
    contextSize: autoOr(z.number().int().min(256).max(1_048_576)).optional(),
    batchSize: z.number().int().min(1).max(65_536).optional(),
    flashAttention: z.boolean().optional(),
    kvCacheType: KvCacheType.optional(),
  })
  .strict();
export type ModelLoadSettings = z.infer<typeof ModelLoadSettings>;

export const ModelRole = z.enum(['chat', 'embedding', 'reranking']);
export const ImportMode = z.enum(['copy', 'link', 'reference']);
export type ImportMode = z.infer<typeof ImportMode>;
export const ModelStatus = z.enum(['ok', 'missing', 'changed']);

export const ModelFactsSchema = z.object({
  architecture: z.string(),
  name: z.string().nullable(),
  parameterCount: z.number().nonnegative(),
  quantization: z.string(),
  contextLength: z.number().int().nonnegative(),
  layerCount: z.number().int().nonnegative(),
  embeddingLength: z.number().int().nonnegative(),
  headCount: z.number().int().nullable(),
  kvHeadCount: z.number().int().nullable(),
  vocabularySize: z.number().int().nullable(),
  hasChatTemplate: z.boolean(),
  kind: ModelRole,
  fileSize: z.number().nonnegative(),
  tensorCount: z.number().int().nonnegative(),
  version: z.number().int(),
  alignment: z.number().int(),
  metadataKeys: z.number().int(),
});

export const ModelEntry = z.object({
  id: z.string(),
  displayName: z.string(),
  role: ModelRole,
  sizeBytes: z.number().nonnegative(),
  sha256: z.string(),
  importMode: ImportMode,
  origin: z.enum(['file', 'split', 'lmstudio', 'ollama']),
  sourcePath: z.string(),
  files: z.array(z.string()),
  importedAt: z.string(),
  facts: ModelFactsSchema,
  chatTemplate: z.string().nullable(),
  license: z.string().nullable(),
  provenance: z
    .object({
      author: z.string().nullable(),
      organization: z.string().nullable(),
      url: z.string().nullable(),
      sourceUrl: z.string().nullable(),
      repository: z.string().nullable(),
    })
    .nullable(),
  verifiedByBundle: z.string().nullable(),
  status: ModelStatus,
  checkedAt: z.string(),
  loadSettings: ModelLoadSettings.nullable(),
  isDefaultChat: z.boolean(),
  isDefaultEmbedding: z.boolean(),
});
export type ModelEntry = z.infer<typeof ModelEntry>;

/** The Models screen's table, sorted and filtered by the service. */
export const ModelSort = z.enum(['name', 'size', 'added']);
export type ModelSort = z.infer<typeof ModelSort>;

/**
 * `models.list`: with no `limit`, every model (pickers and the `models.changed` event use the
 * whole library); with one, a page, resumed with the previous page's opaque `nextCursor`
 * under the same query and sort. Default order: date added, oldest first.
 */
export const ModelsQuery = z
  .object({
    /** Part of the name, case-insensitive. */
    query: z.string().max(200).optional(),
    sort: ModelSort.optional(),
    descending: z.boolean().optional(),
    cursor: z.string().min(1).max(1024).optional(),
    limit: z.number().int().min(1).max(500).optional(),
  })
  .strict();
export type ModelsQuery = z.infer<typeof ModelsQuery>;

export const ModelsPage = z.object({
  models: z.array(ModelEntry),
  /** Null on the last page. */
  nextCursor: z.string().nullable(),
  /** Models matching the query, over all pages. */
  total: z.number().int().nonnegative(),
});
export type ModelsPage = z.infer<typeof ModelsPage>;

export const ImportCandidate = z.object({
  token: z.string().min(16).max(64),
  displayName: z.string(),
  sizeBytes: z.number().nonnegative(),
  origin: z.enum(['file', 'split', 'lmstudio', 'ollama']),
  sourcePath: z.string(),
  parts: z.number().int().positive(),
});
export type ImportCandidate = z.infer<typeof ImportCandidate>;

export const ScanOutcome = z.object({
  canceled: z.boolean(),
  candidates: z.array(ImportCandidate),
  problems: z.array(z.object({ path: z.string(), message: z.string() })),
  truncated: z.boolean(),
});
export type ScanOutcome = z.infer<typeof ScanOutcome>;

/** Progress through a file's bytes: import and verify both read whole models. */
const ByteProgress = z.object({
  type: z.literal('progress'),
  bytesDone: z.number().nonnegative(),
  bytesTotal: z.number().nonnegative(),
  bytesPerSecond: z.number().nonnegative(),
  secondsLeft: z.number().nonnegative().nullable(),
});

export const ImportEvent = z.discriminatedUnion('type', [
  ByteProgress.extend({ phase: z.enum(['checking', 'copying', 'hashing', 'finishing']) }),
  z.object({ type: z.literal('imported'), model: ModelEntry }),
]);
export type ImportEvent = z.infer<typeof ImportEvent>;

export const ModelId = z.object({ id: z.string().min(1).max(64) }).strict();

export const VerifyEvent = z.discriminatedUnion('type', [ByteProgress, z.object({ type: z.literal('verified'), model: ModelEntry })]);

export { FitEstimate };
