/**
 * The tables the GGUF check needs: metadata value types, ggml tensor types with their
 * block geometry, and the names of llama.cpp's `general.file_type` values.
 *
 * Tensor types follow ggml's `ggml_type` and `type_traits` (ggml-common.h). Ids that ggml
 * removed (Q4_2 and Q4_3 at 4 and 5, the repacked Q4_0_x_y and IQ4_NL_x_y at 31–33 and
 * 36–38) are deliberately absent: current llama.cpp refuses them too, because their block
 * size is zero, and a size we cannot compute is a size we cannot bounds-check.
 */

/** GGUF metadata value types (gguf.h `gguf_type`). */
export const GGUF_VALUE_TYPE = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;

export type GgufValueTypeName = keyof typeof GGUF_VALUE_TYPE;

export const GGUF_VALUE_TYPE_NAMES: readonly GgufValueTypeName[] = [
  'UINT8',
  'INT8',
  'UINT16',
  'INT16',
  'UINT32',
  'INT32',
  'FLOAT32',
  'BOOL',
  'STRING',
  'ARRAY',
  'UINT64',
  'INT64',
  'FLOAT64',
];

/** Bytes taken by a scalar of each fixed-size value type; 0 for STRING and ARRAY. */
export const GGUF_VALUE_SIZE: readonly number[] = [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8];

export interface GgmlTypeInfo {
  readonly id: number;
  readonly name: string;
  /** Elements per block; a tensor's first dimension must be a multiple of it. */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly bytesPerBlock: number;
}

function t(id: number, name: string, blockSize: number, bytesPerBlock: number): GgmlTypeInfo {
  return { id, name, blockSize, bytesPerBlock };
}

const QK_K = 256;

export const GGML_TYPES: readonly GgmlTypeInfo[] = [
  t(0, 'F32', 1, 4),
  t(1, 'F16', 1, 2),
  t(2, 'Q4_0', 32, 18),
  t(3, 'Q4_1', 32, 20),
  t(6, 'Q5_0', 32, 22),
  t(7, 'Q5_1', 32, 24),
  t(8, 'Q8_0', 32, 34),
  t(9, 'Q8_1', 32, 36),
  t(10, 'Q2_K', QK_K, 84),
  t(11, 'Q3_K', QK_K, 110),
  t(12, 'Q4_K', QK_K, 144),
  t(13, 'Q5_K', QK_K, 176),
  t(14, 'Q6_K', QK_K, 210),
  t(15, 'Q8_K', QK_K, 292),
  t(16, 'IQ2_XXS', QK_K, 66),
  t(17, 'IQ2_XS', QK_K, 74),
  t(18, 'IQ3_XXS', QK_K, 98),
  t(19, 'IQ1_S', QK_K, 50),
  t(20, 'IQ4_NL', 32, 18),
  t(21, 'IQ3_S', QK_K, 110),
  t(22, 'IQ2_S', QK_K, 82),
  t(23, 'IQ4_XS', QK_K, 136),
  t(24, 'I8', 1, 1),
  t(25, 'I16', 1, 2),
  t(26, 'I32', 1, 4),
  t(27, 'I64', 1, 8),
  t(28, 'F64', 1, 8),
  t(29, 'IQ1_M', QK_K, 56),
  t(30, 'BF16', 1, 2),
  t(34, 'TQ1_0', QK_K, 54),
  t(35, 'TQ2_0', QK_K, 66),
  t(39, 'MXFP4', 32, 17),
  t(40, 'NVFP4', 64, 36),
  t(41, 'Q1_0', 128, 18),
  t(42, 'Q2_0', 64, 18),
];

const BY_ID = new Map<number, GgmlTypeInfo>(GGML_TYPES.map((info) => [info.id, info]));
const BY_NAME = new Map<string, GgmlTypeInfo>(GGML_TYPES.map((info) => [info.name, info]));

export function ggmlType(id: number): GgmlTypeInfo | undefined {
  return BY_ID.get(id);
}

export function ggmlTypeByName(name: string): GgmlTypeInfo | undefined {
  return BY_NAME.get(name);
}

/** llama.cpp's `llama_ftype`, as written in `general.file_type`. Gaps are ids it retired. */
const FILE_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'ALL_F32'],
  [1, 'MOSTLY_F16'],
  [2, 'MOSTLY_Q4_0'],
  [3, 'MOSTLY_Q4_1'],
  [7, 'MOSTLY_Q8_0'],
  [8, 'MOSTLY_Q5_0'],
  [9, 'MOSTLY_Q5_1'],
  [10, 'MOSTLY_Q2_K'],
  [11, 'MOSTLY_Q3_K_S'],
  [12, 'MOSTLY_Q3_K_M'],
  [13, 'MOSTLY_Q3_K_L'],
  [14, 'MOSTLY_Q4_K_S'],
  [15, 'MOSTLY_Q4_K_M'],
  [16, 'MOSTLY_Q5_K_S'],
  [17, 'MOSTLY_Q5_K_M'],
  [18, 'MOSTLY_Q6_K'],
  [19, 'MOSTLY_IQ2_XXS'],
  [20, 'MOSTLY_IQ2_XS'],
  [21, 'MOSTLY_Q2_K_S'],
  [22, 'MOSTLY_IQ3_XS'],
  [23, 'MOSTLY_IQ3_XXS'],
  [24, 'MOSTLY_IQ1_S'],
  [25, 'MOSTLY_IQ4_NL'],
  [26, 'MOSTLY_IQ3_S'],
  [27, 'MOSTLY_IQ3_M'],
  [28, 'MOSTLY_IQ2_S'],
  [29, 'MOSTLY_IQ2_M'],
  [30, 'MOSTLY_IQ4_XS'],
  [31, 'MOSTLY_IQ1_M'],
  [32, 'MOSTLY_BF16'],
  [36, 'MOSTLY_TQ1_0'],
  [37, 'MOSTLY_TQ2_0'],
  [38, 'MOSTLY_MXFP4_MOE'],
  [39, 'MOSTLY_NVFP4'],
  [40, 'MOSTLY_Q1_0'],
  [41, 'MOSTLY_Q2_0'],
]);

/** llama.cpp ORs this flag in when it guessed the file type from the tensors. */
const FILE_TYPE_GUESSED = 1024;

export function fileTypeName(value: number): string | undefined {
  return FILE_TYPE_NAMES.get(value & ~FILE_TYPE_GUESSED);
}
