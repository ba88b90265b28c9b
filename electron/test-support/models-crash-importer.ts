// Child process of import.test.ts: imports one model by copy and reports progress until it is killed.
// Usage: node crash-importer.ts <dataDir> <modelPath>
// Prints one JSON line per progress report ({"bytesDone":…,"bytesTotal":…}) and {"done":true} at the end.
import { writeSync } from 'node:fs';
import { openDatabase } from '../storage/sqlite.ts';
import { importModel } from './import.ts';
import { libraryDirFor } from './library.ts';
import { scanModels } from './scan.ts';

const [dataDir, modelPath] = process.argv.slice(2);
if (dataDir === undefined || modelPath === undefined) throw new Error('usage: crash-importer.ts <dataDir> <modelPath>');

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
