import { z } from 'zod';

// Messages between the main process and the inference process. Both sides parse
// what they receive: the inference process runs native code over untrusted files,
// so the main process treats it as a peer that can misbehave, not as part of itself.

export const GpuBackend = z.enum(['cpu', 'cuda', 'vulkan', 'metal']);
export type GpuBackend = z.infer<typeof GpuBackend>;

/**
 * A runtime pack as the inference process receives it: which npm package of node-llama-cpp's
 * prebuilt binaries it stands in for, and the folder that holds its `bins/` (inside the
 * installed bundle). The main process has already checked the policy and the platform.
 */
export const RuntimePack = z.object({
  backend: GpuBackend,
  /** e.g. `@node-llama-cpp/linux-x64-vulkan`: the import node-llama-cpp makes for this backend. */
  package: z.string().regex(/^@node-llama-cpp\/[a-z0-9-]+$/),
  /** node-llama-cpp's version the binaries were built for; node-llama-cpp ignores a package of another version. */
  version: z.string().min(1).max(100),
  binsDir: z.string().min(1),
  bundleId: z.string().min(1),
  bundleVersion: z.number().int().positive(),
});
export type RuntimePack = z.infer<typeof RuntimePack>;

/** Which backends the inference process may use and the packs it may load; sent once, before the first `info`. */
export const BackendChoice = z.object({
  /** null: any; the CPU is always allowed (it is the fallback). */
  allowedBackends: z.array(GpuBackend).nullable(),
  packs: z.array(RuntimePack).max(16),
  /** What the main process already set aside (a pack the policy forbids, another platform's), for the report. */
  notices: z.array(z.string().max(2000)).max(32),
});
export type BackendChoice = z.infer<typeof BackendChoice>;

/** Where the binaries in use came from. */
export const BackendSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('builtin') }),
  z.object({ kind: z.literal('pack'), bundleId: z.string(), bundleVersion: z.number().int().positive(), package: z.string() }),
]);
export type BackendSource = z.infer<typeof BackendSource>;

export const Hardware = z.object({
  backend: GpuBackend,
  /** Absent from an older inference process: built in. */
  backendSource: BackendSource.optional(),
  /** The llama-addon.node the process mapped, where the OS says (Linux: /proc/self/maps); null elsewhere. */
  bindingPath: z.string().nullable().optional(),
  /** Why a runtime pack is not in use (unsupported hardware, policy, platform), in words for people. */
  backendNotices: z.array(z.string()).optional(),
  gpuNames: z.array(z.string()),
  vramTotal: z.number().nonnegative(),
  vramFree: z.number().nonnegative(),
  ramTotal: z.number().nonnegative(),
  ramFree: z.number().nonnegative(),
  /**
   * The thread count `auto` stands for. The inference process reports llama.cpp's count of
   * cores useful for math; the engine replaces it with its own rule (`services/inference/threads.ts`).
   */
  cpuCores: z.number().int().positive(),
  llamaCppRelease: z.string(),
});
export type Hardware = z.infer<typeof Hardware>;

/** A setting that is either `auto` (the runtime decides) or a value. */
export const autoOr = <T extends z.ZodType>(schema: T) => z.union([z.literal('auto'), schema]);

export const KvCacheType = z.enum(['F16', 'Q8_0', 'Q4_0']);
export type KvCacheType = z.infer<typeof KvCacheType>;

export const LoadOptions = z.object({
  gpuLayers: autoOr(z.number().int().min(0)),
  contextSize: autoOr(z.number().int().min(64)),
  threads: z.number().int().min(1).max(256),
  batchSize: z.number().int().min(1).max(65_536).optional(),
  flashAttention: z.boolean().optional(),
  /** node-llama-cpp marks KV cache types experimental; only these common ones are offered. */
  kvCacheType: KvCacheType.optional(),
  /**
   * Thread counts to try for decoding; the first replies measure them and keep the fastest.
   * Prompts are always evaluated with `threads`. Absent: decode with `threads` too.
   */
  decodeThreadCandidates: z.array(z.number().int().min(1).max(256)).min(1).max(16).optional(),
});
export type LoadOptions = z.infer<typeof LoadOptions>;

export const LoadedModelInfo = z.object({
  path: z.string(),
  gpuLayers: z.number().int().nonnegative(),
  contextSize: z.number().int().positive(),
  threads: z.number().int().positive(),
  trainContextSize: z.number().int().nonnegative(),
  embeddingSize: z.number().int().nonnegative(),
  sizeBytes: z.number().nonnegative(),
  loadMs: z.number().nonnegative(),
});
export type LoadedModelInfo = z.infer<typeof LoadedModelInfo>;

