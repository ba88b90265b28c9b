// Whole on purpose: one memory-safe pass over an untrusted GGUF header, where every read is
// bounds-checked by the same cursor; split, the invariants between the steps would scatter.
import { GGUF_VALUE_SIZE, GGUF_VALUE_TYPE, GGUF_VALUE_TYPE_NAMES, fileTypeName, ggmlType } from './ggml-types.ts';
import { GGUF_LIMITS } from './types.ts';
import type { GgufRejection, GgufRejectionCode, GgufResult, ModelFacts, ModelKind } from './types.ts';

/*
 * A memory-safe check of a GGUF file's header and tensor table, run before llama.cpp ever
 * sees the file. Every length and count is compared with the bytes actually left before
 * it is used, so each loop is bounded by the input's size; 64-bit fields are bigints, or
 * numbers only where every value past 2^53 is rejected anyway. Nothing here throws to the caller: internal control flow
 * uses two private signals (a rejection and "give me more bytes"), and anything else is
 * caught and reported as `internal`.
 */

const MAGIC = [0x47, 0x47, 0x55, 0x46]; // "GGUF"
const INT64_MAX = (1n << 63n) - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MAX_DIM = BigInt(GGUF_LIMITS.maxDim);

/** Smallest encoded size of a key/value pair: empty-ish key (length + 1 byte), type, a one-byte value. */
const MIN_KV_BYTES = 8 + 1 + 4 + 1;
/** Smallest encoded tensor info: name length + 1 byte, n_dims, one dim, type, offset. */
const MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 8 + 4 + 8;
/** Smallest encoded array element for strings (the length) and arrays (type and count). */
const MIN_STRING_BYTES = 8;
const MIN_ARRAY_BYTES = 4 + 8;

class Rejected {
  readonly rejection: GgufRejection;
  constructor(rejection: GgufRejection) {
    this.rejection = rejection;
  }
}

class NeedMore {
  readonly bytes: number;
  constructor(bytes: number) {
    this.bytes = bytes;
  }
}

function reject(code: GgufRejectionCode, message: string, offset?: number): never {
  throw new Rejected(offset === undefined ? { code, message } : { code, message, offset });
}

type MetaValue =
  | { readonly kind: 'int'; readonly type: number; readonly value: bigint }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'string'; readonly start: number; readonly length: number }
  | { readonly kind: 'array'; readonly elementType: number; readonly count: number; readonly start: number };

interface TensorInfo {
  readonly name: string;
  /** ne[0] first; each at most 2^40, so exact as numbers. */
  readonly dims: readonly number[];
  readonly typeId: number;
  readonly elements: bigint;
  readonly bytes: bigint;
  readonly offset: bigint;
  /** Where the tensor's offset field sits in the file, for error reports. */
  readonly at: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

class Reader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly fileSize: bigint;
  /** Bytes we may look at: the smaller of what we were given and the file size. */
  readonly available: number;
  /** The file size as a number, capped where it stops being exact; only compared with small lengths. */
  readonly fileSizeNumber: number;
  pos = 0;

  constructor(bytes: Uint8Array, fileSize: bigint) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.fileSize = fileSize;
    this.fileSizeNumber = fileSize > MAX_SAFE ? Number.MAX_SAFE_INTEGER : Number(fileSize);
    this.available = BigInt(bytes.byteLength) < fileSize ? bytes.byteLength : Number(fileSize);
  }

  /** Bytes of the file after the current position (may exceed what we hold). */
  remainingInFile(): bigint {
    return this.fileSize - BigInt(this.pos);
  }

  /** Makes sure `n` more bytes are here; `n` must already be known to be small. */
  ensure(n: number, what: string): void {
    const end = this.pos + n;
    if (end <= this.available) return;
    if (BigInt(end) > this.fileSize) {
      reject(
        'truncated',
        `The file ends after ${this.fileSize} bytes, in the middle of its header (while reading ${what}). It is probably an incomplete copy.`,
        this.pos,
      );
    }
    if (end > GGUF_LIMITS.maxHeaderBytes) {
      reject(
        'header_too_large',
        `The model's header is larger than ${GGUF_LIMITS.maxHeaderBytes / (1024 * 1024)} MiB, which no real model needs. The file is damaged or not a usable model.`,
        this.pos,
      );
    }
    throw new NeedMore(end);
  }

  u32(what: string): number {
    this.ensure(4, what);
    const value = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return value;
  }

  u64(what: string): bigint {
    this.ensure(8, what);
    const value = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return value;
  }

  /** A u64 as a number: exact below 2^53, Infinity above (every limit is far below). */
  u64Number(what: string): number {
    this.ensure(8, what);
    const low = this.view.getUint32(this.pos, true);
    const high = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
    return high >= 0x200000 ? Infinity : high * 0x1_0000_0000 + low;
  }

  skip(n: number, what: string): void {
    this.ensure(n, what);
    this.pos += n;
  }

  /**
   * Reads a string's length, checks it against `limit` and the end of the file, and skips
   * the string; returns its length (it starts at `pos - length`). This is the hot loop of
   * large vocabularies, so it stays on plain numbers: a high word other than zero is
   * already over any limit.
   */
  string(what: string, limit: number, code: GgufRejectionCode): number {
    const at = this.pos;
    this.ensure(8, what);
    const low = this.view.getUint32(at, true);
    const high = this.view.getUint32(at + 4, true);
    this.pos = at + 8;
    if (high !== 0 || low > limit) {
      const claimed = (BigInt(high) << 32n) | BigInt(low);
      reject(code, `${capitalize(what)} claims to be ${claimed} bytes long, more than the ${limit} allowed. The file is damaged.`, at);
    }
    if (low > this.fileSizeNumber - this.pos) {
      reject(
        code,
        `${capitalize(what)} claims ${low} bytes, but only ${this.remainingInFile()} bytes of the file are left. The file is damaged or incomplete.`,
        at,
      );
    }
    this.ensure(low, what);
    this.pos += low;
    return low;
  }

  text(start: number, length: number): string {
    return utf8.decode(this.bytes.subarray(start, start + length));
  }
}

