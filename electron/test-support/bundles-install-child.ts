// Installs one bundle and is SIGKILLed by bundles/crash.test.ts at a random moment. Each step is
// slowed down (blocking, so the kill can land inside it) to spread the kills over them all.
import { openDatabase } from '../main/services/storage/sqlite.ts';
import { installBundle } from '../main/services/bundles/install.ts';
import type { TrustSource } from '../main/services/bundles/trust.ts';

const [dataDir, bundle, trustJson] = process.argv.slice(2) as [string, string, string];
const stepMs = Number(process.env.BUNDLE_CHILD_STEP_MS ?? 6);
const pause = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

const db = openDatabase(dataDir);
process.stdout.write('ready\n');
const outcome = await installBundle(bundle, JSON.parse(trustJson) as TrustSource, {
  db,
  dataDir,
  onProgress: () => pause(stepMs),
  installers: { model: () => pause(stepMs * 10) },
});
process.stdout.write(`${outcome.ok ? 'installed' : `rejected ${outcome.report.reason?.code ?? ''}`}\n`);
db.close();