export const GenerateParams = z.object({
  prompt: z.string().min(1).max(1_000_000),
  temperature: z.number().min(0).max(2),
  topP: z.number().gt(0).max(1),
  topK: z.number().int().min(0),
  repeatPenalty: z.number().min(1).max(2),
  maxTokens: z.number().int().min(1),
  seed: z.number().int().optional(),
});
export type GenerateParams = z.infer<typeof GenerateParams>;

export const GenerateStats = z.object({
  /**
   * Tokens generated. For chat, the inference process's token meter: it includes what
   * node-llama-cpp decoded but did not show (the end-of-turn token, or a token held back as
   * a possible start of it when maxTokens cut the reply), so the deltas may add up to one
   * or two fewer.
   */
  tokens: z.number().int().nonnegative(),
  promptTokens: z.number().int().nonnegative(),
  ms: z.number().nonnegative(),
  firstTokenMs: z.number().nonnegative().nullable(),
  tokensPerSecond: z.number().nonnegative(),
  stopReason: z.enum(['eos', 'maxTokens', 'aborted', 'other']),
  /** Prompt tokens actually evaluated; the rest of the prompt came from the KV cache. Chat only. */
  evaluatedTokens: z.number().int().nonnegative().optional(),
});
export type GenerateStats = z.infer<typeof GenerateStats>;

/**
 * A piece of a reply as it streams: the same object from the inference process's batcher
 * to the engine's callers (`onDelta(delta)`). `reasoning` is the model's "thinking" text,
 * apart from the answer; it is empty for `generate`. `tokens` counts the tokens the piece
 * took to produce.
 */
export interface Delta {
  readonly text: string;
  readonly reasoning: string;
  readonly tokens: number;
}

export const ChatSampling = z.object({
  temperature: z.number().min(0).max(2),
  topP: z.number().gt(0).max(1),
  topK: z.number().int().min(0),
  minP: z.number().min(0).max(1),
  repeatPenalty: z.number().min(1).max(2),
  maxTokens: z.number().int().min(1),
  seed: z.number().int().nullable(),
});
export type ChatSampling = z.infer<typeof ChatSampling>;

export const ChatParams = z.object({
  /** The inference process keeps a chat session, and so its KV cache, per recent conversation. */
  conversationId: z.string().min(1).max(256),
  systemPrompt: z.string().max(1_000_000),
  history: z.array(z.object({ role: z.enum(['user', 'assistant']), content: z.string().max(1_000_000) })).max(100_000),
  /** null continues the last assistant turn of `history`. */
  prompt: z.string().min(1).max(1_000_000).nullable(),
  sampling: ChatSampling,
});
export type ChatParams = z.infer<typeof ChatParams>;

export const ChatOutcome = z.object({
  stats: GenerateStats,
  trimmedTurns: z.number().int().nonnegative(),
  defaultTemplate: z.boolean(),
});
export type ChatOutcome = z.infer<typeof ChatOutcome>;

/** One message of a stateless completion (the local API): the whole conversation comes with each request. */
export const CompletionMessage = z.object({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string().max(1_000_000),
  /** assistant: the tool calls it made, arguments as JSON text. */
  toolCalls: z
    .array(z.object({ id: z.string().max(200), name: z.string().min(1).max(200), arguments: z.string().max(1_000_000) }))
    .max(64)
    .optional(),
  /** tool: the id of the call this message answers. */
  toolCallId: z.string().max(200).optional(),
});
export type CompletionMessage = z.infer<typeof CompletionMessage>;

/** A tool the model may call; `parameters` is the JSON schema of its arguments (an object schema), or null for none. */
export const ToolSpec = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  description: z.string().max(10_000),
  parameters: z.record(z.string(), z.unknown()).nullable(),
});
export type ToolSpec = z.infer<typeof ToolSpec>;

/**
 * A stateless completion for the local API. Exactly one of `messages` (through the model's
 * chat template) and `prompt` (raw text, continued as it is) is set.
 */
