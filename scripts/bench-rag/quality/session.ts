import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { createCore } from '../../../electron/main/services/core.ts';
import { importModel, libraryDirFor, scanModels } from '../../../electron/main/services/models/index.ts';
import { writeRetrievalSet } from './build.ts';
import { runSet, setCases, type CaseResult } from './run.ts';

// The set run end to end as a user would meet it: a fresh data directory, the GloVe GGUF
// (../shared/fixtures/gguf/, see its README) imported as the collection's embedding model,
// every file added through the knowledge service, then every question asked three ways.

export const GLOVE_MODEL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/fixtures/gguf/glove-100d-bert.gguf');

export const gloveAvailable = (): boolean => existsSync(GLOVE_MODEL);

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };

export interface SetRun {
  readonly results: CaseResult[];
  readonly documents: number;
  readonly failed: number;
  readonly ingestSeconds: number;
  readonly searchSeconds: number;
}

export async function runRetrievalSet(workDir: string, modelPath = GLOVE_MODEL): Promise<SetRun> {
  const set = await writeRetrievalSet(path.join(workDir, 'files'));
  const dataDir = path.join(workDir, 'data');
  const core = await createCore({ dataDir, host: HOST });
  try {
    await core.runtime.start();
    const [candidate] = (await scanModels(modelPath)).candidates;
    if (candidate === undefined) throw new Error(`${modelPath} is not an importable model`);
    const model = await importModel(core.storage, libraryDirFor(dataDir), candidate, { mode: 'reference' });
    const collection = await core.knowledge.createCollection('Retrieval set', model.id);
    const started = performance.now();
    await core.knowledge.addPaths(collection.id, Object.values(set.paths));
    await core.knowledge.idle();
    const ingestSeconds = (performance.now() - started) / 1000;
    const searchStarted = performance.now();
    const results = await runSet((request) => core.knowledge.search(request), collection.id, setCases(set.quotes));
    return {
      results,
      documents: Object.keys(set.paths).length,
      failed: core.knowledge.queue.progress().failed,
      ingestSeconds,
      searchSeconds: (performance.now() - searchStarted) / 1000,
    };
  } finally {
    await core.close();
  }
}
