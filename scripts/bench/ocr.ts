// bench:ocr — character error rate and speed of OCR on pages made here: known text set in
// Liberation Sans (shipped by pdfjs-dist), "scanned" at 150 and 300 dpi, clean and degraded
// (speckle noise, a 1–3° skew, JPEG artefacts), in English and Spanish. Each page goes
// through extractDocument, as a dropped image does. Prints cer_clean=, cer_noisy= (0–1) and
// ocr_pages_s=, and writes bench-results/ocr.json.
import { performance } from 'node:perf_hooks';
import { extractDocument } from '../../electron/main/services/knowledge/ingestion/extract/index.ts';
import { renderPage, type PageOptions } from '../../electron/test-support/scanned-pages.ts';
import { report } from './report.ts';

const ENGLISH = [
  'The committee met on Tuesday to review the quarterly budget of the',
  'regional office. Spending on travel fell by twelve percent, while the',
  'cost of maintaining the archive rose after the new storage was bought.',
  'Members asked for a written summary of each contract above 25,000',
  'euros, to be filed with the minutes before the end of the month.',
  'The next meeting will be held in the library on the fourth floor.',
];

const SPANISH = [
  'La comisión se reunió el martes para revisar el presupuesto trimestral',
  'de la oficina regional. El gasto en viajes bajó un doce por ciento,',
  'mientras que el coste del archivo subió tras la compra del almacén.',
  'Los miembros pidieron un resumen escrito de cada contrato de más de',
  '25.000 euros, que se archivará con el acta antes de fin de mes.',
  'La próxima reunión será en la biblioteca de la cuarta planta.',
];

interface Case {
  readonly name: string;
  readonly noisy: boolean;
  readonly lines: readonly string[];
  readonly options: PageOptions;
}

function cases(): Case[] {
  const out: Case[] = [];
  let seed = 1;
  for (const [language, lines] of [
    ['en', ENGLISH],
    ['es', SPANISH],
  ] as const) {
    for (const dpi of [150, 300]) {
      out.push({ name: `${language}-${dpi}-clean`, noisy: false, lines, options: { lines, dpi } });
      const skew = 1 + ((seed * 7) % 3) * (dpi === 150 ? 0.5 : 1); // 1–3°
      out.push({
        name: `${language}-${dpi}-noisy`,
        noisy: true,
        lines,
        options: { lines, dpi, noise: 0.02, skewDegrees: seed % 2 === 0 ? -skew : skew, jpegQuality: 55, seed: seed++ },
      });
    }
  }
  return out;
}

/** Levenshtein distance over code points. */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[y.length] ?? 0;
}

const normalise = (text: string): string => text.replace(/\s+/g, ' ').trim();

async function main(): Promise<void> {
  const errors = { clean: { edits: 0, chars: 0 }, noisy: { edits: 0, chars: 0 } };
  let seconds = 0;
  let pages = 0;
  // The first page also loads the engine and the trained data: warm up so speed counts recognition only.
  await extractDocument(renderPage({ lines: ['Warm up.'], dpi: 150, widthInches: 3 }).bytes, 'warmup.png');
  for (const page of cases()) {
    const image = renderPage(page.options);
    const started = performance.now();
    const doc = await extractDocument(image.bytes, page.options.jpegQuality === undefined ? `${page.name}.png` : `${page.name}.jpg`);
    seconds += (performance.now() - started) / 1000;
    pages += 1;
    const truth = normalise(page.lines.join(' '));
    const read = normalise(doc.blocks.map((block) => block.text).join(' '));
    const edits = editDistance(read, truth);
    const bucket = page.noisy ? errors.noisy : errors.clean;
    bucket.edits += edits;
    bucket.chars += [...truth].length;
    console.error(`${page.name}: cer=${(edits / [...truth].length).toFixed(4)} ${image.width}x${image.height}`);
  }
  report('ocr', {
    cer_clean: Number((errors.clean.edits / errors.clean.chars).toFixed(4)),
    cer_noisy: Number((errors.noisy.edits / errors.noisy.chars).toFixed(4)),
    ocr_pages_s: Number((pages / seconds).toFixed(3)),
    pages,
  });
}

await main();
