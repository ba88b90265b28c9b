// The keys of a WAI-ARIA combobox with a list of matches, as a pure function: the Documents
// screen's document finder and the chat's pin picker share it, and each acts on the answer
// (what "choose" does, and what Escape does once the list is closed, are theirs).

export interface ComboboxKeyState {
  readonly open: boolean;
  /** The highlighted option. */
  readonly active: number;
  /** Options in the list. */
  readonly count: number;
}

export type ComboboxAction =
  /** Open the list with this option highlighted. */
  | { readonly kind: 'open'; readonly active: number }
  /** Highlight another option. */
  | { readonly kind: 'move'; readonly active: number }
  | { readonly kind: 'choose'; readonly active: number }
  | { readonly kind: 'close' }
  /** The key was taken (no default action, nothing to do). */
  | { readonly kind: 'ignore' }
  /** Not a key of the list: let it through (Escape on a closed list is the component's own). */
  | { readonly kind: 'pass' };

export function comboboxKey(key: string, state: ComboboxKeyState): ComboboxAction {
  const { open, active, count } = state;
  switch (key) {
    case 'ArrowDown':
    case 'ArrowUp': {
      const down = key === 'ArrowDown';
      if (!open) return { kind: 'open', active: down ? 0 : Math.max(0, count - 1) };
      if (count === 0) return { kind: 'ignore' };
      return { kind: 'move', active: (active + (down ? 1 : -1) + count) % count };
    }
    case 'Enter':
      return open ? { kind: 'choose', active } : { kind: 'pass' };
    case 'Escape':
      return open ? { kind: 'close' } : { kind: 'pass' };
    default:
      return { kind: 'pass' };
  }
}
