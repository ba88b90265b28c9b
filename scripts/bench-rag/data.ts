import { createRequire } from 'node:module';
import type * as Arrow from 'apache-arrow';

// LanceDB loads apache-arrow as CommonJS and checks `instanceof` against that copy; the ESM
// entry point is a second copy whose classes fail the check. Load the same one it does.
const arrow = createRequire(import.meta.url)('apache-arrow') as typeof Arrow;
const { Field, FixedSizeList, Float32, makeData, RecordBatch, Schema, Struct, Table: ArrowTable, Utf8, vectorFromArray } = arrow;
type Schema = Arrow.Schema;
type ArrowTable = Arrow.Table;

/*
 * Synthetic chunks for the retrieval bench: seeded, so every run (and every cached table)
 * holds the same rows.
 *
 * Vectors are not uniform random (ANN recall on those is meaningless): each row is a point
 * of a clustered LATENT_DIM-dimensional latent space (CLUSTERS Gaussian centres, point =
 * centre + noise) projected to the embedding dimension by one fixed random matrix, plus a
 * little isotropic noise, then normalized. That gives the low intrinsic dimension and the
 * topical clustering of real sentence embeddings. Queries come from the same distribution.
 *
 * Text is drawn from a seeded vocabulary of made-up words with Zipf frequencies (s = 1), so
 * posting lists have realistic lengths: a few huge (stop-word-like) ones and a long tail.
 */

export const LATENT_DIM = 48;
export const CLUSTERS = 2000;
export const COLLECTIONS = 5;
export const CHUNKS_PER_DOCUMENT = 40;
export const VOCABULARY = 50_000;
export const WORDS_MIN = 60;
export const WORDS_MAX = 140;

