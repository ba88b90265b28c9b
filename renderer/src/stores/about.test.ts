import { describe, expect, it } from 'vitest';
import { resolveTheme } from '../theme.ts';
import { reduceRun, type RunState } from './about.ts';

describe('reduceRun', () => {
  it('folds a diagnostics stream into progress and a summary', () => {
    let state: RunState = { phase: 'idle' };
    state = reduceRun(state, { type: 'started', total: 2 });
    expect(state).toEqual({ phase: 'running', total: 2, checks: [] });
    state = reduceRun(state, { type: 'check', id: 'dataDir', index: 0, status: 'pass', detail: 'ok' });
    state = reduceRun(state, { type: 'check', id: 'sqlite', index: 1, status: 'warn', detail: 'old' });
    expect(state.phase === 'running' && state.checks.map((check) => check.id)).toEqual(['dataDir', 'sqlite']);
    state = reduceRun(state, { type: 'done', passed: 1, warned: 1, failed: 0 });
    expect(state).toMatchObject({ phase: 'done', summary: { passed: 1, warned: 1, failed: 0 } });
    expect(state.phase === 'done' && state.checks).toHaveLength(2);
  });

  it('ignores a check that arrives outside a run', () => {
    const idle: RunState = { phase: 'idle' };
    expect(reduceRun(idle, { type: 'check', id: 'dataDir', index: 0, status: 'pass', detail: '' })).toBe(idle);
  });
});

describe('resolveTheme', () => {
  it('follows the OS only when the preference is system', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
    expect(resolveTheme('dark', false)).toBe('dark');
  });
});