function capitalize(text: string): string {
  return text.length === 0 ? text : text[0]!.toUpperCase() + text.slice(1);
}

function hexBytes(bytes: Uint8Array, count: number): string {
  return [...bytes.subarray(0, count)].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
}

/** A hint for the files people most often pick by mistake. */
function formatHint(bytes: Uint8Array): string {
  const ascii = String.fromCharCode(...bytes.subarray(0, 4));
  if (ascii.startsWith('PK')) return ' It looks like a ZIP archive: unpack it first.';
  if (ascii === 'tjgg' || ascii === 'lmgg' || ascii === 'fmgg') return ' It looks like the older GGML format, which must be converted to GGUF.';
  if (bytes.length >= 9 && bytes[8] === 0x7b) return ' It looks like a safetensors file, which must be converted to GGUF.';
  if (ascii.startsWith('<') || ascii.startsWith('{')) return ' It looks like a text file (perhaps an error page saved instead of the model).';
  return '';
}

function checkMagic(r: Reader): void {
  const have = Math.min(r.available, 4);
  for (let i = 0; i < have; i++) {
    if (r.bytes[i] !== MAGIC[i]) {
      reject(
        'not_gguf',
        `This file is not a GGUF model: its first bytes are ${hexBytes(r.bytes, Math.min(r.available, 4))}.${formatHint(r.bytes.subarray(0, r.available))}`,
        0,
      );
    }
  }
  if (r.fileSize === 0n) reject('not_gguf', 'This file is empty, so it is not a GGUF model.', 0);
  r.skip(4, 'the GGUF signature');
}

function checkVersion(r: Reader): number {
  const at = r.pos;
  const version = r.u32('the version');
  if (version === 2 || version === 3) return version;
  if (version === 0x02000000 || version === 0x03000000) {
    reject('unsupported_version', 'This GGUF file is big-endian, which Soberana cannot read on this computer. Use the little-endian version of the model.', at);
  }
  if (version === 1) {
    reject(
      'unsupported_version',
      'This is a GGUF version 1 file, an early format that current llama.cpp no longer reads. Use a newer conversion of the model.',
      at,
    );
  }
  reject('unsupported_version', `This GGUF file says it is version ${version}; Soberana reads versions 2 and 3.`, at);
}

function readCount(r: Reader, what: 'tensors' | 'keys', limit: number): number {
  const at = r.pos;
  const count = r.u64(`the number of ${what}`);
  const code = what === 'tensors' ? 'too_many_tensors' : 'too_many_keys';
  const label = what === 'tensors' ? 'tensors' : 'metadata entries';
  if (count > BigInt(limit)) {
    reject(code, `The file claims ${count} ${label}, more than the ${limit} Soberana accepts. The file is damaged.`, at);
  }
  return Number(count);
}

/** Checks that `count` items of at least `minBytes` each could fit in what is left of the file. */
function checkFits(r: Reader, count: number, minBytes: number, code: GgufRejectionCode, message: () => string, at: number): void {
  if (BigInt(count) * BigInt(minBytes) > r.remainingInFile()) reject(code, message(), at);
}

function checkValueType(type: number, at: number, where: string): void {
  if (type > 12)
    reject('bad_value_type', `${capitalize(where)} has an unknown value type (${type}). The file is damaged or uses a newer GGUF than Soberana knows.`, at);
}

/** Labels for messages about one metadata array, built once: arrays can hold millions of items. */
interface ArrayLabels {
  readonly where: string;
  readonly elementType: string;
  readonly length: string;
  readonly items: string;
  readonly string: string;
}

function arrayLabels(where: string): ArrayLabels {
  return {
    where,
    elementType: `the element type of an array in ${where}`,
    length: `the length of an array in ${where}`,
    items: `an array in ${where}`,
    string: `a string in ${where}`,
  };
}

