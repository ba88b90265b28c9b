import os from 'node:os';
import { parseArgs } from 'node:util';
import { report } from './bench/report.ts';
import { LANCE_CPU_THREADS_MIN } from '../electron/main/services/knowledge/index/vector-index-plan.ts';

// Before lance starts its CPU pool: with the default pool on a 2-core machine the full-text
// index build deadlocks (see LANCE_CPU_THREADS_MIN).
if (Number(process.env.LANCE_CPU_THREADS ?? 0) < LANCE_CPU_THREADS_MIN) process.env.LANCE_CPU_THREADS = String(LANCE_CPU_THREADS_MIN);
const { runRetrievalBench, SIZES } = await import('./bench-rag/retrieval.ts');
const { runIngestBench } = await import('./bench-rag/ingest.ts');
const { runQualityBench } = await import('./bench-rag/quality.ts');

/*
 * RAG benchmark: ingestion speed against a naive pipeline (scripts/bench-rag/ingest.ts), then
 * retrieval latency and recall at 10k, 100k and 1M chunks (scripts/bench-rag/retrieval.ts),
 * then retrieval quality on the labelled set with the GloVe fixture (scripts/bench-rag/quality.ts;
 * its figures go to bench-results/rag-quality.json).
 * Sections run in that order and their figures are printed together as `name=value` lines
 * and written to bench-results/rag.json.
 *
 *   npm run bench:rag -- [--only ingest|retrieval|quality] [--pages 320] [--threads N] [--rounds 3]
 *                        [--sizes 10k,100k,1m] [--dim 384] [--with-768 100k]
 *                        [--queries 100] [--fresh]
 *
 * The generated tables and their indices are cached in the OS temp dir
 * (soberana-bench-rag/); --fresh regenerates them. The first run at 1M takes several
 * minutes (writing 1M rows, building the indices, exact search for the ground truth).
 */

const SECTIONS = ['ingest', 'retrieval', 'quality'] as const;
type Section = (typeof SECTIONS)[number];

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    pages: { type: 'string', default: '320' },
    // Ingestion: the app's pipeline and the bare embedding limit, interleaved this many times (medians reported).
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    sizes: { type: 'string', default: Object.keys(SIZES).join(',') },
    dim: { type: 'string', default: '384' },
    'with-768': { type: 'string' },
    queries: { type: 'string', default: '100' },
    fresh: { type: 'boolean', default: false },
  },
});

const only = values.only === undefined ? null : values.only.split(',');
for (const name of only ?? []) if (!(SECTIONS as readonly string[]).includes(name)) throw new Error(`--only takes ${SECTIONS.join(', ')}: ${name}`);
const runs = (section: Section): boolean => only === null || only.includes(section);

const sizes = values.sizes
  .split(',')
  .map((s) => s.trim().toLowerCase())
  .filter((s) => s !== '');
for (const s of sizes) if (SIZES[s] === undefined) throw new Error(`--sizes takes ${Object.keys(SIZES).join(', ')}: ${s}`);
const dimension = Number(values.dim);
if (!Number.isInteger(dimension) || dimension < 8) throw new Error('--dim takes a whole number of at least 8');
const queries = Number(values.queries);
if (!Number.isInteger(queries) || queries < 20) throw new Error('--queries takes a whole number of at least 20');
const extra = values['with-768'] ?? null;
if (extra !== null && SIZES[extra] === undefined) throw new Error(`--with-768 takes one of ${Object.keys(SIZES).join(', ')}`);

const pages = Number(values.pages);
if (!Number.isInteger(pages) || pages < 1) throw new Error('--pages takes a positive whole number');
const threads = Number(values.threads);
if (!Number.isInteger(threads) || threads < 1) throw new Error('--threads takes a positive whole number');

const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a positive whole number');

const figures: Record<string, number | string> = {};
if (runs('ingest')) Object.assign(figures, await runIngestBench({ pages, threads, rounds }));
if (runs('retrieval')) Object.assign(figures, await runRetrievalBench({ sizes, dimension, extra768: extra, queries, fresh: values.fresh }));
if (runs('ingest') || runs('retrieval')) report('rag', figures);
if (runs('quality')) report('rag-quality', await runQualityBench());
