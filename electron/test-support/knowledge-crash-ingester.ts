// Child process of knowledge/ingest.crash.test.ts: the app's services ingesting a folder into a
// collection, until the test SIGKILLs it. It is the real main-process code path (core,
// ingestion queue, extraction worker, inference process), minus Electron.
// Usage: node knowledge-crash-ingester.ts <dataDir> <folder> <embeddingModelPath>
//
// Prints the documents' journal states, by count, whenever they change.
import { writeSync } from 'node:fs';
import { createCore } from '../main/services/core.ts';
import { importModel, libraryDirFor, scanModels } from '../main/services/models/index.ts';
import { allDocuments } from './knowledge-documents.ts';

const [dataDir, folder, embeddingModel] = process.argv.slice(2);
if (dataDir === undefined || folder === undefined || embeddingModel === undefined)
  throw new Error('usage: knowledge-crash-ingester.ts <dataDir> <folder> <embeddingModel>');

const core = await createCore({ dataDir, host: { kind: 'cli', electronVersion: null, chromeVersion: null, networkGuards: [] } });
const ctx = { caller: { origin: 'test', isMainFrame: true }, signal: new AbortController().signal };
const current = await core.handlers['settings.get']({}, ctx);
// One thread: the test machine is a shared 2-core box.
if (current.ok) await core.handlers['settings.update']({ runtime: { ...current.value.runtime, threads: 1 } }, ctx);
// A second run (after the kill) finds the collection and the model already there.
const existing = core.knowledge.collections().find((candidate) => candidate.name === 'Crash');
let collectionId = existing?.id;
if (collectionId === undefined) {
  const [candidate] = (await scanModels(embeddingModel)).candidates;
  const model = await importModel(core.storage, libraryDirFor(dataDir), candidate!, { mode: 'reference' });
  collectionId = (await core.knowledge.createCollection('Crash', model.id)).id;
}
const collection = { id: collectionId };
let last = '';
core.bus.on('knowledge.changed', () => {
  const counts: Record<string, number> = {};
  for (const document of allDocuments(core.knowledge, collection.id)) counts[document.status] = (counts[document.status] ?? 0) + 1;
  const line = JSON.stringify(counts);
  if (line !== last) {
    last = line;
    writeSync(1, `${line}\n`);
  }
});
if (existing === undefined) await core.knowledge.addPaths(collection.id, [folder]);
await core.knowledge.idle();
writeSync(1, `${JSON.stringify({ finished: true })}\n`);
await core.close();
