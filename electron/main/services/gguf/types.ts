/**
 * Hard limits of the GGUF check. They are far above any real model (the largest public
 * vocabularies give headers of a few tens of MiB, and real tensors have at most four
 * dimensions of a few million) and far below what would let a hostile file make the
 * check itself use unbounded memory or time.
 */
export const GGUF_LIMITS = {
  /** The header and tensor table together; tensor data is never read. */
  maxHeaderBytes: 256 * 1024 * 1024,
  maxKeys: 65_536,
  maxTensors: 65_536,
  /** Any string value; a string also never reaches past the end of the file. */
  maxStringBytes: 16 * 1024 * 1024,
  /** The GGUF specification caps keys at 65,535 bytes. */
  maxKeyBytes: 65_535,
  /** llama.cpp's LLAMA_MAX_LAYERS; it aborts on more. */
  maxLayers: 512,
  /** ggml's GGML_MAX_NAME is 64, including the terminating zero. */
  maxTensorNameBytes: 63,
  /** ggml's GGML_MAX_DIMS. */
  maxDims: 4,
  /** Per dimension; 2^40 elements would already be a terabyte of int8. */
  maxDim: 2 ** 40,
  /** An array may hold arrays, which may hold arrays, and no deeper. */
  maxArrayDepth: 3,
  defaultAlignment: 32,
} as const;

export const GGUF_REJECTION_CODES = [
  /** The file could not be opened or read (missing, a folder, no permission, I/O error). */
  'unreadable',
  /** The first four bytes are not `GGUF`. */
  'not_gguf',
  /** GGUF version other than 2 or 3, including big-endian files. */
  'unsupported_version',
  /** The file ends in the middle of its header, or before the data its tensor table describes. */
  'truncated',
  /** Only for `checkGgufBytes`: the bytes given end before the header does, and the file is longer. */
  'header_incomplete',
  /** The header is larger than GGUF_LIMITS.maxHeaderBytes. */
  'header_too_large',
  'too_many_keys',
  'too_many_tensors',
  /** A string is longer than the limit or than what is left of the file, or a key is empty or has control characters. */
  'bad_string',
  /** An array is longer than what is left of the file, or nested too deeply. */
  'bad_array',
  /** A metadata value type outside 0..12. */
  'bad_value_type',
  'duplicate_key',
  /** `general.alignment` is not a UINT32 power of two. */
  'bad_alignment',
  /** `general.architecture` is missing or not a string. */
  'missing_architecture',
  /**
   * A number llama.cpp needs is missing or not a whole number: `<arch>.context_length`,
   * `.embedding_length`, `.block_count`, and for dense transformer families also
   * `.attention.head_count` and `.feed_forward_length`.
   */
  'missing_metadata',
  /** A hyperparameter outside what llama.cpp accepts without aborting (e.g. 0 or >512 layers, a NaN epsilon). */
  'bad_metadata',
  /** The vocabulary is empty or repeats a token, or its arrays disagree in length or element type. */
  'bad_tokenizer',
  'no_tensors',
  /** A tensor name longer than ggml allows, or with control characters. */
  'bad_tensor_name',
  'duplicate_tensor',
  /** A tensor with no dimensions, more than four, or a dimension outside 1..2^40. */
  'bad_dims',
  /** A tensor whose element count does not fit in a signed 64-bit integer. */
  'tensor_too_large',
  'unknown_tensor_type',
  /** A tensor's first dimension is not a multiple of its type's block size. */
  'bad_block_shape',
  /** A tensor's data offset is not a multiple of the alignment. */
  'misaligned_tensor',
  /** A tensor's data lies (partly) past the end of the file. */
  'tensor_out_of_bounds',
  /** Tensor data overlaps or leaves gaps: llama.cpp requires the tensors packed in table order. */
  'tensor_layout',
  /** For llama-like architectures: a main weight's shape disagrees with the hyperparameters. */
  'tensor_shape',
  /** The check itself failed; never expected, reported rather than thrown. */
  'internal',
] as const;

export type GgufRejectionCode = (typeof GGUF_REJECTION_CODES)[number];

export interface GgufRejection {
  readonly code: GgufRejectionCode;
  /** Plain words for the user. */
  readonly message: string;
  /** Byte offset in the file where the problem was found, when there is one. */
  readonly offset?: number;
}

/**
 * `embedding` and `reranking` are guesses from the metadata; see `guessKind` in
 * validator.ts for the rules.
 */
export type ModelKind = 'chat' | 'embedding' | 'reranking';

export interface ModelFacts {
  readonly architecture: string;
  /** `general.name`, or null when absent or not a string. */
  readonly name: string | null;
  /** The sum of every tensor's element count. */
  readonly parameterCount: number;
  /** `general.file_type` as llama.cpp names it (e.g. `MOSTLY_Q4_K_M`), else the ggml type holding most elements (e.g. `Q8_0`). */
  readonly quantization: string;
  readonly contextLength: number;
  readonly layerCount: number;
  readonly embeddingLength: number;
  /** `<arch>.attention.head_count`; the first entry when it is per layer; null when absent (e.g. Mamba). */
  readonly headCount: number | null;
  readonly kvHeadCount: number | null;
  /** Length of `tokenizer.ggml.tokens`, or null when absent. */
  readonly vocabularySize: number | null;
  readonly hasChatTemplate: boolean;
  readonly kind: ModelKind;
  readonly fileSize: number;
  readonly tensorCount: number;
  readonly version: number;
  readonly alignment: number;
  readonly metadataKeys: number;
}

export type GgufResult = { readonly ok: true; readonly facts: ModelFacts } | { readonly ok: false; readonly rejection: GgufRejection };
