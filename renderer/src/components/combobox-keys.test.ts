import { describe, expect, it } from 'vitest';
import { comboboxKey } from './combobox-keys.ts';

describe('combobox keys', () => {
  it('opens a closed list on the first or last option', () => {
    expect(comboboxKey('ArrowDown', { open: false, active: 3, count: 5 })).toEqual({ kind: 'open', active: 0 });
    expect(comboboxKey('ArrowUp', { open: false, active: 0, count: 5 })).toEqual({ kind: 'open', active: 4 });
    expect(comboboxKey('ArrowUp', { open: false, active: 0, count: 0 })).toEqual({ kind: 'open', active: 0 });
  });

  it('moves round the options of an open list, and takes the key when there are none', () => {
    expect(comboboxKey('ArrowDown', { open: true, active: 4, count: 5 })).toEqual({ kind: 'move', active: 0 });
    expect(comboboxKey('ArrowUp', { open: true, active: 0, count: 5 })).toEqual({ kind: 'move', active: 4 });
    expect(comboboxKey('ArrowDown', { open: true, active: 0, count: 0 })).toEqual({ kind: 'ignore' });
  });

  it('chooses with Enter and closes with Escape only while open; other keys pass', () => {
    expect(comboboxKey('Enter', { open: true, active: 2, count: 5 })).toEqual({ kind: 'choose', active: 2 });
    expect(comboboxKey('Enter', { open: false, active: 2, count: 5 })).toEqual({ kind: 'pass' });
    expect(comboboxKey('Escape', { open: true, active: 2, count: 5 })).toEqual({ kind: 'close' });
    expect(comboboxKey('Escape', { open: false, active: 2, count: 5 })).toEqual({ kind: 'pass' });
    expect(comboboxKey('a', { open: true, active: 2, count: 5 })).toEqual({ kind: 'pass' });
  });
});
