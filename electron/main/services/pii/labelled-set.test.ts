import { describe, expect, it } from 'vitest';
import { generateLabelledSet, measurePii } from '../../../test-support/pii-labelled-set.ts';
import { BUILTIN_PII_TYPES } from './types.ts';

const CHECKSUM_TYPES = ['iban', 'card', 'dni', 'nie'];

describe('the labelled set', () => {
  const set = generateLabelledSet();

  it('has at least 500 positives and 500 hard negatives, for every type', () => {
    expect(set.positives.length).toBeGreaterThanOrEqual(500);
    expect(set.negatives.length).toBeGreaterThanOrEqual(500);
    for (const type of BUILTIN_PII_TYPES) {
      expect(set.positives.filter((s) => s.about === type).length, type).toBeGreaterThanOrEqual(50);
      expect(set.negatives.filter((s) => s.about === type).length, type).toBeGreaterThanOrEqual(50);
    }
    for (const sample of set.positives) expect(sample.label).not.toBeNull();
    for (const sample of set.negatives) expect(sample.label).toBeNull();
  });

  it('is the same for the same seed, and different for another', () => {
    expect(generateLabelledSet()).toEqual(set);
    expect(generateLabelledSet({ seed: 7 })).not.toEqual(set);
  });

  it('meets the precision and recall goals', () => {
    const started = performance.now();
    const score = measurePii([...set.positives, ...set.negatives]);
    const ms = performance.now() - started;
    const lines = Object.entries(score.perType).map(([type, s]) => `precision_${type}=${s.precision.toFixed(3)} recall_${type}=${s.recall.toFixed(3)}`);
    console.log(
      `${lines.join('\n')}\nprecision_overall=${score.overall.precision.toFixed(3)} recall_overall=${score.overall.recall.toFixed(3)} (${set.positives.length + set.negatives.length} samples in ${ms.toFixed(0)} ms)`,
    );
    const failures = JSON.stringify(score.errors.slice(0, 10), null, 1);
    for (const [type, s] of Object.entries(score.perType)) {
      const floor = CHECKSUM_TYPES.includes(type) ? 0.95 : 0.8;
      expect(s.precision, `precision_${type}\n${failures}`).toBeGreaterThanOrEqual(floor);
      expect(s.recall, `recall_${type}\n${failures}`).toBeGreaterThanOrEqual(floor);
    }
  });

  it('holds the checksum goals on other seeds too', () => {
    for (const seed of [1, 2, 3]) {
      const other = generateLabelledSet({ seed });
      const score = measurePii([...other.positives, ...other.negatives]);
      for (const type of CHECKSUM_TYPES) {
        expect(score.perType[type]!.precision, `seed ${seed} precision_${type}`).toBeGreaterThanOrEqual(0.95);
        expect(score.perType[type]!.recall, `seed ${seed} recall_${type}`).toBeGreaterThanOrEqual(0.95);
      }
    }
  });
});
