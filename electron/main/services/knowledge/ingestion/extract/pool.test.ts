import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  corruptPdf,
  declaredHugeDocx,
  deepHtml,
  docxDocument,
  emptyPdf,
  encryptedDocx,
  encryptedPdf,
  largeCsv,
  largeText,
  lyingSizeDocx,
  mulberry32,
  paragraph,
  pdfDocument,
  unknownBinary,
  writeDocuments,
  zipBombDocx,
  type PdfPageSpec,
} from '../../../../../../e2e/fixtures/documents/index.ts';
import { DocumentError, type DocumentFailureReason } from '../../types.ts';
import { createExtractor, createExtractorPool, type Extractor } from './pool.ts';

const MB = 1024 * 1024;
let dir = '';
let files: Record<string, string> = {};
const small = docxDocument([{ heading: 1, text: 'Small' }, { text: 'A small document for the worker.' }]);

function bigPdfPages(count: number): PdfPageSpec[] {
  const next = mulberry32(5);
  return Array.from({ length: count }, (_, i) => ({
    blocks: [
      { kind: 'heading' as const, text: `Section ${i + 1}` },
      ...Array.from({ length: 4 }, () => ({ kind: 'paragraph' as const, text: paragraph(next, 4) })),
    ],
  }));
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'soberana-extract-'));
  files = await writeDocuments(dir, {
    'small.docx': small,
    'big.pdf': await pdfDocument(bigPdfPages(150)),
    'encrypted.pdf': encryptedPdf(),
    'corrupt.pdf': corruptPdf(),
    'empty.pdf': await emptyPdf(),
    'bomb.docx': zipBombDocx(),
    'declared.docx': declaredHugeDocx(),
    'lying.docx': lyingSizeDocx(),
    'locked.docx': encryptedDocx(),
    'deep.html': deepHtml(),
    'unknown.bin': unknownBinary(),
    'huge.txt': largeText(2 * MB),
    'rows.csv': largeCsv(600_000),
  });
}, 30_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function reasonOf(extractor: Extractor, name: string): Promise<{ reason: DocumentFailureReason; message: string }> {
  const error: unknown = await extractor.extract(files[name] ?? name).then(
    () => new Error(`${name} was extracted`),
    (e: unknown) => e,
  );
  if (!(error instanceof DocumentError)) throw error;
  return { reason: error.reason, message: error.message };
}

