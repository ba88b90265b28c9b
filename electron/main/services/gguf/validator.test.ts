import { describe, expect, it } from 'vitest';
import { MALFORMED_KINDS, encodeGguf, gv, malformedGguf, planGguf, presetSpec } from '../../../../e2e/fixtures/gguf/index.ts';
import type { GgufDocument, GgufEntry, GgufTensorInfo, MalformedKind, TensorType } from '../../../../e2e/fixtures/gguf/index.ts';
import { GGML_TYPES } from './ggml-types.ts';
import { GGUF_LIMITS, GGUF_REJECTION_CODES } from './types.ts';
import type { GgufRejectionCode, GgufResult, ModelFacts } from './types.ts';
import { checkGgufBytes } from './validator.ts';

function facts(result: GgufResult): ModelFacts {
  if (!result.ok) throw new Error(`rejected: ${result.rejection.code}: ${result.rejection.message}`);
  return result.facts;
}

function rejection(result: GgufResult) {
  if (result.ok) throw new Error('accepted');
  return result.rejection;
}

/** A header plus zeroed tensor data of the right size: enough for the validator, which never reads the data. */
function fileOf(doc: GgufDocument, dataBytes: number): { bytes: Uint8Array; fileSize: number } {
  const header = encodeGguf(doc).bytes;
  return { bytes: header, fileSize: header.length + dataBytes };
}

const MINIMAL_METADATA = (arch: string): GgufEntry[] => [
  ['general.architecture', gv.str(arch)],
  [`${arch}.context_length`, gv.u32(128)],
  [`${arch}.embedding_length`, gv.u32(32)],
  [`${arch}.block_count`, gv.u32(1)],
  [`${arch}.attention.head_count`, gv.u32(4)],
  [`${arch}.feed_forward_length`, gv.u32(64)],
];

const ONE_TENSOR: GgufTensorInfo[] = [{ name: 'token_embd.weight', dims: [32, 4], type: 0, offset: 0 }];

