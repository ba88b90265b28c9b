import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { deployTemplates } from './deploy-templates.ts';

// Writes the Group Policy templates and the example MDM profile into deploy/ (see
// docs/deploy.md). `--check` writes nothing and exits 1 if a committed file differs, for CI.

const root = path.resolve(import.meta.dirname, '..');
const check = process.argv.includes('--check');
let stale = 0;
for (const [relative, text] of deployTemplates()) {
  const file = path.join(root, relative);
  const current = await readFile(file, 'utf8').catch(() => null);
  if (current === text) continue;
  if (check) {
    console.error(`stale: ${relative} (run node scripts/gen-deploy-templates.ts)`);
    stale++;
    continue;
  }
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  console.log(`wrote ${relative}`);
}
process.exitCode = stale > 0 ? 1 : 0;
