import { DEFAULT_DETECTORS } from './detectors/index.ts';
import type { Finding, PiiDetector } from './types.ts';

interface Ranked extends Finding {
  readonly rank: number;
}

/**
 * Every validated finding, in text order, without overlaps. Where spans overlap the longest
 * wins (an IBAN over the phone-shaped digits inside it), then the detector listed first.
 */
export function detectPii(text: string, detectors: readonly PiiDetector[] = DEFAULT_DETECTORS): Finding[] {
  const accepted: Ranked[] = [];
  detectors.forEach((detector, rank) => {
    for (const candidate of detector.find(text)) {
      if (candidate.end <= candidate.start) continue;
      if (detector.validate !== undefined && !detector.validate(candidate, text)) continue;
      accepted.push({ type: detector.type, start: candidate.start, end: candidate.end, value: candidate.value, rank });
    }
  });
  return resolveOverlaps(accepted).map(({ type, start, end, value }) => ({ type, start, end, value }));
}

/** Overlapping findings come in small clusters, so each cluster is resolved on its own: no quadratic pass over a long text. */
function resolveOverlaps(findings: Ranked[]): Ranked[] {
  findings.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: Ranked[] = [];
  let cluster: Ranked[] = [];
  let clusterEnd = -1;
  for (const finding of findings) {
    if (finding.start >= clusterEnd && cluster.length > 0) {
      kept.push(...resolveCluster(cluster));
      cluster = [];
    }
    cluster.push(finding);
    clusterEnd = Math.max(clusterEnd, finding.end);
  }
  kept.push(...resolveCluster(cluster));
  return kept.sort((a, b) => a.start - b.start);
}

function resolveCluster(cluster: Ranked[]): Ranked[] {
  if (cluster.length <= 1) return cluster;
  const byPreference = [...cluster].sort((a, b) => b.end - b.start - (a.end - a.start) || a.rank - b.rank || a.start - b.start);
  // Kept findings sorted by start, so each check is a binary search: a hostile text can make one cluster of the whole input.
  const kept: Ranked[] = [];
  for (const finding of byPreference) {
    let low = 0;
    let high = kept.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (kept[mid]!.start < finding.start) low = mid + 1;
      else high = mid;
    }
    const before = kept[low - 1];
    const after = kept[low];
    if ((before === undefined || before.end <= finding.start) && (after === undefined || after.start >= finding.end)) kept.splice(low, 0, finding);
  }
  return kept;
}