export const CompletionParams = z.object({
  messages: z.array(CompletionMessage).min(1).max(10_000).nullable(),
  prompt: z.string().max(1_000_000).nullable(),
  sampling: ChatSampling,
  /** Stop when any of these appears; the stop text is not part of the reply. */
  stop: z.array(z.string().min(1).max(500)).max(16),
  /** The reply's form, enforced by a grammar: any JSON value, or one that follows a JSON schema. null: free text. */
  format: z.union([z.object({ kind: z.literal('json') }), z.object({ kind: z.literal('schema'), schema: z.record(z.string(), z.unknown()) })]).nullable(),
  tools: z.array(ToolSpec).max(128),
  /** auto: the model decides; none: no call; required: some call; { name }: that tool. Forced calls are generated under a grammar. */
  toolChoice: z.union([z.enum(['auto', 'none', 'required']), z.object({ name: z.string().min(1).max(64) })]),
});
export type CompletionParams = z.infer<typeof CompletionParams>;

export const CompletionOutcome = z.object({
  stats: GenerateStats,
  text: z.string(),
  /** Tool calls the model made, arguments as JSON text that follows the tool's schema. */
  toolCalls: z.array(z.object({ name: z.string(), arguments: z.string() })),
  /** OpenAI's words: stop (end of turn or a stop text), length (max tokens), tool_calls, or aborted. */
  finishReason: z.enum(['stop', 'length', 'tool_calls', 'aborted']),
});
export type CompletionOutcome = z.infer<typeof CompletionOutcome>;

export const FitEstimate = z.object({
  /** Where the layers go: all on the GPU, split, or all on the CPU. */
  placement: z.enum(['gpu', 'partial', 'cpu']),
  gpuLayers: z.number().int().nonnegative(),
  totalLayers: z.number().int().nonnegative(),
  contextSize: z.number().int().nonnegative(),
  ramBytes: z.number().nonnegative(),
  vramBytes: z.number().nonnegative(),
  /** Whether the estimate fits in the free memory right now. */
  fits: z.boolean(),
  /** node-llama-cpp's compatibility score, 0 to 1. */
  score: z.number().min(0).max(1),
  speedClass: z.enum(['fast', 'usable', 'slow']),
  warnings: z.array(z.string()),
});
export type FitEstimate = z.infer<typeof FitEstimate>;

/** Texts per embed, tokenize or rank message; callers with more send several. */
export const MAX_BATCH = 4096;

export const EmbedResult = z.object({
  vectors: z.array(z.array(z.number())),
  dimensions: z.number().int().nonnegative(),
  /** Indices of the texts cut to the context (`EmbeddingInfo.maxTokens`); their vectors cover the head only. */
  truncated: z.array(z.number().int().nonnegative()),
});
export type EmbedResult = z.infer<typeof EmbedResult>;

export const EmbeddingInfo = z.object({
  dimensions: z.number().int().nonnegative(),
  /** The embedding context's size in tokens, including the tokens the model adds (BOS, EOS). */
  contextSize: z.number().int().positive(),
  /** The most tokens (as `tokenize` counts them) a text may have to be embedded whole. */
  maxTokens: z.number().int().positive(),
});
export type EmbeddingInfo = z.infer<typeof EmbeddingInfo>;

/** Ways out the egress guard refuses (electron/guard/egress.ts). */
export const EgressKind = z.enum(['connect', 'listen', 'dns', 'udp']);
export type EgressKind = z.infer<typeof EgressKind>;

/** The guard's self-check in the inference process (electron/guard/probe.ts). */
export const EgressCheck = z.object({
  guarded: z.boolean(),
  attempts: z.array(z.object({ via: z.enum(['net.connect', 'fetch', 'dns.lookup', 'dns.resolve4', 'dgram.send']), kind: EgressKind, blocked: z.boolean() })),
});
export type EgressCheck = z.infer<typeof EgressCheck>;