function readArray(r: Reader, depth: number, labels: ArrayLabels): MetaValue {
  const typeAt = r.pos;
  const elementType = r.u32(labels.elementType);
  checkValueType(elementType, typeAt, labels.items);
  if (elementType === GGUF_VALUE_TYPE.ARRAY && depth + 1 >= GGUF_LIMITS.maxArrayDepth) {
    reject('bad_array', `${capitalize(labels.where)} nests arrays more than ${GGUF_LIMITS.maxArrayDepth} deep. The file is damaged.`, typeAt);
  }
  const countAt = r.pos;
  const count = r.u64Number(labels.length);
  const fixed = GGUF_VALUE_SIZE[elementType] ?? 0;
  const minElement = fixed > 0 ? fixed : elementType === GGUF_VALUE_TYPE.STRING ? MIN_STRING_BYTES : MIN_ARRAY_BYTES;
  // Floating point is exact here for every count a file could hold; anything larger is rejected either way.
  if (count * minElement > r.fileSizeNumber - r.pos) {
    const claimed = r.view.getBigUint64(countAt, true);
    reject(
      'bad_array',
      `An array in ${labels.where} claims ${claimed} items, more than the rest of the file can hold. The file is damaged or incomplete.`,
      countAt,
    );
  }
  const start = r.pos;
  if (fixed > 0) {
    r.skip(count * fixed, labels.items);
  } else if (elementType === GGUF_VALUE_TYPE.STRING) {
    for (let i = 0; i < count; i++) r.string(labels.string, GGUF_LIMITS.maxStringBytes, 'bad_string');
  } else {
    for (let i = 0; i < count; i++) readArray(r, depth + 1, labels);
  }
  return { kind: 'array', elementType, count, start };
}

function readValue(r: Reader, type: number, where: string): MetaValue {
  const what = `the value of ${where}`;
  switch (type) {
    case GGUF_VALUE_TYPE.UINT8:
    case GGUF_VALUE_TYPE.INT8:
    case GGUF_VALUE_TYPE.UINT16:
    case GGUF_VALUE_TYPE.INT16:
    case GGUF_VALUE_TYPE.UINT32:
    case GGUF_VALUE_TYPE.INT32:
    case GGUF_VALUE_TYPE.UINT64:
    case GGUF_VALUE_TYPE.INT64: {
      const size = GGUF_VALUE_SIZE[type] ?? 8;
      r.ensure(size, what);
      const value = readInt(r.view, r.pos, type);
      r.pos += size;
      return { kind: 'int', type, value };
    }
    case GGUF_VALUE_TYPE.FLOAT32: {
      r.ensure(4, what);
      const value = r.view.getFloat32(r.pos, true);
      r.pos += 4;
      return { kind: 'float', value };
    }
    case GGUF_VALUE_TYPE.FLOAT64: {
      r.ensure(8, what);
      const value = r.view.getFloat64(r.pos, true);
      r.pos += 8;
      return { kind: 'float', value };
    }
    case GGUF_VALUE_TYPE.BOOL: {
      r.ensure(1, what);
      const value = r.bytes[r.pos] !== 0;
      r.pos += 1;
      return { kind: 'bool', value };
    }
    case GGUF_VALUE_TYPE.STRING: {
      const length = r.string(what, GGUF_LIMITS.maxStringBytes, 'bad_string');
      return { kind: 'string', start: r.pos - length, length };
    }
    default:
      return readArray(r, 0, arrayLabels(where));
  }
}

function readInt(view: DataView, at: number, type: number): bigint {
  switch (type) {
    case GGUF_VALUE_TYPE.UINT8:
      return BigInt(view.getUint8(at));
    case GGUF_VALUE_TYPE.INT8:
      return BigInt(view.getInt8(at));
    case GGUF_VALUE_TYPE.UINT16:
      return BigInt(view.getUint16(at, true));
    case GGUF_VALUE_TYPE.INT16:
      return BigInt(view.getInt16(at, true));
    case GGUF_VALUE_TYPE.UINT32:
      return BigInt(view.getUint32(at, true));
    case GGUF_VALUE_TYPE.INT32:
      return BigInt(view.getInt32(at, true));
    case GGUF_VALUE_TYPE.UINT64:
      return view.getBigUint64(at, true);
    default:
      return view.getBigInt64(at, true);
  }
}

const INTEGER_TYPES: ReadonlySet<number> = new Set([
  GGUF_VALUE_TYPE.UINT8,
  GGUF_VALUE_TYPE.INT8,
  GGUF_VALUE_TYPE.UINT16,
  GGUF_VALUE_TYPE.INT16,
  GGUF_VALUE_TYPE.UINT32,
  GGUF_VALUE_TYPE.INT32,
  GGUF_VALUE_TYPE.UINT64,
  GGUF_VALUE_TYPE.INT64,
]);

interface Header {
  readonly version: number;
  readonly metadata: Metadata;
  readonly tensors: readonly TensorInfo[];
  readonly alignment: number;
  readonly dataStart: bigint;
}

/** Values by key, plus where each key starts, so that later complaints can point at it. */
interface Metadata extends ReadonlyMap<string, MetaValue> {
  readonly offsets: ReadonlyMap<string, number>;
}

function readMetadata(r: Reader, count: number): Metadata {
  const offsets = new Map<string, number>();
  const metadata = Object.assign(new Map<string, MetaValue>(), { offsets });
  for (let i = 0; i < count; i++) {
    const keyAt = r.pos;
    const length = r.string(`the name of metadata entry ${i + 1}`, GGUF_LIMITS.maxKeyBytes, 'bad_string');
    if (length === 0) reject('bad_string', `Metadata entry ${i + 1} has an empty name. The file is damaged.`, keyAt);
    if (hasControlBytes(r.bytes, r.pos - length, length)) {
      // llama.cpp copies keys as C strings: one starting with a zero byte becomes empty and trips an assertion.
      reject('bad_string', `The name of metadata entry ${i + 1} contains control characters. The file is damaged.`, keyAt);
    }
    const key = r.text(r.pos - length, length);
    if (metadata.has(key)) reject('duplicate_key', `The metadata entry "${printable(key)}" appears twice. The file is damaged.`, keyAt);
    const typeAt = r.pos;
    const type = r.u32(`the type of "${printable(key)}"`);
    checkValueType(type, typeAt, `the metadata entry "${printable(key)}"`);
    metadata.set(key, readValue(r, type, `"${printable(key)}"`));
    offsets.set(key, keyAt);
  }
  return metadata;
}