describe('createExtractor', () => {
  it('extracts in the worker and reports the size and SHA-256', async () => {
    const extractor = createExtractor();
    try {
      const result = await extractor.extract(files['small.docx'] ?? '');
      expect(result).toMatchObject({ format: 'docx', bytes: small.byteLength, sha256: createHash('sha256').update(small).digest('hex') });
      expect(result.blocks.map((b) => b.text)).toEqual(['Small', 'A small document for the worker.']);
    } finally {
      await extractor.close();
    }
  });

  it('gives every hostile file its typed reason, one worker for all', async () => {
    const extractor = createExtractor({ limits: { maxFileBytes: 1.5 * MB } });
    try {
      const expected: Record<string, DocumentFailureReason> = {
        'encrypted.pdf': 'encrypted',
        'corrupt.pdf': 'corrupt',
        'empty.pdf': 'empty',
        'bomb.docx': 'zip_bomb',
        'declared.docx': 'zip_bomb',
        'lying.docx': 'zip_bomb',
        'locked.docx': 'encrypted',
        'deep.html': 'too_deep',
        'unknown.bin': 'unsupported',
        'huge.txt': 'too_large',
      };
      const got: Record<string, DocumentFailureReason> = {};
      const messages: Record<string, string> = {};
      for (const name of Object.keys(expected)) {
        const { reason, message } = await reasonOf(extractor, name);
        got[name] = reason;
        messages[name] = message;
      }
      expect(got).toEqual(expected);
      expect(messages['encrypted.pdf']).toBe('This PDF is password-protected. Remove the password and add it again.');
      expect(messages['declared.docx']).toBe('This file unpacks to 3.8 GB, over the 500 MB limit; it may be a zip bomb.');
      expect(messages['deep.html']).toBe('The HTML nests deeper than 512 levels.');
      expect(messages['huge.txt']).toBe('This file is 2 MB, over the 1.5 MB limit. Split it into smaller files and add them.');
    } finally {
      await extractor.close();
    }
  });

  it('reports a missing file as a plain error with its code', async () => {
    const extractor = createExtractor();
    try {
      await expect(extractor.extract(path.join(dir, 'missing.pdf'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await extractor.close();
    }
  });

  // The cap must sit well between the two files' needs. Measured idle: a fresh worker needs
  // 10 to 12 MB of old generation to load the parsers and read small.docx, while rows.csv
  // runs out under 128 MB and fits in 256. At 16 MB, a busy machine (GC threads starved, so
  // the heap peaks higher) once made the fresh worker fail on small.docx too. At 48 MB the
  // fresh worker has 4× room; rows.csv still needs over 2.5× more, and a slower GC only makes
  // a heap bigger, never smaller. Filling a heap takes seconds on a loaded machine (6 s with
  // both cores busy), hence the longer time limit.
  it('stops a worker that outgrows its heap cap, then carries on with a fresh one', async () => {
    const extractor = createExtractor({ maxOldGenerationMb: 48, maxYoungGenerationMb: 4 });
    try {
      expect((await reasonOf(extractor, 'rows.csv')).reason).toBe('out_of_memory');
      expect((await extractor.extract(files['small.docx'] ?? '')).format).toBe('docx');
    } finally {
      await extractor.close();
    }
  }, 60_000);

  // Replacing the stopped worker is the same path as after an abort, tested below.
  it('times out a slow file', async () => {
    const extractor = createExtractor({ timeoutMs: 50 });
    try {
      expect(await reasonOf(extractor, 'big.pdf')).toEqual({
        reason: 'timeout',
        message: 'Reading this file took longer than 50 ms, so it was stopped. Split it into smaller files and add them.',
      });
    } finally {
      await extractor.close();
    }
  });

  it('aborts a running or queued file with an AbortError', async () => {
    const extractor = createExtractor();
    try {
      const running = new AbortController();
      const queued = new AbortController();
      const first = extractor.extract(files['big.pdf'] ?? '', running.signal);
      const second = extractor.extract(files['big.pdf'] ?? '', queued.signal).catch((e: unknown) => e);
      queued.abort();
      setTimeout(() => running.abort(), 30);
      await expect(first).rejects.toMatchObject({ name: 'AbortError' });
      expect(await second).toMatchObject({ name: 'AbortError' });
      await expect(extractor.extract(files['small.docx'] ?? '', AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
      expect((await extractor.extract(files['small.docx'] ?? '')).format).toBe('docx');
    } finally {
      await extractor.close();
    }
  });

  it('refuses network access in the worker with its egress guard, and reports each refusal to the pool', async () => {
    // The suite runs without a network; only the guard's own code and its reports prove it refused.
    const blocked: { process: string; kind: string; target: string }[] = [];
    const pool = createExtractorPool(2, { onEgressBlocked: (attempt) => blocked.push(attempt) });
    try {
      const check = await pool.checkEgress();
      expect(check.guarded).toBe(true);
      expect(check.attempts).toHaveLength(10); // five ways out, in each of the two workers
      expect(check.attempts.every((attempt) => attempt.blocked)).toBe(true);
      // Each worker reports its own five; the two workers' reports may interleave.
      const byTarget = (list: typeof blocked) => list.map((attempt) => JSON.stringify(attempt)).sort();
      const each = [
        { process: 'worker', kind: 'connect', target: '192.0.2.1:9' },
        { process: 'worker', kind: 'connect', target: '192.0.2.1:80' },
        { process: 'worker', kind: 'dns', target: 'soberana-egress-check.invalid' },
        { process: 'worker', kind: 'dns', target: 'soberana-egress-check.invalid' },
        { process: 'worker', kind: 'udp', target: '192.0.2.1:9' },
      ];
      expect(byTarget(blocked)).toEqual(byTarget([...each, ...each]));
      // The same workers still extract.
      expect((await pool.extract(files['small.docx'] ?? '')).format).toBe('docx');
    } finally {
      await pool.close();
    }
  });

  it('keeps the main event loop responsive while a big PDF parses', async () => {
    const extractor = createExtractor();
    const delay = monitorEventLoopDelay({ resolution: 10 });
    try {
      delay.enable();
      const result = await extractor.extract(files['big.pdf'] ?? '');
      delay.disable();
      expect(result.pageCount).toBe(150);
      expect(new Set(result.blocks.map((b) => b.page)).size).toBe(150);
      expect(delay.percentile(95) / 1e6).toBeLessThan(50);
    } finally {
      delay.disable();
      await extractor.close();
    }
  });
});