/** mulberry32: small, fast, good enough for synthetic data. */
export class Rng {
  private state: number;
  private spare: number | null = null;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  gauss(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = this.next();
    while (u <= 1e-12) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

export function collectionId(i: number): string {
  return `col-${i}`;
}

/** The fixed parts of the vector distribution for one dimension. */
export class VectorModel {
  readonly dim: number;
  private readonly centres: Float32Array;
  private readonly projection: Float32Array;
  private readonly latent = new Float64Array(LATENT_DIM);

  constructor(dim: number, seed = 1) {
    this.dim = dim;
    const rng = new Rng(seed * 7919 + dim);
    this.centres = new Float32Array(CLUSTERS * LATENT_DIM);
    for (let i = 0; i < this.centres.length; i++) this.centres[i] = rng.gauss();
    this.projection = new Float32Array(dim * LATENT_DIM);
    const scale = 1 / Math.sqrt(LATENT_DIM);
    for (let i = 0; i < this.projection.length; i++) this.projection[i] = rng.gauss() * scale;
  }

  /** Writes one normalized vector into out[offset .. offset + dim). */
  sample(rng: Rng, out: Float32Array, offset: number, cluster = rng.int(CLUSTERS)): void {
    const { dim, latent, centres, projection } = this;
    // Cluster spread 0.6 against centres of spread 1: clusters overlap a little, as topics do.
    const base = cluster * LATENT_DIM;
    for (let j = 0; j < LATENT_DIM; j++) latent[j] = centres[base + j]! + 0.6 * rng.gauss();
    let norm = 0;
    // A little isotropic noise on top of the low-rank signal (about 15 % of its norm).
    const iso = 0.5 / Math.sqrt(dim);
    const scale = 1 / Math.sqrt(LATENT_DIM);
    for (let k = 0; k < dim; k++) {
      let v = 0;
      const row = k * LATENT_DIM;
      for (let j = 0; j < LATENT_DIM; j++) v += projection[row + j]! * latent[j]!;
      v = v * scale + iso * rng.gauss();
      out[offset + k] = v;
      norm += v * v;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let k = 0; k < dim; k++) out[offset + k] = out[offset + k]! * inv;
  }
}

/** Zipf(1) sampler over the synthetic vocabulary through a quantized inverse-CDF lookup table. */
export class TextModel {
  readonly words: string[];
  private readonly lookup: Uint32Array;
  private static readonly LOOKUP_BITS = 22;

  constructor(seed = 1) {
    const rng = new Rng(seed * 104729 + 17);
    const onsets = ['', 'b', 'c', 'd', 'f', 'g', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'br', 'tr', 'pl', 'ch', 'qu', 'gr'];
    const vowels = ['a', 'e', 'i', 'o', 'u', 'ia', 'ue', 'io'];
    const codas = ['', '', 'n', 's', 'r', 'l'];
    const seen = new Set<string>();
    const words: string[] = [];
    while (words.length < VOCABULARY) {
      // Frequent words come out short, as in real languages.
      const syllables = 1 + Math.min(4, Math.floor(Math.log2(2 + words.length) / 3.2)) + rng.int(2);
      let w = '';
      for (let s = 0; s < syllables; s++)
        w += (onsets[rng.int(onsets.length)] ?? '') + (vowels[rng.int(vowels.length)] ?? '') + (codas[rng.int(codas.length)] ?? '');
      if (w.length < 2 || seen.has(w)) continue;
      seen.add(w);
      words.push(w);
    }
    this.words = words;
    const size = 1 << TextModel.LOOKUP_BITS;
    this.lookup = new Uint32Array(size);
    let total = 0;
    for (let r = 1; r <= VOCABULARY; r++) total += 1 / r;
    let cumulative = 0;
    let slot = 0;
    for (let r = 1; r <= VOCABULARY; r++) {
      cumulative += 1 / r / total;
      const end = Math.min(size, Math.round(cumulative * size));
      while (slot < end) this.lookup[slot++] = r - 1;
    }
    while (slot < size) this.lookup[slot++] = VOCABULARY - 1;
  }

  word(rng: Rng): string {
    return this.words[this.lookup[rng.int(this.lookup.length)] ?? 0] ?? '';
  }

  sentence(rng: Rng): string {
    const n = WORDS_MIN + rng.int(WORDS_MAX - WORDS_MIN + 1);
    const parts = new Array<string>(n);
    for (let i = 0; i < n; i++) parts[i] = this.word(rng);
    return parts.join(' ');
  }

  /** A search query: 2–3 content words, skipping the 100 most frequent (what a stop-word list drops). */
  query(rng: Rng): string {
    const n = 2 + rng.int(2);
    const terms: string[] = [];
    while (terms.length < n) {
      const rank = this.lookup[rng.int(this.lookup.length)] ?? 0;
      if (rank < 100) continue;
      terms.push(this.words[rank] ?? '');
    }
    return terms.join(' ');
  }
}

export function chunkSchema(dim: number): Schema {
  return new Schema([
    new Field('chunk_id', new Utf8(), false),
    new Field('document_id', new Utf8(), false),
    new Field('collection_id', new Utf8(), false),
    new Field('text', new Utf8(), false),
    new Field('vector', new FixedSizeList(dim, new Field('item', new Float32(), true)), false),
  ]);
}

/**
 * Rows [start, start + count) as one Arrow table. The rng carries on from batch to batch,
 * so the same sequence of calls gives the same rows.
 */
export function makeBatch(rng: Rng, vectors: VectorModel, text: TextModel, start: number, count: number): ArrowTable {
  const dim = vectors.dim;
  const schema = chunkSchema(dim);
  const values = new Float32Array(count * dim);
  const chunkIds = new Array<string>(count);
  const documentIds = new Array<string>(count);
  const collectionIds = new Array<string>(count);
  const texts = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const row = start + i;
    const doc = Math.floor(row / CHUNKS_PER_DOCUMENT);
    chunkIds[i] = `chunk-${row}`;
    documentIds[i] = `doc-${doc}`;
    collectionIds[i] = collectionId(doc % COLLECTIONS);
    texts[i] = text.sentence(rng);
    vectors.sample(rng, values, i * dim);
  }
  const vectorType = schema.fields[4]?.type as Arrow.FixedSizeList<Arrow.Float32>;
  const vectorData = makeData({
    type: vectorType,
    length: count,
    nullCount: 0,
    child: makeData({ type: new Float32(), length: count * dim, nullCount: 0, data: values }),
  });
  const children = [
    vectorFromArray(chunkIds, new Utf8()).data[0],
    vectorFromArray(documentIds, new Utf8()).data[0],
    vectorFromArray(collectionIds, new Utf8()).data[0],
    vectorFromArray(texts, new Utf8()).data[0],
    vectorData,
  ];
  const struct = makeData({ type: new Struct(schema.fields), length: count, nullCount: 0, children: children as never });
  return new ArrowTable([new RecordBatch(schema, struct)]);
}

export interface BenchQuery {
  readonly vector: Float32Array;
  readonly text: string;
  readonly where: string;
}

/** Queries from the same distributions; each filters by one or two of the collections. */
export function makeQueries(count: number, dim: number, seed = 99): BenchQuery[] {
  const rng = new Rng(seed);
  const vectors = new VectorModel(dim);
  const text = new TextModel();
  const out: BenchQuery[] = [];
  for (let i = 0; i < count; i++) {
    const vector = new Float32Array(dim);
    vectors.sample(rng, vector, 0);
    const a = rng.int(COLLECTIONS);
    const where =
      i % 2 === 0
        ? `collection_id = '${collectionId(a)}'`
        : `collection_id IN ('${collectionId(a)}', '${collectionId((a + 1 + rng.int(COLLECTIONS - 1)) % COLLECTIONS)}')`;
    out.push({ vector, text: text.query(rng), where });
  }
  return out;
}
