import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeGguf, gv } from '../../../../e2e/fixtures/gguf/encode.ts';
import type { GgufEntry } from '../../../../e2e/fixtures/gguf/encode.ts';
import { MALFORMED_KINDS, writeMalformed } from '../../../../e2e/fixtures/gguf/malformed.ts';
import { CHATML_TEMPLATE, presetSpec, writeGguf } from '../../../../e2e/fixtures/gguf/writer.ts';
import type { ModelSpec } from '../../../../e2e/fixtures/gguf/writer.ts';
import { AppError } from '../../../common/result.ts';
import { checkGgufFile } from '../gguf/index.ts';
import { listEvents } from '../storage/events.ts';
import { openDatabase, type Database } from '../storage/sqlite.ts';
import { importModel } from './import.ts';
import { cleanupPartialImports, IMPORT_LOCK, libraryDirFor } from './library.ts';
import { getModel, listModels } from './registry.ts';
import { scanModels } from './scan.ts';
import type { ImportMode, ImportProgress, ModelCandidate } from './types.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const THIRD_PARTY = path.resolve(HERE, '../../../../../shared/fixtures/gguf/llama-2-tiny-random.gguf');

let dir: string;
let dataDir: string;
let library: string;
let db: Database;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-import-'));
  dataDir = path.join(dir, 'data');
  library = libraryDirFor(dataDir);
  db = openDatabase(dataDir);
});

afterEach(async () => {
  if (db.isOpen) db.close();
  await rm(dir, { recursive: true, force: true });
});

/** SHA-256 computed independently of the importer: coreutils when present, else a whole-file read. */
function sha256sum(file: string): string {
  const run = spawnSync('sha256sum', [file], { encoding: 'utf8' });
  if (run.status === 0) return run.stdout.split(/\s/)[0]!;
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function sha256OfParts(files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(file));
  return hash.digest('hex');
}

async function tiny(name: string, seed = 1, extraMetadata: readonly GgufEntry[] = []): Promise<string> {
  const file = path.join(dir, name);
  await writeGguf(file, { ...presetSpec('tiny', 'F32', seed), extraMetadata });
  return file;
}

/** A model of roughly `mb` megabytes: the tiny shape with wide layers. */
async function sized(name: string, mb: number): Promise<string> {
  const file = path.join(dir, name);
  const layers = Math.max(1, Math.round(mb / 67.9));
  const spec: ModelSpec = { ...presetSpec('tiny', 'F32', 3), embeddingLength: 1024, feedForwardLength: 4096, layers, heads: 8, kvHeads: 8 };
  await writeGguf(file, spec);
  return file;
}

async function candidateFor(file: string): Promise<ModelCandidate> {
  const { candidates } = await scanModels(file);
  expect(candidates).toHaveLength(1);
  return candidates[0]!;
}

/** Every file and folder under the library, relative to it. */
async function libraryContents(): Promise<string[]> {
  if (!existsSync(library)) return [];
  const entries = await readdir(library, { recursive: true });
  return entries.map(String).sort();
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected the import to be refused');
}

const PROVENANCE: readonly GgufEntry[] = [
  ['general.license', gv.str('apache-2.0')],
  ['general.author', gv.str('Soberana Tests')],
  ['general.organization', gv.str('Soberana')],
  ['general.source.url', gv.str('https://example.invalid/source')],
];

