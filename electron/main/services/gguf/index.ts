export { checkGgufBytes } from './validator.ts';
export { checkGgufFile } from './file.ts';
export { GGUF_LIMITS, GGUF_REJECTION_CODES } from './types.ts';
export type { GgufRejection, GgufRejectionCode, GgufResult, ModelFacts, ModelKind } from './types.ts';
export { GGML_TYPES, GGUF_VALUE_TYPE, fileTypeName, ggmlType, ggmlTypeByName } from './ggml-types.ts';
export type { GgmlTypeInfo } from './ggml-types.ts';