function hasControlBytes(bytes: Uint8Array, start: number, length: number): boolean {
  for (let i = start; i < start + length; i++) {
    const b = bytes[i]!;
    if (b < 0x20 || b === 0x7f) return true;
  }
  return false;
}

/** Keys and names can hold anything; keep messages short and on one line. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must not reach a message
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 77)}...` : clean;
}

function readAlignment(metadata: Metadata): number {
  const value = metadata.get('general.alignment');
  if (value === undefined) return GGUF_LIMITS.defaultAlignment;
  // llama.cpp reads this key with gguf_get_val_u32, which aborts the process on any other type.
  if (value.kind !== 'int' || value.type !== GGUF_VALUE_TYPE.UINT32) {
    reject(
      'bad_alignment',
      'The metadata entry "general.alignment" is not a 32-bit unsigned number. The file is damaged.',
      metadata.offsets.get('general.alignment'),
    );
  }
  const alignment = Number(value.value);
  if (alignment === 0 || (alignment & (alignment - 1)) !== 0) {
    reject(
      'bad_alignment',
      `The alignment ${alignment} in "general.alignment" is not a power of two. The file is damaged.`,
      metadata.offsets.get('general.alignment'),
    );
  }
  return alignment;
}

function readTensorInfos(r: Reader, count: number, alignment: number): TensorInfo[] {
  const tensors: TensorInfo[] = [];
  const names = new Set<string>();
  const alignmentBig = BigInt(alignment);
  for (let i = 0; i < count; i++) {
    const nameAt = r.pos;
    const length = r.string(`the name of tensor ${i + 1}`, GGUF_LIMITS.maxTensorNameBytes, 'bad_tensor_name');
    if (hasControlBytes(r.bytes, r.pos - length, length)) {
      reject('bad_tensor_name', `The name of tensor ${i + 1} contains control characters. The file is damaged.`, nameAt);
    }
    const name = r.text(r.pos - length, length);
    const label = `tensor "${printable(name)}"`;
    if (names.has(name)) reject('duplicate_tensor', `The ${label} appears twice in the tensor table. The file is damaged.`, nameAt);
    names.add(name);

    const dimsAt = r.pos;
    const nDims = r.u32(`the number of dimensions of ${label}`);
    if (nDims === 0 || nDims > GGUF_LIMITS.maxDims) {
      reject('bad_dims', `The ${label} has ${nDims} dimensions; a tensor has 1 to ${GGUF_LIMITS.maxDims}. The file is damaged.`, dimsAt);
    }
    let elements = 1n;
    let first = 0n;
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) {
      const dimAt = r.pos;
      const dim = r.u64(`a dimension of ${label}`);
      if (dim === 0n || dim > MAX_DIM) {
        reject('bad_dims', `The ${label} has a dimension of ${dim === 0n ? 0 : BigInt.asIntN(64, dim)}, outside 1 to 2^40. The file is damaged.`, dimAt);
      }
      if (d === 0) first = dim;
      elements *= dim;
      dims.push(Number(dim));
    }
    if (elements > INT64_MAX) {
      reject('tensor_too_large', `The ${label} claims more elements than a 64-bit count can hold. The file is damaged.`, dimsAt);
    }

    const typeAt = r.pos;
    const typeId = r.u32(`the type of ${label}`);
    const type = ggmlType(typeId);
    if (type === undefined) {
      reject(
        'unknown_tensor_type',
        `The ${label} uses tensor type ${typeId}, which Soberana does not know. It may need a newer version, or the file is damaged.`,
        typeAt,
      );
    }
    const block = BigInt(type.blockSize);
    if (first % block !== 0n) {
      reject(
        'bad_block_shape',
        `The ${label} has rows of ${first} values, which is not a whole number of ${type.name} blocks of ${type.blockSize}. The file is damaged.`,
        dimsAt,
      );
    }
    const bytes = (elements / block) * BigInt(type.bytesPerBlock);

    const offsetAt = r.pos;
    const offset = r.u64(`the data offset of ${label}`);
    if (offset % alignmentBig !== 0n) {
      reject(
        'misaligned_tensor',
        `The data of ${label} starts at offset ${offset}, which is not a multiple of the alignment ${alignment}. The file is damaged.`,
        offsetAt,
      );
    }
    tensors.push({ name, dims, typeId, elements, bytes, offset, at: offsetAt });
  }
  return tensors;
}

function roundUp(value: bigint, alignment: bigint): bigint {
  return ((value + alignment - 1n) / alignment) * alignment;
}

/**
 * llama.cpp (gguf.cpp) requires tensors packed in table order, each padded to the
 * alignment. The layout is checked for every tensor before any bounds, so that a file
 * whose table is consistent but whose data stops early reads as truncated, and a table
 * that contradicts itself reads as damaged.
 */
