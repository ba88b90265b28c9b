import type { MarkingScheme } from '../../../electron/common/contract/markings.ts';
import { usePolicy } from './policy.ts';

// Markings in the renderer: the scheme comes with the policy (null: the feature is off, and
// nothing about markings is drawn).

export function useMarkingScheme(): MarkingScheme | null {
  return usePolicy((state) => state.policy?.markings ?? null);
}
