/*
 * Which thread count decodes fastest is a fact about this model on this machine at this
 * moment, not something a rule can know. Prompt evaluation is arithmetic and gets faster
 * with every core, so it always uses the load's full thread count. Decoding one token
 * reads every weight once: a few threads saturate the memory bus, and each extra thread
 * adds a barrier wait at every operation of every layer. How much that costs depends on
 * the model's shape (small matrices leave little work to split), the machine (barriers
 * cost tens of microseconds on a virtual CPU) and what else runs: llama.cpp's threads
 * spin at each barrier, so when another program (or the VM's host) takes a core, every
 * thread waits for the one that lost it. Measured on the 2-core build machines: a 0.5B
 * model decodes as fast or faster with 1 thread than with 2; a 1B model is 30% faster with
 * 2 while the machine is quiet, and 3 times slower with 2 once something else is busy.
 *
 * So Soberana measures, and keeps measuring:
 * - After a load it decodes in short blocks at each candidate count in turn (interleaved,
 *   so a change in the machine's load hits every candidate alike) and times every token.
 * - It then decodes with the count whose recent median time per token is lowest. Among
 *   counts within 5% of the fastest it keeps the fewest, which leaves CPU to the app
 *   (through Soberana's whole path on 2 cores, a 0.5B model decoding on both cores ran ~6%
 *   below the bare script; on one it ran level).
 * - The chosen count's own timings keep coming in, so when it slows down (something else
 *   got busy) another count takes over as soon as its last known timing is better.
 * - Now and then it decodes one block at another count, to see whether that one got
 *   faster again: one block every 192 tokens, rarer the slower that count was (up to 8
 *   times rarer), so the cost stays under ~2% of the time.
 * The first token after a switch is not counted: it may have been decoded before the
 * switch took effect.
 */

export interface DecodeTunerOptions {
  /** Tokens decoded at one count before trying the next, and the length of a probe. */
  readonly blockTokens?: number;
  /** Timed tokens each candidate needs before the first choice. */
  readonly samplesPerCandidate?: number;
  /** Timings kept per candidate; the median of these is its current speed. */
  readonly recentSamples?: number;
  /** Tokens decoded with the chosen count between probes of another, when both are as fast. */
  readonly probeEvery?: number;
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

/** Probes of a count this many times slower are this many times rarer, up to this factor. */
const MAX_PROBE_SPACING = 8;

export class DecodeThreadTuner {
  readonly #candidates: readonly number[];
  readonly #blockTokens: number;
  readonly #samplesPerCandidate: number;
  readonly #recentSamples: number;
  readonly #probeEvery: number;
  readonly #tolerance: number;
  /** The latest timings per candidate, oldest first. */
  readonly #samples = new Map<number, number[]>();
  /** Null until every candidate has been timed enough. */
  #choice: DecodeChoice | null = null;
  #phase: 'survey' | 'steady' | 'probe' = 'survey';
  #current: number;
  #inBlock = 0;
  #skipNext = true;
  #sinceProbe = 0;
  #probes = 0;
  #last: number | null = null;

  constructor(candidates: readonly number[], options: DecodeTunerOptions = {}) {
    const unique = [...new Set(candidates.filter((count) => Number.isInteger(count) && count >= 1))];
    if (unique.length === 0) throw new Error('A decode tuner needs at least one thread count.');
    this.#candidates = unique;
    this.#blockTokens = Math.max(2, options.blockTokens ?? 4);
    this.#samplesPerCandidate = Math.max(1, options.samplesPerCandidate ?? 24);
    this.#recentSamples = Math.max(this.#samplesPerCandidate, options.recentSamples ?? 24);
    this.#probeEvery = Math.max(this.#blockTokens, options.probeEvery ?? 192);
    this.#tolerance = options.tolerance ?? 0.05;
    for (const count of unique) this.#samples.set(count, []);
    this.#current = unique[0]!;
    if (unique.length === 1) {
      this.#choice = { threads: this.#current, msPerToken: new Map() };
      this.#phase = 'steady';
    }
  }

  /** The count decoding settled on, once every candidate has been timed enough; it changes when speeds do. */
  get choice(): DecodeChoice | null {
    return this.#choice;
  }

  /** The count to decode with now. */
  get current(): number {
    return this.#current;
  }

  /** Prompt evaluation ended at `at` and decoding starts: returns the count to decode with. */
  begin(at: number): number {
    this.#last = at;
    // Prompt evaluation ran with more threads; the switch may not have taken effect yet.
    this.#skipNext = true;
    return this.#current;
  }

  /** `tokens` more tokens arrived at `at`: returns the count to decode the next ones with. */
  advance(tokens: number, at: number): number {
    if (this.#candidates.length === 1 || this.#last === null || tokens <= 0) return this.#current;
    const perToken = (at - this.#last) / tokens;
    this.#last = at;
    if (this.#skipNext) this.#skipNext = false;
    else this.#record(this.#current, perToken);
    this.#inBlock += tokens;

    switch (this.#phase) {
      case 'survey':
        // Round robin in blocks until every candidate has been timed enough.
        if (this.#inBlock < this.#blockTokens) break;
        if ([...this.#samples.values()].every((list) => list.length >= this.#samplesPerCandidate)) this.#settle();
        else this.#switchTo(this.#candidates[(this.#candidates.indexOf(this.#current) + 1) % this.#candidates.length]!);
        break;
      case 'probe': {
        if (this.#inBlock < this.#blockTokens) break;
        const probed = this.#samples.get(this.#current)!;
        const chosen = this.#samples.get(this.#choice!.threads)!;
        // A probe that finds the count faster now goes on until its timing is as solid as a survey's.
        if (probed.length < this.#samplesPerCandidate && median(probed) < median(chosen) * (1 - this.#tolerance)) this.#inBlock = 0;
        else this.#settle();
        break;
      }
      case 'steady': {
        this.#sinceProbe += tokens;
        const best = pickDecodeThreads(this.#samples, this.#tolerance);
        this.#choice = best;
        if (best.threads !== this.#current) {
          // The chosen count slowed down below another's last known speed.
          this.#switchTo(best.threads);
          break;
        }
        const others = this.#candidates.filter((count) => count !== best.threads);
        const probe = others[this.#probes % others.length]!;
        const slower = (best.msPerToken.get(probe) ?? 0) / (best.msPerToken.get(best.threads) ?? 1);
        if (this.#sinceProbe >= this.#probeEvery * Math.min(MAX_PROBE_SPACING, Math.max(1, slower))) {
          this.#probes += 1;
          this.#phase = 'probe';
          // Its old timings describe how the machine was then; the probe measures it now.
          this.#samples.set(probe, []);
          this.#switchTo(probe);
        }
        break;
      }
    }
    return this.#current;
  }

  /** The reply ended: the time until the next one is not decoding time. */
  end(): void {
    this.#last = null;
  }

  #record(count: number, ms: number): void {
    const list = this.#samples.get(count)!;
    list.push(ms);
    if (list.length > this.#recentSamples) list.shift();
  }

  #settle(): void {
    this.#choice = pickDecodeThreads(this.#samples, this.#tolerance);
    this.#phase = 'steady';
    this.#sinceProbe = 0;
    this.#switchTo(this.#choice.threads);
  }

  #switchTo(count: number): void {
    if (count !== this.#current) this.#skipNext = true;
    this.#current = count;
    this.#inBlock = 0;
  }
}
