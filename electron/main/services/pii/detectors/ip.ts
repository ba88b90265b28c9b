import { ipv4Valid, ipv6Valid } from '../checks.ts';
import type { PiiCandidate, PiiDetector } from '../types.ts';
import { regexCandidates } from './scan.ts';

// Not preceded or followed by another dotted number, so 1.2.3.4.5 (a version) is not an address inside it.
const IPV4 = /(?<![\w.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\w]|\.\d)/g;
// Generous on purpose (empty groups, any count); ipv6Valid decides. The IPv4 tail comes first so ::ffff:192.0.2.1 is taken whole.
const IPV6 = /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,8}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{1,4})?(?![\w:])/g;

function find(text: string): PiiCandidate[] {
  const v6 = regexCandidates(IPV6, text).map((candidate) =>
    // A colon after an address ends the clause ("fe80::1: the gateway"), it is not a group.
    candidate.value.endsWith(':') && !candidate.value.endsWith('::')
      ? { ...candidate, end: candidate.end - 1, value: candidate.value.slice(0, -1) }
      : candidate,
  );
  return [...regexCandidates(IPV4, text), ...v6];
}

export const ipDetector: PiiDetector = {
  type: 'ip',
  label: 'IP address',
  find,
  validate: ({ value }) => (value.includes(':') ? /[0-9A-Fa-f]/.test(value) && ipv6Valid(value) : ipv4Valid(value)),
};
