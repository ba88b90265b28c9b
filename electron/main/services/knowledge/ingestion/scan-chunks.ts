import type { Chunk, ExtractedBlock } from '../types.ts';

/**
 * Marks the chunks whose text came from OCR with the recognition confidence of the blocks
 * they cover (the lowest, so a passage is never shown as surer than its weakest part).
 * Offsets index the blocks joined by "\n\n", as chunk.ts computes them.
 */
export function withScanConfidence(chunks: readonly Chunk[], blocks: readonly ExtractedBlock[]): Chunk[] {
  if (!blocks.some((block) => block.ocrConfidence !== undefined)) return [...chunks];
  const spans: { start: number; end: number; confidence: number | undefined }[] = [];
  let offset = 0;
  for (const block of blocks) {
    spans.push({ start: offset, end: offset + block.text.length, confidence: block.ocrConfidence });
    offset += block.text.length + 2;
  }
  return chunks.map((chunk) => {
    const covered = spans.filter((span) => span.confidence !== undefined && span.start < chunk.end && span.end > chunk.start);
    if (covered.length === 0) return chunk;
    return { ...chunk, ocrConfidence: Math.min(...covered.map((span) => span.confidence ?? 100)) };
  });
}
