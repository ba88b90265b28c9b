import { describe, expect, it } from 'vitest';
import { fuzzBases, fuzzCase, inconsistency } from '../../../../e2e/fixtures/gguf/index.ts';
import type { GgufResult } from './types.ts';
import { checkGgufBytes } from './validator.ts';

const CASES = 3000;
const SEED = 0x5eed;
/** Per case; real cases take well under a millisecond, so this only catches runaway loops. */
const CASE_BUDGET_MS = 250;

describe('checkGgufBytes under fuzzing', () => {
  it(`survives ${CASES} seeded mutations of well-formed headers`, () => {
    const bases = fuzzBases();
    for (const base of bases) expect(checkGgufBytes(base.bytes, base.fileSize).ok, base.name).toBe(true);

    const seen = new Map<string, number>();
    let slowest = 0;
    for (let i = 0; i < CASES; i++) {
      const c = fuzzCase(bases, SEED, i);
      const label = `case ${i} of seed ${SEED} (${c.base}: ${c.operations.join('; ')})`;
      const started = performance.now();
      let result: GgufResult;
      try {
        result = checkGgufBytes(c.bytes, c.fileSize);
      } catch (error) {
        throw new Error(`${label} threw: ${String(error)}`, { cause: error });
      }
      const elapsed = performance.now() - started;
      slowest = Math.max(slowest, elapsed);
      expect(elapsed, label).toBeLessThan(CASE_BUDGET_MS);
      // Structural damage must give ok:false, or else an answer that still describes a possible file.
      expect(inconsistency(result, c), label).toBeNull();
      const code = result.ok ? 'accepted' : result.rejection.code;
      seen.set(code, (seen.get(code) ?? 0) + 1);
    }
    // The mutations must reach deep into the format, not just break the signature.
    const reached = ['accepted', 'not_gguf', 'truncated', 'bad_string', 'bad_array', 'bad_value_type', 'bad_dims', 'unknown_tensor_type', 'tensor_layout'];
    for (const code of reached) expect(seen.get(code) ?? 0, code).toBeGreaterThan(0);
    expect(slowest).toBeLessThan(CASE_BUDGET_MS);
  });
});