function checkLayout(r: Reader, tensors: readonly TensorInfo[], dataStart: bigint, alignment: number): void {
  const alignmentBig = BigInt(alignment);
  if (dataStart > r.fileSize) {
    reject('truncated', `The file ends after ${r.fileSize} bytes, before its tensor data begins at byte ${dataStart}. It is probably an incomplete copy.`);
  }
  const dataBytes = r.fileSize - dataStart;
  let expected = 0n;
  for (const tensor of tensors) {
    if (tensor.offset !== expected) {
      const label = `tensor "${printable(tensor.name)}"`;
      if (tensor.offset + tensor.bytes > dataBytes) {
        reject(
          'tensor_out_of_bounds',
          `The data of ${label} would lie at bytes ${dataStart + tensor.offset} to ${dataStart + tensor.offset + tensor.bytes} of a file of ${r.fileSize} bytes. The file is damaged.`,
          tensor.at,
        );
      }
      reject(
        'tensor_layout',
        `The data of ${label} starts at offset ${tensor.offset} of the data section, but the tensors before it end at ${expected}. The file is damaged.`,
        tensor.at,
      );
    }
    expected += roundUp(tensor.bytes, alignmentBig);
  }
  for (const tensor of tensors) {
    const end = tensor.offset + tensor.bytes;
    if (end > dataBytes) {
      reject(
        'truncated',
        `The file ends after ${r.fileSize} bytes, before the data of tensor "${printable(tensor.name)}" (which needs ${dataStart + end} bytes). It is probably an incomplete copy.`,
        tensor.at,
      );
    }
  }
}

function readHeader(r: Reader): Header {
  checkMagic(r);
  const version = checkVersion(r);
  const tensorCountAt = r.pos;
  const tensorCount = readCount(r, 'tensors', GGUF_LIMITS.maxTensors);
  const keyCountAt = r.pos;
  const keyCount = readCount(r, 'keys', GGUF_LIMITS.maxKeys);
  checkFits(
    r,
    keyCount,
    MIN_KV_BYTES,
    'too_many_keys',
    () =>
      `The file claims ${keyCount} metadata entries, more than the rest of the file (${r.remainingInFile()} bytes) can hold. The file is damaged or incomplete.`,
    keyCountAt,
  );
  checkFits(
    r,
    keyCount * MIN_KV_BYTES + tensorCount * MIN_TENSOR_INFO_BYTES,
    1,
    'too_many_tensors',
    () => `The file claims ${tensorCount} tensors, more than the rest of the file (${r.remainingInFile()} bytes) can hold. The file is damaged or incomplete.`,
    tensorCountAt,
  );
  const metadata = readMetadata(r, keyCount);
  const alignment = readAlignment(metadata);
  const architecture = metadata.get('general.architecture');
  if (architecture === undefined) reject('missing_architecture', 'The model does not say which architecture it uses ("general.architecture" is missing).');
  if (architecture.kind !== 'string') {
    reject('missing_architecture', 'The metadata entry "general.architecture" is not text. The file is damaged.', metadata.offsets.get('general.architecture'));
  }
  checkTokenizer(r, metadata);
  if (tensorCount === 0) reject('no_tensors', 'This GGUF file holds no tensors, so it is not a model (it may be a vocabulary-only file).');
  const tensors = readTensorInfos(r, tensorCount, alignment);
  const dataStart = roundUp(BigInt(r.pos), BigInt(alignment));
  checkLayout(r, tensors, dataStart, alignment);
  return { version, metadata, tensors, alignment, dataStart };
}

/**
 * llama.cpp reads `scores` and `token_type` as raw arrays indexed by token id, so arrays of
 * the wrong type or length would make it read past their end.
 */
function checkTokenizer(r: Reader, metadata: Metadata): void {
  const tokens = metadata.get('tokenizer.ggml.tokens');
  if (tokens === undefined) return;
  if (tokens.kind !== 'array' || tokens.elementType !== GGUF_VALUE_TYPE.STRING) {
    reject(
      'bad_tokenizer',
      'The vocabulary ("tokenizer.ggml.tokens") is not a list of strings. The file is damaged.',
      metadata.offsets.get('tokenizer.ggml.tokens'),
    );
  }
  if (tokens.count === 0)
    reject('bad_tokenizer', 'The vocabulary ("tokenizer.ggml.tokens") is empty. The file is damaged.', metadata.offsets.get('tokenizer.ggml.tokens'));
  const texts = checkUniqueTokens(r, tokens.start, tokens.count, metadata.offsets.get('tokenizer.ggml.tokens'));
  if (stringValue(r, metadata.get('tokenizer.ggml.model')) === 'llama') checkByteFallback(texts, metadata.offsets.get('tokenizer.ggml.tokens'));
  const companions: readonly [string, number][] = [
    ['tokenizer.ggml.scores', GGUF_VALUE_TYPE.FLOAT32],
    ['tokenizer.ggml.token_type', GGUF_VALUE_TYPE.INT32],
  ];
  for (const [key, elementType] of companions) {
    const value = metadata.get(key);
    if (value === undefined) continue;
    if (value.kind !== 'array' || value.elementType !== elementType) {
      reject(
        'bad_tokenizer',
        `The tokenizer entry "${key}" should be a list of ${GGUF_VALUE_TYPE_NAMES[elementType]} values. The file is damaged.`,
        metadata.offsets.get(key),
      );
    }
    if (value.count !== tokens.count) {
      reject(
        'bad_tokenizer',
        `The tokenizer entry "${key}" has ${value.count} items, but the vocabulary has ${tokens.count} tokens. The file is damaged.`,
        metadata.offsets.get(key),
      );
    }
  }
  const merges = metadata.get('tokenizer.ggml.merges');
  if (merges !== undefined && (merges.kind !== 'array' || merges.elementType !== GGUF_VALUE_TYPE.STRING)) {
    reject(
      'bad_tokenizer',
      'The tokenizer entry "tokenizer.ggml.merges" is not a list of strings. The file is damaged.',
      metadata.offsets.get('tokenizer.ggml.merges'),
    );
  }
}

