import { describe, expect, it } from 'vitest';
import { DecodeThreadTuner, pickDecodeThreads } from './decode-threads.ts';

interface Run {
  readonly end: number;
  /** Tokens decoded at each count. */
  readonly used: Map<number, number>;
}

/** Feeds the tuner one reply, one token at a time, each taking what `msFor` says for the count in use. */
function decode(tuner: DecodeThreadTuner, tokens: number, msFor: (threads: number) => number, start = 0): Run {
  const used = new Map<number, number>();
  let now = start;
  let threads = tuner.begin(now);
  for (let index = 0; index < tokens; index += 1) {
    used.set(threads, (used.get(threads) ?? 0) + 1);
    now += msFor(threads);
    threads = tuner.advance(1, now);
  }
  tuner.end();
  return { end: now, used };
}

const quiet = (threads: number) => (threads === 1 ? 57 : 43); // a 1B model on 2 quiet vCPUs
const busy = (threads: number) => (threads === 1 ? 62 : 150); // the same with something else running

describe('choosing the decode thread count by measuring it', () => {
  it('keeps fewer threads when more are not clearly faster (a 0.5B model on a 2-core VM)', () => {
    const tuner = new DecodeThreadTuner([2, 1]);
    decode(tuner, 200, (threads) => (threads === 1 ? 23 : 22.5));
    expect(tuner.choice?.threads).toBe(1);
    expect(tuner.current).toBe(1);
  });

  it('keeps more threads when they are clearly faster (a 1B model on the same VM)', () => {
    const tuner = new DecodeThreadTuner([2, 1]);
    decode(tuner, 200, quiet);
    expect(tuner.choice?.threads).toBe(2);
  });

  it('settles within the first replies after a load', () => {
    const two = new DecodeThreadTuner([2, 1]);
    decode(two, 40, quiet);
    expect(two.choice).toBeNull();
    decode(two, 40, quiet, 10_000);
    expect(two.choice?.threads).toBe(2);

    const four = new DecodeThreadTuner([8, 4, 2, 1]);
    decode(four, 130, (threads) => ({ 8: 12, 4: 9, 2: 11, 1: 20 })[threads]!);
    expect(four.choice?.threads).toBe(4);
  });

  it('moves to fewer threads as soon as something else takes the CPU, and back once it is quiet again', () => {
    const tuner = new DecodeThreadTuner([2, 1]);
    decode(tuner, 100, quiet);
    expect(tuner.current).toBe(2);
    const during = decode(tuner, 400, busy, 100_000);
    expect(tuner.current).toBe(1);
    // Most of the busy reply already ran on one thread.
    expect(during.used.get(1)!).toBeGreaterThan(360);
    decode(tuner, 1_500, quiet, 200_000);
    expect(tuner.current).toBe(2);
  });

  it('spends little time probing the other counts while nothing changes', () => {
    const tuner = new DecodeThreadTuner([2, 1]);
    decode(tuner, 100, quiet);
    const steady = decode(tuner, 5_000, quiet, 100_000);
    const probeTime = (steady.used.get(1) ?? 0) * quiet(1);
    const ideal = 5_000 * quiet(2);
    expect(probeTime / ideal).toBeGreaterThan(0);
    expect((steady.end - 100_000) / ideal).toBeLessThan(1.02);
  });

  it('tries every candidate in turn, in blocks, and ignores the token right after a switch', () => {
    const tuner = new DecodeThreadTuner([2, 1], { blockTokens: 3, samplesPerCandidate: 2 });
    const used: number[] = [];
    let now = 0;
    let threads = tuner.begin(now);
    for (let index = 0; index < 12 && tuner.choice === null; index += 1) {
      used.push(threads);
      // The first token after each switch is slow (as if still decoded at the old count); it must not count.
      now += used.length % 3 === 1 ? 500 : threads === 1 ? 10 : 20;
      threads = tuner.advance(1, now);
    }
    expect(used.slice(0, 6)).toEqual([2, 2, 2, 1, 1, 1]);
    expect(tuner.choice?.threads).toBe(1);
  });

  it('does not count the time between replies', () => {
    const tuner = new DecodeThreadTuner([2, 1], { blockTokens: 2, samplesPerCandidate: 3 });
    for (let reply = 0; reply < 20 && tuner.choice === null; reply += 1) decode(tuner, 3, (threads) => (threads === 2 ? 10 : 12), reply * 1_000_000);
    expect(tuner.choice?.threads).toBe(2);
    expect(Math.max(...tuner.choice!.msPerToken.values())).toBeLessThan(13);
  });

  it('prefers fewer threads when the difference is within the tolerance, and needs no measuring with one candidate', () => {
    const choice = pickDecodeThreads(
      new Map([
        [4, [10, 10.1, 9.9]],
        [2, [10.2, 10.2, 10.2]],
        [1, [15, 15, 15]],
      ]),
      0.03,
    );
    expect(choice.threads).toBe(2);
    const single = new DecodeThreadTuner([3]);
    expect(single.choice?.threads).toBe(3);
    expect(decode(single, 10, () => 5).used.get(3)).toBe(10);
    expect(() => new DecodeThreadTuner([])).toThrow();
  });
});
