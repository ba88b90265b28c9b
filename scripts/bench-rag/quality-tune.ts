import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createCore } from '../../electron/main/services/core.ts';
import { FUSION_WEIGHTS, type FusionWeights } from '../../electron/main/services/knowledge/retrieval/fusion.ts';
import { retrieve } from '../../electron/main/services/knowledge/retrieval/retrieve.ts';
import { getModel, importModel, libraryDirFor, scanModels } from '../../electron/main/services/models/index.ts';
import { writeRetrievalSet } from './quality/build.ts';
import { isAt, setCases } from './quality/run.ts';
import { GLOVE_MODEL } from './quality/session.ts';

/*
 * The sweep behind FUSION_WEIGHTS: the labelled set is ingested once, every query embedded
 * once, then hybrid retrieval is run with each combination of weights. Prints hit@1 on the
 * tuning part (plain, paraphrased, quotes) and the held-out part, one line per combination,
 * best first by the worst of the three tuning figures.
 *
 *   node scripts/bench-rag/quality-tune.ts
 */

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };
const work = await mkdtemp(path.join(os.tmpdir(), 'soberana-quality-tune-'));
const core = await createCore({ dataDir: path.join(work, 'data'), host: HOST });
try {
  await core.runtime.start();
  const set = await writeRetrievalSet(path.join(work, 'files'));
  const [candidate] = (await scanModels(GLOVE_MODEL)).candidates;
  const model = await importModel(core.storage, libraryDirFor(path.join(work, 'data')), candidate!, { mode: 'reference' });
  const collection = await core.knowledge.createCollection('Tune', model.id);
  await core.knowledge.addPaths(collection.id, Object.values(set.paths));
  await core.knowledge.idle();
  const file = getModel(core.storage, model.id).files[0]!;
  const cases = setCases(set.quotes);
  const vectors = (
    await core.runtime.embed(
      file,
      cases.map((item) => item.query),
      1,
    )
  ).vectors;
  const key = core.knowledge.store.collection(collection.id).embeddingKey;

  async function score(weights: FusionWeights, candidates: number) {
    const hits = { plain: [0, 0], para: [0, 0], quote: [0, 0], plainH: [0, 0], paraH: [0, 0], quoteH: [0, 0] } as Record<string, [number, number]>;
    for (const [at, item] of cases.entries()) {
      const { passages } = await retrieve({
        index: core.knowledge.index,
        store: core.knowledge.store,
        key,
        query: item.query,
        vector: vectors[at]!,
        collectionIds: [collection.id],
        limit: 1,
        candidates,
        fusion: weights,
      });
      const top = passages[0];
      const name = `${item.half}${item.heldOut ? 'H' : ''}`;
      const bucket = hits[name]!;
      bucket[1]++;
      if (top !== undefined && isAt({ ...top, headingPath: [...top.headingPath] } as never, item.document, item.where)) bucket[0]++;
      else if (process.env.TUNE_DEBUG !== undefined) {
        const alone = await retrieve({
          index: core.knowledge.index,
          store: core.knowledge.store,
          key,
          query: item.query,
          vector: vectors[at]!,
          collectionIds: [collection.id],
          limit: 40,
          lists: 'vector',
          fusion: FUSION_WEIGHTS,
        });
        const right = alone.passages.findIndex((passage) => isAt({ ...passage, headingPath: [...passage.headingPath] } as never, item.document, item.where));
        const hy = await retrieve({
          index: core.knowledge.index,
          store: core.knowledge.store,
          key,
          query: item.query,
          vector: vectors[at]!,
          collectionIds: [collection.id],
          limit: 40,
          candidates,
          fusion: weights,
        });
        const rightHy = hy.passages.find((passage) => isAt({ ...passage, headingPath: [...passage.headingPath] } as never, item.document, item.where));
        console.log(
          `  miss ${item.half}: ${item.query} -> ${top?.documentName} p${top?.page} ${top?.score.toFixed(4)} ranks ${JSON.stringify(top?.ranks)}; right: vector-alone ${right + 1}, in hybrid ${rightHy?.score.toFixed(4)} ${JSON.stringify(rightHy?.ranks)}`,
        );
      }
    }
    return Object.fromEntries(Object.entries(hits).map(([name, [hit, all]]) => [name, Number((hit / all).toFixed(3))]));
  }

  const rows: { label: string; figures: Record<string, number>; worst: number }[] = [];
  const grid = process.env.TUNE_ONLY === undefined ? null : (JSON.parse(process.env.TUNE_ONLY) as FusionWeights & { candidates: number });
  for (const candidates of grid === null ? [40] : [grid.candidates])
    for (const vector of grid === null ? [1, 2, 3, 4] : [grid.vector])
      for (const coverageWeight of grid === null ? [0, 0.01, 0.02] : [grid.coverage])
        for (const phrase of grid === null ? [0.05, 0.2] : [grid.phrase])
          for (const gate of grid === null ? [0.25, 0.4] : [grid.gate])
            for (const power of grid === null ? [1, 2, 3] : [grid.power]) {
              const weights = { ...FUSION_WEIGHTS, vector, coverage: coverageWeight, phrase, gate, power };
              const figures = await score(weights, candidates);
              const worst = Math.min(figures.plain! - 1, figures.para! - 0.346, figures.quote! - 0.95);
              rows.push({ label: `candidates=${candidates} ${JSON.stringify(weights)}`, figures, worst });
            }
  rows.sort((a, b) => b.worst - a.worst);
  for (const row of rows.slice(0, Number(process.env.TUNE_ROWS ?? 25))) console.log(row.label, JSON.stringify(row.figures));
} finally {
  await core.close();
  await rm(work, { recursive: true, force: true });
}