export const RuntimeRequest = z.discriminatedUnion('op', [
  z.object({ id: z.number().int(), op: z.literal('info') }),
  z.object({ id: z.number().int(), op: z.literal('load'), path: z.string().min(1), options: LoadOptions }),
  z.object({ id: z.number().int(), op: z.literal('unload') }),
  z.object({ id: z.number().int(), op: z.literal('generate'), params: GenerateParams }),
  z.object({ id: z.number().int(), op: z.literal('chat'), params: ChatParams }),
  /** A stateless completion (the local API): nothing of it is kept for later requests. */
  z.object({ id: z.number().int(), op: z.literal('complete'), params: CompletionParams }),
  z.object({
    id: z.number().int(),
    op: z.literal('embed'),
    path: z.string().min(1),
    texts: z.array(z.string()).min(1).max(MAX_BATCH),
    threads: z.number().int().min(1),
  }),
  z.object({ id: z.number().int(), op: z.literal('embeddingInfo'), path: z.string().min(1), threads: z.number().int().min(1) }),
  z.object({
    id: z.number().int(),
    op: z.literal('tokenize'),
    path: z.string().min(1),
    texts: z.array(z.string()).min(1).max(MAX_BATCH),
    threads: z.number().int().min(1),
  }),
  z.object({
    id: z.number().int(),
    op: z.literal('rank'),
    path: z.string().min(1),
    query: z.string(),
    documents: z.array(z.string()).min(1).max(MAX_BATCH),
    threads: z.number().int().min(1),
  }),
  z.object({ id: z.number().int(), op: z.literal('abort'), target: z.number().int() }),
  z.object({ id: z.number().int(), op: z.literal('memory') }),
  z.object({
    id: z.number().int(),
    op: z.literal('fit'),
    path: z.string().min(1),
    contextSize: z.number().int().min(64).optional(),
    gpuLayers: z.number().int().min(0).optional(),
  }),
  /** Has the process try each way out and report whether its egress guard refused each one. */
  z.object({ id: z.number().int(), op: z.literal('egressCheck') }),
  /** The backends allowed and the runtime packs to resolve; before the first `info`, never after. */
  z.object({ id: z.number().int(), op: z.literal('configure'), choice: BackendChoice }),
]);
export type RuntimeRequest = z.infer<typeof RuntimeRequest>;
export type RuntimeOp = RuntimeRequest['op'];

export const RuntimeFailure = z.object({
  code: z.enum(['bad_request', 'no_model', 'busy', 'load_failed', 'out_of_memory', 'aborted', 'internal']),
  message: z.string(),
  details: z.string().optional(),
});
export type RuntimeFailure = z.infer<typeof RuntimeFailure>;

export const RuntimeMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number().int() }),
  z.object({ type: z.literal('progress'), id: z.number().int(), progress: z.number().min(0).max(1) }),
  z.object({
    type: z.literal('delta'),
    id: z.number().int(),
    text: z.string(),
    tokens: z.number().int().nonnegative(),
    /** Reasoning ("thinking") text, apart from the answer; chat only. */
    reasoning: z.string().optional(),
  }),
  z.object({
    type: z.literal('result'),
    id: z.number().int(),
    result: z.union([z.object({ ok: z.literal(true), value: z.unknown() }), z.object({ ok: z.literal(false), error: RuntimeFailure })]),
  }),
  z.object({ type: z.literal('log'), level: z.enum(['debug', 'info', 'warn', 'error']), message: z.string() }),
  /** The process's egress guard refused an attempt to reach the network; sent before the refusal is thrown. */
  z.object({ type: z.literal('egressBlocked'), kind: EgressKind, target: z.string().max(2048) }),
]);
export type RuntimeMessage = z.infer<typeof RuntimeMessage>;

/** What each request resolves to, for typing the engine's calls. */
export interface RuntimeResults {
  info: Hardware;
  load: LoadedModelInfo;
  unload: { unloaded: boolean };
  generate: GenerateStats;
  chat: ChatOutcome;
  complete: CompletionOutcome;
  embed: EmbedResult;
  embeddingInfo: EmbeddingInfo;
  tokenize: { counts: number[] };
  /** Relevance of each document to the query, 0 to 1, in the documents' order. */
  rank: { scores: number[] };
  abort: { aborted: boolean };
  memory: { rss: number };
  fit: FitEstimate;
  egressCheck: EgressCheck;
  configure: { configured: boolean };
}

export const RuntimeResultSchemas = {
  info: Hardware,
  load: LoadedModelInfo,
  unload: z.object({ unloaded: z.boolean() }),
  generate: GenerateStats,
  chat: ChatOutcome,
  complete: CompletionOutcome,
  embed: EmbedResult,
  embeddingInfo: EmbeddingInfo,
  tokenize: z.object({ counts: z.array(z.number().int().nonnegative()) }),
  rank: z.object({ scores: z.array(z.number().min(0).max(1)) }),
  abort: z.object({ aborted: z.boolean() }),
  memory: z.object({ rss: z.number().nonnegative() }),
  fit: FitEstimate,
  egressCheck: EgressCheck,
  configure: z.object({ configured: z.boolean() }),
} satisfies { [K in RuntimeOp]: z.ZodType<RuntimeResults[K]> };