describe('importModel', () => {
  it('copies a model into the library, hashing it in the same pass', async () => {
    const source = await tiny('tiny-model.gguf', 1, PROVENANCE);
    const progress: ImportProgress[] = [];
    const record = await importModel(db, library, await candidateFor(source), { mode: 'copy', onProgress: (p) => progress.push(p) });

    const size = statSync(source).size;
    const target = path.join(library, record.id, 'tiny-model.gguf');
    expect(record).toMatchObject({
      displayName: 'tiny-model',
      role: 'chat',
      importMode: 'copy',
      origin: 'file',
      sourcePath: source,
      files: [target],
      sizeBytes: size,
      sha256: sha256sum(source),
      chatTemplate: CHATML_TEMPLATE,
      license: 'apache-2.0',
      provenance: { author: 'Soberana Tests', organization: 'Soberana', url: null, sourceUrl: 'https://example.invalid/source', repository: null },
      verifiedByBundle: null,
      status: 'ok',
      loadSettings: null,
      isDefaultChat: true,
      isDefaultEmbedding: false,
    });
    const check = await checkGgufFile(source);
    expect(check.ok && record.facts).toEqual(check.ok ? check.facts : null);
    expect(sha256sum(target)).toBe(record.sha256);
    expect(await libraryContents()).toEqual([record.id, path.join(record.id, 'tiny-model.gguf')]);
    expect(getModel(db, record.id)).toEqual(record);
    expect(listEvents(db, { type: 'model.imported' })).toMatchObject([{ data: { id: record.id, sha256: record.sha256, mode: 'copy' } }]);

    expect(progress[0]).toMatchObject({ phase: 'checking', bytesDone: 0 });
    expect(progress.some((p) => p.phase === 'copying')).toBe(true);
    expect(progress.at(-1)).toMatchObject({ phase: 'finishing', bytesDone: size, bytesTotal: size, secondsLeft: 0 });
  });

  it('hard-links a model into the library', async () => {
    const source = await tiny('linked.gguf');
    const record = await importModel(db, library, await candidateFor(source), { mode: 'link' });
    const target = path.join(library, record.id, 'linked.gguf');
    expect(record.files).toEqual([target]);
    expect(statSync(target).ino).toBe(statSync(source).ino);
    expect(record.sha256).toBe(sha256sum(source));
    expect(await libraryContents()).toEqual([record.id, path.join(record.id, 'linked.gguf')]);

    // Through a relative symlink, the library still gets the file itself.
    const other = await tiny('other.gguf', 12);
    await symlink('other.gguf', path.join(dir, 'alias.gguf'));
    const viaLink = await importModel(db, library, await candidateFor(path.join(dir, 'alias.gguf')), { mode: 'link' });
    expect(lstatSync(viaLink.files[0]!).isFile()).toBe(true);
    expect(statSync(viaLink.files[0]!).ino).toBe(statSync(other).ino);
  });

  it('refuses a link across drives with an explanation, and copies nothing', async (ctx) => {
    const other = '/dev/shm';
    if (!existsSync(other) || statSync(other).dev === statSync(dir).dev) {
      ctx.skip(`needs ${other} on a different file system from ${os.tmpdir()}`);
      return;
    }
    const elsewhere = await mkdtemp(path.join(other, 'soberana-link-'));
    try {
      const source = path.join(elsewhere, 'far.gguf');
      await writeGguf(source, presetSpec('tiny', 'F32', 1));
      const error = await refusal(importModel(db, library, await candidateFor(source), { mode: 'link' }));
      expect(error.code).toBe('unavailable');
      expect(error.message).toMatch(/different drive.*copy, or by reference/);
      expect(await libraryContents()).toEqual([]);
      expect(listModels(db)).toEqual([]);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it("imports from LM Studio's folders, and cleans a file name into a display name", async () => {
    const folder = path.join(dir, '.lmstudio', 'models', 'publisher', 'Model-GGUF');
    await mkdir(folder, { recursive: true });
    const source = path.join(folder, 'Model\nQ8_0.gguf');
    await writeGguf(source, presetSpec('tiny', 'F32', 11));
    const { candidates } = await scanModels(path.join(dir, '.lmstudio'));
    const record = await importModel(db, library, candidates[0]!, { mode: 'reference' });
    expect(record).toMatchObject({ origin: 'lmstudio', displayName: 'Model Q8_0', files: [source] });
  });

  it('references a model in place without writing to the library', async () => {
    const source = await tiny('in-place.gguf');
    const record = await importModel(db, library, await candidateFor(source), { mode: 'reference' });
    expect(record.files).toEqual([source]);
    expect(record.sha256).toBe(sha256sum(source));
    expect(await libraryContents()).toEqual([]);
  });

  it.each<ImportMode>(['copy', 'link', 'reference'])('refuses the same bytes a second time (%s), naming the model already there', async (mode) => {
    const source = await tiny('original.gguf');
    const first = await importModel(db, library, await candidateFor(source), { mode: 'copy' });
    const again = path.join(dir, 'renamed-copy.gguf');
    await writeFile(again, readFileSync(source));

    const error = await refusal(importModel(db, library, await candidateFor(again), { mode }));
    expect(error).toMatchObject({ code: 'bad_request', message: 'This model is already in the library as original.', details: first.id });
    expect(listModels(db).map((model) => model.id)).toEqual([first.id]);
    expect(await libraryContents()).toEqual([first.id, path.join(first.id, 'original.gguf')]);
  });

  it.each(MALFORMED_KINDS)('refuses the malformed variant %s with its reason and leaves nothing behind', async (kind) => {
    const file = path.join(dir, `${kind}.gguf`);
    await writeMalformed(file, kind);
    const expected = await checkGgufFile(file);
    expect(expected.ok).toBe(false);
    const error = await refusal(importModel(db, library, await candidateFor(file), { mode: 'copy' }));
    expect(error.code).toBe('rejected_file');
    expect(error.message).toBe(expected.ok ? '' : expected.rejection.message);
    expect(error.details).toContain(expected.ok ? '' : expected.rejection.code);
    expect(await libraryContents()).toEqual([]);
    expect(listModels(db)).toEqual([]);
  });

  it('cancels a copy half way, leaving no file and no row', async () => {
    const source = await sized('big.gguf', 200);
    const controller = new AbortController();
    let seen = 0;
    const error = await refusal(
      importModel(db, library, await candidateFor(source), {
        mode: 'copy',
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase !== 'copying') return;
          seen = p.bytesDone / p.bytesTotal;
          if (seen >= 0.5) controller.abort();
        },
      }),
    );
    expect(error.code).toBe('cancelled');
    expect(seen).toBeGreaterThanOrEqual(0.5);
    expect(seen).toBeLessThan(0.75);
    expect(await libraryContents()).toEqual([]);
    expect(listModels(db)).toEqual([]);
  });

  it('leaves no partial file and no row after the importing process is killed mid-copy', { timeout: 40_000 }, async () => {
    const source = await sized('crash.gguf', 300);
    db.close();
    const child = spawn(process.execPath, ['--no-warnings', path.join(HERE, '../../../test-support/models-crash-importer.ts'), dataDir, source], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let killedAt = 0;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const report = JSON.parse(line) as { phase?: string; bytesDone?: number; bytesTotal?: number };
        if (killedAt === 0 && report.phase === 'copying' && report.bytesDone! >= report.bytesTotal! * 0.3) {
          killedAt = report.bytesDone! / report.bytesTotal!;
          child.kill('SIGKILL');
        }
      }
    });
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, sig) => resolve(sig)));
    expect(signal, stderr).toBe('SIGKILL');
    expect(killedAt).toBeGreaterThan(0);

    // The kill left the half-written copy behind, exactly what cleanup is for.
    const leftovers = await libraryContents();
    expect(leftovers.some((entry) => entry.endsWith('crash.gguf.partial'))).toBe(true);
    expect(leftovers.some((entry) => entry.endsWith(IMPORT_LOCK))).toBe(true);

    db = openDatabase(dataDir);
    const report = await cleanupPartialImports(library, db);
    expect(report.removedFolders).toHaveLength(1);
    expect(await libraryContents()).toEqual([]);
    expect(listModels(db)).toEqual([]);
  });

  it('imports split files as one model, keeping the part names llama.cpp looks for', async () => {
    const parts = await writeSplit(dir, 'split-model', 3);
    const { candidates } = await scanModels(dir);
    const candidate = candidates.find((c) => c.origin === 'split')!;
    expect(candidate.paths).toEqual(parts);

    const copied = await importModel(db, library, candidate, { mode: 'copy' });
    expect(copied.files.map((file) => path.basename(file))).toEqual(parts.map((part) => path.basename(part)));
    expect(copied.sha256).toBe(sha256OfParts(parts));
    expect(copied.sizeBytes).toBe(parts.reduce((sum, part) => sum + statSync(part).size, 0));
    expect(copied.displayName).toBe('split-model');
    expect(copied.facts.fileSize).toBe(copied.sizeBytes);
    const first = await checkGgufFile(parts[0]!);
    // Each extra part holds one 32-element tensor.
    expect(copied.facts.parameterCount).toBe((first.ok ? first.facts.parameterCount : 0) + 2 * 32);
    expect(copied.facts.tensorCount).toBe((first.ok ? first.facts.tensorCount : 0) + 2);
  });

  it('refuses a split set whose parts are numbered wrongly inside', async () => {
    const parts = await writeSplit(dir, 'bad-split', 3, { swapNumbers: true });
    const candidate: ModelCandidate = {
      displayName: 'bad-split',
      paths: parts,
      fileNames: parts.map((p) => path.basename(p)),
      sizeBytes: 0,
      origin: 'split',
      sourcePath: parts[0]!,
    };
    const error = await refusal(importModel(db, library, candidate, { mode: 'copy' }));
    expect(error).toMatchObject({ code: 'rejected_file', message: expect.stringMatching(/Part 2 of bad-split is not numbered as part 2/) });
    expect(await libraryContents()).toEqual([]);
  });

  it('refuses one part of a split model imported by itself', async () => {
    const parts = await writeSplit(dir, 'lonely', 2);
    const candidate: ModelCandidate = {
      displayName: 'lonely',
      paths: [parts[0]!],
      fileNames: ['lonely.gguf'],
      sizeBytes: 0,
      origin: 'file',
      sourcePath: parts[0]!,
    };
    const error = await refusal(importModel(db, library, candidate, { mode: 'reference' }));
    expect(error).toMatchObject({ code: 'rejected_file', message: expect.stringMatching(/split into 2 files/) });
  });

  it('imports an Ollama blob under its model name and refuses one whose bytes do not match its digest', async () => {
    const blob = await tiny('blob-source', 5);
    const digest = sha256sum(blob);
    const store = path.join(dir, '.ollama', 'models');
    await mkdir(path.join(store, 'blobs'), { recursive: true });
    await writeFile(path.join(store, 'blobs', `sha256-${digest}`), readFileSync(blob));
    const wrong = 'f'.repeat(64);
    await writeFile(path.join(store, 'blobs', `sha256-${wrong}`), readFileSync(await tiny('other', 6)));
    for (const [model, hex] of [
      ['good', digest],
      ['damaged', wrong],
    ] as const) {
      const manifest = path.join(store, 'manifests', 'registry.ollama.ai', 'library', model, 'latest');
      await mkdir(path.dirname(manifest), { recursive: true });
      await writeFile(
        manifest,
        JSON.stringify({ schemaVersion: 2, layers: [{ mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${hex}`, size: 1 }] }),
      );
    }
    const { candidates } = await scanModels(path.join(dir, '.ollama'));
    const good = candidates.find((c) => c.displayName === 'good:latest')!;
    const damaged = candidates.find((c) => c.displayName === 'damaged:latest')!;

    const record = await importModel(db, library, good, { mode: 'copy' });
    expect(record).toMatchObject({
      displayName: 'good:latest',
      origin: 'ollama',
      sha256: digest,
      sourcePath: path.join(store, 'manifests', 'registry.ollama.ai', 'library', 'good', 'latest'),
    });
    expect(record.files).toEqual([path.join(library, record.id, 'good-latest.gguf')]);

    const error = await refusal(importModel(db, library, damaged, { mode: 'copy' }));
    expect(error).toMatchObject({ code: 'rejected_file', message: expect.stringMatching(/Ollama manifest/) });
    expect(listModels(db)).toHaveLength(1);
    expect(await libraryContents()).toEqual([record.id, path.join(record.id, 'good-latest.gguf')]);

    // The manifest's digest finds the duplicate before any copying.
    const again = await refusal(importModel(db, library, good, { mode: 'reference' }));
    expect(again).toMatchObject({ code: 'bad_request', details: record.id });
  });

  it.skipIf(!existsSync(THIRD_PARTY))(`imports the third-party GGUF with its facts (skipped when ${THIRD_PARTY} is absent)`, async () => {
    const record = await importModel(db, library, await candidateFor(THIRD_PARTY), { mode: 'reference' });
    expect(record.facts).toMatchObject({ architecture: 'llama', layerCount: 1, vocabularySize: 32_000, name: 'LLaMA v2' });
    expect(record.facts.quantization).toMatch(/F16/);
    expect(record).toMatchObject({
      role: 'chat',
      displayName: 'llama-2-tiny-random',
      sizeBytes: 1_750_560,
      sha256: sha256sum(THIRD_PARTY),
      chatTemplate: null,
    });
  });
});

describe('cleanupPartialImports', () => {
  it('keeps imported models, other files and live imports; removes partial files and orphan folders', async () => {
    const record = await importModel(db, library, await candidateFor(await tiny('kept.gguf')), { mode: 'copy' });
    const stray = path.join(library, record.id, 'kept.gguf.partial');
    await writeFile(stray, 'half');
    const orphan = path.join(library, '0123456789abcdef');
    await mkdir(orphan);
    await writeFile(path.join(orphan, 'x.gguf.partial'), 'half');
    const busy = path.join(library, 'fedcba9876543210');
    await mkdir(busy);
    // The parent of this test process is alive and not this process: an import running elsewhere.
    await writeFile(path.join(busy, IMPORT_LOCK), JSON.stringify({ pid: process.ppid }));
    const unrelated = path.join(library, 'notes.txt');
    await writeFile(unrelated, 'mine');

    const report = await cleanupPartialImports(library, db);
    expect(report).toEqual({ removedFolders: [orphan], removedFiles: [stray] });
    expect(existsSync(path.join(library, record.id, 'kept.gguf'))).toBe(true);
    expect(existsSync(busy)).toBe(true);
    expect(existsSync(unrelated)).toBe(true);
    expect(await stat(orphan).catch(() => null)).toBeNull();
  });

  it('does nothing when the library does not exist yet', async () => {
    expect(await cleanupPartialImports(library, db)).toEqual({ removedFolders: [], removedFiles: [] });
  });
});

/**
 * Writes a model split the way llama.cpp's gguf-split does: the first part has the whole
 * model's metadata; every part carries `split.no` and `split.count`. Here the first part
 * holds all real tensors and each other part one small extra tensor.
 */
async function writeSplit(folder: string, prefix: string, count: number, options: { swapNumbers?: boolean } = {}): Promise<string[]> {
  const name = (i: number) => path.join(folder, `${prefix}-${String(i).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.gguf`);
  const split = (no: number): GgufEntry[] => [
    ['split.no', { type: 'UINT16', value: no }],
    ['split.count', { type: 'UINT16', value: count }],
    ['split.tensors.count', gv.i32(count + 20)],
  ];
  await writeGguf(name(1), { ...presetSpec('tiny', 'F32', 9), extraMetadata: split(0) });
  for (let i = 2; i <= count; i++) {
    const no = options.swapNumbers === true ? count + 1 - i : i - 1;
    const header = encodeGguf({ metadata: split(no), tensors: [{ name: `extra.${i}.weight`, dims: [32], type: 0, offset: 0 }] });
    await writeFile(name(i), Buffer.concat([header.bytes, Buffer.alloc(32 * 4, 1)]));
  }
  return Array.from({ length: count }, (_, i) => name(i + 1));
}
