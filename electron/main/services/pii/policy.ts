import { detectPii } from './detect.ts';
import { DEFAULT_DETECTORS } from './detectors/index.ts';
import type { Finding, PiiDetector, PiiMode, PiiPolicy, PiiPolicyResult } from './types.ts';

/** Until the user chooses, both contexts warn: nothing is altered or refused behind their back. */
export const DEFAULT_PII_POLICY: PiiPolicy = { ingestion: 'warn', prompts: 'warn' };

export function placeholderFor(type: string): string {
  return `[${type.toUpperCase()}]`;
}

/** `findings` must not overlap (detectPii's never do); they are applied left to right against the original offsets. */
export function redactPii(text: string, findings: readonly Finding[]): string {
  const ordered = [...findings].sort((a, b) => a.start - b.start);
  let out = '';
  let cursor = 0;
  for (const finding of ordered) {
    if (finding.start < cursor) continue;
    out += text.slice(cursor, finding.start) + placeholderFor(finding.type);
    cursor = finding.end;
  }
  return out + text.slice(cursor);
}

const PLURALS: Readonly<Record<string, string>> = { 'IP address': 'IP addresses', 'date of birth': 'dates of birth', 'e-mail address': 'e-mail addresses' };

/** "an e-mail address and 2 IBANs": the kinds and counts, never the values. */
export function describeFindings(findings: readonly Finding[], detectors: readonly PiiDetector[] = DEFAULT_DETECTORS): string {
  const counts = new Map<string, number>();
  for (const finding of findings) counts.set(finding.type, (counts.get(finding.type) ?? 0) + 1);
  const parts = [...counts].map(([type, count]) => {
    const label = detectors.find((detector) => detector.type === type)?.label ?? type;
    if (count > 1) return `${count} ${PLURALS[label] ?? `${label}s`}`;
    return `${/^(?:[aeio]|IBAN|IP\b)/i.test(label) ? 'an' : 'a'} ${label}`;
  });
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)!}`;
}

/**
 * The policy for one context. `off` does not scan at all; `warn` reports; `redact` replaces
 * each finding with its placeholder ([EMAIL], [IBAN]…); `block` refuses the text when
 * anything is found.
 */
export function applyPiiPolicy(text: string, mode: PiiMode, detectors: readonly PiiDetector[] = DEFAULT_DETECTORS): PiiPolicyResult {
  if (mode === 'off') return { findings: [], text, blocked: false };
  const findings = detectPii(text, detectors);
  if (mode === 'redact') return { findings, text: redactPii(text, findings), blocked: false };
  if (mode === 'block' && findings.length > 0) {
    return { findings, text, blocked: true, reason: `Blocked: the text contains personal data (${describeFindings(findings, detectors)}).` };
  }
  return { findings, text, blocked: false };
}