/** Decodes each byte to its own character, so that distinct byte strings stay distinct. */
const bytewise = new TextDecoder('latin1');

/** Tokens are short: building them directly is several times faster than a decoder call. */
function bytewiseText(bytes: Uint8Array): string {
  if (bytes.length > 64) return bytewise.decode(bytes);
  let text = '';
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]!);
  return text;
}

const BYTE_TOKENS: readonly string[] = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);

/**
 * llama.cpp maps token text to ids and aborts when two tokens share a text. It reads each
 * token as a C string, so text after a zero byte does not count. The strings were
 * bounds-checked when the array was read, so this pass only re-walks them.
 */
function checkUniqueTokens(r: Reader, start: number, count: number, at: number | undefined): ReadonlySet<string> {
  const seen = new Set<string>();
  let pos = start;
  for (let i = 0; i < count; i++) {
    const length = r.view.getUint32(pos, true);
    const raw = r.bytes.subarray(pos + 8, pos + 8 + length);
    const zero = raw.indexOf(0);
    const text = bytewiseText(zero === -1 ? raw : raw.subarray(0, zero));
    if (seen.has(text)) {
      reject('bad_tokenizer', `The vocabulary lists the token "${printable(r.text(pos + 8, length))}" twice (again as token ${i}). The file is damaged.`, at);
    }
    seen.add(text);
    pos += 8 + length;
  }
  return seen;
}

/**
 * llama.cpp's SentencePiece tokenizer spells text it has no piece for byte by byte, through
 * `<0xXX>` tokens or else one-byte tokens, and throws an uncaught exception (ending the
 * process) when a byte has neither.
 */
function checkByteFallback(texts: ReadonlySet<string>, at: number | undefined): void {
  for (let b = 0; b < 256; b++) {
    if (!texts.has(BYTE_TOKENS[b]!) && !texts.has(String.fromCharCode(b))) {
      const name = BYTE_TOKENS[b]!;
      reject(
        'bad_tokenizer',
        `The vocabulary has no token for the byte 0x${name.slice(3, 5)} (no "${name}"), so some text could not be read. The file is damaged.`,
        at,
      );
    }
  }
}

function intValue(r: Reader, value: MetaValue | undefined): number | null {
  if (value === undefined) return null;
  if (value.kind === 'int') return value.value >= 0n && value.value <= MAX_SAFE ? Number(value.value) : null;
  // Some architectures give per-layer values as an array; the first layer stands for all.
  if (value.kind === 'array' && value.count > 0 && INTEGER_TYPES.has(value.elementType)) {
    const v = readInt(r.view, value.start, value.elementType);
    return v >= 0n && v <= MAX_SAFE ? Number(v) : null;
  }
  return null;
}

function requiredInt(r: Reader, metadata: Metadata, key: string, what: string): number {
  const value = intValue(r, metadata.get(key));
  if (value === null) {
    const present = metadata.has(key);
    reject(
      'missing_metadata',
      present
        ? `The model's ${what} ("${printable(key)}") is not a whole number. The file is damaged.`
        : `The model does not give its ${what} ("${printable(key)}"), which llama.cpp requires.`,
      metadata.offsets.get(key),
    );
  }
  return value;
}

/**
 * Dense transformer families whose tensors are shaped by the head count and the
 * feed-forward length: without them llama.cpp computes zero-sized shapes and aborts.
 * Other architectures (recurrent, hybrid, mixture-of-experts) may legitimately lack them.
 */
const DENSE_FAMILIES: ReadonlySet<string> = new Set(['llama', 'qwen2', 'qwen3', 'gemma', 'gemma2', 'gemma3', 'phi3']);

function badMetadata(metadata: Metadata, key: string, message: string): never {
  reject('bad_metadata', `${message} The file is damaged.`, metadata.offsets.get(key));
}

