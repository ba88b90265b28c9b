import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DocumentError } from '../../../types.ts';
import { pageFromTsv, type OcrResult } from './tsv.ts';

// Tesseract (tesseract.js 7, compiled to WebAssembly) run in this thread: the extraction
// worker's. tesseract.js's createWorker() would start a worker thread of its own, outside the
// pool's egress guard and time cap; instead its worker script (the part that drives the
// WebAssembly core) is loaded here and given an adapter that only reads local files. Every
// path is a local one in node_modules: the core's .js/.wasm (corePath), the trained data
// (langPath, the @tesseract.js-data packages), no cache, and fetch refuses outright.

export const OCR_LANGUAGES = ['eng', 'spa'] as const;
export type OcrLanguage = (typeof OCR_LANGUAGES)[number];
export const DEFAULT_OCR_LANGUAGES: readonly OcrLanguage[] = ['eng', 'spa'];

export const isOcrLanguage = (value: string): value is OcrLanguage => (OCR_LANGUAGES as readonly string[]).includes(value);

// OEM 1: the LSTM engine only; the "best_int" data holds just that model (smaller, as accurate).
const OEM_LSTM_ONLY = 1;
const TRAINED_DATA_VARIANT = '4.0.0_best_int';
/** The SIMD build: every supported Node and Electron has WebAssembly SIMD; the relaxed-SIMD build may round differently per CPU. */
const CORE_FILE = 'tesseract-core-simd-lstm.js';

const require = createRequire(import.meta.url);

export interface OcrPaths {
  readonly corePath: string;
  readonly langPath: (language: OcrLanguage) => string;
}

/** Where the core and trained data sit: resolved like any dependency, so they follow the app into its archive. */
export function ocrPaths(): OcrPaths {
  const core = path.dirname(require.resolve('tesseract.js-core/package.json'));
  return {
    corePath: path.join(core, CORE_FILE),
    langPath: (language) => path.join(path.dirname(require.resolve(`@tesseract.js-data/${language}/package.json`)), TRAINED_DATA_VARIANT),
  };
}

interface Packet {
  readonly workerId: string;
  readonly jobId: string;
  readonly action: string;
  readonly payload: unknown;
}
interface Reply {
  readonly status: 'resolve' | 'reject' | 'progress';
  readonly data: unknown;
}
interface WorkerScript {
  dispatchHandlers(packet: Packet, send: (reply: Reply) => void): void;
  setAdapter(adapter: Record<string, unknown>): void;
}

let script: WorkerScript | null = null;
/** The core's WebAssembly memory, kept to measure how far the engine has grown. */
let wasmMemory: WebAssembly.Memory | null = null;

type CoreFactory = (options: Record<string, unknown>) => Promise<unknown>;

/**
 * The Emscripten factory, given the .wasm bytes read from beside its .js: the core compiles
 * what it is handed and never looks for its binary itself (in a browser it would fetch it).
 */
function localCore(corePath: string): CoreFactory {
  const factory = require(corePath) as CoreFactory;
  const wasmPath = corePath.replace(/\.js$/, '.wasm');
  return (options) =>
    factory({
      ...options,
      instantiateWasm(imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) {
        // Synchronous, so a failure rejects the factory's promise (a thrown error in its executor).
        const module = new WebAssembly.Module(readFileSync(wasmPath));
        const instance = new WebAssembly.Instance(module, imports);
        wasmMemory = Object.values(instance.exports).find((value): value is WebAssembly.Memory => value instanceof WebAssembly.Memory) ?? null;
        done(instance, module);
        return {};
      },
    });
}