describe('checkGgufBytes on well-formed files', () => {
  const quantization: Record<TensorType, string> = { F32: 'ALL_F32', F16: 'MOSTLY_F16', Q8_0: 'MOSTLY_Q8_0' };

  for (const type of ['F32', 'F16', 'Q8_0'] as const) {
    it(`accepts the tiny ${type} model with the right facts`, () => {
      const plan = planGguf(presetSpec('tiny', type));
      const result = checkGgufBytes(plan.header.bytes, plan.totalSize);
      expect(facts(result)).toEqual({
        architecture: 'llama',
        name: `soberana-tiny-${type.toLowerCase()}`,
        parameterCount: plan.parameterCount,
        quantization: quantization[type],
        contextLength: 512,
        layerCount: 2,
        embeddingLength: 64,
        headCount: 4,
        kvHeadCount: 2,
        vocabularySize: 400,
        hasChatTemplate: true,
        kind: 'chat',
        fileSize: plan.totalSize,
        tensorCount: 3 + 2 * 9,
        version: 3,
        alignment: 32,
        metadataKeys: plan.document.metadata.length,
      } satisfies ModelFacts);
    });
  }

  it('accepts version 2 and a non-default alignment', () => {
    const plan = planGguf({ ...presetSpec('tiny', 'Q8_0'), alignment: 256 });
    const v2 = encodeGguf({ ...plan.document, version: 2 }).bytes;
    const result = facts(checkGgufBytes(v2, plan.totalSize));
    expect(result.version).toBe(2);
    expect(result.alignment).toBe(256);
  });

  it('accepts a file given as a bigint size, and a prefix that holds the whole header', () => {
    const plan = planGguf(presetSpec('tiny', 'F16'));
    expect(facts(checkGgufBytes(plan.header.bytes, BigInt(plan.totalSize))).fileSize).toBe(plan.totalSize);
    expect(facts(checkGgufBytes(plan.header.bytes.subarray(0, plan.header.headerEnd), plan.totalSize)).tensorCount).toBe(21);
  });

  it('says header_incomplete when the prefix ends before the header and the file is longer', () => {
    const plan = planGguf(presetSpec('tiny', 'F16'));
    const prefix = plan.header.bytes.subarray(0, 1000);
    const found = rejection(checkGgufBytes(prefix, plan.totalSize));
    expect(found.code).toBe('header_incomplete');
    expect(found.offset).toBe(1000);
  });

  it('knows every ggml type: size, block shape and bounds', () => {
    for (const type of GGML_TYPES) {
      const dims = [type.blockSize * 2, 3];
      const dataBytes = 2 * 3 * type.bytesPerBlock;
      const doc = { metadata: MINIMAL_METADATA('llama'), tensors: [{ name: 't', dims, type: type.id, offset: 0 }] };
      const { bytes, fileSize } = fileOf(doc, dataBytes);
      const accepted = facts(checkGgufBytes(bytes, fileSize));
      expect(accepted.parameterCount, type.name).toBe(type.blockSize * 6);
      expect(accepted.quantization, type.name).toBe(type.name);
      expect(rejection(checkGgufBytes(bytes, fileSize - 1)).code, type.name).toBe('truncated');
      if (type.blockSize > 1) {
        const odd = fileOf({ ...doc, tensors: [{ name: 't', dims: [type.blockSize + 1, 3], type: type.id, offset: 0 }] }, dataBytes);
        expect(rejection(checkGgufBytes(odd.bytes, odd.fileSize)).code, type.name).toBe('bad_block_shape');
      }
    }
  });

  it('treats ids ggml removed, and ids past the table, as unknown', () => {
    for (const id of [4, 5, 31, 32, 33, 36, 37, 38, 43, 255, 0xffffffff]) {
      const { bytes, fileSize } = fileOf({ metadata: MINIMAL_METADATA('llama'), tensors: [{ ...ONE_TENSOR[0]!, type: id }] }, 1 << 16);
      expect(rejection(checkGgufBytes(bytes, fileSize)).code, String(id)).toBe('unknown_tensor_type');
    }
  });

  it('accepts arrays nested to the limit and every value type', () => {
    let nested: GgufEntry[1] = { type: 'ARRAY', elementType: 'UINT16', values: [1, 2] };
    for (let depth = 1; depth < GGUF_LIMITS.maxArrayDepth; depth++) nested = { type: 'ARRAY', elementType: 'ARRAY', values: [nested, nested] };
    const metadata: GgufEntry[] = [
      ...MINIMAL_METADATA('llama'),
      ['a.u8', { type: 'UINT8', value: 1 }],
      ['a.i8', { type: 'INT8', value: -1 }],
      ['a.u16', { type: 'UINT16', value: 1 }],
      ['a.i16', { type: 'INT16', value: -1 }],
      ['a.i32', { type: 'INT32', value: -1 }],
      ['a.u64', { type: 'UINT64', value: 1n }],
      ['a.i64', { type: 'INT64', value: -1n }],
      ['a.f64', { type: 'FLOAT64', value: 0.5 }],
      ['a.bool', gv.bool(false)],
      ['a.nested', nested],
    ];
    const { bytes, fileSize } = fileOf({ metadata, tensors: ONE_TENSOR }, 32 * 4 * 4);
    expect(facts(checkGgufBytes(bytes, fileSize)).metadataKeys).toBe(metadata.length);
  });
});

