import { parseArgs } from 'node:util';
import { report } from './bench/report.ts';
import { detectPii } from '../electron/main/services/pii/index.ts';
import { generateLabelledSet, measurePii } from '../electron/test-support/pii-labelled-set.ts';

/*
 * PII detection benchmark: precision and recall per type on the generated labelled set
 * (electron/test-support/pii-labelled-set.ts), and scan throughput on about 1 MB of
 * mixed text. Prints `name=value` lines and writes bench-results/pii.json.
 *
 *   npm run bench:pii -- [--seed 20240601] [--per-type 64]
 */

const { values } = parseArgs({ options: { seed: { type: 'string', default: '20240601' }, 'per-type': { type: 'string', default: '64' } } });
const seed = Number(values.seed);
const perType = Number(values['per-type']);
if (!Number.isInteger(seed)) throw new Error('--seed takes a whole number');
if (!Number.isInteger(perType) || perType < 1) throw new Error('--per-type takes a whole number of at least 1');

const set = generateLabelledSet({ seed, perType });
const samples = [...set.positives, ...set.negatives];
let started = performance.now();
const score = measurePii(samples);
const measureMs = performance.now() - started;

const figures: Record<string, number | string> = {};
for (const [type, s] of Object.entries(score.perType)) {
  figures[`precision_${type}`] = s.precision.toFixed(3);
  figures[`recall_${type}`] = s.recall.toFixed(3);
}
figures.precision_overall = score.overall.precision.toFixed(3);
figures.recall_overall = score.overall.recall.toFixed(3);
figures.samples_positive = set.positives.length;
figures.samples_negative = set.negatives.length;
figures.false_positives = score.overall.fp;
figures.false_negatives = score.overall.fn;
figures.labelled_set_ms = measureMs.toFixed(1);

// Throughput on the labelled texts joined into one document of about 1 MB.
const joined = samples.map((s) => s.text).join('\n');
const document = joined.repeat(Math.max(1, Math.ceil(1_000_000 / joined.length)));
started = performance.now();
const found = detectPii(document).length;
const scanMs = performance.now() - started;
figures.scan_bytes = document.length;
figures.scan_findings = found;
figures.scan_ms = scanMs.toFixed(1);
figures.scan_mb_per_s = (document.length / 1e6 / (scanMs / 1000)).toFixed(2);

report('pii', figures);
