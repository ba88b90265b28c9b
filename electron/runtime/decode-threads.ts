/*
 * Which thread count decodes fastest is a fact about this model on this machine, not
 * something a rule can know. Prompt evaluation is arithmetic and gets faster with every
 * core, so it always uses the load's full thread count. Decoding one token reads every
 * weight once: a few threads saturate the memory bus, and each extra thread adds a
 * barrier wait at every operation of every layer. How much that costs depends on the
 * model's shape (small matrices leave little work to split) and the machine (barriers
 * cost tens of microseconds on a virtual CPU). On the 2-core build machines a 0.5B model
 * decodes fastest with 1 thread and a 1B model with 2.
 *
 * So Soberana measures. During the first replies after a load it decodes in short
 * blocks at each candidate count in turn (interleaved, so a change in the machine's load
 * hits every candidate alike), times every token, and keeps the count with the lowest
 * median time per token. Among counts within 5% of the best it keeps the fewest: on a
 * small machine the app itself (main process, renderer) needs CPU while a reply streams,
 * and measured through Soberana's whole path on 2 cores, a 0.5B model decoding with both
 * cores ran ~6% below the bare script while decoding with one ran level with it. The
 * first token after a switch is not counted: it may have been decoded before the switch
 * took effect. With two candidates the choice is made within the first ~64 tokens after
 * a load; with four, ~128.
 */

export interface DecodeTunerOptions {
  /** Tokens decoded at one count before moving to the next. */
  readonly blockTokens?: number;
  /** Timed tokens each candidate needs before the choice is made. */
  readonly samplesPerCandidate?: number;
  /** Counts this much slower than the best still count as the best. */
  readonly tolerance?: number;
}

export interface DecodeChoice {
  readonly threads: number;
  /** Median milliseconds per token, by thread count. */
  readonly msPerToken: ReadonlyMap<number, number>;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The fewest threads whose median time per token is within `tolerance` of the fastest. */
export function pickDecodeThreads(samples: ReadonlyMap<number, readonly number[]>, tolerance: number): DecodeChoice {
  const msPerToken = new Map([...samples].filter(([, list]) => list.length > 0).map(([threads, list]) => [threads, median(list)] as const));
  if (msPerToken.size === 0) throw new Error('No decode timings to choose from.');
  const fastest = Math.min(...msPerToken.values());
  const threads = Math.min(...[...msPerToken].filter(([, ms]) => ms <= fastest * (1 + tolerance)).map(([count]) => count));
  return { threads, msPerToken };
}

export class DecodeThreadTuner {
  readonly #candidates: readonly number[];
  readonly #blockTokens: number;
  readonly #samplesPerCandidate: number;
  readonly #tolerance: number;
  readonly #samples = new Map<number, number[]>();
  #choice: DecodeChoice | null = null;
  #index = 0;
  #inBlock = 0;
  #last: number | null = null;

  constructor(candidates: readonly number[], options: DecodeTunerOptions = {}) {
    const unique = [...new Set(candidates.filter((count) => Number.isInteger(count) && count >= 1))];
    if (unique.length === 0) throw new Error('A decode tuner needs at least one thread count.');
    this.#candidates = unique;
    this.#blockTokens = Math.max(2, options.blockTokens ?? 4);
    this.#samplesPerCandidate = Math.max(1, options.samplesPerCandidate ?? 24);
    this.#tolerance = options.tolerance ?? 0.05;
    for (const count of unique) this.#samples.set(count, []);
    if (unique.length === 1) this.#choice = { threads: unique[0]!, msPerToken: new Map() };
  }

  /** The settled choice, once every candidate has been timed enough. */
  get choice(): DecodeChoice | null {
    return this.#choice;
  }

  /** The count to decode with now. */
  get current(): number {
    return this.#choice?.threads ?? this.#candidates[this.#index]!;
  }

  /** Prompt evaluation ended at `at` and decoding starts: returns the count to decode with. */
  begin(at: number): number {
    this.#last = at;
    this.#inBlock = 0;
    return this.current;
  }

  /** `tokens` more tokens arrived at `at`: returns the count to decode the next ones with. */
  advance(tokens: number, at: number): number {
    if (this.#choice !== null || this.#last === null || tokens <= 0) return this.current;
    const perToken = (at - this.#last) / tokens;
    this.#last = at;
    if (this.#inBlock > 0) this.#samples.get(this.current)!.push(perToken);
    this.#inBlock += tokens;
    if (this.#inBlock >= this.#blockTokens) {
      this.#inBlock = 0;
      if ([...this.#samples.values()].every((list) => list.length >= this.#samplesPerCandidate)) {
        this.#choice = pickDecodeThreads(this.#samples, this.#tolerance);
      } else {
        this.#index = (this.#index + 1) % this.#candidates.length;
      }
    }
    return this.current;
  }

  /** The reply ended: the time until the next one is not decoding time. */
  end(): void {
    this.#last = null;
    this.#inBlock = 0;
  }
}