describe('facts', () => {
  const build = (metadata: GgufEntry[], tensors: GgufTensorInfo[] = ONE_TENSOR) => {
    const { bytes, fileSize } = fileOf({ metadata, tensors }, 1 << 16);
    return facts(checkGgufBytes(bytes, fileSize));
  };

  it('guesses embedding models from the architecture or the pooling type', () => {
    expect(build(MINIMAL_METADATA('bert')).kind).toBe('embedding');
    expect(build(MINIMAL_METADATA('nomic-bert')).kind).toBe('embedding');
    expect(build([...MINIMAL_METADATA('qwen3'), ['qwen3.pooling_type', gv.u32(3)]]).kind).toBe('embedding');
    expect(build([...MINIMAL_METADATA('llama'), ['llama.pooling_type', gv.u32(0)]]).kind).toBe('chat');
  });

  it('guesses rerankers from rank pooling, a classifier head or the name', () => {
    expect(build([...MINIMAL_METADATA('bert'), ['bert.pooling_type', gv.u32(4)]]).kind).toBe('reranking');
    expect(build(MINIMAL_METADATA('bert'), [...ONE_TENSOR, { name: 'cls.output.weight', dims: [32], type: 0, offset: 512 }]).kind).toBe('reranking');
    expect(build([...MINIMAL_METADATA('qwen3'), ['general.name', gv.str('Qwen3 Reranker 0.6B')]]).kind).toBe('reranking');
  });

  it('falls back to the dominant tensor type when general.file_type is absent or unknown', () => {
    const tensors: GgufTensorInfo[] = [
      { name: 'a', dims: [32], type: 0, offset: 0 },
      { name: 'b', dims: [64, 8], type: 8, offset: 128 },
    ];
    expect(build(MINIMAL_METADATA('llama'), tensors).quantization).toBe('Q8_0');
    expect(build([...MINIMAL_METADATA('llama'), ['general.file_type', gv.u32(999)]], tensors).quantization).toBe('Q8_0');
    expect(build([...MINIMAL_METADATA('llama'), ['general.file_type', gv.u32(15 | 1024)]], tensors).quantization).toBe('MOSTLY_Q4_K_M');
  });

  it('reads per-layer head counts, and leaves absent optional facts null', () => {
    const perLayer: GgufEntry = ['llama.attention.head_count', { type: 'ARRAY', elementType: 'INT32', values: [12, 16] }];
    const result = build([...MINIMAL_METADATA('llama').filter(([key]) => key !== perLayer[0]), perLayer]);
    expect(result.headCount).toBe(12);
    expect(result.kvHeadCount).toBeNull();
    expect(result.name).toBeNull();
    expect(result.vocabularySize).toBeNull();
    expect(result.hasChatTemplate).toBe(false);
  });

  it('accepts 64-bit integers for the required numbers', () => {
    const metadata: GgufEntry[] = [
      ['general.architecture', gv.str('gemma')],
      ['gemma.context_length', gv.u64(8192n)],
      ['gemma.embedding_length', { type: 'INT64', value: 32n }],
      ['gemma.block_count', { type: 'UINT16', value: 3 }],
      ['gemma.attention.head_count', { type: 'UINT8', value: 4 }],
      ['gemma.feed_forward_length', { type: 'INT32', value: 64 }],
    ];
    expect(build(metadata)).toMatchObject({ architecture: 'gemma', contextLength: 8192, embeddingLength: 32, layerCount: 3 });
  });
});