function workerScript(paths: OcrPaths): WorkerScript {
  if (script !== null) return script;
  const loaded = require('tesseract.js/src/worker-script/index.js') as WorkerScript;
  loaded.setAdapter({
    getCore: () => Promise.resolve(localCore(paths.corePath)),
    gunzip: gunzipSync,
    fetch: (url: string) => Promise.reject(new Error(`OCR reads only local files; it was asked to fetch ${url}.`)),
    // The trained data is handed over as bytes (see load()), so these cache hooks never find or keep anything.
    readCache: () => Promise.resolve(undefined),
    writeCache: () => Promise.resolve(),
    deleteCache: () => Promise.resolve(),
    checkCache: () => Promise.resolve(false),
  });
  script = loaded;
  return loaded;
}

export interface OcrEngine {
  /** Recognises one page image (PNG, JPEG, TIFF or PNM bytes). */
  recognize(image: Uint8Array): Promise<OcrResult>;
  /** Bytes of WebAssembly memory the engine holds now (it only grows). */
  memoryBytes(): number;
}

/**
 * The OCR engine's own memory cap. Its WebAssembly memory is outside the worker's V8 heap
 * limit and can only grow (up to 2 GB); past this, the pool replaces the worker after the file.
 * The per-page pixel limit keeps any single page well below it.
 */
export const OCR_MEMORY_CAP_BYTES = 1024 * 1024 * 1024;
/** Set when recognition failed inside the engine: its module may be left in a broken state. */
let spent = false;

/** True when this thread's engine should not read another file: over its memory cap, or broken. */
export function ocrEngineSpent(): boolean {
  return spent || (wasmMemory?.buffer.byteLength ?? 0) > OCR_MEMORY_CAP_BYTES;
}

let nextJob = 1;
let engine: { languages: string; ready: Promise<OcrEngine> } | null = null;

/**
 * The engine for these languages, loaded on first use and kept for the next page and file.
 * The worker script keeps one Tesseract module per thread; asking for other languages
 * re-initialises it with those.
 */
export function ocrEngine(languages: readonly OcrLanguage[] = DEFAULT_OCR_LANGUAGES, paths: OcrPaths = ocrPaths()): Promise<OcrEngine> {
  const key = [...new Set(languages)].sort().join('+') || DEFAULT_OCR_LANGUAGES.join('+');
  if (engine?.languages === key) return engine.ready;
  const ready = load(key.split('+') as OcrLanguage[], paths);
  engine = { languages: key, ready };
  ready.catch(() => {
    if (engine?.ready === ready) engine = null;
  });
  return ready;
}

async function load(languages: readonly OcrLanguage[], paths: OcrPaths): Promise<OcrEngine> {
  const tess = workerScript(paths);
  const call = (action: string, payload: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      tess.dispatchHandlers({ workerId: 'soberana-extract', jobId: `ocr-${nextJob++}`, action, payload }, (reply) => {
        if (reply.status === 'resolve') resolve(reply.data);
        else if (reply.status === 'reject') reject(new Error(String(reply.data)));
      });
    });
  try {
    await call('load', { options: { lstmOnly: true, corePath: paths.corePath, logging: false } });
    const langs = await Promise.all(
      languages.map(async (code) => ({ code, data: new Uint8Array(await readFile(path.join(paths.langPath(code), `${code}.traineddata.gz`))) })),
    );
    await call('loadLanguage', { langs, options: { cacheMethod: 'none', gzip: true, lstmOnly: true } });
    await call('initialize', { langs: languages, oem: OEM_LSTM_ONLY, config: {} });
  } catch (error) {
    throw new DocumentError('corrupt', `The text recognition engine could not start (${(error as Error).message}).`);
  }
  return {
    async recognize(image) {
      // preserve_interword_spaces keeps columns apart; the TSV gives each word its box and confidence.
      const result = (await call('recognize', { image, options: { preserve_interword_spaces: '1' }, output: { text: false, tsv: true } }).catch(
        (error: unknown) => {
          // An unreadable image is a clean failure; anything else may have left the engine broken.
          if (!/read image/i.test(String(error))) spent = true;
          throw error;
        },
      )) as { tsv: string | null };
      return pageFromTsv(result.tsv ?? '');
    },
    memoryBytes: () => wasmMemory?.buffer.byteLength ?? 0,
  };
}
