import type { Passage } from '../../../electron/common/contract/knowledge.ts';
import './Snippet.css';

/** A passage's snippet with the words that matched the query marked. */
export function Snippet({ passage }: { readonly passage: Pick<Passage, 'snippet' | 'highlights'> }) {
  const parts: (string | { mark: string })[] = [];
  let at = 0;
  const ranges = [...passage.highlights].sort((a, b) => a[0] - b[0]);
  for (const [start, end] of ranges) {
    if (start < at || end <= start) continue;
    parts.push(passage.snippet.slice(at, start), { mark: passage.snippet.slice(start, end) });
    at = end;
  }
  parts.push(passage.snippet.slice(at));
  return <span className="snippet">{parts.map((part, index) => (typeof part === 'string' ? part : <mark key={index}>{part.mark}</mark>))}</span>;
}
