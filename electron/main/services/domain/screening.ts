import type { Governance } from '../governance.ts';
import { applyPiiPolicy, type PiiPolicyResult } from '../pii/index.ts';
import type { Emit } from './events.ts';

export type Screen = (text: string, context: 'prompts' | 'ingestion') => PiiPolicyResult;

/** PII screening by the policy's mode for each context; what it finds goes out as `pii.found` events (types and counts, never values). */
export function createScreening(governance: Governance, emit: Emit): Screen {
  return (text, context) => {
    const mode = context === 'prompts' ? governance.policy.pii.prompts : governance.policy.pii.ingestion;
    const result = applyPiiPolicy(text, mode);
    if (result.findings.length > 0 && mode !== 'off') {
      const counts = new Map<string, number>();
      for (const finding of result.findings) counts.set(finding.type, (counts.get(finding.type) ?? 0) + 1);
      for (const [kind, count] of counts) emit({ type: 'pii.found', data: { kind, action: mode, context, count } });
    }
    return result;
  };
}
