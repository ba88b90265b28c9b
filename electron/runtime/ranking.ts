import type { AuxModels } from './aux-models.ts';
import { auxContextSize, auxFailure, auxTurn, disposeLanes, dropRanking, loadAuxModel } from './aux-models.ts';
import { RuntimeError } from './runtime-error.ts';

/** Scores 0 to 1 in the documents' order. */
export function rank(aux: AuxModels, path: string, query: string, documents: readonly string[], threads: number): Promise<number[]> {
  return auxTurn(aux, async () => {
    if (aux.ranking === null || aux.ranking.path !== path || aux.ranking.threads !== threads) {
      await dropRanking(aux);
      // The same file may be cached as an embedding model (to count tokens); share its weights.
      const model = aux.embedding?.path === path ? aux.embedding.model : await loadAuxModel(aux, path);
      if (aux.embedding?.path === path) {
        await disposeLanes(aux.embedding);
        aux.embedding = null;
      }
      try {
        const contextSize = auxContextSize(model);
        const context = await model.createRankingContext({ contextSize, batchSize: contextSize, threads });
        aux.ranking = { path, model, threads, context };
      } catch (error) {
        await model.dispose();
        throw auxFailure(error, 'preparing to rank');
      }
    }
    try {
      // A document too long for the context is scored in overlapping pieces, keeping the best.
      const scores = await aux.ranking.context.rankAll(query, [...documents], { onOverflow: { type: 'maxChunk' } });
      return scores.map((score) => (Number.isFinite(score) ? Math.min(1, Math.max(0, score)) : 0));
    } catch (error) {
      const details = error instanceof Error ? error.message : String(error);
      if (/too long to fit/i.test(details))
        throw new RuntimeError({ code: 'bad_request', message: 'The query is too long for the reranking model’s context.', details });
      throw auxFailure(error, 'ranking');
    }
  });
}
