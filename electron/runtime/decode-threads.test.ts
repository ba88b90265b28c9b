import { describe, expect, it } from 'vitest';
import { DecodeThreadTuner, pickDecodeThreads } from './decode-threads.ts';

/** Feeds the tuner one token at a time, each taking what `msFor` says for the count in use. */
function decode(tuner: DecodeThreadTuner, tokens: number, msFor: (threads: number) => number, start = 0): number {
  let now = start;
  let threads = tuner.begin(now);
  for (let index = 0; index < tokens; index += 1) {
    now += msFor(threads);
    threads = tuner.advance(1, now);
  }
  tuner.end();
  return now;
}

describe('choosing the decode thread count by measuring it', () => {
  it('keeps fewer threads when more are not clearly faster (a 0.5B model on a 2-core VM)', () => {
    const tuner = new DecodeThreadTuner([2, 1]);
    decode(tuner, 200, (threads) => (threads === 1 ? 23 : 22.5));
    expect(tuner.choice?.threads).toBe(1);
    expect(tuner.current).toBe(1);
  });

  it('keeps more threads when they are clearly faster (a 1B model on the same VM)', () => {
    const tuner = new DecodeThreadTuner([2, 1]);
    decode(tuner, 200, (threads) => (threads === 1 ? 60 : 45));
    expect(tuner.choice?.threads).toBe(2);
  });

  it('settles within a short reply or two, and stays settled', () => {
    const tuner = new DecodeThreadTuner([8, 4, 2, 1]);
    decode(tuner, 30, () => 10);
    expect(tuner.choice).toBeNull();
    decode(tuner, 120, (threads) => ({ 8: 12, 4: 9, 2: 11, 1: 20 })[threads]!, 10_000);
    expect(tuner.choice?.threads).toBe(4);
    decode(tuner, 50, () => 1, 20_000);
    expect(tuner.choice?.threads).toBe(4);
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
    expect(new DecodeThreadTuner([3]).choice?.threads).toBe(3);
    expect(() => new DecodeThreadTuner([])).toThrow();
  });
});