/** The values llama.cpp asserts on (aborting the process) rather than reporting. */
function checkHyperparameters(
  r: Reader,
  metadata: Metadata,
  architecture: string,
  values: { contextLength: number; embeddingLength: number; layerCount: number },
): void {
  const arch = (suffix: string) => `${architecture}.${suffix}`;
  if (values.layerCount < 1 || values.layerCount > GGUF_LIMITS.maxLayers) {
    badMetadata(metadata, arch('block_count'), `The model claims ${values.layerCount} layers; llama.cpp accepts 1 to ${GGUF_LIMITS.maxLayers}.`);
  }
  if (values.embeddingLength < 1) badMetadata(metadata, arch('embedding_length'), 'The model claims an embedding length of 0.');
  if (values.contextLength < 1) badMetadata(metadata, arch('context_length'), 'The model claims a context length of 0.');
  for (const suffix of ['attention.layer_norm_rms_epsilon', 'attention.layer_norm_epsilon']) {
    const value = metadata.get(arch(suffix));
    if (value !== undefined && (value.kind !== 'float' || !Number.isFinite(value.value) || value.value < 0)) {
      badMetadata(metadata, arch(suffix), `The normalisation epsilon ("${printable(arch(suffix))}") is not a non-negative number.`);
    }
  }
  if (!DENSE_FAMILIES.has(architecture)) return;
  const heads = requiredInt(r, metadata, arch('attention.head_count'), 'number of attention heads');
  const feedForward = requiredInt(r, metadata, arch('feed_forward_length'), 'feed-forward length');
  const kvHeads = metadata.has(arch('attention.head_count_kv'))
    ? requiredInt(r, metadata, arch('attention.head_count_kv'), 'number of key-value heads')
    : heads;
  if (heads < 1) badMetadata(metadata, arch('attention.head_count'), 'The model claims 0 attention heads.');
  if (kvHeads < 1) badMetadata(metadata, arch('attention.head_count_kv'), 'The model claims 0 key-value heads.');
  if (feedForward < 1) badMetadata(metadata, arch('feed_forward_length'), 'The model claims a feed-forward length of 0.');
  if (kvHeads > heads || heads % kvHeads !== 0) {
    badMetadata(metadata, arch('attention.head_count_kv'), `The model's ${heads} attention heads cannot be shared among ${kvHeads} key-value heads.`);
  }
}

/** Families whose tensor names and shapes follow llama's layout; checked only for the tensors present. */
const LLAMA_LAYOUT: ReadonlySet<string> = new Set(['llama', 'qwen2', 'qwen3', 'gemma', 'gemma2', 'gemma3']);

/**
 * llama.cpp checks tensor shapes against the hyperparameters only after it has used the
 * hyperparameters to plan memory, and it aborts there when they disagree (for example a
 * feed-forward length that does not match the feed-forward tensors). So for the
 * llama-like families, the main weights must have the shapes the settings imply.
 */
function checkShapes(r: Reader, metadata: Metadata, architecture: string, emb: number, tensors: readonly TensorInfo[]): void {
  if (!LLAMA_LAYOUT.has(architecture)) return;
  const arch = (suffix: string) => `${architecture}.${suffix}`;
  const heads = requiredInt(r, metadata, arch('attention.head_count'), 'number of attention heads');
  const kvHeads = intValue(r, metadata.get(arch('attention.head_count_kv'))) ?? heads;
  const ffn = requiredInt(r, metadata, arch('feed_forward_length'), 'feed-forward length');
  // Integer division, as llama.cpp does.
  const headK = intValue(r, metadata.get(arch('attention.key_length'))) ?? Math.floor(emb / heads);
  const headV = intValue(r, metadata.get(arch('attention.value_length'))) ?? Math.floor(emb / heads);
  const tokens = metadata.get('tokenizer.ggml.tokens');
  const vocab = tokens?.kind === 'array' ? tokens.count : null;
  const expected = new Map<string, readonly number[]>([
    ['attn_q', [emb, headK * heads]],
    ['attn_k', [emb, headK * kvHeads]],
    ['attn_v', [emb, headV * kvHeads]],
    ['attn_output', [headV * heads, emb]],
    ['ffn_gate', [emb, ffn]],
    ['ffn_up', [emb, ffn]],
    ['ffn_down', [ffn, emb]],
    ['attn_norm', [emb]],
    ['ffn_norm', [emb]],
  ]);
  for (const tensor of tensors) {
    let want: readonly number[] | undefined;
    const block = /^blk\.\d+\.([a-z_]+)\.weight$/.exec(tensor.name);
    if (block !== null) want = expected.get(block[1]!);
    else if (tensor.name === 'output_norm.weight') want = [emb];
    else if ((tensor.name === 'token_embd.weight' || tensor.name === 'output.weight') && vocab !== null) want = [emb, vocab];
    if (want === undefined || (want.length === tensor.dims.length && want.every((n, i) => n === tensor.dims[i]))) continue;
    reject(
      'tensor_shape',
      `The tensor "${printable(tensor.name)}" has the shape [${tensor.dims.join(', ')}], but the model's settings call for [${want.join(', ')}]. The file is damaged.`,
      tensor.at,
    );
  }
}

function stringValue(r: Reader, value: MetaValue | undefined): string | null {
  return value?.kind === 'string' ? r.text(value.start, value.length) : null;
}

const EMBEDDING_ARCHITECTURES: ReadonlySet<string> = new Set([
  'bert',
  'nomic-bert',
  'nomic-bert-moe',
  'jina-bert-v2',
  'jina-bert-v3',
  'modern-bert',
  'neo-bert',
  'eurobert',
  't5encoder',
  'gemma-embedding',
]);

/** llama.cpp's `llama_pooling_type`: 1 mean, 2 cls, 3 last, 4 rank. */
const POOLING_RANK = 4;

