import { describe, expect, it } from 'vitest';
import { MAX_LISTED_FILES, progressOf, settledOutcome, type MutableFile } from './progress.ts';

describe('progressOf', () => {
  it('counts every file of a 3,000-file run, though it lists only the last few', () => {
    const states: MutableFile['state'][] = ['done', 'done', 'done', 'failed', 'skipped', 'cancelled', 'queued', 'extracting'];
    const files: MutableFile[] = Array.from({ length: 3000 }, (_, at) => ({
      path: `/archive/${at}.txt`,
      name: `${at}.txt`,
      collectionId: 'c',
      state: states[at % states.length]!,
      pages: 1,
      progress: states[at % states.length] === 'extracting' ? 0.5 : 1,
      error: null,
    }));
    const progress = progressOf(files, { started: 0, pages: 0 }, true);
    expect(progress).toMatchObject({ total: 3000, done: 1125, failed: 375, skipped: 375 });
    expect(progress.files).toHaveLength(MAX_LISTED_FILES);
    expect(progress.files.at(-1)?.path).toBe('/archive/2999.txt');
    // Finished (done, failed, skipped, cancelled: 2,250) plus half of each of the 375 in flight.
    expect(progress.progress).toBeCloseTo((2250 + 187.5) / 3000, 6);
  });

  it('names the outcome of each finished state and none for the others', () => {
    expect(
      ['done', 'skipped', 'failed', 'cancelled', 'queued', 'extracting', 'embedding', 'indexing'].map((state) => settledOutcome(state as MutableFile['state'])),
    ).toEqual(['added', 'unchanged', 'failed', 'cancelled', null, null, null, null]);
  });
});
