// Child process of models/import.test.ts: imports one model by copy and reports progress until it is killed.
// Usage: node models-crash-importer.ts <dataDir> <modelPath>
// Prints one JSON line per progress report ({"bytesDone":…,"bytesTotal":…}) and {"done":true} at the end.
import { writeSync } from 'node:fs';
import { openDatabase } from '../main/services/storage/sqlite.ts';
import { importModel } from '../main/services/models/import.ts';
import { libraryDirFor } from '../main/services/models/library.ts';
import { scanModels } from '../main/services/models/scan.ts';

const [dataDir, modelPath] = process.argv.slice(2);
if (dataDir === undefined || modelPath === undefined) throw new Error('usage: models-crash-importer.ts <dataDir> <modelPath>');

const db = openDatabase(dataDir);
const { candidates } = await scanModels(modelPath);
const candidate = candidates[0];
if (candidate === undefined) throw new Error(`no model at ${modelPath}`);
await importModel(db, libraryDirFor(dataDir), candidate, {
  mode: 'copy',
  // Synchronous: the parent must see a report before the bytes after it are copied.
  onProgress: (progress) => writeSync(1, `${JSON.stringify({ phase: progress.phase, bytesDone: progress.bytesDone, bytesTotal: progress.bytesTotal })}\n`),
});
writeSync(1, `${JSON.stringify({ done: true })}\n`);
db.close();