/**
 * The kind is a guess from metadata, because GGUF has no field for it:
 * - reranking: `<arch>.pooling_type` is 4 (rank), or a `cls.output.weight` tensor exists
 *   (the classifier head of cross-encoders), or the name or architecture says "rerank";
 * - embedding: a BERT-family encoder architecture, or `<arch>.pooling_type` is 1–3
 *   (mean, cls, last), which llama.cpp only uses when producing embeddings;
 * - chat: everything else.
 */
function guessKind(architecture: string, name: string | null, pooling: number | null, tensors: readonly TensorInfo[]): ModelKind {
  const label = `${architecture} ${name ?? ''}`.toLowerCase();
  if (pooling === POOLING_RANK || label.includes('rerank') || tensors.some((tensor) => tensor.name === 'cls.output.weight')) return 'reranking';
  if (EMBEDDING_ARCHITECTURES.has(architecture) || (pooling !== null && pooling >= 1 && pooling <= 3)) return 'embedding';
  return 'chat';
}

function quantizationOf(r: Reader, metadata: Metadata, tensors: readonly TensorInfo[]): string {
  const fileType = intValue(r, metadata.get('general.file_type'));
  const named = fileType === null || fileType > 0xffffffff ? undefined : fileTypeName(fileType);
  if (named !== undefined) return named;
  const totals = new Map<number, bigint>();
  for (const tensor of tensors) totals.set(tensor.typeId, (totals.get(tensor.typeId) ?? 0n) + tensor.elements);
  let best = -1;
  let bestCount = -1n;
  for (const [typeId, count] of totals) {
    if (count > bestCount) {
      best = typeId;
      bestCount = count;
    }
  }
  return ggmlType(best)?.name ?? 'unknown';
}

function factsOf(r: Reader, header: Header): ModelFacts {
  const { metadata, tensors } = header;
  const architecture = stringValue(r, metadata.get('general.architecture')) ?? '';
  const arch = (suffix: string) => `${architecture}.${suffix}`;
  const contextLength = requiredInt(r, metadata, arch('context_length'), 'context length');
  const embeddingLength = requiredInt(r, metadata, arch('embedding_length'), 'embedding length');
  const layerCount = requiredInt(r, metadata, arch('block_count'), 'number of layers');
  checkHyperparameters(r, metadata, architecture, { contextLength, embeddingLength, layerCount });
  checkShapes(r, metadata, architecture, embeddingLength, tensors);
  const name = stringValue(r, metadata.get('general.name'));
  const tokens = metadata.get('tokenizer.ggml.tokens');
  const template = metadata.get('tokenizer.chat_template');
  let parameters = 0n;
  for (const tensor of tensors) parameters += tensor.elements;
  return {
    architecture,
    name,
    parameterCount: Number(parameters),
    quantization: quantizationOf(r, metadata, tensors),
    contextLength,
    layerCount,
    embeddingLength,
    headCount: intValue(r, metadata.get(arch('attention.head_count'))),
    kvHeadCount: intValue(r, metadata.get(arch('attention.head_count_kv'))),
    vocabularySize: tokens?.kind === 'array' ? tokens.count : null,
    hasChatTemplate: template?.kind === 'string' && template.length > 0,
    kind: guessKind(architecture, name, intValue(r, metadata.get(arch('pooling_type'))), tensors),
    fileSize: Number(r.fileSize),
    tensorCount: tensors.length,
    version: header.version,
    alignment: header.alignment,
    metadataKeys: metadata.size,
  };
}

type Outcome = GgufResult | { readonly ok: 'need'; readonly bytes: number };

function toFileSize(fileSize: number | bigint): bigint | null {
  if (typeof fileSize === 'bigint') return fileSize >= 0n ? fileSize : null;
  if (typeof fileSize === 'number' && Number.isSafeInteger(fileSize) && fileSize >= 0) return BigInt(fileSize);
  return null;
}

/** The parser proper; `ok: 'need'` asks for a longer prefix of the file. */
export function inspectGgufPrefix(bytes: Uint8Array, fileSize: number | bigint): Outcome {
  try {
    const size = toFileSize(fileSize);
    if (size === null || !(bytes instanceof Uint8Array)) {
      return { ok: false, rejection: { code: 'unreadable', message: 'The file could not be checked: its size or contents were not given correctly.' } };
    }
    const r = new Reader(bytes, size);
    const header = readHeader(r);
    return { ok: true, facts: factsOf(r, header) };
  } catch (signal) {
    if (signal instanceof Rejected) return { ok: false, rejection: signal.rejection };
    if (signal instanceof NeedMore) return { ok: 'need', bytes: signal.bytes };
    return { ok: false, rejection: { code: 'internal', message: 'The model file could not be checked because of an unexpected error in the checker.' } };
  }
}

/**
 * Checks a GGUF file from a prefix of its bytes (or all of them). Pure and synchronous;
 * never throws. When the prefix ends before the header does, the result is
 * `header_incomplete`, unless the file itself is that short (`truncated`).
 */
export function checkGgufBytes(bytes: Uint8Array, fileSize: number | bigint): GgufResult {
  const outcome = inspectGgufPrefix(bytes, fileSize);
  if (outcome.ok !== 'need') return outcome;
  return {
    ok: false,
    rejection: {
      code: 'header_incomplete',
      message: `Only the first ${bytes.byteLength} bytes of the file were examined, and its header continues to at least byte ${outcome.bytes}.`,
      offset: Math.min(bytes.byteLength, outcome.bytes),
    },
  };
}
