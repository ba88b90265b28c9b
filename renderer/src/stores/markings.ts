import type { Marking, MarkingScheme } from '../../../electron/common/contract/markings.ts';
import type { AppErrorData } from '../../../electron/common/result.ts';
import { call } from '../api/client.ts';
import { useKnowledge } from './knowledge.ts';
import { usePolicy } from './policy.ts';

// Markings in the renderer: the scheme comes with the policy (null: the feature is off, and
// nothing about markings is drawn), and setting one is a knowledge call the services govern.

export function useMarkingScheme(): MarkingScheme | null {
  return usePolicy((state) => state.policy?.markings ?? null);
}

export type MarkingTarget = 'collection' | 'document';

/**
 * Sets a collection's or a document's marking; the services decide (a lowering may be refused,
 * a document may not go below its collection). Returns the refusal to show beside the control,
 * or null when done, after the lists show the new marking.
 */
export async function setMarking(target: MarkingTarget, id: string, marking: Marking): Promise<AppErrorData | null> {
  const result = await call('knowledge.setMarking', { target, id, marking });
  if (!result.ok) return result.error;
  const knowledge = useKnowledge.getState();
  await Promise.all([knowledge.refreshCounts(), knowledge.refreshFirstPage()]);
  return null;
}
