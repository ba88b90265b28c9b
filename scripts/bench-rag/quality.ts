import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { figures } from './quality/run.ts';
import { GLOVE_MODEL, gloveAvailable, runRetrievalSet } from './quality/session.ts';

/*
 * Retrieval quality on the labelled set (scripts/bench-rag/quality/): its documents
 * ingested through the knowledge service into a collection whose embedding model is the GloVe
 * fixture, each question asked by words only, by vectors only and hybrid (the app's search).
 */
export async function runQualityBench(): Promise<Record<string, number | string>> {
  if (!gloveAvailable()) throw new Error(`quality needs the GloVe fixture at ${GLOVE_MODEL} (see ../shared/fixtures/gguf/README.md)`);
  const work = await mkdtemp(path.join(os.tmpdir(), 'soberana-bench-quality-'));
  try {
    const run = await runRetrievalSet(work);
    process.stderr.write(
      `quality: ${run.documents} documents (${run.failed} failed) ingested in ${run.ingestSeconds.toFixed(1)} s; searched in ${run.searchSeconds.toFixed(1)} s\n`,
    );
    for (const result of run.results) {
      const { ranks } = result;
      if (ranks.hybrid !== 1)
        process.stderr.write(
          `  miss ${result.case.half}${result.case.heldOut ? ' (held out)' : ''}: words ${ranks.words ?? '-'} vectors ${ranks.vectors ?? '-'} hybrid ${ranks.hybrid ?? '-'}  ${result.case.query}\n`,
        );
    }
    return { ...figures(run.results), quality_documents: run.documents, quality_failed: run.failed, quality_embedder: path.basename(GLOVE_MODEL) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