const EXPECTED: Record<MalformedKind, GgufRejectionCode> = {
  empty: 'not_gguf',
  'wrong-magic': 'not_gguf',
  'version-1': 'unsupported_version',
  'version-4': 'unsupported_version',
  'big-endian': 'unsupported_version',
  'truncated-header': 'truncated',
  'truncated-data': 'truncated',
  'huge-key-count': 'too_many_keys',
  'key-count-past-end': 'too_many_keys',
  'huge-tensor-count': 'too_many_tensors',
  'tensor-count-past-end': 'too_many_tensors',
  'string-past-end': 'bad_string',
  'string-over-limit': 'bad_string',
  'empty-key': 'bad_string',
  'array-past-end': 'bad_array',
  'nested-array-too-deep': 'bad_array',
  'unknown-value-type': 'bad_value_type',
  'unknown-array-type': 'bad_value_type',
  'duplicate-key': 'duplicate_key',
  'alignment-not-power-of-two': 'bad_alignment',
  'alignment-zero': 'bad_alignment',
  'alignment-wrong-type': 'bad_alignment',
  'missing-architecture': 'missing_architecture',
  'architecture-not-string': 'missing_architecture',
  'missing-context-length': 'missing_metadata',
  'tokenizer-scores-short': 'bad_tokenizer',
  'tokenizer-types-wrong-type': 'bad_tokenizer',
  'no-tensors': 'no_tensors',
  'tensor-name-too-long': 'bad_tensor_name',
  'duplicate-tensor': 'duplicate_tensor',
  'zero-dims': 'bad_dims',
  'too-many-dims': 'bad_dims',
  'zero-dim': 'bad_dims',
  'negative-dim': 'bad_dims',
  'dim-over-limit': 'bad_dims',
  'dims-overflow': 'tensor_too_large',
  'unknown-tensor-type': 'unknown_tensor_type',
  'removed-tensor-type': 'unknown_tensor_type',
  'bad-block-shape': 'bad_block_shape',
  'misaligned-offset': 'misaligned_tensor',
  'tensor-offset-past-end': 'tensor_out_of_bounds',
  'tensor-overlap': 'tensor_layout',
  'header-too-large': 'header_too_large',
  'key-with-control-characters': 'bad_string',
  'tensor-name-with-control-characters': 'bad_tensor_name',
  'empty-vocabulary': 'bad_tokenizer',
  'duplicate-token': 'bad_tokenizer',
  'zero-layers': 'bad_metadata',
  'too-many-layers': 'bad_metadata',
  'nan-epsilon': 'bad_metadata',
  'zero-kv-heads': 'bad_metadata',
  'missing-head-count': 'missing_metadata',
  'missing-feed-forward-length': 'missing_metadata',
  'kv-heads-not-dividing': 'bad_metadata',
  'feed-forward-length-mismatch': 'tensor_shape',
  'missing-byte-token': 'bad_tokenizer',
  'duplicate-token-after-zero': 'bad_tokenizer',
};

describe('checkGgufBytes on malformed files', () => {
  for (const kind of MALFORMED_KINDS) {
    it(`rejects ${kind} with ${EXPECTED[kind]}`, () => {
      const variant = malformedGguf(kind);
      const found = rejection(checkGgufBytes(variant.bytes, variant.fileSize));
      expect(found.code).toBe(EXPECTED[kind]);
      expect(found.message.length).toBeGreaterThan(20);
      expect(found.message).not.toMatch(/[\n\r]|undefined|NaN|\[object/);
      if (found.offset !== undefined) {
        expect(found.offset).toBeGreaterThanOrEqual(0);
        expect(found.offset).toBeLessThanOrEqual(variant.fileSize);
      }
    });
  }

  it('names the first bytes of a file that is not GGUF', () => {
    const found = rejection(checkGgufBytes(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0]), 6));
    expect(found.message).toBe('This file is not a GGUF model: its first bytes are 50 4B 03 04. It looks like a ZIP archive: unpack it first.');
  });

  it('covers every rejection code that a file can cause', () => {
    const byFiles = new Set<GgufRejectionCode>(Object.values(EXPECTED));
    // The rest come from the caller or the file system, not from file contents.
    const elsewhere: GgufRejectionCode[] = ['unreadable', 'header_incomplete', 'internal'];
    expect(GGUF_REJECTION_CODES.filter((code) => !byFiles.has(code) && !elsewhere.includes(code))).toEqual([]);
  });

  it('answers bad arguments with a result, not an exception', () => {
    expect(rejection(checkGgufBytes(new Uint8Array(8), -1)).code).toBe('unreadable');
    expect(rejection(checkGgufBytes(new Uint8Array(8), Number.NaN)).code).toBe('unreadable');
    expect(rejection(checkGgufBytes(new Uint8Array(8), 1.5)).code).toBe('unreadable');
    expect(rejection(checkGgufBytes('GGUF' as unknown as Uint8Array, 4)).code).toBe('unreadable');
    expect(rejection(checkGgufBytes(null as unknown as Uint8Array, 4)).code).toBe('unreadable');
  });

  it('judges only the bytes that exist when the size claims fewer than were given', () => {
    const plan = planGguf(presetSpec('tiny', 'F32'));
    const found = rejection(checkGgufBytes(plan.header.bytes, 100));
    // 24 metadata entries cannot fit in the 76 bytes after the counts.
    expect(found.code).toBe('too_many_keys');
    expect(found.message).toContain('damaged or incomplete');
    expect(found.offset).toBeLessThanOrEqual(100);
  });
});
